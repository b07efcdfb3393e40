package exec

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) {
	// Golden files hold plain text: no colour, no attributes, whatever runs the tests.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// --- fixtures ---------------------------------------------------------------------

func inventory() []config.Host {
	var hs []config.Host
	for i := 1; i <= 4; i++ {
		hs = append(hs, config.Host{Name: fmt.Sprintf("web-%d", i), Tags: []string{"web"}})
	}
	for i := 1; i <= 2; i++ {
		hs = append(hs, config.Host{Name: fmt.Sprintf("db-%d", i), Tags: []string{"db"}})
	}
	return hs
}

// fakeSession answers every command from a script, so runs through the real pool and
// fan-out need no network.
type fakeSession struct {
	host   string
	script func(host, cmd string) (stdout, stderr string, code int)
}

func (s fakeSession) Exec(_ context.Context, cmd string, stdout, stderr io.Writer) (int, error) {
	if s.script == nil {
		return 0, nil
	}
	out, errOut, code := s.script(s.host, cmd)
	io.WriteString(stdout, out)
	io.WriteString(stderr, errOut)
	return code, nil
}

func (fakeSession) Close() error { return nil }

func fakePool(script func(host, cmd string) (string, string, int)) *sessions.Pool {
	return sessions.NewPool(func(_ context.Context, h config.Host) (sessions.Session, error) {
		return fakeSession{host: h.Name, script: script}, nil
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

// testAudit is a real audit log in the test's own directory.
func testAudit(t testing.TB) *audit.Log {
	t.Helper()
	log, err := audit.Open(filepath.Join(t.TempDir(), "audit.jsonl"), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return log
}

func newModel(t testing.TB, edit ...func(*Deps)) Model {
	t.Helper()
	deps := Deps{
		Pool: fakePool(func(host, cmd string) (string, string, int) {
			return host + ": " + cmd + "\n", "", 0
		}),
		Hosts:            inventory(),
		ReadOnlyCommands: config.DefaultReadOnlyCommands(),
		Audit:            testAudit(t),
	}
	for _, e := range edit {
		e(&deps)
	}
	m := New(deps, keymap.Default().Exec, styles(t))
	m.SetSize(80, 24)
	return m
}

// --- driving Update ----------------------------------------------------------------

func keyOf(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "ctrl+u":
		return tea.KeyMsg{Type: tea.KeyCtrlU}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// press feeds keys one by one and returns the model and the last non-nil Cmd.
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

// typeText types s as one burst of runes, as a fast typist or a paste arrives.
func typeText(m Model, s string) Model {
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
	return m
}

// enterCommand focuses the command input, clears it, types command and presses enter.
func enterCommand(t *testing.T, m Model, command string) (Model, tea.Cmd) {
	t.Helper()
	if !m.InputFocused() {
		m, _ = press(m, "e")
	}
	if m.focus != focusCommand {
		m, _ = press(m, "tab")
	}
	if m.focus != focusCommand {
		t.Fatalf("could not focus the command input (focus %d)", m.focus)
	}
	m, _ = press(m, "ctrl+u")
	m = typeText(m, command)
	return press(m, "enter")
}

// setPattern focuses the host-pattern input and replaces its text.
func setPattern(t *testing.T, m Model, pattern string) Model {
	t.Helper()
	if !m.InputFocused() {
		m, _ = press(m, "h")
	}
	for m.focus != focusHosts {
		m, _ = press(m, "shift+tab")
	}
	m, _ = press(m, "ctrl+u")
	return typeText(m, pattern)
}

// call runs a Cmd as Bubble Tea would. A Cmd that never returns is caught by go test's
// own -timeout, which prints where it blocked.
func call(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	return cmd()
}

// drive runs cmd and every Cmd that follows from it, feeding the pane's own messages back
// through Update, until nothing is left; other messages are returned for the test.
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
		switch msg := call(t, c).(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case RunStartedMsg, ResultsMsg:
			var next tea.Cmd
			m, next = m.Update(msg)
			queue = append(queue, next)
		default:
			other = append(other, msg)
		}
	}
	return m, other
}

func result(host string, oc sessions.Outcome, code int, stdout string) sessions.Result {
	return sessions.Result{Host: host, Outcome: oc, ExitCode: code, Stdout: []byte(stdout)}
}

// startRun submits command and feeds the run's start by hand, so the test decides every
// result the run gets. ch stays open: the test feeds ResultsMsg itself.
func startRun(t *testing.T, m Model, command string) (Model, *atomic.Bool) {
	t.Helper()
	m, cmd := enterCommand(t, m, command)
	if cmd == nil {
		t.Fatalf("%q started nothing; notice %q", command, m.notice.text)
	}
	id := m.pending.id
	switch msg := call(t, cmd).(type) {
	case views.ConfirmActionMsg:
		id = msg.RequestID
	case RunStartedMsg:
		// A read-only command started for real; stop it and stand in for it.
		msg.cancel()
	}
	cancelled := new(atomic.Bool)
	m, next := m.Update(RunStartedMsg{ID: id, ch: make(chan sessions.Result), cancel: func() { cancelled.Store(true) }})
	if next == nil || m.run.id != id {
		t.Fatalf("run %d did not start", id)
	}
	return m, cancelled
}

func mustContain(t *testing.T, view string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(view, w) {
			t.Errorf("view lacks %q:\n%s", w, view)
		}
	}
}

func mustNotContain(t *testing.T, view string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(view, w) {
			t.Errorf("view has %q:\n%s", w, view)
		}
	}
}

// --- key-sequence tests --------------------------------------------------------------

func TestPatternResolvesLiveAndShowsErrors(t *testing.T) {
	m := newModel(t)
	mustContain(t, m.View(), "hosts   all", "→ 6 hosts")

	m = setPattern(t, m, "tag:db")
	if !m.InputFocused() {
		t.Fatal("typing a pattern should keep the input focused")
	}
	mustContain(t, m.View(), "hosts › tag:db", "→ 2 hosts")

	m = typeText(m, ",web-[12]")
	mustContain(t, m.View(), "→ 4 hosts")

	m = setPattern(t, m, "nope-*")
	mustContain(t, m.View(), `✗ pattern "nope-*" matches no host`)
	mustNotContain(t, m.View(), "→ ")

	// A run is refused while the pattern is wrong, and says why.
	m, cmd := enterCommand(t, m, "uptime")
	if cmd != nil {
		t.Fatal("a command ran on a pattern that resolves no host")
	}
	mustContain(t, m.View(), "fix the host pattern first")

	// Fixing it brings the count back.
	m = setPattern(t, m, "web-*")
	m, _ = press(m, "backspace", "backspace")
	mustContain(t, m.View(), "hosts › web ", `✗ pattern "web" matches no host`)
	m = typeText(m, "-4")
	mustContain(t, m.View(), "→ 1 host")
	// Editing clears the complaint about the old pattern.
	mustNotContain(t, m.View(), "fix the host pattern first")
}

func TestReadOnlyCommandRunsAtOnce(t *testing.T) {
	m := newModel(t)
	m, cmd := enterCommand(t, m, "uptime")
	if cmd == nil {
		t.Fatal("uptime produced no Cmd")
	}
	msg := call(t, cmd)
	started, ok := msg.(RunStartedMsg)
	if !ok {
		t.Fatalf("uptime should start at once, got %T", msg)
	}
	if m.InputFocused() {
		t.Error("after a run starts, the results should have focus")
	}
	m, next := m.Update(started)
	m, other := drive(t, m, next)
	if !m.run.finished || len(m.run.results) != 6 {
		t.Fatalf("run finished=%v with %d results", m.run.finished, len(m.run.results))
	}
	mustContain(t, m.View(), "uptime — 6/6 hosts done: 6 ok, 0 failed, 0 timeout, 0 error",
		"db-1: uptime", "web-4: uptime")
	if len(other) != 1 {
		t.Fatalf("want one flash at the end, got %v", other)
	}
	if f, ok := other[0].(views.FlashMsg); !ok || f.Err || !strings.Contains(f.Text, "6/6 ok") {
		t.Errorf("final flash = %#v", other[0])
	}
}

func TestChangingCommandGoesThroughTheGate(t *testing.T) {
	m := newModel(t)
	m = setPattern(t, m, "tag:web,!web-3")
	m, cmd := enterCommand(t, m, "systemctl restart app")
	if cmd == nil {
		t.Fatal("no Cmd")
	}
	c, ok := call(t, cmd).(views.ConfirmActionMsg)
	if !ok {
		t.Fatal("a changing command must ask the gate")
	}
	if c.Pane != views.PaneExec || c.RequestID != m.pending.id || c.RequestID == 0 {
		t.Errorf("ConfirmActionMsg pane %v id %d, pending %d", c.Pane, c.RequestID, m.pending.id)
	}
	if c.Action.Kind != "exec" || c.Action.Name != "systemctl restart app" || len(c.Action.Steps) != 1 {
		t.Errorf("action = %+v", c.Action)
	}
	if got, want := c.Action.Hosts(), []string{"web-1", "web-2", "web-4"}; !slices.Equal(got, want) {
		t.Errorf("action hosts %v, want %v", got, want)
	}
	plan := c.Action.Plan()
	for _, w := range []string{"exec systemctl restart app: 3 host(s)", "step 1 on 3 host(s): systemctl restart app",
		"hosts: web-1, web-2, web-4\n"} {
		if !strings.Contains(plan, w) {
			t.Errorf("plan lacks %q:\n%s", w, plan)
		}
	}
	mustContain(t, m.View(), "waiting for confirmation: systemctl restart app on 3 hosts")

	// Confirmed: the root calls Run; its Cmd starts the run this request asked for.
	m, _ = drive(t, m, c.Run("deploy fix"))
	if !m.run.finished || len(m.run.results) != 3 {
		t.Fatalf("confirmed run: finished=%v results=%d", m.run.finished, len(m.run.results))
	}
	mustContain(t, m.View(), "3/3 hosts done: 3 ok", "web-2: systemctl restart app")
	mustNotContain(t, m.View(), "web-3:")

	// The confirmed Action is in the audit log: intent with the operator's reason, a
	// result per host, and done.
	recs, problems, err := audit.Read(m.deps.Audit.Path())
	if err != nil || len(problems) != 0 {
		t.Fatalf("audit log: %v %v", err, problems)
	}
	kinds := map[string]int{}
	for _, r := range recs {
		kinds[string(r.Type)]++
		if r.Intent != nil && r.Intent.Reason != "deploy fix" {
			t.Errorf("intent reason %q", r.Intent.Reason)
		}
	}
	if kinds["intent"] != 1 || kinds["result"] != 3 || kinds["done"] != 1 {
		t.Fatalf("audit records %v, want 1 intent, 3 results, 1 done", kinds)
	}
}

func TestCancelledActionRunsNothing(t *testing.T) {
	m := newModel(t)
	m, cmd := enterCommand(t, m, "rm -rf /tmp/cache")
	c := call(t, cmd).(views.ConfirmActionMsg)

	// Someone else's cancel is not ours.
	m2, _ := m.Update(views.ActionCancelledMsg{Pane: views.PaneRollouts, RequestID: c.RequestID, Reason: "no"})
	m2, _ = m2.Update(views.ActionCancelledMsg{Pane: views.PaneExec, RequestID: c.RequestID + 7, Reason: "no"})
	if m2.pending.id != c.RequestID {
		t.Fatal("a cancel for another pane or request dropped ours")
	}

	m, cmd = m.Update(views.ActionCancelledMsg{Pane: views.PaneExec, RequestID: c.RequestID, Reason: "operator said no"})
	if cmd != nil {
		t.Fatal("a cancel produced a Cmd")
	}
	mustContain(t, m.View(), "⊘ cancelled: operator said no")
	if m.focus != focusCommand {
		t.Error("after a cancel the command input should have focus again")
	}
	if m.run.id != 0 {
		t.Fatal("a cancelled action left a run")
	}

	// Even if the run somehow started afterwards, nobody waits for it: it is stopped.
	var stopped atomic.Bool
	m, cmd = m.Update(RunStartedMsg{ID: c.RequestID, ch: make(chan sessions.Result), cancel: func() { stopped.Store(true) }})
	if cmd != nil || m.run.id != 0 || !stopped.Load() {
		t.Fatalf("late start of a cancelled request: cmd=%v run=%d stopped=%v", cmd != nil, m.run.id, stopped.Load())
	}
}

func TestStaleResultsAreIgnored(t *testing.T) {
	m := newModel(t)
	m, cancelled1 := startRun(t, m, "uptime")
	first := m.run.id
	m, _ = m.Update(ResultsMsg{ID: first, Results: []sessions.Result{result("web-1", sessions.OutcomeOK, 0, "first run\n")}})
	mustContain(t, m.View(), "1/6 hosts done", "first run")

	// A second run is refused while the first is in flight ...
	if _, cmd := enterCommand(t, m, "df -h"); cmd != nil {
		t.Fatal("a second run started while the first was in flight")
	}
	// ... until it is cancelled with exec.cancel.
	m, _ = press(m, "esc", "x")
	if !cancelled1.Load() || !m.run.cancelling {
		t.Fatal("x did not cancel the run in flight")
	}
	mustContain(t, m.View(), "1/6 hosts done", "⊘ cancelling")

	m, _ = startRun(t, m, "df -h")
	if m.run.id == first {
		t.Fatal("the second run kept the first one's id")
	}
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: []sessions.Result{result("db-2", sessions.OutcomeOK, 0, "second run\n")}})
	before := m.View()

	m2, cmd := m.Update(ResultsMsg{ID: first, Results: []sessions.Result{result("web-2", sessions.OutcomeCancelled, -1, "stale\n")}, Done: true})
	if cmd != nil {
		t.Error("a stale batch re-armed a wait")
	}
	if got := m2.View(); got != before {
		t.Errorf("a stale batch changed the view:\n%s", got)
	}
	mustNotContain(t, m2.View(), "stale", "first run")
}

// fixtureResults is a run on the test inventory: three identical, one failure, a
// timeout and a connection error.
func fixtureResults() []sessions.Result {
	timeout := result("db-1", sessions.OutcomeTimedOut, -1, "")
	timeout.Err = context.DeadlineExceeded
	refused := result("db-2", sessions.OutcomeError, -1, "")
	refused.Err = errors.New("dial tcp 10.0.0.22:22: connect: connection refused")
	failed := result("web-4", sessions.OutcomeFailed, 3, "inactive\n")
	failed.Stderr = []byte("Unit app.service entered failed state.\n")
	return []sessions.Result{
		result("web-2", sessions.OutcomeOK, 0, "active\n"),
		failed,
		result("web-1", sessions.OutcomeOK, 0, "active\n"),
		timeout,
		result("web-3", sessions.OutcomeOK, 0, "active\n"),
		refused,
	}
}

func TestResultsGroupIdenticalOutputs(t *testing.T) {
	m := newModel(t)
	m.SetSize(120, 30)
	m, _ = startRun(t, m, "systemctl is-active app")
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: fixtureResults(), Done: true})
	v := m.View()
	mustContain(t, v,
		"systemctl is-active app — 6/6 hosts done: 3 ok, 1 failed, 1 timeout, 1 error",
		"✓ ok", "web-[1-3] (3)", "active",
		"✗ failed (exit 3)", "web-4 (1)", "inactive", "Unit app.service entered failed state.",
		"⏱ timeout", "db-1 (1)", "context deadline exceeded",
		"↯ error", "db-2 (1)", "connection refused",
		"grouped")
	if strings.Count(v, "    active") != 1 {
		t.Errorf("identical output should show once:\n%s", v)
	}
	// The largest group leads and is selected.
	if !strings.Contains(v, "› ✓ ok") {
		t.Errorf("first group not selected:\n%s", v)
	}

	m, _ = press(m, "t")
	v = m.View()
	mustContain(t, v, "per host", "web-1 (1)", "web-2 (1)", "web-3 (1)")
	if strings.Count(v, "    active") != 3 {
		t.Errorf("per-host view should show each host's output:\n%s", v)
	}
	// Per-host order is natural host order.
	if i, j := strings.Index(v, "db-2 (1)"), strings.Index(v, "web-1 (1)"); i < 0 || j < i {
		t.Errorf("per-host view not in host order:\n%s", v)
	}
}

func TestRerunFailedAsksForOnlyTheFailedHosts(t *testing.T) {
	m := newModel(t)
	m, _ = startRun(t, m, "systemctl restart app")
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: fixtureResults(), Done: true})

	m, cmd := press(m, "F")
	if cmd == nil {
		t.Fatalf("rerun produced nothing; notice %q", m.notice.text)
	}
	c, ok := call(t, cmd).(views.ConfirmActionMsg)
	if !ok {
		t.Fatal("rerun of a changing command must ask the gate")
	}
	if got, want := c.Action.Hosts(), []string{"web-4", "db-1", "db-2"}; !slices.Equal(got, want) {
		t.Errorf("rerun hosts %v, want %v", got, want)
	}
	if c.Action.Name != "systemctl restart app" || c.RequestID != m.pending.id {
		t.Errorf("rerun action %+v id %d", c.Action, c.RequestID)
	}

	// With nothing failed there is nothing to re-run.
	m = newModel(t)
	m, _ = startRun(t, m, "uptime")
	var all []sessions.Result
	for _, h := range inventory() {
		all = append(all, result(h.Name, sessions.OutcomeOK, 0, ""))
	}
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: all, Done: true})
	if _, cmd := press(m, "F"); cmd != nil {
		t.Error("rerun with no failed host produced a Cmd")
	}
}

func TestDrillDownAndBack(t *testing.T) {
	long := strings.Repeat("0123456789", 12) + "END"
	m := newModel(t)
	m, _ = startRun(t, m, "cat /etc/motd")
	rs := fixtureResults()
	rs[1].Stdout = []byte("inactive\n" + long + "\n")
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: rs, Done: true})

	list := m.View()
	cutLine := false
	for _, l := range strings.Split(list, "\n") {
		if strings.HasPrefix(l, "    0123456789") && strings.HasSuffix(l, "…") && lipgloss.Width(l) == 80 {
			cutLine = true
		}
	}
	if !cutLine {
		t.Errorf("the long line is not cut to the width with a marker:\n%s", list)
	}
	mustNotContain(t, list, "END")

	m, _ = press(m, "G") // the failed group: singles follow the big group in host order
	mustContain(t, m.View(), "› ✗ failed (exit 3)")
	m, _ = press(m, "enter")
	if !m.detail {
		t.Fatal("enter did not drill down")
	}
	v := m.View()
	mustContain(t, v, "web-4  ✗ failed (exit 3)", "host 6 of 6", "── stderr ──",
		"Unit app.service entered failed state.", "END", "N/n host · esc back")
	if strings.Contains(v, "…\n") {
		t.Errorf("drill-down cut a line:\n%s", v)
	}
	joined := strings.ReplaceAll(v, "\n", "")
	if !strings.Contains(joined, strings.Repeat("0123456789", 7)) {
		t.Errorf("drill-down lost part of the long line:\n%s", v)
	}

	m, _ = press(m, "N")
	mustContain(t, m.View(), "web-3  ✓ ok", "host 5 of 6")
	m, _ = press(m, "n", "n")
	mustContain(t, m.View(), "web-4", "host 6 of 6") // stays on the last host

	m, _ = press(m, "N", "N", "N") // web-1 (hosts in order db-1, db-2, web-1 …)
	mustContain(t, m.View(), "web-1  ✓ ok", "host 3 of 6")
	m, _ = press(m, "esc")
	if m.detail {
		t.Fatal("esc did not leave the drill-down")
	}
	// Back in the list, the group of the host just read is selected.
	mustContain(t, m.View(), "› ✓ ok")
	mustNotContain(t, m.View(), "host 3 of 6")
}

func TestReadOnlyModeRefusesChangingCommands(t *testing.T) {
	m := newModel(t, func(d *Deps) { d.ReadOnly = true })
	m, cmd := enterCommand(t, m, "systemctl restart app")
	if cmd == nil {
		t.Fatal("read-only refusal should flash")
	}
	f, ok := call(t, cmd).(views.FlashMsg)
	if !ok || !f.Err || !strings.Contains(f.Text, "read-only mode") {
		t.Fatalf("want an error flash, got %#v", f)
	}
	if m.pending.id != 0 {
		t.Error("a refused command became a request")
	}
	mustContain(t, m.View(), "read-only mode: this command could change hosts")

	// Read-only commands still run.
	_, cmd = enterCommand(t, m, "uptime")
	if _, ok := call(t, cmd).(RunStartedMsg); !ok {
		t.Error("uptime did not run in read-only mode")
	}
}

func TestHostileOutputIsInert(t *testing.T) {
	hostile := "\x1b[2J\x1b[Hcleared" + // clear screen, home
		"\x1b]0;pwned\x07title" + // set the window title
		"\x1b]52;c;cm0gLXJmIC8K\x1b\\clip" + // write the clipboard
		"\x1b[31mred\x1b[0m" + // colour
		"\u009b2Jc1" + // 8-bit CSI in UTF-8
		"\x1bPqdcs\x1b\\" + // DCS
		"bell\x07 back\bspace cr\rover \xff bad \u202eevil\n" +
		"a\tb\n"
	m := newModel(t)
	m, _ = startRun(t, m, "cat /tmp/x")
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: []sessions.Result{result("web-1", sessions.OutcomeOK, 0, hostile)}, Done: true})

	for _, v := range []string{m.View(), func() string { m, _ := press(m, "enter"); return m.View() }()} {
		for _, bad := range []string{"\x1b", "\x07", "\b", "\r", "\u009b", "\u202e", "\xff", "pwned", "cm0gLXJmIC8K"} {
			if strings.Contains(v, bad) {
				t.Errorf("view contains %q:\n%q", bad, v)
			}
		}
		mustContain(t, v, "clearedtitleclipredc1bell␇ back␈space cr␍over � bad �evil", "a       b")
	}
}

func TestSanitizeLines(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"one\ntwo\n", []string{"one", "two"}},
		{"crlf\r\nline", []string{"crlf", "line"}},
		{"\tx\ty", []string{"        x       y"}},
		{"界\tx", []string{"界      x"}},
		{"\x1b(Bcharset \x1b7save \x1bcreset", []string{"charset save reset"}},
		{"unterminated \x1b]0;title\nnext", []string{"unterminated ", "next"}},
		{"broken \x1b[31\nnext", []string{"broken ", "next"}},
		{"del\x7f nul\x00", []string{"del␡ nul␀"}},
		{"trailing esc \x1b", []string{"trailing esc "}},
	}
	for _, c := range cases {
		if got := sanitizeLines([]byte(c.in)); !slices.Equal(got, c.want) {
			t.Errorf("sanitizeLines(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestHistoryAndFocus(t *testing.T) {
	m := newModel(t)
	if m.focus != focusCommand || !m.InputFocused() {
		t.Fatal("the pane should start in the command input")
	}
	m, _ = startRun(t, m, "uptime")
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Done: true})
	m, _ = startRun(t, m, "df -h")
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Done: true})

	m, _ = press(m, "e", "ctrl+u")
	m = typeText(m, "free -")
	steps := []struct{ key, want string }{
		{"up", "df -h"}, {"up", "uptime"}, {"up", "uptime"}, {"down", "df -h"}, {"down", "free -"}, {"down", "free -"},
	}
	for _, s := range steps {
		m, _ = press(m, s.key)
		if got := m.cmdIn.Value(); got != s.want {
			t.Fatalf("after %s: command %q, want %q", s.key, got, s.want)
		}
	}

	// While typing, letters are text, not pane keys; tab and esc move focus.
	m, _ = press(m, "x", "t", "F")
	if got := m.cmdIn.Value(); got != "free -xtF" {
		t.Fatalf("typed letters were taken as keys: %q", got)
	}
	for _, s := range []struct {
		key  string
		want focus
	}{{"tab", focusResults}, {"tab", focusHosts}, {"tab", focusCommand}, {"shift+tab", focusHosts}, {"enter", focusCommand}, {"esc", focusResults}, {"h", focusHosts}} {
		m, _ = press(m, s.key)
		if m.focus != s.want {
			t.Fatalf("after %s: focus %d, want %d", s.key, m.focus, s.want)
		}
	}

	m, _ = m.Update(views.OpenExecMsg{Pattern: "web-1,db-*"})
	if m.focus != focusCommand || m.hostsIn.Value() != "web-1,db-*" || len(m.resolved) != 3 {
		t.Errorf("OpenExecMsg: focus %d pattern %q hosts %d", m.focus, m.hostsIn.Value(), len(m.resolved))
	}
}

func TestViewFitsItsArea(t *testing.T) {
	m := newModel(t)
	m, _ = startRun(t, m, strings.Repeat("very-long-command ", 10))
	rs := fixtureResults()
	rs[0].Stdout = []byte(strings.Repeat("wide 界 line ", 40) + "\n")
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: rs, Done: true})
	for _, size := range [][2]int{{80, 24}, {160, 48}, {40, 10}, {20, 5}, {1, 1}} {
		for _, detail := range []bool{false, true} {
			m := m
			m.SetSize(size[0], size[1])
			if detail {
				m, _ = press(m, "enter")
			}
			lines := strings.Split(m.View(), "\n")
			if len(lines) != size[1] {
				t.Errorf("%dx%d detail=%v: %d lines", size[0], size[1], detail, len(lines))
			}
			for i, l := range lines {
				if w := lipgloss.Width(l); w > size[0] {
					t.Errorf("%dx%d detail=%v: line %d is %d wide: %q", size[0], size[1], detail, i, w, l)
				}
			}
		}
	}
}

func TestScrollKeepsSelectionInView(t *testing.T) {
	m := newModel(t)
	m.SetSize(80, 12) // 8 list lines
	m, _ = startRun(t, m, "uptime")
	var rs []sessions.Result
	for _, h := range inventory() {
		rs = append(rs, result(h.Name, sessions.OutcomeOK, 0, "only "+h.Name+"\n"))
	}
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: rs, Done: true})
	m, _ = press(m, "G")
	mustContain(t, m.View(), "› ✓ ok  web-4 (1)", "only web-4")
	m, _ = press(m, "g")
	mustContain(t, m.View(), "› ✓ ok  db-1 (1)", "only db-1")
	m, _ = press(m, "pgdown")
	if m.sel == 0 || m.offset == 0 {
		t.Errorf("pgdown did not move: sel %d offset %d", m.sel, m.offset)
	}
}

func TestHelpFollowsFocus(t *testing.T) {
	m := newModel(t)
	has := func(bs []key.Binding, k string) bool {
		for _, b := range bs {
			if slices.Contains(b.Keys(), k) {
				return true
			}
		}
		return false
	}
	if sh := m.ShortHelp(); !has(sh, "enter") || !has(sh, "tab") || has(sh, "j") || has(sh, "F") {
		t.Errorf("typing help offers the wrong keys: %v", sh)
	}
	m, _ = press(m, "esc")
	if sh := m.ShortHelp(); !has(sh, "F") || !has(sh, "x") || !has(sh, "t") {
		t.Errorf("results help lacks the pane keys: %v", sh)
	}
	if fh := m.FullHelp(); len(fh) < 3 {
		t.Errorf("full help = %v", fh)
	}
}

func TestTitleAndClose(t *testing.T) {
	m := newModel(t)
	if m.Title() != "Exec" {
		t.Errorf("idle title %q", m.Title())
	}
	m, cancelled := startRun(t, m, "uptime")
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: fixtureResults()[:2]})
	if got := m.Title(); got != "Exec · uptime 2/6 …" {
		t.Errorf("running title %q", got)
	}
	m.Close()
	if !cancelled.Load() {
		t.Error("Close did not stop the run in flight")
	}
}

// --- integration -----------------------------------------------------------------------

// TestLocalFanOutThroughThePane runs a real fan-out on this machine through the pane's
// own Cmds: the pool dials the local backend, /bin/sh runs the command, results come
// back through waitForResults.
func TestLocalFanOutThroughThePane(t *testing.T) {
	hosts := []config.Host{
		{Name: "local-1", Transport: config.TransportLocal},
		{Name: "local-2", Transport: config.TransportLocal},
		{Name: "local-3", Transport: config.TransportLocal},
	}
	pool := sessions.NewPool(sessions.NewDialer(hosts, config.Defaults{}))
	t.Cleanup(func() { pool.Close() })
	m := New(Deps{
		Pool:             pool,
		Hosts:            hosts,
		ReadOnlyCommands: []string{"echo"},
		FanOut:           sessions.FanOutOptions{Timeout: 10 * time.Second},
		Audit:            testAudit(t),
	}, keymap.Default().Exec, styles(t))
	m.SetSize(80, 24)

	m, cmd := enterCommand(t, m, "echo hi")
	if cmd == nil {
		t.Fatalf("echo hi did not start: %q", m.notice.text)
	}
	m, other := drive(t, m, cmd)
	if !m.run.finished {
		t.Fatal("the run did not finish")
	}
	v := m.View()
	mustContain(t, v, "echo hi — 3/3 hosts done: 3 ok", "local-[1-3] (3)", "    hi")
	if len(other) != 1 {
		t.Errorf("other messages: %v", other)
	}

	// The same through the gate: a command off the read-only list.
	m, cmd = enterCommand(t, m, "printf 'x\\n'; exit 2")
	c, ok := call(t, cmd).(views.ConfirmActionMsg)
	if !ok {
		t.Fatal("a changing command skipped the gate")
	}
	m, _ = drive(t, m, c.Run("test"))
	mustContain(t, m.View(), "3/3 hosts done: 0 ok, 3 failed", "✗ failed (exit 2)", "local-[1-3] (3)", "    x")
}

// --- golden files ------------------------------------------------------------------------

// goldenModel is a finished run on twelve hosts: a large ok group with multi-line output
// (one line longer than 80 columns, one with a tab), a failure with stderr, a timeout and
// a connection error.
func goldenModel(t *testing.T, w, h int) Model {
	var hosts []config.Host
	for i := 1; i <= 10; i++ {
		hosts = append(hosts, config.Host{Name: fmt.Sprintf("web-%02d", i), Tags: []string{"web"}})
	}
	hosts = append(hosts, config.Host{Name: "db-1"}, config.Host{Name: "db-2"})
	m := New(Deps{Pool: fakePool(nil), Hosts: hosts, ReadOnlyCommands: config.DefaultReadOnlyCommands()},
		keymap.Default().Exec, styles(t))
	m.SetSize(w, h)
	m, _ = startRun(t, m, "systemctl status app")

	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	at := func(r sessions.Result, ms int) sessions.Result {
		r.Start, r.End = start, start.Add(time.Duration(ms)*time.Millisecond)
		return r
	}
	okOut := "● app.service - Example app\n" +
		"     Loaded: loaded (/etc/systemd/system/app.service; enabled; vendor preset: enabled)\n" +
		"     Active: active (running) since Mon 2026-11-23 08:12:01 UTC; 48min ago\n" +
		"   Main PID: 1234 (app)\n" +
		"      Tasks: 9 (limit: 4915)\n" +
		"     Memory: 42.1M\n" +
		"     CGroup: /system.slice/app.service\n" +
		"\t└─1234 /opt/app/bin/app --config /etc/app.toml\n"
	failOut := "● app.service - Example app\n" +
		"     Active: failed (Result: exit-code) since Mon 2026-11-23 08:59:58 UTC; 2s ago\n"
	var rs []sessions.Result
	for i := 1; i <= 8; i++ {
		rs = append(rs, at(result(fmt.Sprintf("web-%02d", i), sessions.OutcomeOK, 0, okOut), 120+i))
	}
	for _, n := range []string{"web-09", "web-10"} {
		r := at(result(n, sessions.OutcomeFailed, 3, failOut), 143)
		r.Stderr = []byte("Warning: journal has been rotated since unit was started.\n")
		rs = append(rs, r)
	}
	timeout := at(result("db-1", sessions.OutcomeTimedOut, -1, ""), 30000)
	timeout.Err = context.DeadlineExceeded
	refused := at(result("db-2", sessions.OutcomeError, -1, ""), 3)
	refused.Err = errors.New("dial tcp 10.0.0.22:22: connect: connection refused")
	rs = append(rs, timeout, refused)
	m, _ = m.Update(ResultsMsg{ID: m.run.id, Results: rs, Done: true})
	return m
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		w, h int
		keys []string
	}{
		{"grouped-80x24", 80, 24, nil},
		{"grouped-160x48", 160, 48, nil},
		{"failed-selected-80x24", 80, 24, []string{"j"}},
		{"per-host-80x24", 80, 24, []string{"t"}},
		{"per-host-scrolled-80x24", 80, 24, []string{"t", "j", "j", "j"}},
		{"drill-down-80x24", 80, 24, []string{"j", "enter"}},
		{"drill-down-160x48", 160, 48, []string{"enter"}},
		{"typing-80x24", 80, 24, []string{"e", "ctrl+u", "systemctl restart app"}},
		{"idle-80x24", 80, 24, []string{"shift+tab", "ctrl+u", "tag:db,web-[13]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var m Model
			if strings.HasPrefix(c.name, "idle") {
				m = New(Deps{Hosts: inventory()}, keymap.Default().Exec, styles(t))
				m.SetSize(c.w, c.h)
			} else {
				m = goldenModel(t, c.w, c.h)
			}
			m, _ = press(m, c.keys...)
			got := m.View() + "\n"
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the golden file (run with -update if intended):\n--- got\n%s--- want\n%s", c.name, got, want)
			}
		})
	}
}
