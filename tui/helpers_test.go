package tui

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	opsfleet "github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/exec"
	"github.com/opsconsole/opsconsole/views/fleet"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) {
	// Golden frames are plain text: no escape sequences, whatever terminal runs the tests.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// The fixed moment every test frame is drawn at.
var testNow = time.Date(2026, 11, 22, 9, 41, 7, 0, time.UTC)

func testHosts() []config.Host {
	mk := func(name, addr string, tags ...string) config.Host {
		return config.Host{Name: name, Address: addr, Port: 22, User: "ops", Transport: config.TransportSSH, Tags: tags, Groups: []string{"prod"}}
	}
	return []config.Host{
		mk("web-1", "10.0.0.11", "web"),
		mk("web-2", "10.0.0.12", "web"),
		mk("web-3", "10.0.0.13", "web"),
		mk("web-4", "10.0.0.14", "web"),
		mk("db-1", "10.0.1.11", "db"),
		mk("db-2", "10.0.1.12", "db"),
		mk("cache-1", "10.0.2.11", "cache"),
		mk("bastion", "10.0.9.1", "infra"),
	}
}

// testReports: six hosts up, one degraded, one down; bastion has not answered yet.
func testReports() []opsfleet.Report {
	at := testNow.Add(-2 * time.Second)
	ok := func(name string, cpu float64) opsfleet.Report {
		return opsfleet.Report{Host: name, Transport: "ssh", Status: health.OK, Outcome: sessions.OutcomeOK, Time: at,
			Metrics: &health.Metrics{Time: at, CPUPercent: cpu, Cores: 4, MemTotal: 8 << 30, MemUsed: 3 << 30,
				MemPercent: 37.5, Load1: 0.4, Load5: 0.3, Load15: 0.2, Uptime: 72 * time.Hour,
				Disks: []health.Disk{{Mount: "/", Total: 100 << 30, Used: 40 << 30, Percent: 40}}, Ports: []int{22, 8080}}}
	}
	warn := ok("web-4", 91)
	warn.Status, warn.Reasons = health.Warn, []string{"cpu 91% ≥ 80%"}
	return []opsfleet.Report{
		ok("web-1", 12), ok("web-2", 15), ok("web-3", 9), warn,
		ok("db-1", 33), ok("cache-1", 4),
		{Host: "db-2", Transport: "ssh", Status: health.Down, Reasons: []string{"connection refused"},
			Outcome: sessions.OutcomeError, Err: errString("dial tcp 10.0.1.12:22: connection refused"), Time: at},
	}
}

type errString string

func (e errString) Error() string { return string(e) }

type testOpt func(*Options)

func readOnly(o *Options) {
	o.ReadOnly = true
	o.Keys.SetReadOnly(true)
}

func recording(o *Options) { o.Recording = true }

// newTest builds the console as cmd would, sized and fed one clock tick and one round of
// reports, all through Update.
func newTest(t *testing.T, w, h int, opts ...testOpt) Model {
	t.Helper()
	th, err := themes.Load(themes.Dark, nil)
	if err != nil {
		t.Fatal(err)
	}
	hosts := testHosts()
	o := Options{
		Hosts:    hosts,
		ExecDeps: exec.Deps{Hosts: hosts},
		Keys:     keymap.Default(),
		Styles:   themes.Build(th),
		Version:  "test",
	}
	for _, f := range opts {
		f(&o)
	}
	m := New(o)
	m, _ = send(t, m, tea.WindowSizeMsg{Width: w, Height: h}, views.ClockMsg{Now: testNow},
		fleet.HostsPolledMsg{Reports: testReports()})
	return m
}

// send runs msgs through Update in order and returns the last command.
func send(t *testing.T, m Model, msgs ...tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, msg := range msgs {
		var next tea.Model
		next, cmd = m.Update(msg)
		m = next.(Model)
	}
	return m, cmd
}

// press turns key names into key messages: "tab", "esc", "ctrl+c"…, or literal text,
// one message per rune.
func press(keys ...string) []tea.Msg {
	named := map[string]tea.KeyType{
		"tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab, "esc": tea.KeyEsc, "enter": tea.KeyEnter,
		"ctrl+c": tea.KeyCtrlC, "backspace": tea.KeyBackspace, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "space": tea.KeySpace,
	}
	var out []tea.Msg
	for _, k := range keys {
		if t, ok := named[k]; ok {
			out = append(out, tea.KeyMsg{Type: t})
			continue
		}
		for _, r := range k {
			out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	return out
}

func keysThen(t *testing.T, m Model, keys ...string) (Model, tea.Cmd) {
	t.Helper()
	return send(t, m, press(keys...)...)
}

// drain runs cmd and every command it batches, returning the messages they produce. Tick
// commands are left out: they would wait a second for a ClockMsg.
func drain(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, drain(c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

func quits(cmd tea.Cmd) bool {
	for _, msg := range drain(cmd) {
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

// sentinelMsg is what the test Actions' Run commands produce, to prove Run was called and
// its command returned.
type sentinelMsg struct{ reason string }

// confirmReq asks the gate for an exec on n hosts; *ran counts calls of Run.
func confirmReq(n int, ran *int) views.ConfirmActionMsg {
	hosts := make([]string, n)
	for i := range hosts {
		hosts[i] = "web-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
	}
	return views.ConfirmActionMsg{
		Action: gate.Action{Kind: "exec", Name: "systemctl restart app",
			Steps: []gate.Step{{Hosts: hosts, Command: "systemctl restart app"}}},
		Run: func(reason string) tea.Cmd {
			*ran++
			return func() tea.Msg { return sentinelMsg{reason: reason} }
		},
		Pane:      views.PaneExec,
		RequestID: 7,
	}
}

func withCancel(cancelled *bool) testOpt {
	return func(o *Options) {
		ctx, cancel := context.WithCancel(context.Background())
		o.Ctx = ctx
		o.Cancel = func() { *cancelled = true; cancel() }
	}
}

func size(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
