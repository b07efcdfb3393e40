package local

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shirou/gopsutil/v3/cpu"

	"github.com/opsconsole/opsconsole/ops/health"
)

// spin keeps one goroutine of the test process busy until the test ends, so that the
// process has CPU to be found by.
func spin(t *testing.T) {
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; !stop.Load(); n++ {
		}
	}()
	t.Cleanup(func() { stop.Store(true); <-done })
}

func TestCollectExtras(t *testing.T) {
	spin(t)
	self := int32(os.Getpid())
	logical, err := cpu.Counts(true)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCollector()
	ctx := context.Background()
	// Other jobs share this machine and may outrank the spinning goroutine in one
	// sample; over a few it shows. Each Collect measures from the one before.
	found := false
	for i := 0; i < 8 && !found; i++ {
		m, err := c.Collect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Missing != nil {
			t.Errorf("Missing = %q", m.Missing)
		}
		if len(m.PerCore) != logical || len(m.PerCore) != m.Cores {
			t.Errorf("%d per-core figures, want %d logical CPUs (Cores = %d)", len(m.PerCore), logical, m.Cores)
		}
		for i, v := range m.PerCore {
			if !(v >= 0 && v <= 100) {
				t.Errorf("cpu%d = %v", i, v)
			}
		}
		checkNet(t, m.Net)
		// A sample may list none when a stall on this loaded machine brought it too close
		// to the previous one (procsFloor); the loop goes on to the next.
		if len(m.Procs) > topProcs {
			t.Fatalf("%d processes, want at most %d", len(m.Procs), topProcs)
		}
		for j, p := range m.Procs {
			if p.PID <= 0 || p.Name == "" || !(p.CPUPercent >= 0) || math.IsInf(p.CPUPercent, 0) || len(p.Command) > maxCommand {
				t.Errorf("process %+v", p)
			}
			if j > 0 && p.CPUPercent > m.Procs[j-1].CPUPercent {
				t.Errorf("not sorted: %v then %v", m.Procs[j-1].CPUPercent, p.CPUPercent)
			}
			if p.PID == self && p.CPUPercent > 0 {
				found = true
			}
		}
		// Whatever was measured must serialise: a NaN or an infinity would fail the
		// check command's JSON.
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("JSON: %v", err)
		}
		t.Logf("sample %d: per core %.1f, net %+v, %d processes", i, m.PerCore, m.Net, len(m.Procs))
	}
	if !found {
		t.Errorf("the busy test process (pid %d) never showed in the top %d", self, topProcs)
	}
}

// checkNet asserts what every sample's rates must satisfy.
func checkNet(t *testing.T, rates []health.NetRate) {
	t.Helper()
	i := slices.IndexFunc(rates, func(r health.NetRate) bool { return r.Name == "lo" })
	if i < 0 {
		t.Errorf("no loopback in %+v (it has carried traffic since boot)", rates)
	} else if i != len(rates)-1 {
		t.Errorf("loopback not last: %+v", rates)
	}
	seen := map[string]bool{}
	for _, r := range rates {
		for _, v := range []float64{r.RxBytes, r.TxBytes, r.RxPackets, r.TxPackets, r.RxErrors, r.TxErrors, r.RxDrops, r.TxDrops} {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Errorf("interface %+v: rate %v", r, v)
			}
		}
		if r.Name == "" || seen[r.Name] {
			t.Errorf("interface name %q empty or repeated", r.Name)
		}
		seen[r.Name] = true
	}
}

// The extras cost a poll time but change nothing Judge reads, and a collector without
// them leaves them empty.
func TestCollectWithoutExtras(t *testing.T) {
	c := &Collector{noExtras: true}
	m, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.PerCore != nil || m.Net != nil || m.Procs != nil || m.Missing != nil {
		t.Errorf("extras off: PerCore %v, Net %v, Procs %v, Missing %q", m.PerCore, m.Net, m.Procs, m.Missing)
	}
	if c.prevProcs != nil || c.prevNet != nil || c.prevCores != nil {
		t.Error("extras off still sampled them")
	}
}

// A command line's secrets never leave the collector. The process sleeps, so to find it
// deterministically the test ranks every process, through the code Collect uses.
func TestTopProcessesRedacts(t *testing.T) {
	s := New()
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	pidFile := t.TempDir() + "/pid"
	// sh -c SCRIPT NAME ARGS…: the arguments stay in the shell's command line. The
	// shell writes its pid itself, so when the test reads it the command line is final;
	// the script is two commands, so the shell cannot exec sleep in its place.
	go func() {
		defer close(ran)
		s.Exec(ctx, "exec sh -c 'echo $$ >"+pidFile+"; sleep 60; exit 0' opsconsole-test --password=hunter2 'Authorization: Bearer abc.def'", nil, nil)
	}()
	defer func() { cancel(); <-ran }()
	pid := int32(waitPID(t, pidFile))

	c := NewCollector()
	procs, err := c.TopProcesses(context.Background(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(procs, func(p Process) bool { return p.PID == pid })
	if i < 0 {
		t.Fatalf("sleeping process %d not among %d", pid, len(procs))
	}
	got := procs[i].Command
	const want = "sh -c echo $$ >" // then the pid file's path, which varies
	const wantTail = "; sleep 60; exit 0 opsconsole-test --password=*** Authorization: Bearer ***"
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, wantTail) {
		t.Errorf("pid %d: command %q, want %q…%q", pid, got, want, wantTail)
	}
	for _, p := range procs {
		if strings.Contains(p.Command, "hunter2") || strings.Contains(p.Command, "abc.def") {
			t.Errorf("pid %d: secret in %q", p.PID, p.Command)
		}
	}
	t.Logf("pid %d: %q", pid, got)
}

func TestCleanCommand(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"sleep 30", "sleep 30"},
		{"", ""},
		{"mysql -uroot -pHunter2 shop", "mysql -uroot -p*** shop"},
		{"app --password=hunter2 --port 80", "app --password=*** --port 80"},
		{"curl -H Authorization: Bearer abc.def https://x", "curl -H Authorization: Bearer ***"},
		{"git clone https://deploy:s3cret@git.example/r", "git clone https://deploy:***@git.example/r"},
	} {
		if got := cleanCommand(c.in); got != c.want {
			t.Errorf("cleanCommand(%q) = %q, want %q", c.in, got, c.want)
		}
	}

	// Cut to maxCommand bytes, on a character boundary, with a mark.
	long := "java -cp " + strings.Repeat("é", 600)
	got := cleanCommand(long)
	if len(got) > maxCommand || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("long command cut to %d bytes: %q", len(got), got)
	}
	// A secret past the cut is masked before the cut, never half shown.
	tail := strings.Repeat("x", maxCommand-12) + " --token=abcdefghijkl"
	if got := cleanCommand(tail); strings.Contains(got, "abcd") {
		t.Errorf("secret across the cut: %q", got)
	}
}

func TestNetRates(t *testing.T) {
	prev := map[string]InterfaceCounters{
		"eth0":  {Name: "eth0", BytesRecv: 1000, BytesSent: 500, PacketsRecv: 10, PacketsSent: 5, DropsIn: 1},
		"lo":    {Name: "lo", BytesRecv: 100, BytesSent: 100, PacketsRecv: 1, PacketsSent: 1},
		"wrap0": {Name: "wrap0", BytesRecv: math.MaxUint32, BytesSent: 10, PacketsRecv: 100, PacketsSent: 100},
		"ifb0":  {Name: "ifb0"},
		"br0":   {Name: "br0", BytesRecv: 10, PacketsRecv: 1},
	}
	cur := []InterfaceCounters{
		{Name: "br0", BytesRecv: 10, PacketsRecv: 1},
		{Name: "eth0", BytesRecv: 3000, BytesSent: 1500, PacketsRecv: 30, PacketsSent: 15, ErrorsIn: 0, DropsIn: 5},
		{Name: "ifb0"}, // never carried anything
		{Name: "lo", BytesRecv: 300, BytesSent: 300, PacketsRecv: 3, PacketsSent: 3},
		{Name: "new0", BytesRecv: 5, PacketsRecv: 1},                                      // not in prev
		{Name: "wrap0", BytesRecv: 20, BytesSent: 30, PacketsRecv: 110, PacketsSent: 110}, // rx wrapped
	}
	got := netRates(prev, cur, 2*time.Second)
	want := []health.NetRate{
		{Name: "br0"},
		{Name: "eth0", RxBytes: 1000, TxBytes: 500, RxPackets: 10, TxPackets: 5, RxDrops: 2},
		{Name: "lo", RxBytes: 100, TxBytes: 100, RxPackets: 1, TxPackets: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("netRates =\n%+v\nwant\n%+v", got, want)
	}
	if got := netRates(prev, cur, 0); got != nil {
		t.Errorf("no time elapsed: %+v", got)
	}
	for name, want := range map[string]bool{"lo": true, "lo0": true, "lo12": true, "lxc0": false, "local": false, "lo-x": false, "eth0": false} {
		if isLoopback(name) != want {
			t.Errorf("isLoopback(%q) = %v", name, !want)
		}
	}
}

func TestCoresPercent(t *testing.T) {
	ts := func(name string, user, idle float64) cpu.TimesStat {
		return cpu.TimesStat{CPU: name, User: user, Idle: idle}
	}
	prev := []cpu.TimesStat{ts("cpu0", 10, 10), ts("cpu1", 10, 10), ts("cpu2", 5, 5)}
	cur := []cpu.TimesStat{ts("cpu0", 11, 13), ts("cpu1", 12, 10), ts("cpu2", 5, 5)}
	if got, want := coresPercent(prev, cur), []float64{25, 100, 0}; !slices.Equal(got, want) {
		t.Errorf("coresPercent = %v, want %v", got, want)
	}
	// The online CPUs changed: no figures this time rather than misattributed ones.
	if got := coresPercent(prev[:2], cur); got != nil {
		t.Errorf("CPU count changed: %v", got)
	}
	if got := coresPercent([]cpu.TimesStat{ts("cpu0", 1, 1), ts("cpu2", 1, 1)}, cur[:2]); got != nil {
		t.Errorf("CPU set changed: %v", got)
	}
	if got := coresPercent(nil, cur); got != nil {
		t.Errorf("no previous reading: %v", got)
	}
}

// The direct read of /proc agrees with gopsutil's: the same processes, and times that
// only grow between the two readings.
func TestProcTimesLinux(t *testing.T) {
	ctx := context.Background()
	fast, err := procTimesLinux(ctx)
	if err != nil {
		t.Skip(err)
	}
	slow, err := procTimesGopsutil(ctx)
	if err != nil {
		t.Fatal(err)
	}
	self := int32(os.Getpid())
	if _, ok := fast[self]; !ok {
		t.Fatalf("own pid %d not read", self)
	}
	// Processes start and exit between the readings; those alive in both must agree.
	both := 0
	for pid, f := range fast {
		s, ok := slow[pid]
		if !ok {
			continue
		}
		both++
		if s < f-1e-9 {
			t.Errorf("pid %d: %v s from /proc, then %v s from gopsutil", pid, f, s)
		}
	}
	if both < len(fast)/2 {
		t.Errorf("only %d of %d processes in both readings", both, len(fast))
	}
}

func TestStatTicks(t *testing.T) {
	for _, c := range []struct {
		line string
		want uint64
		ok   bool
	}{
		{"26439 (cat) R 26435 26435 23203 0 -1 4194304 98 0 1 0 7 5 0 0 20 0 1 0 1530405", 12, true},
		// A command name with spaces and a ')' of its own.
		{"42 (a) b (c)) S 1 42 42 0 -1 4194304 98 0 1 0 100 23 0 0 20 0 1 0 1", 123, true},
		{"42 (short) S 1 2 3", 0, false},
		{"no parenthesis", 0, false},
		{"42 (x) S 1 42 42 0 -1 4194304 98 0 1 0 ab 5 0", 0, false},
	} {
		got, ok := statTicks([]byte(c.line))
		if got != c.want || ok != c.ok {
			t.Errorf("statTicks(%q) = %d, %v; want %d, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}
