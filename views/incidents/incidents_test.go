package incidents

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/heal"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/ops/runbook"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
	viewsfleet "github.com/opsconsole/opsconsole/views/fleet"
	logsview "github.com/opsconsole/opsconsole/views/logs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/heal/views")

// goldenDir sits with the other self-heal test data at the repository's testdata.
const goldenDir = "../../testdata/heal/views"

func TestMain(m *testing.M) {
	// Golden files hold plain text: no colour, no attributes, whatever runs the tests.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// --- fixtures ---------------------------------------------------------------------

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const configText = `
[[hosts]]
name = "web-1"
address = "10.0.0.1"
tags = ["web"]
[[hosts]]
name = "web-2"
address = "10.0.0.2"
tags = ["web"]
[[hosts]]
name = "web-3"
address = "10.0.0.3"
tags = ["web"]
[[hosts]]
name = "web-4"
address = "10.0.0.4"
tags = ["web"]
[[hosts]]
name = "db-1"
address = "10.0.1.1"
tags = ["db"]

[[runbooks]]
name = "clean-logs"
hosts = "tag:web"
vars = { keep = "500M" }
steps = [{ run = "journalctl --vacuum-size={{.Vars.keep}}", check = "test $(df --output=pcent /var | tail -1 | tr -d ' %') -lt 90" }]

[[runbooks]]
name = "restart-app"
steps = [{ run = "systemctl restart {{.Vars.service}}", check = "systemctl is-active {{.Vars.service}}" }]

[[heal]]
name = "full-disk"
when = "disk_used > 90"
runbook = "clean-logs"
auto = AUTO

[[heal]]
name = "db-down"
hosts = "db-1"
when = 'status = "down"'
runbook = "restart-app"
vars = { service = "postgres" }

[[heal]]
name = "app-health"
hosts = "tag:web"
probe = "app-health"
failing = 3
runbook = "restart-app"
vars = { service = "app" }

[[heal]]
name = "oom"
hosts = "tag:web"
marker = "oom"
runbook = "restart-app"
vars = { service = "app" }
`

type fixture struct {
	cfg   *config.Config
	rbs   []runbook.Runbook
	rules []heal.Rule
}

func loadFixture(t testing.TB, auto bool) fixture {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	body := strings.Replace(configText, "AUTO", fmt.Sprint(auto), 1)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{ConfigFile: p, Env: func(k string) string {
		if k == "HOME" {
			return dir
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	rbs, err := runbook.Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := heal.Parse(cfg, rbs)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{cfg: cfg, rbs: rbs, rules: rules}
}

// fakeSession answers every command from a script and remembers what ran.
type fakeSession struct {
	host string
	ran  *commands
}

type commands struct {
	mu   sync.Mutex
	list []string
}

func (c *commands) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.list...)
}

func (s fakeSession) Exec(_ context.Context, cmd string, stdout, _ io.Writer) (int, error) {
	s.ran.mu.Lock()
	s.ran.list = append(s.ran.list, s.host+": "+cmd)
	s.ran.mu.Unlock()
	io.WriteString(stdout, "done\n")
	return 0, nil
}

func (fakeSession) Close() error { return nil }

func fakePool(ran *commands) *sessions.Pool {
	return sessions.NewPool(func(_ context.Context, h config.Host) (sessions.Session, error) {
		return fakeSession{host: h.Name, ran: ran}, nil
	})
}

func styles(t testing.TB) *themes.Styles {
	t.Helper()
	th, err := themes.Load(themes.Dark, nil)
	if err != nil {
		t.Fatal(err)
	}
	return themes.Build(th)
}

type env struct {
	fixture
	ran   *commands
	log   *audit.Log
	state string
}

func newModel(t testing.TB, auto bool, edit ...func(*Deps)) (Model, *env) {
	t.Helper()
	fx := loadFixture(t, auto)
	e := &env{fixture: fx, ran: &commands{}}
	var err error
	e.log, err = audit.Open(filepath.Join(t.TempDir(), "audit.jsonl"), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.log.Close() })
	e.state = filepath.Join(t.TempDir(), heal.StateFile)
	deps := Deps{Runbooks: fx.rbs, Rules: fx.rules, Pool: fakePool(e.ran), Audit: e.log, Hosts: fx.cfg.Hosts,
		StatePath: e.state}
	for _, f := range edit {
		f(&deps)
	}
	m := New(keymap.Default().Incidents, styles(t), deps)
	return m.SetSize(80, 24), e
}

func disk(pct float64) *health.Metrics {
	return &health.Metrics{Time: t0, CPUPercent: 12, MemPercent: 40, Cores: 4, Load1: 0.4,
		Disks: []health.Disk{{Mount: "/", Percent: 30}, {Mount: "/var", Percent: pct}}}
}

func reports() []fleet.Report {
	return []fleet.Report{
		{Host: "web-1", Status: health.Crit, Metrics: disk(96), Reasons: []string{"disk /var 96% ≥ 95%"}, Time: t0.Add(-2 * time.Minute)},
		{Host: "web-2", Status: health.OK, Metrics: disk(40), Time: t0},
		{Host: "web-3", Status: health.Warn, Metrics: disk(50), Reasons: []string{"cpu 91% ≥ 85%"}, Time: t0},
		{Host: "web-4", Status: health.OK, Metrics: disk(20), Time: t0},
		{Host: "db-1", Status: health.Down, Err: errors.New("dial tcp 10.0.1.1:22: connect: connection refused"),
			Reasons: []string{"unreachable: connection refused"}, Time: t0.Add(-5 * time.Minute)},
	}
}

// --- driving Update ----------------------------------------------------------------

func keyOf(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func press(m Model, keys ...string) (Model, tea.Cmd) {
	var last tea.Cmd
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(keyOf(k))
		if cmd != nil {
			last = cmd
		}
	}
	return m, last
}

func send(m Model, msgs ...tea.Msg) (Model, tea.Cmd) {
	var last tea.Cmd
	for _, msg := range msgs {
		var cmd tea.Cmd
		m, cmd = m.Update(msg)
		if cmd != nil {
			last = cmd
		}
	}
	return m, last
}

// drive runs cmd and every Cmd that follows from it, one at a time as the test's own
// scheduler, feeding the pane's messages back through Update; everything else (flash,
// confirm requests) is returned for the test.
func drive(t *testing.T, m Model, cmd tea.Cmd) (Model, []tea.Msg) {
	t.Helper()
	var other []tea.Msg
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case HealStartedMsg, HealProgressMsg, HealDoneMsg, StateSavedMsg, StateLoadedMsg, InterruptedLoadedMsg, AbandonedMsg:
			var next tea.Cmd
			m, next = m.Update(msg)
			queue = append(queue, next)
		case nil:
		default:
			other = append(other, msg)
		}
	}
	return m, other
}

// confirmOf runs cmd and returns the ConfirmActionMsg it asks the root for.
func confirmOf(t *testing.T, cmd tea.Cmd) views.ConfirmActionMsg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command")
	}
	msg, ok := cmd().(views.ConfirmActionMsg)
	if !ok {
		t.Fatalf("want a ConfirmActionMsg, got %T", cmd())
	}
	return msg
}

func mustContain(t *testing.T, view string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(view, w) {
			t.Errorf("view lacks %q:\n%s", w, view)
		}
	}
}

// started gives the pane what a console gives it first: the limiter's state (empty, as
// Init would read it on a fresh machine), the time, and a round of reports.
func started(t *testing.T, m Model) Model {
	t.Helper()
	if !m.stateLoaded {
		m, _ = send(m, StateLoadedMsg{})
	}
	m, _ = send(m, views.ClockMsg{Now: t0}, viewsfleet.HostsPolledMsg{Reports: reports()})
	return m
}

// --- tests -------------------------------------------------------------------------

func TestIncidentsAppearFromReports(t *testing.T) {
	m, _ := newModel(t, false)
	mustContain(t, m.View(), "waiting for the first health reports")
	m = started(t, m)
	var got []string
	for _, in := range m.Incidents() {
		got = append(got, in.ID)
	}
	if strings.Join(got, " ") != "db-1/down web-1/unhealthy web-3/unhealthy" {
		t.Fatalf("incidents %v", got)
	}
	v := m.View()
	mustContain(t, v, "3 incidents:", "↓ 1 down", "✗ 1 crit", "! 1 warn",
		"> ↓ down", "db-1", "since 09:55:00 · 5m", "unreachable: connection refused",
		"↳ restart-app · status down", "↳ clean-logs · disk_used 96% > 90", "no self-heal rule applies")
	if m.Title() != "Incidents · 3" {
		t.Errorf("title %q", m.Title())
	}

	// The host heals: its incident goes, and the others keep their place and "since".
	healed := reports()[0]
	healed.Status, healed.Metrics, healed.Reasons, healed.Time = health.OK, disk(30), nil, t0.Add(time.Minute)
	m, _ = send(m, viewsfleet.HostsPolledMsg{Reports: []fleet.Report{healed}})
	if len(m.Incidents()) != 2 || m.Incidents()[0].ID != "db-1/down" || !m.Incidents()[0].Since.Equal(t0.Add(-5*time.Minute)) {
		t.Fatalf("after healing: %+v", m.Incidents())
	}
	// Signals from probes join the same list.
	m, _ = send(m, SignalsMsg{Probes: map[string][]heal.ProbeState{
		"web-2": {{Probe: "app-health", Failing: true, Consecutive: 4, Detail: "HTTP 503"}}}})
	mustContain(t, m.View(), "web-2", "probe app-health", "failing 4× in a row: HTTP 503", "↳ restart-app · probe app-health failed 4×")
}

func TestChooseSuggestionAsksTheGateWithTheExactPlan(t *testing.T) {
	m, e := newModel(t, false)
	m = started(t, m)
	// db-1 down is first; its suggestion is the second row; web-1's header the third.
	m, _ = press(m, "j", "j")
	m, cmd := press(m, "R")
	req := confirmOf(t, cmd)
	a := req.Action
	if req.Pane != views.PaneIncidents || req.RequestID != 1 || a.Kind != "runbook" || a.Name != "clean-logs" ||
		a.BlastRadius() != 1 || a.Hosts()[0] != "web-1" {
		t.Fatalf("request %+v", req)
	}
	if a.Steps[0].Command != "journalctl --vacuum-size=500M" || !strings.HasPrefix(a.Steps[1].Command, "check: test $(df") {
		t.Fatalf("plan steps %+v", a.Steps)
	}
	if !strings.Contains(a.Reason, `self-heal for incident web-1/unhealthy: rule "full-disk": disk_used 96% > 90`) {
		t.Errorf("reason %q", a.Reason)
	}
	mustContain(t, m.View(), "asking to run clean-logs on web-1")

	// The operator confirms: the run goes through the audit log, progress then result.
	m, other := drive(t, m, req.Run(""))
	if got := strings.Join(e.ran.all(), "\n"); got != "web-1: journalctl --vacuum-size=500M\nweb-1: test $(df --output=pcent /var | tail -1 | tr -d ' %') -lt 90" {
		t.Fatalf("ran:\n%s", got)
	}
	r := m.runs[0]
	if !r.finished || !r.outcome.OK() || r.actionID == "" {
		t.Fatalf("run %+v", r)
	}
	v := m.View()
	mustContain(t, v, "✓ clean-logs on web-1: ok", "audit: opsconsole audit --id "+string(r.actionID))
	var flashed bool
	for _, msg := range other {
		if f, ok := msg.(views.FlashMsg); ok && strings.Contains(f.Text, "✓ clean-logs on web-1: ok") && !f.Err {
			flashed = true
		}
	}
	if !flashed {
		t.Errorf("no flash in %v", other)
	}
	recs, _, err := audit.Read(e.log.Path())
	if err != nil || len(recs) == 0 || recs[0].Intent == nil || recs[0].Intent.Name != "clean-logs" ||
		!strings.Contains(recs[0].Intent.Reason, "full-disk") || recs[len(recs)-1].Done == nil {
		t.Fatalf("audit records %+v %v", recs, err)
	}
	// A manual run records nothing in the limiter: the limits are for automatic runs.
	if len(m.limiter.Runs) != 0 {
		t.Errorf("limiter %+v", m.limiter)
	}
}

func TestProgressWhileRunning(t *testing.T) {
	m, _ := newModel(t, false)
	m = started(t, m)
	m, cmd := press(m, "j", "j", "R")
	req := confirmOf(t, cmd)
	startMsg, ok := req.Run("INC-9")().(HealStartedMsg)
	if !ok || startMsg.Reason != "INC-9" {
		t.Fatalf("start %+v", startMsg)
	}
	m, next := send(m, startMsg)
	if next == nil || m.Title() != "Incidents · 3 · 1 running" {
		t.Fatalf("title %q", m.Title())
	}
	m, _ = send(m, HealProgressMsg{ID: startMsg.ID, ActionID: "A1", Hosts: []HostProgress{
		{Host: "web-1", State: runbook.StateRunning, Step: 1, Phase: "run", Command: "journalctl --vacuum-size=500M"}}})
	mustContain(t, m.View(), "… clean-logs on web-1: running · step 1/1 run: journalctl --vacuum")
	// A stale result of another request is dropped; this run's end is kept.
	m, _ = send(m, HealDoneMsg{ID: 99})
	m, _ = send(m, HealDoneMsg{ID: startMsg.ID, Outcome: runbook.Outcome{ID: "A1", Runbook: "clean-logs",
		Hosts:   []runbook.HostOutcome{{Host: "web-1", State: runbook.StateRolledBack, FailedStep: 1, Note: "step 1 check failed: exit 1"}},
		Started: t0, Ended: t0.Add(1500 * time.Millisecond)}})
	startMsg.cancel()
	mustContain(t, m.View(), "✗ clean-logs on web-1: web-1 rolled_back (step 1 check failed: exit 1) in 1.5s",
		"audit: opsconsole audit --id A1")
}

func TestCancelAtTheGate(t *testing.T) {
	m, e := newModel(t, false)
	m = started(t, m)
	m, cmd := press(m, "j", "R") // db-1's restart-app
	req := confirmOf(t, cmd)
	if req.Action.Hosts()[0] != "db-1" || req.Action.Steps[0].Command != "systemctl restart postgres" {
		t.Fatalf("%+v", req.Action)
	}
	// A second choice while the gate holds the first is refused in the pane.
	m, cmd = press(m, "j", "j", "R")
	if cmd != nil {
		t.Fatalf("a second request went out: %T", cmd())
	}
	mustContain(t, m.View(), "a confirmation is already open for restart-app on db-1")
	m, _ = send(m, views.ActionCancelledMsg{Pane: views.PaneIncidents, RequestID: req.RequestID, Reason: "cancelled"})
	mustContain(t, m.View(), "⊘ cancelled: restart-app on db-1: cancelled")
	if len(e.ran.all()) != 0 || m.pending.id != 0 {
		t.Fatal("something ran after a cancel")
	}
	// Now the pane asks again.
	if _, cmd = press(m, "R"); cmd == nil {
		t.Fatal("no request after the cancel")
	}
}

func TestReadOnlyRootRefuses(t *testing.T) {
	// The console is read-only: the key is disabled in the keymap, so R does nothing;
	// the root flashes why (its DisabledReason).
	fx := loadFixture(t, true)
	keys := keymap.Default()
	keys.SetReadOnly(true)
	m := New(keys.Incidents, styles(t), Deps{Runbooks: fx.rbs, Rules: fx.rules, Hosts: fx.cfg.Hosts, ReadOnly: true}).SetSize(80, 24)
	m = started(t, m)
	if _, cmd := press(m, "j", "j", "R"); cmd != nil {
		t.Fatalf("R in read-only mode asked for %T", cmd())
	}
	// No automatic proposal either, and the pane says why.
	for range 12 {
		var cmd tea.Cmd
		if m, cmd = send(m, views.ClockMsg{Now: t0}); cmd != nil {
			t.Fatalf("read-only console proposed %T", cmd())
		}
	}
	mustContain(t, m.View(), "auto-heal off: read-only", "auto off: read-only")

	// A pane whose own flag disagrees with the root's still cannot run: the root's gate
	// refuses, and the pane shows the refusal as a cancel.
	m, _ = newModel(t, false)
	m = started(t, m)
	m, cmd := press(m, "j", "j", "R")
	req := confirmOf(t, cmd)
	m, _ = send(m, views.ActionCancelledMsg{Pane: views.PaneIncidents, RequestID: req.RequestID, Reason: "read-only mode"})
	mustContain(t, m.View(), "⊘ cancelled: clean-logs on web-1: read-only mode")
}

func TestAutoHealCountdown(t *testing.T) {
	m, e := newModel(t, true)
	m = started(t, m)
	if !m.countdown.active() || m.countdown.incident != "web-1/unhealthy" || m.countdown.left != DefaultCountdown {
		t.Fatalf("countdown %+v", m.countdown)
	}
	mustContain(t, m.View(), "auto-heal in 10s", "auto-run in 10s · d/esc cancels",
		"auto-heal proposed: clean-logs on web-1 · d/esc cancels · you confirm at 0")
	if m.Title() != "Incidents · 3 · auto in 10s" {
		t.Errorf("title %q", m.Title())
	}
	var cmd tea.Cmd
	for i := 1; i < DefaultCountdown; i++ {
		if m, cmd = send(m, views.ClockMsg{Now: t0.Add(time.Duration(i) * time.Second)}); cmd != nil {
			t.Fatalf("tick %d already asked: %T", i, cmd())
		}
	}
	mustContain(t, m.View(), "auto-run in 1s")
	m, cmd = send(m, views.ClockMsg{Now: t0.Add(10 * time.Second)})
	req := confirmOf(t, cmd)
	if req.Action.Name != "clean-logs" || req.Action.Hosts()[0] != "web-1" ||
		!strings.HasPrefix(req.Action.Reason, "automatic self-heal for incident web-1/unhealthy") {
		t.Fatalf("auto request %+v", req.Action)
	}
	mustContain(t, m.View(), "waiting for confirmation")

	// Confirmed: the run is recorded in the limiter and its file, then held by it.
	m, _ = drive(t, m, req.Run(""))
	if len(e.ran.all()) != 2 {
		t.Fatalf("ran %v", e.ran.all())
	}
	if len(m.limiter.Runs) != 1 || m.limiter.Runs[0].End.IsZero() {
		t.Fatalf("limiter %+v", m.limiter.Runs)
	}
	saved, err := heal.LoadState(e.state)
	if err != nil || len(saved.Runs) != 1 || saved.Runs[0].Host != "web-1" || saved.Runs[0].End.IsZero() {
		t.Fatalf("state file %+v %v", saved, err)
	}
	// The disk is still full at the next report; the hourly limit holds the rule back.
	for i := range 15 {
		if m, cmd = send(m, views.ClockMsg{Now: t0.Add(time.Duration(20+i) * time.Second)}); cmd != nil {
			t.Fatalf("proposed again within the hour: %T", cmd())
		}
	}
	mustContain(t, m.View(), "auto held: 1 automatic run on web-1 in the last hour")
}

func TestAutoHealCancel(t *testing.T) {
	for _, k := range []string{"d", "esc"} {
		t.Run(k, func(t *testing.T) {
			m, e := newModel(t, true)
			m = started(t, m)
			m, _ = send(m, views.ClockMsg{Now: t0.Add(time.Second)}, views.ClockMsg{Now: t0.Add(2 * time.Second)})
			m, _ = press(m, k)
			if m.countdown.active() {
				t.Fatal("countdown still running")
			}
			mustContain(t, m.View(), "⊘ automatic self-heal cancelled (cancelled by you): full-disk", "auto declined")
			for i := range 30 {
				if _, cmd := send(m, views.ClockMsg{Now: t0.Add(time.Duration(3+i) * time.Second)}); cmd != nil {
					t.Fatalf("proposed again after a cancel: %T", cmd())
				}
			}
			if len(e.ran.all()) != 0 {
				t.Fatal("ran after a cancel")
			}
			// Dismiss is still Dismiss when nothing counts down: it hides the incident.
			if k == "d" {
				m, _ = press(m, "d")
				if len(m.Incidents()) != 2 {
					t.Fatalf("dismiss: %d incidents", len(m.Incidents()))
				}
				mustContain(t, m.View(), "1 dismissed")
			}
		})
	}
}

func TestAutoHealDeclinedAtGateAndWithdrawn(t *testing.T) {
	m, _ := newModel(t, true, func(d *Deps) { d.Countdown = 2 })
	m = started(t, m)
	m, _ = send(m, views.ClockMsg{Now: t0.Add(time.Second)})
	m, cmd := send(m, views.ClockMsg{Now: t0.Add(2 * time.Second)})
	req := confirmOf(t, cmd)
	m, _ = send(m, views.ActionCancelledMsg{Pane: views.PaneIncidents, RequestID: req.RequestID, Reason: "cancelled"})
	if m.countdown.active() || !m.declined["web-1/unhealthy"] {
		t.Fatalf("declined at the gate: %+v", m.countdown)
	}

	// A proposal whose incident clears before the countdown ends is withdrawn.
	m, _ = newModel(t, true)
	m = started(t, m)
	healed := reports()[0]
	healed.Status, healed.Metrics, healed.Reasons, healed.Time = health.OK, disk(30), nil, t0.Add(time.Second)
	m, _ = send(m, viewsfleet.HostsPolledMsg{Reports: []fleet.Report{healed}})
	if m.countdown.active() {
		t.Fatal("countdown survived its incident")
	}
	mustContain(t, m.View(), "automatic self-heal withdrawn")
}

func TestAutoHealWaitsForItsState(t *testing.T) {
	m, e := newModel(t, true)
	m, _ = send(m, views.ClockMsg{Now: t0}, viewsfleet.HostsPolledMsg{Reports: reports()})
	if m.countdown.active() {
		t.Fatal("proposed before the state file was read")
	}
	mustContain(t, m.View(), "auto-heal off: reading its state")
	os.WriteFile(e.state, []byte("{torn"), 0o600)
	m, _ = drive(t, m, m.Init())
	m, _ = send(m, views.ClockMsg{Now: t0.Add(time.Second)})
	if m.countdown.active() {
		t.Fatal("proposed with an unreadable state file")
	}
	mustContain(t, m.View(), "auto-heal off: state file unreadable")
	m, _ = send(m, StateLoadedMsg{})
	m, _ = send(m, views.ClockMsg{Now: t0.Add(2 * time.Second)})
	if m.countdown.active() {
		t.Fatal("a later good read does not clear a bad one: restart after fixing the file")
	}
}

func TestAutoHealRespectsTheStateFile(t *testing.T) {
	m, e := newModel(t, true)
	rule, _ := heal.Find(e.rules, "full-disk")
	// A cron `opsconsole heal` ran on web-1 half an hour ago.
	if err := heal.SaveState(e.state, heal.Limiter{}.Started(rule, "web-1", t0.Add(-30*time.Minute)).
		Finished(rule, "web-1", t0.Add(-29*time.Minute))); err != nil {
		t.Fatal(err)
	}
	m, _ = drive(t, m, m.Init())
	m = started(t, m)
	if m.countdown.active() {
		t.Fatalf("proposed despite the state file: %+v", m.countdown)
	}
	mustContain(t, m.View(), "auto held: 1 automatic run on web-1 in the last hour", "(max_per_host_per_hour 1); next at 10:30:00")
}

// interruptedRun is a run written by another process (pid 4242) that died after one of
// its three hosts reported.
func interruptedRun() audit.Run {
	recs := []audit.Record{
		{Type: audit.TypeIntent, ID: "019a-int", Time: t0.Add(-time.Hour), Intent: &audit.Intent{Kind: "runbook", Name: "restart-app",
			Hosts: []string{"web-1", "web-2", "web-3"}, Who: audit.Who{User: "alice", PID: 4242, Machine: "bastion"}}},
		{Type: audit.TypeResult, ID: "019a-int", Time: t0.Add(-time.Hour), Result: &audit.Result{Host: "web-1", Step: 1,
			Phase: "run", Outcome: "ok"}},
		{Type: audit.TypeResult, ID: "019a-int", Time: t0.Add(-time.Hour), Result: &audit.Result{Host: "web-2", Step: 1,
			Phase: "check", Outcome: "failed", ExitCode: 3, FirstLine: "app is not active\x1b]0;pwned\x07"}},
	}
	return audit.Interrupted(recs)[0]
}

func TestInterruptedRunsShowWhatFinished(t *testing.T) {
	m, e := newModel(t, false)
	m = m.SetSize(160, 24)
	m = started(t, m)
	m, _ = send(m, InterruptedLoadedMsg{Runs: []audit.Run{interruptedRun()}})
	if m.Incidents()[1].ID != "interrupted/019a-int" {
		t.Fatalf("order %v", m.Incidents())
	}
	m, _ = press(m, "j", "j") // db-1, its suggestion, then the interrupted run
	v := m.View()
	mustContain(t, v, "> ✗ crit web-[1-3]  interrupted runbook restart-app",
		"runbook restart-app stopped without finishing: 2 of 3 hosts reported (1 failed), 1 never did",
		"reported: web-1 ok at step 1 run, web-2 failed (exit 3) at step 1 check · no result: web-3")
	m, _ = press(m, "enter")
	v = m.View()
	mustContain(t, v, "started 2026-11-22 09:00:00 by alice · audit: opsconsole audit --id 019a-int",
		"web-1: ok at step 1 run", "web-2: failed (exit 3) at step 1 check · app is not active",
		"web-3: no result (did not start, or never reported)")
	if strings.Contains(v, "pwned") || strings.Contains(v, "\x1b") {
		t.Fatalf("remote output reached the screen unsanitised:\n%q", v)
	}
	// R on it says how to look, and runs nothing.
	m, cmd := press(m, "R")
	if cmd != nil {
		t.Fatal("an interrupted run was re-run")
	}
	mustContain(t, m.View(), "an interrupted run is read, not re-run, from here: opsconsole audit --id 019a-int")

	// Dismiss closes a certainly dead run in the audit log.
	m, cmd = press(m, "d")
	m, _ = drive(t, m, cmd)
	for _, in := range m.Incidents() {
		if in.Kind == heal.KindInterrupted {
			t.Fatal("still listed after dismissal")
		}
	}
	recs, _, _ := audit.Read(e.log.Path())
	if len(recs) != 1 || recs[0].Done == nil || recs[0].Done.Outcome != "interrupted" {
		t.Fatalf("abandon record %+v", recs)
	}
}

func TestLoadInterruptedFromTheAuditLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	// Another process's intent (pid 4242 on another machine) with one result and no done.
	lines := `{"type":"intent","id":"019a-x","time":"2026-11-22T09:00:00Z","intent":{"who":{"user":"bob","pid":4242,"machine":"elsewhere"},"kind":"runbook","name":"clean-logs","version":"dev","hosts":["web-1","web-2"],"steps":[]}}
{"type":"result","id":"019a-x","time":"2026-11-22T09:00:01Z","result":{"host":"web-1","step":1,"phase":"run","outcome":"ok","exit_code":0,"started":"2026-11-22T09:00:00Z","duration_ms":3,"output_bytes":0}}
{"type":"result","id":"019a-x","time":"2026-11-22T09:00:02Z","result":{"host":"web-2","ste`
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	msg, ok := loadInterruptedCmd(path)().(InterruptedLoadedMsg)
	if !ok || msg.Err != nil || len(msg.Runs) != 1 || msg.Problems != 1 || !msg.MaybeRunning["019a-x"] {
		t.Fatalf("%+v", msg)
	}
	m, _ := newModel(t, false)
	m, _ = send(m, msg)
	m = m.SetSize(160, 24)
	mustContain(t, m.View(), "audit log: 1 unreadable line", "it may still be running (pid 4242)")
	// A run that may still be running is only hidden, never closed, by dismissal.
	if _, cmd := press(m, "d"); cmd != nil {
		t.Fatal("dismissing a maybe-running run wrote to the audit log")
	}
	if msg, _ := loadInterruptedCmd(filepath.Join(dir, "none.jsonl"))().(InterruptedLoadedMsg); msg.Err != nil || len(msg.Runs) != 0 {
		t.Fatalf("missing log: %+v", msg)
	}
}

func TestNoAuditLogRefusesToRun(t *testing.T) {
	m, _ := newModel(t, false, func(d *Deps) { d.Audit = nil })
	m = started(t, m)
	m, cmd := press(m, "j", "j", "R")
	req := confirmOf(t, cmd)
	msg := req.Run("")()
	c, ok := msg.(views.ActionCancelledMsg)
	if !ok || !strings.Contains(c.Reason, "no audit log") {
		t.Fatalf("%+v", msg)
	}
	m, _ = send(m, c)
	mustContain(t, m.View(), "no audit log: refusing to run")
}

func TestSanitisesHostileText(t *testing.T) {
	m, _ := newModel(t, false)
	m, _ = send(m, views.ClockMsg{Now: t0}, viewsfleet.HostsPolledMsg{Reports: []fleet.Report{{Host: "web-1", Status: health.Down,
		Err: errors.New("banner \x1b[2J\x1b]52;c;ZXZpbA==\x07 gone\r\nnext \u202eevil"), Time: t0}}})
	v := m.View()
	if strings.Contains(v, "\x1b") || strings.Contains(v, "\u202e") || strings.Contains(v, "ZXZpbA") {
		t.Fatalf("escape reached the view: %q", v)
	}
	mustContain(t, v, "banner  gone⏎next �evil")
}

// --- golden files --------------------------------------------------------------------

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name+".golden")
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func checkFrame(t *testing.T, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Fatalf("line %d is %d wide (max %d): %q", i, n, w, l)
		}
	}
}

func TestGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		w, h := size[0], size[1]
		name := fmt.Sprintf("%dx%d", w, h)
		t.Run(name, func(t *testing.T) {
			m, _ := newModel(t, true)
			m = m.SetSize(w, h)
			m = started(t, m)
			m, _ = send(m, InterruptedLoadedMsg{Runs: []audit.Run{interruptedRun()}},
				SignalsMsg{Probes: map[string][]heal.ProbeState{"web-2": {{Probe: "app-health", Failing: true, Consecutive: 3,
					Since: t0.Add(-90 * time.Second), Detail: "HTTP 503 from /healthz"}}}},
				views.ClockMsg{Now: t0.Add(time.Second)}, views.ClockMsg{Now: t0.Add(2 * time.Second)},
				views.ClockMsg{Now: t0.Add(3 * time.Second)})
			frame := m.View()
			checkFrame(t, frame, w, h)
			golden(t, "countdown-"+name, "title: "+m.Title()+"\n"+frame+"\n")

			// The operator cancels the countdown, runs the db restart by hand (its outcome
			// is fed by hand so the frame does not depend on real durations), and opens the
			// web-1 incident's details with its plan.
			m, _ = press(m, "esc", "j")
			m, cmd := press(m, "R")
			start, ok := confirmOf(t, cmd).Run("INC-77")().(HealStartedMsg)
			if !ok {
				t.Fatal("the run did not start")
			}
			defer start.cancel()
			m, _ = send(m, start, HealDoneMsg{ID: start.ID, Outcome: runbook.Outcome{ID: "20261122T100003Z-4f1c9a", Runbook: "restart-app",
				Hosts: []runbook.HostOutcome{{Host: "db-1", State: runbook.StateFailed, FailedStep: 1,
					Note: "step 1 run failed: dial tcp 10.0.1.1:22: connection refused"}},
				Started: t0.Add(3 * time.Second), Ended: t0.Add(3*time.Second + 250*time.Millisecond)}})
			m, _ = press(m, "j", "j", "enter")
			frame = m.View()
			checkFrame(t, frame, w, h)
			golden(t, "ran-expanded-"+name, "title: "+m.Title()+"\n"+frame+"\n")
		})
	}
}

func TestFeedCoalescesEventsIntoSnapshots(t *testing.T) {
	f := newFeed([]string{"web-1", "web-2"})
	f.observe(runbook.Event{Kind: runbook.EventStarted, ID: "A7"})
	for i := range 100 {
		f.observe(runbook.Event{Kind: runbook.EventCommandStarted, Host: "web-1", Step: 1, Phase: "run", Command: fmt.Sprint("cmd ", i)})
	}
	f.observe(runbook.Event{Kind: runbook.EventHostState, Host: "web-2", State: runbook.StateRunning})
	msg := waitForProgress(3, f)().(HealProgressMsg)
	if msg.ID != 3 || msg.ActionID != "A7" || msg.Final || len(msg.Hosts) != 2 ||
		msg.Hosts[0].Command != "cmd 99" || msg.Hosts[1].State != runbook.StateRunning {
		t.Fatalf("%+v", msg)
	}
	close(f.done)
	if msg := waitForProgress(3, f)().(HealProgressMsg); !msg.Final {
		t.Fatal("no final snapshot after the run ended")
	}
	// The last snapshot does not re-arm the reader.
	m, _ := newModel(t, false)
	m.runs = []run{{request: request{id: 3}, feed: f}}
	if _, cmd := m.Update(HealProgressMsg{ID: 3, Final: true}); cmd != nil {
		t.Fatal("re-armed after the final snapshot")
	}
	if _, cmd := m.Update(HealProgressMsg{ID: 3}); cmd == nil {
		t.Fatal("not re-armed while running")
	}
}

func TestHelpFollowsTheCountdown(t *testing.T) {
	m, _ := newModel(t, true)
	var keys []string
	for _, b := range m.ShortHelp() {
		keys = append(keys, b.Help().Key+" "+b.Help().Desc)
	}
	if strings.Join(keys, ", ") != "↑/k move up, ↓/j move down, enter details, R run suggested runbook, d dismiss" {
		t.Fatalf("help %v", keys)
	}
	m = started(t, m)
	keys = keys[:0]
	for _, b := range m.ShortHelp() {
		keys = append(keys, b.Help().Key+" "+b.Help().Desc)
	}
	if strings.Join(keys, ", ") != "d cancel auto-heal, esc cancel auto-heal, R run suggested runbook" {
		t.Fatalf("help during a countdown %v", keys)
	}
	if len(m.FullHelp()) < 2 {
		t.Fatal("full help")
	}
}

// Probe results riding on the fleet reports raise probe incidents, as the fleet view
// shows them, without anyone publishing SignalsMsg.
func TestProbeResultsOnReportsRaiseIncidents(t *testing.T) {
	m, _ := newModel(t, false)
	m = started(t, m)
	rs := reports()
	rs[1].Time = t0.Add(time.Second)
	rs[1].Probes = []probes.Result{{Result: probe.Result{Name: "app-health", Status: health.Crit, Reason: "HTTP 503", Time: t0},
		History: []health.Status{health.Crit, health.Crit, health.Crit, health.Crit}}}
	m, _ = send(m, viewsfleet.HostsPolledMsg{Reports: rs[1:2]})
	mustContain(t, m.View(), "web-2", "probe app-health", "failing 4× in a row: HTTP 503")
}

// Log lines that matched a configured marker raise a marker incident on their host.
func TestLogMarkersRaiseIncidents(t *testing.T) {
	m, _ := newModel(t, false)
	m = started(t, m)
	line := logs.Line{Host: "web-4", Source: "kern", Received: t0, Message: "Out of memory: Killed process 4242 (app)", Flag: "oom"}
	m, _ = send(m, logsview.LinesMsg{Lines: []logs.Line{line, {Host: "web-4", Message: "ordinary"}, line}})
	var found bool
	for _, in := range m.Incidents() {
		if in.Host == "web-4" && in.Kind == heal.KindMarker {
			found = len(in.Suggestions) == 1 && in.Suggestions[0].Runbook == "restart-app"
		}
	}
	if !found {
		t.Fatalf("no marker incident with its suggestion on web-4: %+v", m.Incidents())
	}
	mustContain(t, m.View(), "web-4")
}
