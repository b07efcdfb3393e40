// Package query is the PromQL pane: type an expression, run it against the configured
// Prometheus (or Thanos, Mimir, VictoriaMetrics), and read the answer as a table of series
// sorted by their labels, or, for a range, as a chart fitted to the pane. Errors from the
// server are shown as the server wrote them ("bad_data: 1:5: parse error: …").
//
// A range is asked for in the line itself, so that what runs is what is on screen and
// the history keeps it:
//
//	range 1h rate(node_cpu_seconds_total[5m])
//	range 6h step 1m node_load1
//
// The range ends at the console's clock; the step, when not given, is fitted to the
// pane's width (one point per braille dot column). ctrl+r (keymap query.range) adds or
// removes the "range 1h" prefix and runs the line.
//
// The pane follows DESIGN.md §3 and §10: Update is pure (the time arrives in
// views.ClockMsg, queries run in commands that capture values), answers are versioned by
// request id and any but the latest is dropped, and View only reads. While the input has
// focus (InputFocused) the root sends it every key; esc leaves it for the result, where
// the global keys work again, and query.edit comes back.
package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/chart"
)

// Deps is what the pane needs from the engine and the config.
type Deps struct {
	// Client answers the queries; nil when no [prometheus] is configured, which the pane
	// says plainly instead of offering an input that cannot run.
	Client Querier
	// Server names the server in the pane's title (its URL without credentials).
	Server string
	// Ctx bounds every query; the console cancels it on quit. Nil means Background.
	Ctx context.Context
	// Location is the time zone of chart axes (nil: UTC).
	Location *time.Location
}

// historyMax bounds the query history (memory is bounded by design, DESIGN.md §3).
const historyMax = 200

// DefaultRange is the range ctrl+r asks for.
const DefaultRange = time.Hour

// rowsAbove are the lines above the result: the input and the status line.
const rowsAbove = 2

// request is one query asked for.
type request struct {
	id   int
	line string // as typed: what the history keeps
	expr string
	rng  time.Duration // zero for an instant query
	step time.Duration
}

// answer is the latest answered request, made ready to draw once on arrival.
type answer struct {
	req request
	err string
	// cancelled is set when the operator (or a newer query) cancelled the request.
	cancelled bool
	warnings  []string
	took      time.Duration
	// One of these holds the result, by its type.
	rows   []row          // an instant vector
	series []chart.Series // a range matrix
	points int            // samples in series
	scalar string         // a scalar or a string, as text
	kind   string         // "vector", "matrix", "scalar", "string"
}

// row is one series of an instant vector.
type row struct {
	labels, value string
}

// Model is the query pane.
type Model struct {
	deps   Deps
	keys   keymap.Query
	fields fieldKeys
	styles *themes.Styles
	width  int
	height int

	input   textinput.Model
	editing bool
	// inputErr says why the typed line could not be run (a bad range prefix); it clears
	// with the next edit.
	inputErr string

	history []string
	histPos int    // index into history while browsing; len(history) when not
	draft   string // what was typed before browsing began

	seq     int       // the latest request's id
	flight  *inflight // the running request's cancel, shared by every copy of the model
	running *request  // the latest request while it has no answer
	ans     *answer   // the latest answer; nil before the first
	top     int       // first row of the result shown
	now     time.Time
}

// New makes the pane. With a client it opens with the input focused, ready to type.
func New(deps Deps, keys keymap.Query, styles *themes.Styles) Model {
	if deps.Ctx == nil {
		deps.Ctx = context.Background()
	}
	in := textinput.New()
	in.Prompt = "promql › "
	in.Placeholder = "an expression, e.g. up or rate(node_cpu_seconds_total[5m])"
	// A steady cursor: a blinking one would send messages twice a second, and a recorded
	// session would not replay frame for frame.
	in.Cursor.SetMode(cursor.CursorStatic)
	m := Model{deps: deps, keys: keys, fields: defaultFieldKeys(), input: in, flight: &inflight{}}
	m.SetStyles(styles)
	if deps.Client != nil {
		m.editing = true
		m.input.Focus()
	} else {
		m.input.Placeholder = "(no server to ask)"
	}
	return m
}

// SetStyles replaces the styles, for a theme change at run time.
func (m *Model) SetStyles(s *themes.Styles) {
	m.styles = s
	m.input.PromptStyle = s.Accent
	m.input.TextStyle = s.Text
	m.input.PlaceholderStyle = s.Faint
	m.input.Cursor.Style = s.Text.Reverse(true)
}

// SetSize sets the area the pane draws in.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(w, 0), max(h, 0)
	m.input.Width = max(w-len([]rune(m.input.Prompt))-1, 1)
	m.clampTop()
}

// InputFocused reports whether the input has the keys, so the root sends it every key.
func (m Model) InputFocused() bool { return m.editing }

// Title names the pane and its server.
func (m Model) Title() string {
	switch {
	case m.deps.Client == nil:
		return "Query · no server"
	case m.deps.Server != "":
		return "Query · " + m.deps.Server
	}
	return "Query"
}

// Update runs queries, takes their answers and the time, and answers keys. It does no
// I/O and reads no clock.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case QueryAnsweredMsg:
		if msg.ID != m.seq || m.running == nil {
			return m, nil // an answer to a request a newer one replaced
		}
		m.ans = newAnswer(*m.running, msg)
		m.running = nil
		m.top = 0
	case views.RunQueryMsg:
		if strings.TrimSpace(msg.Expr) == "" {
			return m, nil
		}
		// Asked from the palette: the result is what is wanted, so the keys go back to
		// the console rather than into the input.
		m.setLine(msg.Expr)
		m.editing = false
		m.input.Blur()
		return m.submit(msg.Expr)
	case views.ClockMsg:
		m.now = msg.Now
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	if key.Matches(msg, m.keys.Range) {
		return m.toggleRange()
	}
	if m.editing {
		f := m.fields
		switch {
		case key.Matches(msg, f.Run):
			return m.submit(m.input.Value())
		case key.Matches(msg, f.Leave):
			m.editing = false
			m.input.Blur()
		case key.Matches(msg, f.HistPrev):
			m.historyStep(-1)
		case key.Matches(msg, f.HistNext):
			m.historyStep(+1)
		default:
			before := m.input.Value()
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			if m.input.Value() != before {
				m.inputErr = ""
			}
			return m, cmd
		}
		return m, nil
	}
	k := m.keys
	page := max(m.tableRows()-1, 1)
	switch {
	case key.Matches(msg, k.Edit), key.Matches(msg, m.fields.Run):
		if m.deps.Client == nil {
			return m, flash("no [prometheus] configured: add [prometheus] url = \"http://HOST:9090\" to the config", true)
		}
		m.editing = true
		return m, m.input.Focus()
	case key.Matches(msg, k.Refresh):
		return m.submit(m.input.Value())
	case key.Matches(msg, k.Cancel):
		if m.running == nil {
			return m, nil
		}
		return m, cancelCmd(m.flight, m.running.id)
	case key.Matches(msg, k.Up):
		m.top--
	case key.Matches(msg, k.Down):
		m.top++
	case key.Matches(msg, k.PageUp):
		m.top -= page
	case key.Matches(msg, k.PageDown):
		m.top += page
	case key.Matches(msg, k.Top):
		m.top = 0
	case key.Matches(msg, k.Bottom):
		m.top = math.MaxInt / 2
	}
	m.clampTop()
	return m, nil
}

// submit runs line. The line joins the history even when it cannot run, so a typo is one
// ↑ away from its fix.
func (m Model) submit(line string) (Model, tea.Cmd) {
	line = strings.TrimSpace(line)
	if line == "" || m.deps.Client == nil {
		return m, nil
	}
	m.remember(line)
	req, err := parseLine(line)
	if err != nil {
		m.inputErr = err.Error()
		return m, nil
	}
	m.inputErr = ""
	if req.rng > 0 && req.step == 0 {
		req.step = fitStep(req.rng, m.width)
	}
	m.seq++
	req.id = m.seq
	m.running = &req
	return m, queryCmd(m.deps.Ctx, m.deps.Client, m.flight, req, m.now)
}

// toggleRange adds the "range 1h" prefix to the line, or removes the range prefix it
// has, and runs it: one key between the table and the chart of an expression.
func (m Model) toggleRange() (Model, tea.Cmd) {
	line := strings.TrimSpace(m.input.Value())
	if line == "" || m.deps.Client == nil {
		return m, nil
	}
	if r := rangePrefix.FindStringSubmatch(line); r != nil && isDuration(r[1]) {
		line = r[3]
	} else {
		line = "range " + model.Duration(DefaultRange).String() + " " + line
	}
	m.setLine(line)
	return m.submit(line)
}

func (m *Model) setLine(s string) {
	m.input.SetValue(s)
	m.input.CursorEnd()
}

// rangePrefix matches "range DURATION [step DURATION] EXPR".
var rangePrefix = regexp.MustCompile(`^range\s+(\S+)(?:\s+step\s+(\S+))?\s+(\S.*)$`)

// parseLine reads a typed line. "range" followed by something that is not a duration
// is PromQL like any other line (a metric may be called range).
func parseLine(line string) (request, error) {
	req := request{line: line, expr: line}
	r := rangePrefix.FindStringSubmatch(line)
	if r == nil || !isDuration(r[1]) {
		return req, nil
	}
	rng, _ := model.ParseDuration(r[1])
	req.rng, req.expr = time.Duration(rng), r[3]
	if req.rng <= 0 {
		return req, fmt.Errorf("range %s: must be longer than zero", r[1])
	}
	if r[2] != "" {
		step, err := model.ParseDuration(r[2])
		switch {
		case err != nil:
			return req, fmt.Errorf("step %q: want a duration such as 30s or 1m", r[2])
		case step <= 0 || time.Duration(step) > req.rng:
			return req, fmt.Errorf("step %s: must be longer than zero and at most the range (%s)", r[2], r[1])
		}
		req.step = time.Duration(step)
	}
	return req, nil
}

func isDuration(s string) bool {
	_, err := model.ParseDuration(s)
	return err == nil
}

// fitStep gives a range one point per braille dot column across the pane (two per
// cell), in whole seconds: finer would be drawn over, coarser would leave gaps.
func fitStep(rng time.Duration, width int) time.Duration {
	dots := time.Duration(max(2*width, 2))
	step := (rng + dots - 1) / dots
	return max(time.Second, step.Round(time.Second))
}

// remember adds line to the history, skipping a repeat of the last entry.
func (m *Model) remember(line string) {
	if n := len(m.history); n == 0 || m.history[n-1] != line {
		// A fresh slice each time: an older Model keeps its history as it was.
		m.history = append(slices.Clip(m.history), line)
		if len(m.history) > historyMax {
			m.history = slices.Clone(m.history[len(m.history)-historyMax:])
		}
	}
	m.histPos = len(m.history)
	m.draft = ""
}

// historyStep moves through the history: up for older, down for newer and then back to
// the line being typed.
func (m *Model) historyStep(d int) {
	pos := m.histPos + d
	if pos < 0 || pos > len(m.history) {
		return
	}
	if m.histPos == len(m.history) {
		m.draft = m.input.Value()
	}
	m.histPos = pos
	if pos == len(m.history) {
		m.setLine(m.draft)
	} else {
		m.setLine(m.history[pos])
	}
	m.inputErr = ""
}

// sortingFuncs detects expressions whose result order is their point; their vectors are
// shown in the server's order, the others by labels.
var sortingFuncs = regexp.MustCompile(`\bsort(_desc|_by_label|_by_label_desc)?\s*\(`)

// newAnswer makes an answer ready to draw: sorted, formatted and cleaned once, so that
// View only reads.
func newAnswer(req request, msg QueryAnsweredMsg) *answer {
	a := &answer{req: req, took: msg.Took}
	for _, w := range msg.Warnings {
		a.warnings = append(a.warnings, clean(w))
	}
	if errors.Is(msg.Err, ErrCancelled) {
		a.cancelled = true
		return a
	}
	if msg.Err != nil {
		a.err = clean(msg.Err.Error())
		return a
	}
	switch v := msg.Value.(type) {
	case model.Vector:
		a.kind = "vector"
		if !sortingFuncs.MatchString(req.expr) {
			sort.Stable(v)
		}
		a.rows = make([]row, len(v))
		for i, s := range v {
			val := s.Value.String()
			if s.Histogram != nil {
				val = s.Histogram.String()
			}
			a.rows[i] = row{labels: clean(seriesName(s.Metric)), value: val}
		}
	case model.Matrix:
		a.kind = "matrix"
		sort.Sort(v)
		for _, ss := range v {
			cs := chart.Series{Name: clean(seriesName(ss.Metric)), Points: make([]chart.Point, len(ss.Values))}
			for i, p := range ss.Values {
				cs.Points[i] = chart.Point{T: p.Timestamp.Time(), V: float64(p.Value)}
			}
			a.points += len(ss.Values)
			a.series = append(a.series, cs)
		}
	case *model.Scalar:
		a.kind, a.scalar = "scalar", v.Value.String()
	case *model.String:
		a.kind, a.scalar = "string", clean(v.Value)
	default:
		a.err = "unexpected result type"
		if v != nil {
			a.err += " " + v.Type().String()
		}
	}
	return a
}

func seriesName(m model.Metric) string {
	if len(m) == 0 {
		return "{}"
	}
	return m.String()
}

// clean keeps text from the server (label values, errors) on the screen it is meant for:
// control characters, an escape sequence among them, are dropped and line breaks become
// spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// bodyHeight is how many lines the result has below the input and the status line.
func (m Model) bodyHeight() int { return max(m.height-rowsAbove, 0) }

// tableRows is how many rows of a vector fit under its warnings and column titles.
func (m Model) tableRows() int {
	if m.ans == nil {
		return 0
	}
	return max(m.bodyHeight()-len(m.ans.warnings)-1, 0)
}

// clampTop keeps the table's scroll within its rows; only a vector scrolls (a chart is
// fitted to the pane).
func (m *Model) clampTop() {
	n := 0
	if m.ans != nil {
		n = len(m.ans.rows)
	}
	m.top = min(max(m.top, 0), max(n-m.tableRows(), 0))
}

func flash(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return views.FlashMsg{Text: text, Err: isErr} }
}
