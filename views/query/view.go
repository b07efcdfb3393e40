package query

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/views/chart"
)

// View draws the input, a status line and the result: exactly the pane's height, no line
// wider than its width. It only reads what Update prepared.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.input.View(), m.statusLine())
	lines = append(lines, m.body()...)
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.width, "…")
	}
	for len(lines) < m.height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// statusLine says what the pane shows, or is doing, in one line: the status in words and
// a symbol as well as colour.
func (m Model) statusLine() string {
	s := m.styles
	switch {
	case m.deps.Client == nil:
		return s.StatusWarn.Render("! no [prometheus] configured: nothing to query")
	case m.inputErr != "":
		return s.StatusCrit.Render("✗ " + m.inputErr)
	case m.running != nil:
		return s.Faint.Render("running " + describe(*m.running) + " … " + m.keys.Cancel.Help().Key + " cancels")
	case m.ans == nil:
		return s.Faint.Render("enter runs it · " + m.keys.Range.Help().Key + " range chart · ↑/↓ history")
	}
	a := m.ans
	if a.cancelled {
		return s.StatusWarn.Render("■ cancelled") + s.Faint.Render(" · "+describe(a.req)+" · after "+fmtTook(a.took))
	}
	if a.err != "" {
		return s.StatusCrit.Render("✗ error") + s.Faint.Render(" · "+describe(a.req)+" · took "+fmtTook(a.took))
	}
	parts := []string{describe(a.req)}
	switch a.kind {
	case "vector":
		parts = append(parts, plural(len(a.rows), "series", "series"))
		if shown := m.tableRows(); len(a.rows) > shown && shown > 0 {
			last := min(m.top+shown, len(a.rows))
			parts = append(parts, "rows "+itoa(m.top+1)+"–"+itoa(last)+" of "+itoa(len(a.rows)))
		}
	case "matrix":
		parts = append(parts, plural(len(a.series), "series", "series")+", "+plural(a.points, "point", "points"))
	default:
		parts = append(parts, a.kind)
	}
	if n := len(a.warnings); n > 0 {
		parts = append(parts, plural(n, "warning", "warnings"))
	}
	parts = append(parts, "took "+fmtTook(a.took))
	return s.StatusOK.Render("✓") + " " + s.Faint.Render(strings.Join(parts, " · "))
}

// describe names a request's kind: "instant", "range 1h step 15s".
func describe(r request) string {
	if r.rng == 0 {
		return "instant"
	}
	return "range " + fmtDuration(r.rng) + " step " + fmtDuration(r.step)
}

// body is the result, or what to do when there is none yet.
func (m Model) body() []string {
	s := m.styles
	h := m.bodyHeight()
	switch {
	case h == 0:
		return nil
	case m.deps.Client == nil:
		return []string{
			"",
			s.Text.Render("The query pane asks a Prometheus-compatible server (Prometheus, Thanos, Mimir,"),
			s.Text.Render("VictoriaMetrics). Add one to the config and start the console again:"),
			"",
			s.Accent.Render("  [prometheus]"),
			s.Accent.Render(`  url = "http://127.0.0.1:9090"`),
		}
	case m.ans == nil:
		return []string{
			"",
			s.Faint.Render("examples:"),
			s.Faint.Render("  up"),
			s.Faint.Render(`  sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))`),
			s.Faint.Render("  range 6h step 1m node_load1"),
		}
	}
	a := m.ans
	var out []string
	if a.cancelled {
		return []string{s.Faint.Render("cancelled before the server answered: run it again with " + m.keys.Refresh.Help().Key)}
	}
	if a.err != "" {
		// The server's words, whole: wrapped rather than cut, since the position of a
		// parse error is at their end.
		for _, l := range strings.Split(ansi.Wrap(a.err, m.width, ""), "\n") {
			out = append(out, s.StatusCrit.Render(l))
		}
		return out
	}
	for _, w := range a.warnings {
		out = append(out, s.StatusWarn.Render("! warning: "+w))
	}
	switch a.kind {
	case "vector":
		out = append(out, m.table()...)
	case "matrix":
		opt := chart.Options{Width: m.width, Height: max(h-len(out), 1), Step: a.req.step,
			Location: m.deps.Location, Color: m.seriesColor()}
		out = append(out, strings.Split(chart.Render(a.series, opt), "\n")...)
	case "scalar", "string":
		v := a.scalar
		if a.kind == "string" {
			v = strconv.Quote(v)
		}
		out = append(out, s.Faint.Render(a.kind+"  ")+s.Text.Render(v))
	}
	return out
}

// table draws the visible rows of a vector under the column titles: the series by their
// labels, the value right-aligned in a column as wide as the widest value.
func (m Model) table() []string {
	s := m.styles
	a := m.ans
	if len(a.rows) == 0 {
		return []string{s.Faint.Render("no series")}
	}
	vw := len("VALUE")
	for _, r := range a.rows {
		vw = max(vw, ansi.StringWidth(r.value))
	}
	lw := max(m.width-vw-2, 1)
	out := []string{s.TableHeader.Render(pad("SERIES", lw) + "  " + padLeft("VALUE", vw))}
	end := min(m.top+m.tableRows(), len(a.rows))
	for _, r := range a.rows[m.top:end] {
		out = append(out, s.TableRow.Render(pad(ansi.Truncate(r.labels, lw, "…"), lw)+"  "+padLeft(r.value, vw)))
	}
	return out
}

// seriesColor colours chart series with the theme's host palette, or returns nil when the
// theme draws no colour (no-color, or a terminal without it): the chart then tells series
// apart by symbol instead of by a colour nobody sees.
func (m Model) seriesColor() func(int, string) string {
	st := m.styles
	if st.HostColor(0).Render("x") == "x" {
		return nil
	}
	return func(i int, text string) string { return st.HostColor(i).Render(text) }
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(w-ansi.StringWidth(s), 0))
}

func padLeft(s string, w int) string {
	return strings.Repeat(" ", max(w-ansi.StringWidth(s), 0)) + s
}

func itoa(n int) string { return strconv.Itoa(n) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// fmtDuration prints a range or step as PromQL writes it: "1h", "15s", "1h30m".
func fmtDuration(d time.Duration) string { return model.Duration(d).String() }

// fmtTook keeps a query's duration short: "12ms", "1.2s", "450µs".
func fmtTook(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
