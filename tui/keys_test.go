package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	opsfleet "github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/fleet"
)

func TestFocusSwitching(t *testing.T) {
	m := newTest(t, 80, 24)
	if m.Focused() != views.PaneFleet {
		t.Fatalf("starts on %v, want Fleet", m.Focused())
	}
	steps := []struct {
		keys []string
		want views.PaneID
	}{
		{[]string{"3"}, views.PaneLogs},
		{[]string{"5"}, views.PaneIncidents},
		// Without a [prometheus] the query pane has no input to focus: the global keys
		// work there at once (TestQueryPane has the input).
		{[]string{"tab"}, views.PaneQuery},
		{[]string{"tab"}, views.PaneFleet}, // wraps around
		{[]string{"shift+tab"}, views.PaneQuery},
		{[]string{"shift+tab"}, views.PaneIncidents},
		{[]string{"shift+tab"}, views.PaneRollouts},
		{[]string{"6"}, views.PaneQuery},
		{[]string{"4"}, views.PaneRollouts},
		{[]string{"4"}, views.PaneRollouts},
		{[]string{"1"}, views.PaneFleet},
		{[]string{"tab"}, views.PaneExec},
		// The exec pane opens with its command input focused: every key is the input's,
		// digits included, until esc leaves the input for the results.
		{[]string{"3"}, views.PaneExec},
		{[]string{"esc", "tab"}, views.PaneLogs},
		{[]string{"2", "esc", "shift+tab"}, views.PaneFleet},
	}
	for _, s := range steps {
		m, _ = keysThen(t, m, s.keys...)
		if m.Focused() != s.want {
			t.Fatalf("after %q: focus %v, want %v", s.keys, m.Focused(), s.want)
		}
		tab := "[" + string(rune('1'+int(s.want))) + " " + s.want.String() + "]"
		if !strings.Contains(m.View(), tab) {
			t.Fatalf("after %q: tab bar does not bracket %s:\n%s", s.keys, tab, m.View())
		}
	}
}

func TestFocusPaneMsg(t *testing.T) {
	m := newTest(t, 80, 24)
	m, _ = send(t, m, views.FocusPaneMsg{Pane: views.PaneRollouts})
	if m.Focused() != views.PaneRollouts {
		t.Fatalf("focus %v", m.Focused())
	}
	if !strings.Contains(m.View(), "Not built yet") {
		t.Errorf("the rollouts placeholder should say it is not built:\n%s", m.View())
	}
	m, _ = send(t, m, views.FocusPaneMsg{Pane: views.NumPanes})
	if m.Focused() != views.PaneRollouts {
		t.Errorf("an invalid pane moved focus to %v", m.Focused())
	}
}

func TestHelpToggles(t *testing.T) {
	m := newTest(t, 80, 24)
	m, _ = keysThen(t, m, "?")
	if !m.showHelp || !strings.Contains(m.View(), "Global keys") {
		t.Fatalf("? did not open help:\n%s", m.View())
	}
	// Help scrolls when it is taller than the body, and keys other than its own do nothing.
	m, _ = keysThen(t, m, "down", "down", "3")
	if m.helpTop != 2 || m.Focused() != views.PaneFleet {
		t.Errorf("help: top %d focus %v", m.helpTop, m.Focused())
	}
	m, _ = keysThen(t, m, "?")
	if m.showHelp || strings.Contains(m.View(), "Global keys") {
		t.Fatalf("? did not close help")
	}
	m, _ = keysThen(t, m, "?", "esc")
	if m.showHelp {
		t.Fatal("esc did not close help")
	}
	// q closes the help instead of quitting.
	m, cmd := keysThen(t, m, "?", "q")
	if m.showHelp || quits(cmd) {
		t.Fatal("q in help should close the help, not quit")
	}
}

func TestPaletteExecFocusesExec(t *testing.T) {
	m := newTest(t, 80, 24)
	m, _ = keysThen(t, m, ":", "exec tag:web", "enter")
	if m.Focused() != views.PaneExec {
		t.Fatalf("focus %v, want Exec", m.Focused())
	}
	if m.palette.active {
		t.Fatal("palette still open")
	}
	if v := m.View(); !strings.Contains(v, "tag:web") {
		t.Errorf("exec pane does not show the pattern:\n%s", v)
	}
}

func TestPaletteHostsFiltersFleet(t *testing.T) {
	m := newTest(t, 80, 24)
	m, _ = keysThen(t, m, "3", ":", "hosts tag:db", "enter")
	if m.Focused() != views.PaneFleet {
		t.Fatalf("focus %v, want Fleet", m.Focused())
	}
	if m.fleet.InputFocused() {
		t.Fatal("the filter should be applied, not left open")
	}
	v := m.View()
	if !strings.Contains(v, "db-1") || strings.Contains(v, "web-1") {
		t.Errorf("fleet is not filtered to tag:db:\n%s", v)
	}
}

func TestPaletteCompletion(t *testing.T) {
	m := newTest(t, 80, 24)
	m, _ = keysThen(t, m, ":", "ro")
	if v := m.View(); !strings.Contains(v, "› rollouts") {
		t.Fatalf("no suggestion list with rollouts chosen:\n%s", v)
	}
	m, _ = keysThen(t, m, "tab")
	if got := m.palette.input.Value(); got != "rollouts" {
		t.Fatalf("tab completed to %q", got)
	}
	m, _ = keysThen(t, m, "enter")
	if m.Focused() != views.PaneRollouts {
		t.Fatalf("focus %v", m.Focused())
	}

	// Commands that take an argument complete with a space; tags complete as patterns.
	m, _ = keysThen(t, m, ":", "ex", "tab")
	if got := m.palette.input.Value(); got != "exec " {
		t.Fatalf("tab completed to %q, want %q", got, "exec ")
	}
	m, _ = keysThen(t, m, "tag:c", "tab")
	if got := m.palette.input.Value(); got != "exec tag:cache" {
		t.Fatalf("tab completed to %q", got)
	}
	// ↓ chooses among several matches.
	m, _ = keysThen(t, m, "esc", ":", "theme ", "down", "down", "tab")
	if got := m.palette.input.Value(); got != "theme dark" {
		t.Fatalf("↓ then tab gave %q", got)
	}
	// esc closes without running; backspace on an empty line closes too.
	m, _ = keysThen(t, m, "esc")
	if m.palette.active {
		t.Fatal("esc did not close the palette")
	}
	m, _ = keysThen(t, m, ":", "backspace")
	if m.palette.active {
		t.Fatal("backspace on an empty palette did not close it")
	}
}

func TestPaletteUnknownCommandFlashes(t *testing.T) {
	m := newTest(t, 80, 24)
	m, cmd := keysThen(t, m, ":", "frobnicate", "enter")
	if cmd != nil {
		t.Errorf("an unknown command returned a command")
	}
	v := m.View()
	if !strings.Contains(v, `✗ unknown command "frobnicate"`) {
		t.Fatalf("no error flash:\n%s", v)
	}
	// The flash clears after flashTicks clock ticks, counted, not timed.
	for i := range flashTicks {
		if m.flash.text == "" {
			t.Fatalf("flash cleared after %d ticks, want %d", i, flashTicks)
		}
		m, _ = send(t, m, views.ClockMsg{Now: testNow})
	}
	if m.flash.text != "" {
		t.Fatalf("flash still there after %d ticks", flashTicks)
	}
}

func TestPaletteTheme(t *testing.T) {
	m := newTest(t, 80, 24)
	m, cmd := keysThen(t, m, ":", "theme light", "enter")
	msgs := drain(cmd)
	if len(msgs) != 1 {
		t.Fatalf("theme: %v", msgs)
	}
	loaded, ok := msgs[0].(themeLoadedMsg)
	if !ok || loaded.Theme.Name != "light" {
		t.Fatalf("theme light: %#v", msgs[0])
	}
	m, _ = send(t, m, loaded)
	if m.styles.Theme.Name != "light" || m.flash.text != "theme light" {
		t.Fatalf("theme not applied: %q, flash %q", m.styles.Theme.Name, m.flash.text)
	}
	_, cmd = keysThen(t, m, ":", "theme nosuch", "enter")
	if f, ok := drain(cmd)[0].(views.FlashMsg); !ok || !f.Err {
		t.Fatalf("unknown theme: %#v", f)
	}
}

func TestFilterKey(t *testing.T) {
	m := newTest(t, 80, 24)
	m, _ = keysThen(t, m, "/")
	if !m.fleet.InputFocused() {
		t.Fatal("/ on fleet did not open its filter")
	}
	// While the filter has the keys, q is a letter of the filter, not quit, and digits
	// do not switch panes.
	m, cmd := keysThen(t, m, "q")
	if quits(cmd) {
		t.Fatal("q while filtering quit the console")
	}
	m, _ = keysThen(t, m, "2")
	if m.Focused() != views.PaneFleet {
		t.Fatal("a digit typed in the filter switched panes")
	}
	if !strings.Contains(m.View(), "/ q2") {
		t.Errorf("filter input does not show what was typed:\n%s", m.View())
	}
	m, _ = keysThen(t, m, "esc")
	if m.fleet.InputFocused() {
		t.Fatal("esc did not close the filter")
	}

	// The logs pane has its own filter; a pane without one says so.
	m, _ = keysThen(t, m, "3", "/")
	if !m.logs.InputFocused() {
		t.Errorf("/ on logs did not open its filter:\n%s", m.View())
	}
	m, _ = keysThen(t, m, "esc", "4", "/")
	if !strings.Contains(m.View(), "no filter here") {
		t.Errorf("no flash for / on rollouts:\n%s", m.View())
	}
}

func TestCtrlCQuitsFromAnywhere(t *testing.T) {
	var ran int
	states := map[string]func(Model) Model{
		"fleet":     func(m Model) Model { return m },
		"filtering": func(m Model) Model { m, _ = keysThen(t, m, "/", "abc"); return m },
		"exec input": func(m Model) Model {
			m, _ = keysThen(t, m, "2", "ls")
			return m
		},
		"palette": func(m Model) Model { m, _ = keysThen(t, m, ":", "ho"); return m },
		"help":    func(m Model) Model { m, _ = keysThen(t, m, "?"); return m },
		"gate":    func(m Model) Model { m, _ = send(t, m, confirmReq(2, &ran)); return m },
		"typed gate": func(m Model) Model {
			m, _ = send(t, m, confirmReq(20, &ran))
			m, _ = keysThen(t, m, "1")
			return m
		},
	}
	for name, into := range states {
		t.Run(name, func(t *testing.T) {
			var cancelled bool
			m := into(newTest(t, 80, 24, withCancel(&cancelled)))
			_, cmd := keysThen(t, m, "ctrl+c")
			if !quits(cmd) {
				t.Fatal("ctrl+c did not quit")
			}
			if !cancelled {
				t.Fatal("quitting did not cancel the context")
			}
		})
	}
	if ran != 0 {
		t.Errorf("quitting ran an action")
	}
}

func TestQuitKey(t *testing.T) {
	var cancelled bool
	m := newTest(t, 80, 24, withCancel(&cancelled))
	_, cmd := keysThen(t, m, "q")
	if !quits(cmd) || !cancelled {
		t.Fatalf("q: quit=%v cancelled=%v", quits(cmd), cancelled)
	}
	// Cancelling happens when the command runs, not inside Update.
	cancelled = false
	_, cmd = keysThen(t, m, ":", "quit", "enter")
	if cancelled {
		t.Fatal("Update cancelled the context itself")
	}
	if !quits(cmd) || !cancelled {
		t.Fatalf(":quit: quit=%v cancelled=%v", quits(cmd), cancelled)
	}
}

func TestReadOnlyDisabledKeyFlashes(t *testing.T) {
	m := newTest(t, 80, 24, readOnly)
	// Leave the exec pane's command input, then press its run key.
	m, cmd := keysThen(t, m, "2", "esc", "R")
	if cmd != nil {
		t.Errorf("a disabled key returned a command")
	}
	if v := m.View(); !strings.Contains(v, "✗ read-only mode: exec.run is disabled") {
		t.Fatalf("no flash for a disabled key:\n%s", v)
	}
	if !strings.Contains(m.View(), "READ-ONLY") {
		t.Error("no READ-ONLY badge")
	}
}

func TestOpenExecMsgFocusesExec(t *testing.T) {
	m := newTest(t, 80, 24)
	// x on the fleet asks for exec on the selected host; the root focuses exec with it.
	m, cmd := keysThen(t, m, "x")
	msgs := drain(cmd)
	if len(msgs) != 1 {
		t.Fatalf("x: %v", msgs)
	}
	if _, ok := msgs[0].(views.OpenExecMsg); !ok {
		t.Fatalf("x gave %T", msgs[0])
	}
	m, _ = send(t, m, msgs[0])
	if m.Focused() != views.PaneExec {
		t.Fatalf("focus %v", m.Focused())
	}
}

func TestClockTicks(t *testing.T) {
	m := newTest(t, 80, 24)
	if !strings.Contains(m.View(), "09:41:07") {
		t.Fatalf("no clock in header:\n%s", m.View())
	}
	m, cmd := send(t, m, views.ClockMsg{Now: testNow.Add(3 * 60 * 1e9)})
	if !strings.Contains(m.View(), "09:44:07") {
		t.Error("clock did not follow ClockMsg")
	}
	if cmd == nil {
		t.Error("ClockMsg did not re-arm the tick")
	}
	if m.Init() == nil {
		t.Error("Init starts nothing")
	}
}

var _ tea.Model = Model{}

func TestReportsRearmWait(t *testing.T) {
	hosts := testHosts()
	mon := opsfleet.NewMonitor(nil, hosts, opsfleet.MonitorOptions{})
	m := newTest(t, 80, 24, func(o *Options) { o.Monitor = mon })
	// The next report is waiting; the command returned for this batch must fetch it.
	next := testReports()[6]
	mon.Publish(next)
	m, cmd := send(t, m, fleet.HostsPolledMsg{Reports: testReports()[:1]})
	var got []fleet.HostsPolledMsg
	for _, msg := range drain(cmd) {
		if p, ok := msg.(fleet.HostsPolledMsg); ok {
			got = append(got, p)
		}
	}
	if len(got) != 1 || len(got[0].Reports) != 1 || got[0].Reports[0].Host != next.Host {
		t.Fatalf("re-armed wait delivered %v", got)
	}
	_ = m
}
