package fleet

import (
	"errors"
	"math"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

// t0 is the fixed clock of every test: the last ClockMsg the fixture sends.
var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const longName = "analytics-warehouse-ingest-coordinator-eu-west-1a-01"

func styles(t testing.TB, name string) *themes.Styles {
	t.Helper()
	th, err := themes.Load(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return themes.Build(th)
}

func inventory() []config.Host {
	h := func(name, addr, transport string, tags ...string) config.Host {
		return config.Host{Name: name, Address: addr, Port: 22, Transport: transport, Tags: tags}
	}
	return []config.Host{
		h("web-1", "10.0.0.11", "ssh", "web", "prod"),
		h("web-2", "10.0.0.12", "ssh", "web", "prod"),
		h("web-9", "10.0.0.19", "ssh", "web"),
		h("web-10", "10.0.0.20", "ssh", "web"),
		h("db-1", "10.0.1.11", "ssh", "db", "prod"),
		h("db-2", "10.0.1.12", "ssh", "db"),
		h("cache-1", "10.0.2.11", "ssh", "cache"),
		h("mq-1", "10.0.3.11", "ssh", "mq"),
		h("mq-2", "10.0.3.12", "ssh", "mq"),
		h(longName, "10.0.4.11", "ssh", "analytics"),
		h("win-build-1", "10.0.5.11", "winrm", "build"),
		h("edge-1", "10.0.6.11", "ssh", "edge"),
		{Name: "localhost", Transport: "local", Source: "built-in"},
	}
}

type sample struct {
	cpu, mem float64
	disks    []health.Disk
	ports    []int
	load     float64
	missing  []string
}

func metricsAt(at time.Time, s sample) *health.Metrics {
	return &health.Metrics{
		Time: at, CPUPercent: s.cpu, Cores: 4,
		MemTotal: 8 << 30, MemUsed: uint64(s.mem / 100 * float64(8<<30)), MemPercent: s.mem,
		SwapTotal: 2 << 30, SwapUsed: 256 << 20,
		Load1: s.load, Load5: s.load * 0.8, Load15: s.load * 0.6,
		Uptime: 12*24*time.Hour + 3*time.Hour + 20*time.Minute,
		Disks:  s.disks, Ports: s.ports, Missing: s.missing,
	}
}

func rootDisk(pct float64) []health.Disk {
	return []health.Disk{{Mount: "/", FS: "/dev/sda1", Total: 30 << 30, Used: uint64(pct / 100 * float64(30<<30)), Percent: pct}}
}

func report(name string, at time.Time, st health.Status, m *health.Metrics, reasons ...string) fleet.Report {
	return fleet.Report{Host: name, Status: st, Reasons: reasons, Metrics: m, Outcome: sessions.OutcomeOK, Time: at}
}

// probeResult is one probe's latest result as the monitor reports it.
func probeResult(name, typ, target string, st health.Status, latency time.Duration, reason string, flapping bool) probes.Result {
	return probes.Result{Result: probe.Result{Name: name, Type: typ, Target: target, Status: st, Latency: latency, Reason: reason},
		Flapping: flapping}
}

// fixtureServer is the Prometheus behind the fixture: it answered until serverGone, and
// has not since.
func fixtureServer(round int, at time.Time) fleet.ServerStatus {
	st := fleet.ServerStatus{Source: fleet.SourcePrometheus, URL: "http://prom.example:9090", Rounds: round + 1,
		Fresh: at, Alerts: 3, AlertsKnown: true}
	if at.After(serverGone) {
		st.Stale, st.Fresh = true, serverGone
		st.Err = "prometheus unavailable: http://prom.example:9090: connection refused"
	}
	return st
}

// serverGone is the fixture server's last answer: 40 s before the clock.
var serverGone = t0.Add(-40 * time.Second)

func downReport(name string, at time.Time, err error) fleet.Report {
	return fleet.Report{Host: name, Status: health.Down, Reasons: []string{err.Error()}, Outcome: sessions.OutcomeError, Err: err, Time: at}
}

// wave is a deterministic CPU history: a slow swell around base.
func wave(base, amp float64, i int) float64 {
	return math.Max(0, math.Min(100, base+amp*math.Sin(float64(i)/3)))
}

// fixtureReports is twenty rounds of polls ending a few seconds before t0, with every
// state the pane shows: ok, warn, crit, down after being up (stale), down never seen,
// connecting (never reported, and a cancelled poll that must not count), unknown (a
// sample lacking load), a long name, many ports and a local host.
func fixtureReports() []HostsPolledMsg {
	transports := map[string]string{}
	for _, h := range inventory() {
		transports[h.Name] = h.Transport
	}
	var msgs []HostsPolledMsg
	const rounds = 20
	manyPorts := []int{22, 80, 135, 139, 443, 445, 3389, 5985, 5986, 8080, 8443, 9100, 9182,
		47001, 49664, 49665, 49666, 49667, 49668, 49669, 49670, 49671}
	for i := range rounds {
		at := t0.Add(time.Duration(i-rounds) * 5 * time.Second)
		var reps []fleet.Report
		add := func(r fleet.Report) { reps = append(reps, r) }
		web1 := report("web-1", at, health.OK, metricsAt(at, sample{cpu: wave(30, 20, i), mem: 41, disks: rootDisk(40), ports: []int{22, 80, 443}, load: 0.75}))
		web1.Probes = []probes.Result{
			probeResult("https", "tls", "10.0.0.11:443", health.OK, 4*time.Millisecond, "", false),
			probeResult("web-health", "http", "http://10.0.0.11:8080/healthz", health.OK, 12*time.Millisecond, "", false),
		}
		add(web1)
		add(report("web-2", at, health.OK, metricsAt(at, sample{cpu: wave(12, 8, i+5), mem: 38.2, disks: rootDisk(39.5), ports: []int{22, 80, 443}, load: 0.31})))
		web9 := report("web-9", at, health.Warn, metricsAt(at, sample{cpu: wave(88, 6, i), mem: 64, disks: rootDisk(51), ports: []int{22, 80, 443, 8080}, load: 3.2}), "cpu 91.2% ≥ 85%")
		web9.Probes = []probes.Result{probeResult("web-health", "http", "http://10.0.0.19:8080/healthz", health.OK, 870*time.Millisecond, "", true)}
		add(web9)
		add(report("web-10", at, health.OK, metricsAt(at, sample{cpu: float64(i * 5), mem: 22, disks: rootDisk(20), ports: []int{22, 80}, load: 0.05})))
		dbDisks := []health.Disk{
			{Mount: "/", FS: "/dev/nvme0n1p1", Total: 50 << 30, Used: 20 << 30, Percent: 40},
			{Mount: "/var/lib/postgresql", FS: "/dev/nvme1n1", Total: 500 << 30, Used: 480 << 30, Percent: 96.2},
		}
		// db-1's metrics come from Prometheus, which stopped answering 40 s ago: the last
		// sample stays, stale, while the host itself still answers.
		sampled, stale := at, at.After(serverGone)
		if stale {
			sampled = serverGone
		}
		db1 := report("db-1", at, health.Crit, metricsAt(sampled, sample{cpu: wave(55, 15, min(i, 12)), mem: 81, disks: dbDisks, load: 12.5, missing: []string{health.FieldPorts}}),
			"disk /var/lib/postgresql 96.2% ≥ 95%", "probe pg-ready pg_isready -q: exit 2, want 0", "mem 81% ≥ 80%")
		db1.Source, db1.Stale = fleet.SourcePrometheus, stale
		db1.Probes = []probes.Result{
			probeResult("pg-ready", "exec", "pg_isready -q", health.Crit, 31*time.Millisecond, "exit 2, want 0", false),
			probeResult("pg-tcp", "tcp", "10.0.1.11:5432", health.OK, 2*time.Millisecond, "", false),
		}
		db1.Alerts = []prom.Alert{{
			Labels:      model.LabelSet{"alertname": "PostgresDiskFilling", "instance": "10.0.1.11:9100", "severity": "critical"},
			Annotations: model.LabelSet{"summary": "/var/lib/postgresql will be full within 4h"},
			State:       "firing", ActiveAt: t0.Add(-25 * time.Minute),
		}}
		add(db1)
		if i < 12 {
			add(report("db-2", at, health.OK, metricsAt(at, sample{cpu: wave(25, 10, i), mem: 47, disks: rootDisk(60), ports: []int{22, 5432}, load: 1.1})))
		} else {
			db2 := downReport("db-2", at, errors.New("dial tcp 10.0.1.12:22: connect: connection refused"))
			db2.Probes = []probes.Result{probeResult("pg-tcp", "tcp", "10.0.1.12:5432", health.Down, 1*time.Millisecond, "connection refused", false)}
			add(db2)
		}
		add(downReport("cache-1", at, errors.New("dial tcp 10.0.2.11:22: i/o timeout")))
		add(fleet.Report{Host: "mq-2", Status: health.Unknown, Outcome: sessions.OutcomeCancelled, Err: errors.New("context canceled"), Time: at})
		add(report(longName, at, health.OK, metricsAt(at, sample{cpu: wave(45, 30, i+2), mem: 58, disks: rootDisk(70), ports: []int{22, 9092}, load: 2})))
		add(report("win-build-1", at, health.OK, metricsAt(at, sample{cpu: wave(20, 15, i+7), mem: 52, disks: []health.Disk{{Mount: "C:", FS: "NTFS", Total: 256 << 30, Used: 120 << 30, Percent: 46.9}}, ports: manyPorts, load: 0})))
		add(report("edge-1", at, health.Unknown, metricsAt(at, sample{cpu: 9, mem: 30, disks: rootDisk(33), ports: []int{22, 443}, missing: []string{health.FieldLoad}}), "load not measured"))
		add(report("localhost", at, health.OK, metricsAt(at, sample{cpu: wave(8, 4, i), mem: 61, disks: rootDisk(74), ports: []int{631}, load: 0.4})))
		for k := range reps {
			r := &reps[k]
			r.Transport = transports[r.Host]
			if r.Metrics != nil && r.Source == "" {
				r.Source = r.Transport // the host's own read
			}
		}
		msgs = append(msgs, HostsPolledMsg{Reports: reps, Server: fixtureServer(i, at)})
	}
	return msgs
}

// fixture is the pane with the fixture's reports applied and the clock at t0.
func fixture(t testing.TB, w, h int) Model {
	t.Helper()
	m := New(inventory(), keymap.Default().Fleet, styles(t, themes.Dark)).SetSize(w, h)
	for _, msg := range fixtureReports() {
		m = update(t, m, msg)
	}
	return update(t, m, clock(t0))
}

func clock(t time.Time) tea.Msg { return views.ClockMsg{Now: t} }

// update calls Update and fails on a command where the caller expected none.
func update(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	m, cmd := m.Update(msg)
	if cmd != nil {
		t.Fatalf("Update(%T) returned a command", msg)
	}
	return m
}

// press sends keys, each given as Bubble Tea spells it ("s", "S", "enter", "esc", "down").
func press(t testing.TB, m Model, keys ...string) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, k := range keys {
		m, cmd = m.Update(keyMsg(k))
	}
	return m, cmd
}

func keyMsg(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace, " ": tea.KeySpace, "ctrl+u": tea.KeyCtrlU, "ctrl+w": tea.KeyCtrlW,
		"left": tea.KeyLeft, "right": tea.KeyRight,
	}
	if kt, ok := named[k]; ok {
		return tea.KeyMsg{Type: kt}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// typeText sends each rune of s as its own key press.
func typeText(t testing.TB, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		k := string(r)
		if r == ' ' {
			k = " "
		}
		m, _ = press(t, m, k)
	}
	return m
}

// shown lists the hosts in display order.
func shown(m Model) []string {
	var out []string
	for _, i := range m.order {
		out = append(out, m.hosts[i].cfg.Name)
	}
	return out
}

func mustSelected(t testing.TB, m Model) string {
	t.Helper()
	s, ok := m.Selected()
	if !ok {
		t.Fatal("no host selected")
	}
	return s
}
