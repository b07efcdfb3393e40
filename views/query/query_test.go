package query

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/internal/testprom"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/views/query")

const goldenDir = "../../testdata/views/query"

func TestMain(m *testing.M) {
	// Golden files hold text, not escape codes.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// t0 is the console's clock in every test.
var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// call is one request the fake server received.
type call struct {
	expr       string
	start, end time.Time
	step       time.Duration
}

// fakeServer answers with what the test puts in answer (by expression), and records
// every call.
type fakeServer struct {
	mu     sync.Mutex
	calls  []call
	answer func(expr string) (model.Value, prom.Warnings, error)
}

func (f *fakeServer) Query(_ context.Context, expr string, at time.Time) (model.Value, prom.Warnings, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{expr: expr, end: at})
	f.mu.Unlock()
	return f.answer(expr)
}

func (f *fakeServer) QueryRange(_ context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, prom.Warnings, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{expr: expr, start: start, end: end, step: step})
	f.mu.Unlock()
	return f.answer(expr)
}

func (f *fakeServer) last() call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[len(f.calls)-1]
}

func styles(t testing.TB) *themes.Styles {
	t.Helper()
	th, err := themes.Load(themes.Dark, nil)
	if err != nil {
		t.Fatal(err)
	}
	return themes.Build(th)
}

func sample(v float64, labels ...string) *model.Sample {
	m := model.Metric{}
	for i := 0; i+1 < len(labels); i += 2 {
		m[model.LabelName(labels[i])] = model.LabelValue(labels[i+1])
	}
	return &model.Sample{Metric: m, Value: model.SampleValue(v), Timestamp: model.TimeFromUnix(t0.Unix())}
}

// upVector is three targets, not in label order, one of them down.
func upVector() model.Vector {
	return model.Vector{
		sample(1, "__name__", "up", "instance", "10.0.0.12:9100", "job", "node"),
		sample(0, "__name__", "up", "instance", "10.0.0.11:9100", "job", "node"),
		sample(1, "__name__", "up", "instance", "10.0.0.11:9090", "job", "prometheus"),
	}
}

// loadMatrix is an hour of load for two hosts at a 30 s step, with a gap in one.
func loadMatrix() model.Matrix {
	var m model.Matrix
	for i, inst := range []string{"10.0.0.11:9100", "10.0.0.12:9100"} {
		ss := &model.SampleStream{Metric: model.Metric{"__name__": "node_load1", "instance": model.LabelValue(inst)}}
		for k := 0; k <= 120; k++ {
			at := t0.Add(-time.Hour + time.Duration(k)*30*time.Second)
			if i == 1 && k > 50 && k < 60 {
				continue
			}
			v := 1.5 + float64(i) + math.Sin(float64(k)/10+float64(i))
			ss.Values = append(ss.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(at.UnixNano()), Value: model.SampleValue(v)})
		}
		m = append(m, ss)
	}
	return m
}

var badData = &prom.APIError{Type: "bad_data", Msg: `invalid parameter "query": 1:9: parse error: unexpected end of input inside braces`, Status: 400}

// server answers the expressions the tests use.
func server() *fakeServer {
	return &fakeServer{answer: func(expr string) (model.Value, prom.Warnings, error) {
		switch {
		case expr == "up":
			return upVector(), nil, nil
		case expr == "node_load1":
			return loadMatrix(), nil, nil
		case expr == "up{job=":
			return nil, nil, badData
		case expr == "1 + 1.5":
			return &model.Scalar{Value: 2.5, Timestamp: model.TimeFromUnix(t0.Unix())}, nil, nil
		case strings.HasPrefix(expr, "many"):
			var v model.Vector
			for i := range 54 {
				v = append(v, sample(float64(i), "__name__", "many", "i", fmt.Sprintf("%03d", i)))
			}
			return v, prom.Warnings{"PromQL info: metric might not be a counter"}, nil
		}
		return model.Vector{}, nil, nil
	}}
}

func newPane(t testing.TB, c Querier, w, h int) Model {
	t.Helper()
	m := New(Deps{Client: c, Server: "http://prom.example:9090", Location: time.UTC}, keymap.Default().Query, styles(t))
	m.SetSize(w, h)
	m, _ = m.Update(views.ClockMsg{Now: t0})
	return m
}

func keyMsg(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "ctrl+r": tea.KeyCtrlR, "backspace": tea.KeyBackspace,
	}
	if kt, ok := named[k]; ok {
		return tea.KeyMsg{Type: kt}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// press sends each key and returns the last command.
func press(m Model, keys ...string) (Model, tea.Cmd) {
	var cmd tea.Cmd
	for _, k := range keys {
		m, cmd = m.Update(keyMsg(k))
	}
	return m, cmd
}

// typeLine replaces the input's text with s, typed one key at a time as a terminal
// delivers it.
func typeLine(m Model, s string) Model {
	m.setLine("")
	for _, r := range s {
		msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}
		if r == ' ' {
			msg = tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{r}}
		}
		m, _ = m.Update(msg)
	}
	return m
}

// run types line, presses enter and delivers the answer.
func run(t *testing.T, m Model, line string) Model {
	t.Helper()
	m = typeLine(m, line)
	m, cmd := press(m, "enter")
	return deliver(t, m, cmd)
}

// deliver runs cmd (a query) and feeds its message back.
func deliver(t *testing.T, m Model, cmd tea.Cmd) Model {
	t.Helper()
	if cmd == nil {
		t.Fatal("no query was started")
	}
	msg, ok := cmd().(QueryAnsweredMsg)
	if !ok {
		t.Fatalf("the command gave %T", msg)
	}
	msg.Took = 12 * time.Millisecond // the golden frames must not depend on the machine
	m, _ = m.Update(msg)
	return m
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name+".golden")
	if *updateGolden {
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
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// checkFrame asserts the frame is exactly h lines of at most w cells, with no escapes.
func checkFrame(t *testing.T, frame string, w, h int) {
	t.Helper()
	lines := strings.Split(frame, "\n")
	if len(lines) != h {
		t.Errorf("%dx%d: %d lines", w, h, len(lines))
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("%dx%d: line %d is %d wide: %q", w, h, i, lw, l)
		}
		if strings.Contains(l, "\x1b") {
			t.Errorf("line %d holds an escape sequence: %q", i, l)
		}
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		c    Querier
		prep func(t *testing.T, m Model) Model
	}{
		{"start", server(), func(t *testing.T, m Model) Model { return m }},
		{"no_server", nil, func(t *testing.T, m Model) Model { return m }},
		{"vector", server(), func(t *testing.T, m Model) Model { return run(t, m, "up") }},
		{"range", server(), func(t *testing.T, m Model) Model { return run(t, m, "range 1h step 30s node_load1") }},
		{"error", server(), func(t *testing.T, m Model) Model { return run(t, m, "up{job=") }},
		{"scrolled", server(), func(t *testing.T, m Model) Model {
			m = run(t, m, "many")
			m, _ = press(m, "esc", "pgdown")
			return m
		}},
	}
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		for _, c := range cases {
			m := c.prep(t, newPane(t, c.c, sz[0], sz[1]))
			frame := m.View()
			checkFrame(t, frame, sz[0], sz[1])
			golden(t, fmt.Sprintf("%s_%dx%d", c.name, sz[0], sz[1]), frame)
		}
	}
}

// With no server the pane says so plainly, takes no keys for an input that cannot run,
// and starts nothing.
func TestNoServer(t *testing.T) {
	m := newPane(t, nil, 80, 24)
	if m.InputFocused() {
		t.Error("an input that cannot run should not take the keys")
	}
	v := m.View()
	if !strings.Contains(v, "no [prometheus] configured") || !strings.Contains(v, "[prometheus]") {
		t.Errorf("no notice:\n%s", v)
	}
	m, cmd := press(m, "e")
	if f, ok := cmd().(views.FlashMsg); !ok || !f.Err || !strings.Contains(f.Text, "[prometheus]") || m.InputFocused() {
		t.Errorf("e without a server: %+v", f)
	}
	if _, cmd := m.Update(views.RunQueryMsg{Expr: "up"}); cmd != nil {
		t.Error("a query started without a server")
	}
	if m.Title() != "Query · no server" {
		t.Errorf("title %q", m.Title())
	}
}

// Enter runs what is typed; up and down walk the history and come back to the line being
// typed; esc leaves the input and e returns to it.
func TestInputAndHistory(t *testing.T) {
	srv := server()
	m := newPane(t, srv, 80, 24)
	if !m.InputFocused() {
		t.Fatal("the pane opens with the input focused")
	}
	m = run(t, m, "up")
	m = run(t, m, "1 + 1.5")
	m = run(t, m, "1 + 1.5") // a repeat is remembered once
	if c := srv.last(); c.expr != "1 + 1.5" || !c.end.IsZero() {
		t.Fatalf("instant query at the server's now: %+v", c)
	}
	if !strings.Contains(m.View(), "scalar  2.5") {
		t.Errorf("scalar:\n%s", m.View())
	}
	m = typeLine(m, "node_lo")
	steps := []struct {
		key, want string
	}{
		{"up", "1 + 1.5"}, {"up", "up"}, {"up", "up"}, {"down", "1 + 1.5"}, {"down", "node_lo"}, {"down", "node_lo"},
	}
	for _, s := range steps {
		m, _ = press(m, s.key)
		if got := m.input.Value(); got != s.want {
			t.Fatalf("after %s: %q, want %q", s.key, got, s.want)
		}
	}
	// Letters and digits are text while typing, not commands.
	m, _ = press(m, "a", "d", "1", "q")
	if got := m.input.Value(); got != "node_load1q" || !m.InputFocused() {
		t.Fatalf("typed: %q", got)
	}
	m, _ = press(m, "backspace", "esc")
	if m.InputFocused() {
		t.Fatal("esc should leave the input")
	}
	m, _ = press(m, "e")
	if !m.InputFocused() {
		t.Fatal("e should return to the input")
	}
	m, cmd := press(m, "enter")
	m = deliver(t, m, cmd)
	if srv.last().expr != "node_load1" || len(m.history) != 3 {
		t.Errorf("ran %q, history %q", srv.last().expr, m.history)
	}
}

// Only the latest request's answer is shown: a slow answer to an older query arriving
// after (or before) the newer one's is dropped.
func TestStaleAnswerDropped(t *testing.T) {
	m := newPane(t, server(), 80, 24)
	m = typeLine(m, "up{job=")
	m, slow := press(m, "enter")
	m = typeLine(m, "up")
	m, fast := press(m, "enter")
	slowMsg, fastMsg := slow().(QueryAnsweredMsg), fast().(QueryAnsweredMsg)
	if slowMsg.ID >= fastMsg.ID {
		t.Fatalf("request ids %d, %d", slowMsg.ID, fastMsg.ID)
	}
	before, _ := m.Update(slowMsg)
	if before.ans != nil || before.running == nil || !strings.Contains(before.View(), "running instant") {
		t.Fatalf("an old answer was taken while the new request runs:\n%s", before.View())
	}
	m, _ = m.Update(fastMsg)
	m, _ = m.Update(slowMsg)
	v := m.View()
	if strings.Contains(v, "bad_data") || !strings.Contains(v, `up{instance="10.0.0.11:9090", job="prometheus"}`) {
		t.Errorf("the stale error replaced the answer:\n%s", v)
	}
}

// A server error is shown as the server wrote it, errorType first, whole.
func TestServerErrorShownAsIs(t *testing.T) {
	m := run(t, newPane(t, server(), 60, 12), "up{job=")
	v := strings.Join(strings.Fields(m.View()), " ")
	if !strings.Contains(v, "✗ error") || !strings.Contains(v, badData.Error()) {
		t.Errorf("error not shown whole:\n%s", m.View())
	}
	// A transport failure reads as what happened, too.
	down := &fakeServer{answer: func(string) (model.Value, prom.Warnings, error) {
		return nil, nil, fmt.Errorf("%w: http://prom.example:9090: connection refused", prom.ErrUnavailable)
	}}
	m = run(t, newPane(t, down, 80, 12), "up")
	if !strings.Contains(m.View(), "prometheus unavailable: http://prom.example:9090: connection refused") {
		t.Errorf("unavailable:\n%s", m.View())
	}
}

// A vector is sorted by labels, unless the expression sorts it.
func TestVectorOrder(t *testing.T) {
	m := run(t, newPane(t, server(), 80, 24), "up")
	var got []string
	for _, r := range m.ans.rows {
		got = append(got, r.labels+"="+r.value)
	}
	want := []string{
		`up{instance="10.0.0.11:9090", job="prometheus"}=1`,
		`up{instance="10.0.0.11:9100", job="node"}=0`,
		`up{instance="10.0.0.12:9100", job="node"}=1`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s", strings.Join(got, "\n"))
	}
	srv := server()
	srv.answer = func(string) (model.Value, prom.Warnings, error) { return upVector(), nil, nil }
	m = run(t, newPane(t, srv, 80, 24), "sort_desc(up)")
	if m.ans.rows[0].labels != `up{instance="10.0.0.12:9100", job="node"}` {
		t.Errorf("sort_desc keeps the server's order: %v", m.ans.rows)
	}
}

// The range prefix and ctrl+r: a range runs as a range query ending at the console's
// clock, with the step fitted to the pane unless given; ctrl+r adds and removes it.
func TestRange(t *testing.T) {
	srv := server()
	m := newPane(t, srv, 100, 30)
	m = run(t, m, "range 6h node_load1")
	c := srv.last()
	if c.expr != "node_load1" || !c.end.Equal(t0) || c.end.Sub(c.start) != 6*time.Hour || c.step != fitStep(6*time.Hour, 100) || c.step != 108*time.Second {
		t.Fatalf("range call: %+v", c)
	}
	if !strings.Contains(m.View(), "range 6h step 1m48s · 2 series, 233 points") || !strings.Contains(m.View(), `* node_load1{instance="10.0.0.11:9100"}`) {
		t.Errorf("chart:\n%s", m.View())
	}
	m = typeLine(m, "up")
	m, cmd := press(m, "ctrl+r")
	m = deliver(t, m, cmd)
	if got := m.input.Value(); got != "range 1h up" || srv.last().end.Sub(srv.last().start) != time.Hour {
		t.Fatalf("ctrl+r: %q %+v", got, srv.last())
	}
	m, _ = press(m, "esc") // on the result, too
	m, cmd = press(m, "ctrl+r")
	m = deliver(t, m, cmd)
	if got := m.input.Value(); got != "up" || !srv.last().start.IsZero() || m.ans.kind != "vector" {
		t.Fatalf("ctrl+r back: %q %+v", got, srv.last())
	}
	m, _ = press(m, "e")

	for line, want := range map[string]string{
		"range 1h step 0s up":  "step 0s: must be longer than zero",
		"range 1h step 2h up":  "step 2h: must be longer than zero and at most the range (1h)",
		"range 1h step abc up": `step "abc": want a duration`,
		"range 0s up":          "range 0s: must be longer than zero",
	} {
		m = typeLine(m, line)
		var cmd tea.Cmd
		m, cmd = press(m, "enter")
		if cmd != nil || !strings.Contains(m.View(), "✗ "+want) {
			t.Errorf("%q: want %q:\n%s", line, want, m.View())
		}
	}
	// "range" followed by something that is not a duration is PromQL.
	if r, err := parseLine("range > 5"); err != nil || r.rng != 0 || r.expr != "range > 5" {
		t.Errorf("range > 5: %+v %v", r, err)
	}
	if r, err := parseLine("range 15m step 15s sum(rate(x[1m]))"); err != nil || r.rng != 15*time.Minute || r.step != 15*time.Second || r.expr != "sum(rate(x[1m]))" {
		t.Errorf("full prefix: %+v %v", r, err)
	}
}

// The palette's ":query EXPR" runs EXPR and leaves the keys to the console.
func TestRunQueryMsg(t *testing.T) {
	srv := server()
	m := newPane(t, srv, 80, 24)
	m, cmd := m.Update(views.RunQueryMsg{Expr: "up"})
	m = deliver(t, m, cmd)
	if m.InputFocused() || m.input.Value() != "up" || srv.last().expr != "up" || len(m.ans.rows) != 3 {
		t.Errorf("focused %v, input %q, rows %d", m.InputFocused(), m.input.Value(), len(m.ans.rows))
	}
	// r runs it again.
	m, cmd = press(m, "r")
	if cmd == nil || m.running == nil {
		t.Error("r did not run the query again")
	}
}

// A long vector scrolls under fixed column titles, and the status line says which rows
// are shown.
func TestScroll(t *testing.T) {
	m := run(t, newPane(t, server(), 80, 24), "many")
	m, _ = press(m, "esc")
	if !strings.Contains(m.View(), "rows 1–20 of 54") || !strings.Contains(m.View(), "1 warning") {
		t.Fatalf("status:\n%s", m.View())
	}
	m, _ = press(m, "j", "j")
	if !strings.Contains(m.View(), "rows 3–22 of 54") {
		t.Errorf("j:\n%s", m.View())
	}
	m, _ = press(m, "G")
	if !strings.Contains(m.View(), "rows 35–54 of 54") || !strings.Contains(m.View(), `many{i="053"}`) {
		t.Errorf("G:\n%s", m.View())
	}
	m, _ = press(m, "pgdown", "g")
	if !strings.Contains(m.View(), "rows 1–20 of 54") {
		t.Errorf("g:\n%s", m.View())
	}
	m.SetSize(80, 60) // growing shows everything and resets the scroll into range
	if m.top != 0 || strings.Contains(m.View(), "rows ") {
		t.Errorf("grown: top %d", m.top)
	}
}

func TestFrameFitsEverySize(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {20, 3}, {60, 12}, {80, 24}, {200, 60}} {
		for _, line := range []string{"up", "range 1h node_load1", "up{job=", "many"} {
			m := run(t, newPane(t, server(), sz[0], sz[1]), line)
			checkFrame(t, m.View(), sz[0], sz[1])
		}
	}
	m := newPane(t, server(), 0, 0)
	if m.View() != "" {
		t.Error("a pane without a size draws nothing")
	}
}

func TestHelpFollowsFocus(t *testing.T) {
	m := newPane(t, server(), 80, 24)
	keysOf := func() string {
		var ks []string
		for _, b := range m.ShortHelp() {
			ks = append(ks, b.Help().Key+" "+b.Help().Desc)
		}
		return strings.Join(ks, ", ")
	}
	if h := keysOf(); !strings.Contains(h, "enter run") || !strings.Contains(h, "↑ older query") {
		t.Errorf("typing: %s", h)
	}
	m, _ = press(m, "esc")
	if h := keysOf(); !strings.Contains(h, "e edit query") || !strings.Contains(h, "r run again") {
		t.Errorf("result: %s", h)
	}
	if len(m.FullHelp()) < 2 {
		t.Error("full help")
	}
}

// Against a real Prometheus scraping a real node_exporter: the pane's commands run through
// the real client, a vector comes back with the exporter's instance, a bad expression
// gives the server's own error, and a range renders as a chart.
func TestAgainstPrometheus(t *testing.T) {
	env := testprom.Start(t, testprom.Options{})
	client, err := prom.New(&prom.Config{URL: env.URL, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.WaitForQuery(ctx, `count_over_time(up{job="node"}[1m]) >= 3`); err != nil {
		t.Fatal(err)
	}
	m := New(Deps{Client: client, Server: client.URL(), Location: time.UTC}, keymap.Default().Query, styles(t))
	m.SetSize(120, 30)

	m = run(t, m, `up{job="node"}`)
	if v := m.View(); !strings.Contains(v, `up{instance="`+env.NodeExporterAddr+`", job="node"}`) || !strings.Contains(v, "1 series") {
		t.Errorf("up:\n%s", v)
	}
	m = run(t, m, `sum(rate(node_cpu_seconds_total[1m]`)
	if m.ans.err == "" || !strings.HasPrefix(m.ans.err, "bad_data: ") || !strings.Contains(m.ans.err, "parse error") {
		t.Errorf("bad PromQL: %q", m.ans.err)
	}
	// A range ending at the console's clock: the last clock tick is now.
	m, _ = m.Update(views.ClockMsg{Now: time.Now()})
	m = run(t, m, `range 1m step 1s up{job="node"}`)
	v := m.View()
	if m.ans.err != "" || m.ans.kind != "matrix" || m.ans.points < 2 || !strings.Contains(v, "└") || !strings.ContainsAny(v, "⡀⠁⠉⣀⠤⠒") {
		t.Errorf("range (%s):\n%s", m.ans.err, v)
	}
}
