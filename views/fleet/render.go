package fleet

// The renderers here are pure functions of their arguments (a host, the styles, a width,
// the time): no model, no globals they change, so each is tested on its own and the view
// is only their assembly. Widths are counted in terminal cells with ansi-aware functions,
// so styled text never overflows its column.

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/themes"
)

// column is one of the table's columns, in display order.
type column int

const (
	colGutter column = iota // cursor and mark
	colStatus
	colName
	colVia
	colCPU
	colTrend
	colMem
	colDisk
	colLoad
	colPorts
	colProbes
	colSeen
	colReason
	numColumns
)

// keep is the priority of the columns never dropped.
const keep = 100

type colSpec struct {
	title     string
	min, want int
	// prio decides which columns go when the pane is narrow: the lowest first.
	prio  int
	right bool
}

// colSpecs size the columns. The status column is wide enough for "? connecting", the
// reason column takes what is left, and the name column's want is set from the inventory.
var colSpecs = [numColumns]colSpec{
	colGutter: {title: "", min: 2, want: 2, prio: keep},
	colStatus: {title: "STATUS", min: 12, want: 12, prio: keep},
	colName:   {title: "HOST", min: 12, want: 12, prio: keep},
	colVia:    {title: "VIA", min: 5, want: 5, prio: 2},
	colCPU:    {title: "CPU", min: 4, want: 4, prio: 9, right: true},
	colTrend:  {title: "TREND", min: 8, want: 12, prio: 3},
	colMem:    {title: "MEM", min: 4, want: 4, prio: 8, right: true},
	colDisk:   {title: "DISK", min: 4, want: 14, prio: 7},
	colLoad:   {title: "LOAD", min: 5, want: 5, prio: 5, right: true},
	colPorts:  {title: "PORTS", min: 8, want: 16, prio: 1},
	colProbes: {title: "PROBES", min: 6, want: 6, prio: 4, right: true},
	colSeen:   {title: "SEEN", min: 5, want: 5, prio: 6, right: true},
	colReason: {title: "REASON", min: 20, want: 40, prio: 10},
}

// growOrder is who gets spare width, up to its want, once every column has its minimum;
// the reason column then takes the rest. Names come first (they say which host), then the
// disk's mount and the reason (they say what is wrong).
var growOrder = []column{colName, colDisk, colReason, colPorts, colTrend}

// maxNameCol caps the name column: a very long name is truncated rather than pushing the
// numbers off the screen.
const maxNameCol = 24

// layout is the columns that fit a width, with their widths.
type layout struct {
	cols  []placed
	width int // the table's width: columns plus one-cell gaps
	// clip is set when even the columns that are never dropped do not fit: every line is
	// then truncated to the pane.
	clip bool
}

type placed struct {
	col column
	w   int
}

func (l layout) has(c column) bool {
	for _, p := range l.cols {
		if p.col == c {
			return true
		}
	}
	return false
}

// computeLayout drops the least important columns until the rest fit width at their
// minimum, then grows them toward their wants.
func computeLayout(width, nameWidth int) layout {
	specs := colSpecs
	specs[colName].want = min(max(nameWidth, specs[colName].min), maxNameCol)
	var on [numColumns]bool
	for c := range on {
		on[c] = true
	}
	used := func() int {
		n, sum := 0, 0
		for c, ok := range on {
			if ok {
				n++
				sum += specs[c].min
			}
		}
		return sum + max(n-1, 0)
	}
	for used() > width {
		drop := -1
		for c, ok := range on {
			if ok && specs[c].prio < keep && (drop < 0 || specs[c].prio < specs[drop].prio) {
				drop = c
			}
		}
		if drop < 0 {
			break
		}
		on[drop] = false
	}
	var widths [numColumns]int
	for c, ok := range on {
		if ok {
			widths[c] = specs[c].min
		}
	}
	left := max(width-used(), 0)
	for _, c := range growOrder {
		if on[c] {
			add := min(left, specs[c].want-widths[c])
			widths[c] += add
			left -= add
		}
	}
	if on[colReason] {
		widths[colReason] += left
	}
	l := layout{}
	for c, ok := range on {
		if ok {
			l.cols = append(l.cols, placed{col: column(c), w: widths[c]})
			l.width += widths[c]
		}
	}
	l.width += max(len(l.cols)-1, 0)
	l.clip = l.width > width
	return l
}

// sortColumn is the column a sort key sorts by.
var sortColumn = [numSortKeys]column{
	sortStatus: colStatus, sortName: colName, sortCPU: colCPU, sortMem: colMem,
	sortDisk: colDisk, sortLoad: colLoad, sortSeen: colSeen,
}

// sortMark follows the sorted column's title: ▾ in its usual order (worst, highest,
// oldest or A first), ▴ reversed.
func sortMark(reverse bool) string {
	if reverse {
		return "▴"
	}
	return "▾"
}

// renderHeader draws the column titles, marking the sorted one.
func renderHeader(l layout, p *palette, by sortKey, reverse bool) string {
	var b strings.Builder
	for i, c := range l.cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		t := colSpecs[c.col].title
		if c.col == sortColumn[by] {
			t += sortMark(reverse)
		}
		b.WriteString(fit(t, c.w, colSpecs[c.col].right))
	}
	return p.header.paint(b.String())
}

// renderHostRow draws one host's row. The selected row is drawn plain inside the
// selection style across the table's width, since inner styles would reset its
// background; the status still reads by symbol and word.
func renderHostRow(h *host, l layout, p *palette, now time.Time, selected bool) string {
	var b strings.Builder
	b.Grow(l.width * 2)
	for i, c := range l.cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		text, k := hostCell(h, c.col, c.w, p, now, selected)
		cell := fit(text, c.w, colSpecs[c.col].right)
		switch {
		case selected || text == "":
			b.WriteString(cell)
		case c.col == colReason && h.badge != "":
			b.WriteString(paintBadge(cell, h.badge, markerInk(h.markerLast, now, p), k))
		default:
			b.WriteString(k.paint(cell))
		}
	}
	if selected {
		return p.selected.paint(b.String())
	}
	return b.String()
}

// hostCell is one cell's text and ink.
func hostCell(h *host, c column, w int, p *palette, now time.Time, selected bool) (string, ink) {
	metric := p.row
	if h.stale {
		metric = p.faint // the last values we had, kept visible but not vouched for
	}
	mt := h.metrics
	has := func(field string) bool { return mt != nil && mt.Has(field) }
	switch c {
	case colGutter:
		return gutter(h, selected), p.accent
	case colStatus:
		return statusText(h), p.state[stateOf(h)]
	case colName:
		return h.cfg.Name, p.row
	case colVia:
		if h.transport == "" {
			return "–", p.faint
		}
		return h.transport, p.faint
	case colCPU:
		if !has(health.FieldCPU) {
			return missing(mt), p.faint
		}
		return fmtPct0(mt.CPUPercent), metric
	case colTrend:
		if h.cpu.Len() == 0 {
			return "", p.faint
		}
		if h.stale {
			return sparkline(h.cpu.Values(), w), p.faint
		}
		return sparkline(h.cpu.Values(), w), p.spark
	case colMem:
		if !has(health.FieldMem) || mt.MemTotal == 0 {
			return missing(mt), p.faint
		}
		return fmtPct0(mt.MemPercent), metric
	case colDisk:
		if mt == nil || len(mt.Disks) == 0 {
			return missing(mt), p.faint
		}
		d := mt.WorstDisk()
		t := fmtPct0(d.Percent)
		if w >= 6 {
			t = padLeft(t, 4) + " " + d.Mount
		}
		return t, metric
	case colLoad:
		if !has(health.FieldLoad) {
			return missing(mt), p.faint
		}
		return fmtLoad(mt.Load1), metric
	case colPorts:
		if !has(health.FieldPorts) {
			return missing(mt), p.faint // Prometheus' node_exporter does not list ports
		}
		return compactPorts(mt.Ports, w), metric
	case colProbes:
		if h.probes == nil {
			return probesText(h.probes), p.faint
		}
		return probesText(h.probes), p.state[stateOfStatus(h.probeWorst)]
	case colSeen:
		if h.stale || h.seen.IsZero() {
			return seenText(h.seen, now), p.faint
		}
		return seenText(h.seen, now), p.row
	case colReason:
		if h.badge != "" {
			return h.reasonText, p.row // the log-marker badge, then the first reason
		}
		if len(h.reasons) == 0 {
			return "", p.row
		}
		return h.reasons[0], p.row
	}
	return "", p.row
}

// gutter is the cursor and the mark: ">" on the selected row, "*" on a marked one. They
// are characters, not only a highlight, so both show without colour.
func gutter(h *host, selected bool) string {
	g := []byte("  ")
	if selected {
		g[0] = '>'
	}
	if h.marked {
		g[1] = '*'
	}
	return string(g)
}

// statusText is the status as symbol and word, e.g. "✗ crit"; "? connecting" before
// the first report.
func statusText(h *host) string {
	if !h.reported {
		return health.Unknown.Symbol() + " connecting"
	}
	return h.status.Symbol() + " " + h.status.String()
}

// missing fills a metric cell: "?" when a sample lacks the value, blank before any sample.
func missing(mt *health.Metrics) string {
	if mt == nil {
		return ""
	}
	return "?"
}

func probesText(p *ProbeCounts) string {
	if p == nil {
		return "–"
	}
	return itoa(p.OK) + "/" + itoa(p.Total)
}

// seenText is how long ago a host last answered, "never" if it has not, "–" before the
// first clock tick.
func seenText(seen, now time.Time) string {
	switch {
	case seen.IsZero():
		return "never"
	case now.IsZero():
		return "–"
	}
	return fmtAgo(now.Sub(seen))
}

// renderGroupHeader draws a tag group's header: its name, size and counts per status.
func renderGroupHeader(g *groupHeader, s *themes.Styles, width int) string {
	name := g.name
	if name == "" {
		name = "(no tag)"
	}
	parts := []string{s.Title.Render("▾ " + name), s.Faint.Render(plural(g.total, "host", "hosts"))}
	parts = append(parts, stateCounts(g.counts, s)...)
	return ansi.Truncate(strings.Join(parts, "  "), width, "…")
}

// stateSymbols and stateWords name the states counted in headers; connecting borrows
// unknown's symbol and has its own word.
var (
	stateStatus = [numStates]health.Status{stateOK: health.OK, stateWarn: health.Warn, stateCrit: health.Crit,
		stateDown: health.Down, stateUnknown: health.Unknown, stateConnecting: health.Unknown}
	stateWords = [numStates]string{stateOK: "ok", stateWarn: "warn", stateCrit: "crit", stateDown: "down",
		stateUnknown: "unknown", stateConnecting: "connecting"}
)

// stateCounts renders the non-zero counts, worst first: "↓ 2 down", "✗ 1 crit", ….
func stateCounts(counts [numStates]int, s *themes.Styles) []string {
	var out []string
	for _, st := range []state{stateDown, stateCrit, stateWarn, stateUnknown, stateConnecting, stateOK} {
		if n := counts[st]; n > 0 {
			word := stateWords[st]
			out = append(out, s.Status(word).Render(stateStatus[st].Symbol()+" "+itoa(n)+" "+word))
		}
	}
	return out
}

// sparkBlocks are the eight levels of a sparkline and of the detail charts.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values (0–100) as block characters, newest at the right;
// a short history is padded on the left so every row's newest value lines up.
func sparkline(values []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	var b strings.Builder
	b.Grow(width * 3)
	b.WriteString(strings.Repeat(" ", width-len(values)))
	for _, v := range values {
		lvl := int(math.Round(clamp01(v/100) * float64(len(sparkBlocks)-1)))
		b.WriteRune(sparkBlocks[lvl])
	}
	return b.String()
}

// chart draws the last width values (0–100) as a bar chart height rows tall, in eighths
// of a row, top row first; values are right-aligned like the sparkline's.
func chart(values []float64, width, height int) []string {
	if width <= 0 || height <= 0 {
		return nil
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	pad := width - len(values)
	rows := make([]string, height)
	for r := range height {
		var b strings.Builder
		b.WriteString(strings.Repeat(" ", pad))
		floor := (height - 1 - r) * 8 // eighths below this row
		for _, v := range values {
			eighths := int(math.Round(clamp01(v/100) * float64(height*8)))
			switch fill := eighths - floor; {
			case fill >= 8:
				b.WriteRune('█')
			case fill <= 0:
				if r == height-1 {
					b.WriteRune('▁') // a baseline, so an idle host still shows samples
				} else {
					b.WriteByte(' ')
				}
			default:
				b.WriteRune(sparkBlocks[fill-1])
			}
		}
		rows[r] = b.String()
	}
	return rows
}

func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return min(max(v, 0), 1)
}

// compactPorts lists ports in width cells: as many as fit, then "+N" for the rest.
func compactPorts(ports []int, width int) string {
	if len(ports) == 0 || width <= 0 {
		return ""
	}
	// Each port shown adds more than the shrinking "+N" saves, so the candidates grow
	// with k and the last one that fits shows the most ports.
	var prefix strings.Builder
	best := ""
	for k := 0; k <= len(ports); k++ {
		cand := prefix.String()
		if rest := len(ports) - k; rest > 0 {
			if k > 0 {
				cand += ","
			}
			cand += "+" + itoa(rest)
		}
		if len(cand) > width {
			break
		}
		best = cand
		if k < len(ports) {
			if k > 0 {
				prefix.WriteByte(',')
			}
			prefix.WriteString(itoa(ports[k]))
		}
	}
	if best == "" {
		return ansi.Truncate("+"+itoa(len(ports)), width, "…")
	}
	return best
}

// fit truncates s to w cells (with "…") and pads it to exactly w, on the left when right
// is set.
func fit(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	sw := textWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = textWidth(s)
	}
	if sw == w {
		return s
	}
	if right {
		return strings.Repeat(" ", w-sw) + s
	}
	return s + strings.Repeat(" ", w-sw)
}

func padLeft(s string, w int) string { return fit(s, max(w, textWidth(s)), true) }

// textWidth is s's width in terminal cells, escape sequences not counted. Plain ASCII,
// the common case in a table of numbers, is counted without decoding.
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

func itoa(n int) string { return strconv.Itoa(n) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// fmtPct0 is a whole percentage: "7%", "100%".
func fmtPct0(v float64) string {
	return strconv.Itoa(int(math.Round(v))) + "%"
}

// fmtPct1 keeps one decimal for the detail view: "92.3%".
func fmtPct1(v float64) string {
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// fmtLoad keeps load readable in five cells: "0.75", "12.5", "128".
func fmtLoad(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// fmtAgo is a short age: "0s", "42s", "3m", "5h", "2d". A negative age (a report stamped
// after the latest tick) reads as now.
func fmtAgo(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return itoa(int(d/time.Hour)) + "h"
	}
	return itoa(int(d/(24*time.Hour))) + "d"
}

// fmtBytes is a size in binary units with one decimal: "512 B", "5.7 GiB".
func fmtBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	v := float64(n)
	suffixes := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := -1
	for v >= unit && i < len(suffixes)-1 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + suffixes[i]
}

// fmtUptime is an uptime to two units: "12d 3h", "3h 20m", "5m", "42s".
func fmtUptime(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	hours := int(d/time.Hour) % 24
	mins := int(d/time.Minute) % 60
	switch {
	case days > 0:
		return itoa(days) + "d " + itoa(hours) + "h"
	case hours > 0:
		return itoa(hours) + "h " + itoa(mins) + "m"
	case mins > 0:
		return itoa(mins) + "m"
	}
	return itoa(int(d/time.Second)) + "s"
}

// fmtClock is a report time as the detail view shows it, with its age when the time of
// the latest tick is known: "12:00:03 (3s ago)".
func fmtClock(t, now time.Time) string {
	s := t.Format("15:04:05")
	if !now.IsZero() {
		s += " (" + fmtAgo(now.Sub(t)) + " ago)"
	}
	return s
}
