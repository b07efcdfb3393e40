// Package chart renders time series as a terminal chart: braille dots (2×4 per cell) or
// one symbol per series, with a y axis of labelled ticks, a time axis and a legend, fitted
// to a given width and height. It is a pure renderer with no I/O, no clock and no Bubble
// Tea, so `opsconsole query` and the query pane draw the same chart and tests pin it with
// golden files.
//
// Colour is the caller's: Options.Color wraps each run of cells of one series. Without
// colour, braille cannot tell series apart, so several series are drawn with symbols.
package chart

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Point is one sample.
type Point struct {
	T time.Time
	V float64
}

// Series is one named line. Points must be in time order; NaN and infinite values are
// gaps.
type Series struct {
	Name   string
	Points []Point
}

// Marks chooses how points are drawn.
type Marks int

const (
	// Auto draws braille for one series or when Color is set, symbols otherwise.
	Auto Marks = iota
	// Braille draws 2×4 dots per cell, with lines between consecutive points.
	Braille
	// Symbols draws each series' points with its own symbol (see Symbol), one per cell.
	Symbols
)

// Options size and style a chart.
type Options struct {
	// Width and Height are the chart's size in cells, axes and legend included. Every
	// line of the result is at most Width cells wide, and there are at most Height lines.
	Width, Height int
	Marks         Marks
	// Step is the query's resolution. Consecutive points further apart than 1.5 steps are
	// not joined, so missing data shows as a gap. Zero joins every pair.
	Step time.Duration
	// Location is the time zone of the time axis (nil means UTC).
	Location *time.Location
	// Color, when set, wraps the text drawn for series i (plot cells and legend mark).
	Color func(i int, s string) string
	// MaxLegend caps the legend's lines (default 8); further series are counted in a
	// last "+N more" line.
	MaxLegend int
}

// symbols mark series in Symbols mode; ASCII, so that width is never in doubt.
var symbols = []rune{'*', '+', 'o', 'x', '#', '@', '%', '=', '&', '~'}

// Symbol is the mark of series i in Symbols mode.
func Symbol(i int) rune { return symbols[i%len(symbols)] }

// brailleMark stands for a braille series in the legend.
const brailleMark = '⣿'

// Render draws the series. It never fails: too little room or no finite value gives a
// short note instead of a chart.
func Render(series []Series, opt Options) string {
	if opt.Width <= 0 || opt.Height <= 0 {
		return ""
	}
	loc := opt.Location
	if loc == nil {
		loc = time.UTC
	}
	marks := opt.Marks
	if marks == Auto {
		marks = Symbols
		if len(series) == 1 || opt.Color != nil {
			marks = Braille
		}
	}

	lo, hi, t0, t1, ok := bounds(series)
	if !ok {
		return fit("(no data)", opt.Width)
	}

	maxLegend := opt.MaxLegend
	if maxLegend <= 0 {
		maxLegend = 8
	}
	legend := legendLines(series, marks, opt, maxLegend)
	// Room: plot rows, then the x axis and its labels, then the legend. The legend gives
	// way first, then the time labels, so that a small pane still shows the shape.
	const minRows = 3
	rows := opt.Height - 2 - len(legend)
	for rows < minRows && len(legend) > 0 {
		legend = legend[:len(legend)-1]
		rows++
	}
	showTimes := true
	if rows < minRows {
		showTimes = false
		rows++
	}
	showAxis := true
	if rows < minRows {
		showAxis = false
		rows++
	}
	rows = min(rows, opt.Height)

	ticks, step := niceTicks(lo, hi, max(2, rows/3+1))
	lo, hi = ticks[0], ticks[len(ticks)-1]
	labels := make([]string, len(ticks))
	scale, suffix := unit(math.Max(math.Abs(lo), math.Abs(hi)))
	labelW := 0
	d := decimals(ticks, scale)
	for i, v := range ticks {
		labels[i] = tickLabel(v, step, scale, suffix, d)
		labelW = max(labelW, len(labels[i]))
	}
	plotW := opt.Width - labelW - 1
	if plotW < 4 {
		// No room for labels: the plot takes the whole width.
		labelW, plotW = -1, opt.Width
		labels = nil
	}

	var g grid
	if marks == Braille {
		g = newGrid(rows, plotW, 2, 4)
	} else {
		g = newGrid(rows, plotW, 1, 1)
	}
	xOf := func(t time.Time) int {
		if !t1.After(t0) {
			return (g.dotW - 1) / 2
		}
		return int(math.Round(float64(t.Sub(t0)) / float64(t1.Sub(t0)) * float64(g.dotW-1)))
	}
	yOf := func(v float64) int {
		return int(math.Round((hi - v) / (hi - lo) * float64(g.dotH-1)))
	}
	for i, s := range series {
		havePrev := false
		var px, py int
		var pt time.Time
		for _, p := range s.Points {
			if !finite(p.V) {
				havePrev = false
				continue
			}
			x, y := xOf(p.T), yOf(p.V)
			joined := havePrev && marks == Braille &&
				(opt.Step <= 0 || p.T.Sub(pt) <= opt.Step*3/2)
			if joined {
				g.line(px, py, x, y, i)
			} else {
				g.dot(x, y, i)
			}
			px, py, pt, havePrev = x, y, p.T, true
		}
	}

	// Rows on which a y tick falls carry its label.
	tickRow := map[int]string{}
	for i, v := range ticks {
		r := int(math.Round((hi - v) / (hi - lo) * float64(rows-1)))
		if labels != nil {
			tickRow[r] = labels[i]
		}
	}
	var out []string
	for r := 0; r < rows; r++ {
		var b strings.Builder
		if labelW >= 0 {
			if l, ok := tickRow[r]; ok {
				b.WriteString(strings.Repeat(" ", labelW-len(l)) + l + "┤")
			} else {
				b.WriteString(strings.Repeat(" ", labelW) + "│")
			}
		}
		b.WriteString(g.row(r, marks, opt.Color))
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	if showAxis {
		axis, times := timeAxis(t0, t1, plotW, loc)
		pad := strings.Repeat(" ", max(0, labelW))
		corner := "└"
		if labelW < 0 {
			corner = ""
		}
		out = append(out, fit(pad+corner+axis, opt.Width))
		if showTimes {
			out = append(out, strings.TrimRight(fit(pad+" "+times, opt.Width), " "))
		}
	}
	out = append(out, legend...)
	if len(out) > opt.Height {
		out = out[:opt.Height]
	}
	return strings.Join(out, "\n")
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// bounds finds the value and time ranges over every finite point.
func bounds(series []Series) (lo, hi float64, t0, t1 time.Time, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.Points {
			if !finite(p.V) {
				continue
			}
			lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
			if !ok || p.T.Before(t0) {
				t0 = p.T
			}
			if !ok || p.T.After(t1) {
				t1 = p.T
			}
			ok = true
		}
	}
	return lo, hi, t0, t1, ok
}

// niceTicks spans [lo, hi] with about n ticks at a round step (1, 2, 2.5 or 5 × 10^k). A
// flat series gets a tick at its value and one a round step either side, so it is drawn
// mid-chart and labelled, not on an edge.
func niceTicks(lo, hi float64, n int) ([]float64, float64) {
	if hi-lo < 1e-12*math.Max(1, math.Abs(hi)) {
		p := niceNum(math.Abs(hi) / 2)
		if p == 0 || !finite(p) || !finite(hi-p) || !finite(hi+p) {
			p = 1
		}
		return []float64{hi - p, hi, hi + p}, p
	}
	if !finite(hi - lo) { // values near ±MaxFloat64
		lo, hi = lo/4, hi/4
	}
	raw := (hi - lo) / float64(max(1, n-1))
	step := niceNum(raw)
	if !finite(step) || step <= 0 {
		return []float64{lo, hi}, hi - lo
	}
	first := math.Floor(lo/step) * step
	last := math.Ceil(hi/step) * step
	var ticks []float64
	for v := first; v <= last+step/2 && len(ticks) < 64; v += step {
		// Snap away float drift (0.30000000000000004) so labels stay short.
		ticks = append(ticks, math.Round(v/step)*step)
	}
	if len(ticks) < 2 {
		ticks = []float64{first, first + step}
	}
	return ticks, step
}

// niceNum is the smallest of 1, 2, 2.5, 5 and 10 × 10^k that is at least x.
func niceNum(x float64) float64 {
	if x <= 0 || !finite(x) {
		return 0
	}
	mag := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= x {
			return m * mag
		}
	}
	return 10 * mag
}

// unit picks an SI scale for numbers of magnitude m.
func unit(m float64) (float64, string) {
	for _, u := range []struct {
		scale  float64
		suffix string
	}{{1e18, "E"}, {1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if m >= u.scale {
			return u.scale, u.suffix
		}
	}
	return 1, ""
}

// decimals is how many decimals print every tick exactly (2.5 needs one, 0.25 two), so
// that neighbouring labels differ; at most 8.
func decimals(ticks []float64, scale float64) int {
	d := 0
	for _, v := range ticks {
		x := math.Abs(v / scale)
		for d < 8 {
			p := math.Pow(10, float64(d))
			if math.Abs(x*p-math.Round(x*p)) <= 1e-6*math.Max(1, x*p) {
				break
			}
			d++
		}
	}
	return d
}

// tickLabel prints a tick scaled to the axis' unit with d decimals.
func tickLabel(v, step, scale float64, suffix string, d int) string {
	if v == 0 {
		return "0"
	}
	if math.Abs(v) > 1e21 || step/scale < 1e-6 {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	l := strconv.FormatFloat(v/scale, 'f', d, 64)
	if strings.Trim(l, "-0.") == "" {
		return "0"
	}
	return l + suffix
}

// FormatValue prints a value compactly with an SI suffix and four significant digits:
// 0.25, 12.5, 1.234k, 56.79M. Summaries beside a chart use it, so they read like its axis.
func FormatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == 0:
		return "0"
	case math.Abs(v) < 1e-3 || math.Abs(v) >= 1e21:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	// Choose the unit after rounding, so that 999.96 reads 1k, not 1000.
	r, _ := strconv.ParseFloat(strconv.FormatFloat(math.Abs(v), 'g', 4, 64), 64)
	scale, suffix := unit(r)
	return strconv.FormatFloat(v/scale, 'g', 4, 64) + suffix
}

// grid is the plot area: cells of dotW/cols × dotH/rows dots each, remembering which
// series drew last in each cell (for colour and symbols).
type grid struct {
	rows, cols, cw, ch int
	dotW, dotH         int
	bits               [][]uint8
	owner              [][]int
}

func newGrid(rows, cols, cw, ch int) grid {
	g := grid{rows: rows, cols: cols, cw: cw, ch: ch, dotW: cols * cw, dotH: rows * ch}
	g.bits = make([][]uint8, rows)
	g.owner = make([][]int, rows)
	for r := range g.bits {
		g.bits[r] = make([]uint8, cols)
		g.owner[r] = slices.Repeat([]int{-1}, cols)
	}
	return g
}

// brailleBit is the dot at (x, y) within a cell, per the Unicode braille layout.
var brailleBit = [4][2]uint8{{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}}

func (g *grid) dot(x, y, series int) {
	if x < 0 || y < 0 || x >= g.dotW || y >= g.dotH {
		return
	}
	r, c := y/g.ch, x/g.cw
	g.owner[r][c] = series
	if g.cw == 2 {
		g.bits[r][c] |= brailleBit[y%4][x%2]
	} else {
		g.bits[r][c] = 1
	}
}

// line draws from (x0, y0) to (x1, y1) with Bresenham's algorithm.
func (g *grid) line(x0, y0, x1, y1, series int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	err := dx + dy
	for n := 0; n <= g.dotW+g.dotH; n++ {
		g.dot(x0, y0, series)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			x0 += sx
		}
		if e2 <= dx {
			err += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

// row renders one row of cells, colouring runs of one series' cells together.
func (g *grid) row(r int, marks Marks, color func(int, string) string) string {
	var b, run strings.Builder
	runOwner := -1
	flush := func() {
		if run.Len() == 0 {
			return
		}
		if color != nil && runOwner >= 0 {
			b.WriteString(color(runOwner, run.String()))
		} else {
			b.WriteString(run.String())
		}
		run.Reset()
	}
	for c := 0; c < g.cols; c++ {
		o := g.owner[r][c]
		if o != runOwner {
			flush()
			runOwner = o
		}
		switch {
		case o < 0:
			run.WriteByte(' ')
		case marks == Braille:
			run.WriteRune(rune(0x2800 + int(g.bits[r][c])))
		default:
			run.WriteRune(Symbol(o))
		}
	}
	flush()
	return b.String()
}

// timeSteps are the candidate intervals between time labels.
var timeSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
}

// timeAxis draws the x axis line with a ┬ under each labelled time, and the labels
// line, at round times (every 5m, 1h, …) chosen so that labels do not crowd.
func timeAxis(t0, t1 time.Time, width int, loc *time.Location) (axis, labels string) {
	line := []rune(strings.Repeat("─", width))
	lab := []rune(strings.Repeat(" ", width))
	span := t1.Sub(t0)
	layout := "15:04"
	switch {
	case span > 24*time.Hour:
		layout = "01-02 15:04"
	case span < 10*time.Minute:
		layout = "15:04:05"
	}
	if span <= 0 {
		l := []rune(t0.In(loc).Format(layout))
		c := (width - 1) / 2
		line[c] = '┬'
		place(lab, l, c)
		return string(line), string(lab)
	}
	maxLabels := max(1, width/(len(layout)+3))
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if span/s <= time.Duration(maxLabels) {
			step = s
			break
		}
	}
	for span/step > time.Duration(maxLabels) { // spans beyond the table
		step *= 2
	}
	_, off := t0.In(loc).Zone()
	offset := time.Duration(off) * time.Second
	first := t0.Add(offset).Truncate(step).Add(-offset)
	if first.Before(t0) {
		first = first.Add(step)
	}
	lastEnd := -2
	for t := first; !t.After(t1); t = t.Add(step) {
		c := int(math.Round(float64(t.Sub(t0)) / float64(span) * float64(width-1)))
		l := []rune(t.In(loc).Format(layout))
		start := min(max(0, c-len(l)/2), width-len(l))
		if start <= lastEnd+1 || start < 0 {
			continue // would touch the previous label
		}
		line[c] = '┬'
		lastEnd = place(lab, l, c)
	}
	return string(line), string(lab)
}

// place writes label centred on column c, kept inside the line; it returns the last
// column written.
func place(line, label []rune, c int) int {
	start := min(max(0, c-len(label)/2), len(line)-len(label))
	if start < 0 {
		return -2
	}
	copy(line[start:], label)
	return start + len(label) - 1
}

func legendLines(series []Series, marks Marks, opt Options, maxLines int) []string {
	var out []string
	for i, s := range series {
		if len(out) == maxLines-1 && len(series) > maxLines {
			out = append(out, fit("+"+strconv.Itoa(len(series)-i)+" more", opt.Width))
			break
		}
		mark := string(brailleMark)
		if marks == Symbols {
			mark = string(Symbol(i))
		}
		name := s.Name
		if name == "" {
			name = "{}"
		}
		text := fit(mark+" "+name, opt.Width)
		if opt.Color != nil {
			text = opt.Color(i, mark) + strings.TrimPrefix(text, mark)
		}
		out = append(out, text)
	}
	return out
}

// fit truncates s to width cells, marking the cut with an ellipsis.
func fit(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	if width <= 1 {
		return ansi.Truncate(s, width, "")
	}
	return ansi.Truncate(s, width, "…")
}
