package logs

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// The renderers below are pure functions of their arguments (DESIGN.md §10.13): no model,
// no clock, no terminal. Every string from a host reached them through clean.

// layout is the columns of a row at one width: a one-cell gutter for the cursor, the
// time, the host, the level, then the text.
type layout struct {
	width   int
	timeFmt string
	timeW   int
	hostW   int
	msgX    int // where the text starts
	msgW    int // cells for the text
}

const gutterW = 1

func computeLayout(width, maxHost int) layout {
	l := layout{width: width}
	switch {
	case width >= 100:
		l.timeFmt, l.timeW = "15:04:05.000", 12
	case width >= 50:
		l.timeFmt, l.timeW = "15:04:05", 8
	}
	// The host column takes the longest name up to a share of the width, so the text
	// keeps most of the row; a longer name is cut with …, its colour still sets it
	// apart, and the detail view names it whole.
	hostMax := 10
	switch {
	case width >= 120:
		hostMax = 24
	case width >= 80:
		hostMax = 16
	}
	l.hostW = max(min(maxHost, hostMax), 4)
	x := gutterW
	if l.timeW > 0 {
		x += l.timeW + 1
	}
	x += l.hostW + 1 + levelWidth + 1
	l.msgX = x
	l.msgW = max(width-x, 1)
	return l
}

// rowCtx is what every row of a frame shares.
type rowCtx struct {
	lay layout
	pal *palette
	// hl are the filters whose matches are highlighted.
	hl []*logs.Filter
}

// advance returns the end of the grapheme cluster at s[i] and its width in cells, as
// lipgloss measures it.
func advance(s string, i int) (int, int) {
	if c := s[i]; c < 0x80 {
		return i + 1, 1
	}
	cl, w := ansi.FirstGraphemeCluster(s[i:], ansi.GraphemeWidth)
	if len(cl) == 0 {
		return i + 1, 1
	}
	return i + len(cl), w
}

// fit returns the end of the longest prefix of s[from:] that fits in cells, and its width.
func fit(s string, from, cells int) (int, int) {
	i, used := from, 0
	for i < len(s) {
		j, w := advance(s, i)
		if used+w > cells {
			break
		}
		i, used = j, used+w
	}
	return i, used
}

// textWidth is the width of clean text in cells.
func textWidth(s string) int {
	_, w := fit(s, 0, len(s)*2+1)
	return w
}

// padCut makes s exactly w cells: cut with … when longer, padded with spaces when shorter.
func padCut(s string, w int) string {
	if w <= 0 {
		return ""
	}
	to, used := fit(s, 0, w)
	if to < len(s) {
		to, used = fit(s, 0, w-1)
		return s[:to] + "…" + strings.Repeat(" ", w-1-used)
	}
	return s + strings.Repeat(" ", w-used)
}

// wrapRows is how many rows text takes at width cells, at most maxRows; the same walk as
// renderLine makes, so scrolling and drawing agree.
func wrapRows(text string, width, maxRows int) int {
	if text == "" || maxRows <= 1 {
		return 1
	}
	rows, from := 0, 0
	for from < len(text) && rows < maxRows {
		to, _ := fit(text, from, width)
		if to == from {
			to, _ = advance(text, from) // a cluster wider than the row: show it alone
		}
		from = to
		rows++
	}
	return max(rows, 1)
}

// writePrefix writes the gutter, time, host and level columns of a row.
func writePrefix(b *strings.Builder, r *row, c *rowCtx, selected bool) {
	p := c.pal
	if selected {
		p.accent.write(b, "›")
	} else {
		b.WriteByte(' ')
	}
	if c.lay.timeW > 0 {
		if t := lineAt(r.line); t.IsZero() {
			b.WriteString(strings.Repeat(" ", c.lay.timeW))
		} else {
			var buf [32]byte
			p.faint.write(b, string(t.AppendFormat(buf[:0], c.lay.timeFmt)))
		}
		b.WriteByte(' ')
	}
	p.host(r.host.color).write(b, padCut(r.host.name, c.lay.hostW))
	b.WriteByte(' ')
}

// renderLine draws one line as rows: one, or in wrap mode as many as its text needs up
// to maxRows. A text longer than its rows ends in …; the detail view has it whole.
func renderLine(e *row, c *rowCtx, selected, wrap bool, maxRows int) []string {
	var b strings.Builder
	b.Grow(c.lay.width + 64)
	writePrefix(&b, e, c, selected)
	if e.line.Marker != logs.NotMarker {
		renderMarker(&b, e, c)
		return []string{b.String()}
	}
	lvl := levelWord(e.line.Level)
	c.pal.levelInk(e.line.Level).write(&b, lvl)
	b.WriteString("      "[:levelWidth-min(len(lvl), levelWidth)+1])

	text := e.text
	var hl, keys [][2]int
	if len(c.hl) > 0 {
		hl = spans(text, c.hl...)
	}
	if e.fieldsAt < len(text) {
		keys = keyRanges(text, e.fieldsAt)
	}
	w := c.lay.msgW
	if !wrap || maxRows <= 1 {
		to, _ := fit(text, 0, w)
		if to < len(text) || e.cut {
			to, _ = fit(text, 0, w-1)
			paintText(&b, text, 0, to, e.fieldsAt, hl, keys, c.pal)
			c.pal.faint.write(&b, "…")
		} else {
			paintText(&b, text, 0, to, e.fieldsAt, hl, keys, c.pal)
		}
		return []string{b.String()}
	}

	var rows []string
	indent := strings.Repeat(" ", c.lay.msgX)
	from := 0
	for {
		to, used := fit(text, from, w)
		if to == from && from < len(text) {
			to, used = advance(text, from)
		}
		lastRow := len(rows) == maxRows-1
		more := to < len(text)
		switch {
		case more && lastRow, !more && e.cut && used >= w:
			to, _ = fit(text, from, w-1)
			paintText(&b, text, from, to, e.fieldsAt, hl, keys, c.pal)
			c.pal.faint.write(&b, "…")
			return append(rows, b.String())
		case !more:
			paintText(&b, text, from, to, e.fieldsAt, hl, keys, c.pal)
			if e.cut {
				c.pal.faint.write(&b, "…")
			}
			return append(rows, b.String())
		}
		paintText(&b, text, from, to, e.fieldsAt, hl, keys, c.pal)
		rows = append(rows, b.String())
		b.Reset()
		b.WriteString(indent)
		from = to
	}
}

// renderMarker draws an engine-made line across the text columns, faint and between
// rules, so it reads as a note about the stream rather than as a line of it.
func renderMarker(b *strings.Builder, e *row, c *rowCtx) {
	room := levelWidth + 1 + c.lay.msgW
	label := "── " + markerWord(e.line.Marker)
	if e.text != "" {
		label += ": " + e.text
	}
	label += " "
	to, used := fit(label, 0, room)
	if to < len(label) {
		to, used = fit(label, 0, room-1)
		c.pal.faint.write(b, label[:to]+"…")
		return
	}
	c.pal.faint.write(b, label[:to]+strings.Repeat("─", max(room-used, 0)))
}

// keyRanges finds the key= parts of the fields displayText wrote from at: each field is
// key=value, quoted where needed, separated by a space.
func keyRanges(text string, at int) [][2]int {
	var out [][2]int
	i := at
	for i < len(text) && len(out) < 256 {
		start := i
		if text[i] == '"' {
			i = skipQuoted(text, i)
		}
		for i < len(text) && text[i] != '=' && text[i] != ' ' {
			i++
		}
		if i >= len(text) || text[i] != '=' {
			break
		}
		i++
		out = append(out, [2]int{start, i})
		if i < len(text) && text[i] == '"' {
			i = skipQuoted(text, i)
		}
		for i < len(text) && text[i] != ' ' {
			i++
		}
		for i < len(text) && text[i] == ' ' {
			i++
		}
	}
	return out
}

// skipQuoted returns the index past the Go-quoted string starting at text[i].
func skipQuoted(text string, i int) int {
	for i++; i < len(text); i++ {
		switch text[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// paintText writes text[from:to] with its runs painted: highlighted matches first, then
// field keys faint, the rest as text.
func paintText(b *strings.Builder, text string, from, to, fieldsAt int, hl, keys [][2]int, p *palette) {
	i := from
	for i < to {
		k, next := classAt(i, fieldsAt, hl, keys)
		next = min(next, to)
		if next <= i {
			next = to
		}
		k.pick(p).write(b, text[i:next])
		i = next
	}
}

type runClass int

const (
	runText runClass = iota
	runKey
	runMatch
)

func (k runClass) pick(p *palette) ink {
	switch k {
	case runMatch:
		return p.match
	case runKey:
		return p.faint
	}
	return p.text
}

// classAt returns the class of text at i and where the next class may begin.
func classAt(i, fieldsAt int, hl, keys [][2]int) (runClass, int) {
	next := 1 << 30
	for _, s := range hl {
		if i < s[0] {
			next = min(next, s[0])
			break
		}
		if i < s[1] {
			return runMatch, s[1]
		}
	}
	if i < fieldsAt {
		return runText, min(next, fieldsAt)
	}
	for _, s := range keys {
		if i < s[0] {
			next = min(next, s[0])
			break
		}
		if i < s[1] {
			return runKey, min(next, s[1])
		}
	}
	return runText, next
}

// count formats n with thousands separators.
func count(n int) string {
	if n < 0 {
		return "-" + count(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return count(n) + " " + many
}

// spread puts left and right on one row of width cells, cutting left when both do not
// fit and dropping left when right alone fills the row.
func spread(left, right string, width int) string {
	lw, rw := ansi.StringWidth(left), ansi.StringWidth(right)
	if rw >= width {
		return ansi.Truncate(right, width, "…")
	}
	if lw+1+rw > width {
		left = ansi.Truncate(left, width-rw-1, "…")
		lw = ansi.StringWidth(left)
	}
	return left + strings.Repeat(" ", max(width-lw-rw, 1)) + right
}

// statusView is what the status bar shows.
type statusView struct {
	counts   streamCounts
	known    bool // some stream has reported
	follow   bool
	newLines int
	wrap     bool
}

// renderStatus draws the stream counts at the left and the follow state at the right:
// "● 12 streaming · ↻ 1 reconnecting · ✗ 1 failed: db-2 … ‖ paused ▼ 37 new lines".
func renderStatus(s statusView, p *palette, width int) string {
	var left string
	if s.known {
		c := s.counts
		part := func(n int, sym, word string, k ink) string {
			text := sym + " " + count(n) + " " + word
			if n == 0 {
				return p.faint.paint(text)
			}
			return k.paint(text)
		}
		// Streaming, reconnecting and failed always show, so a zero is read as a zero;
		// connecting and done only while there are some.
		parts := []string{part(c.streaming, "●", "streaming", p.ok)}
		if c.connecting > 0 {
			parts = append(parts, part(c.connecting, "…", "connecting", p.text))
		}
		parts = append(parts, part(c.reconnecting, "↻", "reconnecting", p.warn), part(c.failed, "✗", "failed", p.crit))
		if c.done > 0 {
			parts = append(parts, part(c.done, "■", "done", p.faint))
		}
		left = strings.Join(parts, p.faint.paint(" · "))
		if len(c.failedHosts) > 0 {
			left += p.crit.paint(": " + strings.Join(c.failedHosts, ", "))
		}
	}
	var right string
	if s.follow {
		right = p.accent.paint("● following")
	} else {
		right = p.warn.paint("‖ paused")
		if s.newLines > 0 {
			right += " " + p.accent.paint("▼ "+plural(s.newLines, "new line", "new lines"))
		}
	}
	if s.wrap {
		right = p.faint.paint("wrap · ") + right
	}
	return spread(left, right, width)
}

// topView is what the top line says about the lines and the filters in force.
type topView struct {
	shown, held int
	dropped     bool // the ring is full: older lines were let go
	hosts       int
	hiddenHosts int
	pattern     string
	invert      bool
	ignoreCase  bool
	minLevel    logs.Level
	search      string
	// checked is the share of the lines matched so far while a changed filter is
	// being applied; 1 when done.
	checked float64
}

func renderTop(t topView, p *palette, width int) string {
	var parts []string
	filtered := t.pattern != "" || t.hiddenHosts > 0 || t.minLevel > logs.LevelNone
	lines := plural(t.held, "line", "lines")
	if filtered {
		lines = count(t.shown) + " of " + lines
	}
	if t.dropped {
		lines += " (oldest dropped)"
	}
	parts = append(parts, p.text.paint(lines))
	if t.checked < 1 {
		parts = append(parts, p.warn.paint("filtering… "+strconv.Itoa(int(t.checked*100))+"%"))
	}
	if t.pattern != "" {
		f := "filter " + regexWords(t.pattern, t.ignoreCase)
		if t.invert {
			f = "filter not " + regexWords(t.pattern, t.ignoreCase)
		}
		parts = append(parts, p.accent.paint(f))
	}
	if t.hiddenHosts > 0 {
		parts = append(parts, p.accent.paint(count(t.hosts-t.hiddenHosts)+" of "+plural(t.hosts, "host", "hosts")))
	} else {
		parts = append(parts, p.faint.paint(plural(t.hosts, "host", "hosts")))
	}
	if t.minLevel > logs.LevelNone {
		parts = append(parts, p.accent.paint("level ≥ "+levelWord(t.minLevel)))
	}
	if t.search != "" {
		parts = append(parts, p.accent.paint("search "+regexWords(t.search, t.ignoreCase)))
	}
	return ansi.Truncate(strings.Join(parts, p.faint.paint(" · ")), width, "…")
}

// regexWords shows a pattern the way grep users read one: /pattern/, with i when case
// is ignored.
func regexWords(pattern string, ignoreCase bool) string {
	s := "/" + termsafe.Line(pattern) + "/"
	if ignoreCase {
		s += "i"
	}
	return s
}

// formatTime is a time in full for the detail view.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.Format("2006-01-02 15:04:05.000000 Z07:00")
}
