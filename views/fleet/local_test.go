package fleet

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
)

// localSample is the local host's sample with every extra: sixteen CPUs, interfaces with
// and without errors (one with a name past the column), and processes of every shape: a
// kernel thread, a long command, one busy on four cores, one whose command line carries
// terminal sequences and a bidi override, a long user name.
func localSample(at time.Time) *health.Metrics {
	m := metricsAt(at, sample{cpu: 37.5, mem: 61, disks: rootDisk(74), ports: []int{631}, load: 2.4})
	m.Cores = 16
	m.PerCore = []float64{100, 92.4, 81, 75.5, 64, 50, 43.2, 37.5, 25, 12.5, 6.3, 3.1, 1, 0.4, 0, 0}
	m.Net = []health.NetRate{
		{Name: "docker0", RxBytes: 1536, TxBytes: 620, RxPackets: 12, TxPackets: 8, RxDrops: 0.4},
		{Name: "enp0s31f6", RxBytes: 12.6e6, TxBytes: 1.24e6, RxPackets: 9100, TxPackets: 2400, RxErrors: 2, TxErrors: 0.5},
		{Name: "vethb1c2d3e4f5a6b7c8", RxBytes: 0, TxBytes: 87},
		{Name: "lo", RxBytes: 21.5e3, TxBytes: 21.5e3, RxPackets: 91, TxPackets: 91},
	}
	m.Procs = []health.Proc{
		{PID: 48213, Name: "java", User: "kafka", CPUPercent: 396.4, RSS: 6 << 30,
			Command: "/usr/lib/jvm/java-17-openjdk/bin/java -Xmx6g -XX:+UseG1GC -cp /opt/kafka/libs/activation-1.1.1.jar:/opt/kafka/libs/aopalliance-repackaged-2.6.1.jar kafka.Kafka /etc/kafka/server.properties"},
		{PID: 1207, Name: "postgres", User: "postgres", CPUPercent: 88.1, RSS: 412 << 20,
			Command: "postgres: 16/main: checkpointer"},
		{PID: 3310, Name: "mysql", User: "root", CPUPercent: 12, RSS: 9 << 20,
			Command: "mysql -uroot -p*** shop"},
		{PID: 77, Name: "kswapd0", User: "root", CPUPercent: 4.2},
		{PID: 2981, Name: "evil", User: "build-automation-bot", CPUPercent: 1.5, RSS: 3 << 20,
			Command: "evil \x1b]0;pwned\x07--title\x1b[2J \u202eexe.txt\tnext\nline"},
		{PID: 1, Name: "systemd", User: "root", CPUPercent: 0, RSS: 14 << 20, Command: "/sbin/init splash"},
	}
	return m
}

// withLocal is the fixture with one more poll of the local host carrying the extras,
// its detail view open.
func withLocal(t *testing.T, w, h int) Model {
	t.Helper()
	m := fixture(t, w, h)
	at := t0.Add(-2 * time.Second)
	r := fleet.Report{Host: "localhost", Transport: "local", Source: fleet.SourceLocal, Status: health.OK,
		Metrics: localSample(at), Outcome: sessions.OutcomeOK, Time: at}
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{r}, Server: fixtureServer(20, at)})
	m = selectHost(t, m, "localhost")
	m, _ = press(t, m, "enter")
	return m
}

// TestLocalDetailGolden pins the whole detail view of the local host, every line as the
// view cuts it to the width, at 80 and 120 columns.
func TestLocalDetailGolden(t *testing.T) {
	for _, w := range []int{80, 120} {
		name := "local_detail_" + itoa(w)
		t.Run(name, func(t *testing.T) {
			m := withLocal(t, w, 24)
			lines := m.detailLines()
			for i, l := range lines {
				lines[i] = ansi.Truncate(l, w, "…")
				if lw := lipgloss.Width(lines[i]); lw > w || lipgloss.Width(l) > w {
					t.Errorf("line %d is %d wide before the view cuts it:\n%s", i, lipgloss.Width(l), l)
				}
				if strings.Contains(l, "\x1b") {
					t.Errorf("line %d holds an escape sequence: %q", i, l)
				}
			}
			text := strings.Join(lines, "\n") + "\n"
			golden(t, name, text)

			for _, want := range []string{"CPU per core", "Network", "Top processes", "12.6 MB/s", "! 2.5", "[kswapd0]", "-p*** shop"} {
				if !strings.Contains(text, want) {
					t.Errorf("no %q in the detail view", want)
				}
			}
			for _, bad := range []string{"pwned", "\u202e", "\x07"} {
				if strings.Contains(text, bad) {
					t.Errorf("%q reached the screen", bad)
				}
			}

			// The frames the view draws while scrolling through it fit too.
			for range len(lines) / 10 {
				m, _ = press(t, m, "pgdown")
				checkFrame(t, m.View(), w, 24)
			}
		})
	}
}

// A host whose source measures no extras shows none of their sections.
func TestNoExtrasNoSections(t *testing.T) {
	s := styles(t, themes.Dark)
	if got := renderLocal(nil, s, 80, false); got != nil {
		t.Errorf("nil metrics: %q", got)
	}
	if got := renderLocal(metricsAt(t0, sample{cpu: 5}), s, 80, false); got != nil {
		t.Errorf("metrics without extras: %q", got)
	}
	m := fixture(t, 120, 48)
	m = selectHost(t, m, "db-2")
	m, _ = press(t, m, "enter")
	for _, l := range m.detailLines() {
		if strings.Contains(l, "per core") || strings.Contains(l, "Top processes") || strings.Contains(l, "Network") {
			t.Errorf("remote host shows an extra: %s", l)
		}
	}
}

// Per-core cells flow into as many columns as fit, down each column first, and never
// past the width.
func TestCoreLinesFlow(t *testing.T) {
	s := styles(t, themes.Dark)
	for _, n := range []int{1, 2, 6, 16, 64, 128} {
		for _, w := range []int{20, 40, 80, 120, 200} {
			v := make([]float64, n)
			for i := range v {
				v[i] = float64(i*37%101) + 0.5
			}
			lines := coreLines(v, s, w, false)
			cells := 0
			for _, l := range lines {
				if lw := lipgloss.Width(l); lw > max(w, 2+len(itoa(n-1))+16) {
					t.Errorf("%d CPUs at %d: line %d wide: %q", n, w, lw, l)
				}
				cells += strings.Count(l, "%")
			}
			if cells != n {
				t.Errorf("%d CPUs at %d: %d cells", n, w, cells)
			}
		}
	}
	// Two columns of three: 0 1 2 down the first, 3 4 5 down the second.
	lines := coreLines([]float64{0, 1, 2, 3, 4, 5}, s, 45, false)
	if len(lines) != 3 || !strings.HasPrefix(strings.TrimSpace(lines[1]), "1 ") || !strings.Contains(lines[1], "   4 ") {
		t.Errorf("flow:\n%s", strings.Join(lines, "\n"))
	}
}

func TestHbar(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "░░░░░░░░░░"}, {100, "██████████"}, {150, "██████████"}, {-3, "░░░░░░░░░░"},
		{50, "█████░░░░░"}, {45, "████▌░░░░░"}, {1, "▏░░░░░░░░░"},
	} {
		if got := hbar(c.v, 10); got != c.want {
			t.Errorf("hbar(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestFmtRate(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0 B/s"}, {-1, "0 B/s"}, {0.4, "0 B/s"}, {512, "512 B/s"}, {999.4, "999 B/s"}, {999.6, "1.0 kB/s"},
		{1536, "1.5 kB/s"}, {12.6e6, "12.6 MB/s"}, {999.96e3, "1.0 MB/s"}, {1.25e9, "1.2 GB/s"}, {3e15, "3000.0 TB/s"},
	} {
		if got := fmtRate(c.v); got != c.want {
			t.Errorf("fmtRate(%v) = %q, want %q", c.v, got, c.want)
		}
	}
	for _, c := range []struct {
		v    float64
		want string
	}{{0.25, "0.2"}, {2.5, "2.5"}, {12, "12"}, {1500, "1.5k"}, {2.5e6, "2.5M"}} {
		if got := fmtCount(c.v); got != c.want {
			t.Errorf("fmtCount(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// The process table fits the width: the command takes what is left and is cut with a
// mark, never wrapped.
func TestProcLinesFit(t *testing.T) {
	s := styles(t, themes.Dark)
	procs := localSample(t0).Procs
	for _, w := range []int{60, 80, 100, 120, 200} {
		lines := procLines(procs, s, w, false)
		if len(lines) != len(procs)+1 {
			t.Fatalf("%d lines for %d processes", len(lines), len(procs))
		}
		for i, l := range lines {
			if lw := lipgloss.Width(l); lw > w {
				t.Errorf("width %d: line %d is %d wide: %q", w, i, lw, l)
			}
		}
		java := lines[1]
		if w < 200 && !strings.HasSuffix(java, "…") {
			t.Errorf("width %d: long command not cut: %q", w, java)
		}
	}
	// The commands start under the header's COMMAND, whatever the cells before hold.
	lines := procLines(procs, s, 120, false)
	col := strings.Index(lines[0], "COMMAND")
	for _, l := range lines[1:] {
		if at := ansi.Cut(l, col-2, col+1); len(at) != 3 || at[:2] != "  " || at[2] == ' ' {
			t.Errorf("command not at column %d (%q there): %q", col, at, l)
		}
	}
}
