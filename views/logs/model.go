// Package logs is the Logs pane: the merged, followed log stream of many hosts, as
// readable as lnav or stern across a whole fleet at once.
//
// Each row is time, host, level and text. A host has its colour (picked from a hash of
// its name, so it is the same colour in every run) and its name beside it, and a level
// its word beside its colour: nothing rests on colour alone. Structured lines (JSON,
// logfmt) show their message first, then their fields as key=value; enter shows the
// whole record, JSON indented. Marker lines the engine adds (a gap, a reconnect, a
// rotation) are drawn faint between rules. A status bar counts the streams by state.
//
// The pane follows the stream; scrolling up pauses it, and a badge counts the lines that
// arrived since, until the follow key (or end) resumes. A filter (regular expression,
// with a case toggle and an invert), a host filter and a minimum level decide what is
// shown; a search, apart from the filter, moves between matching lines; matches of both
// are highlighted. Lines can wrap, the shown lines can be saved to a file, and the view
// can jump to a time.
//
// Memory is bounded by the ring's capacity: the pane holds at most that many lines, and
// the filtered view is a list of positions into the ring, extended as lines arrive
// (only the new lines are matched) and rebuilt in full only when the filter changes.
// View draws only the rows on screen.
//
// The pane follows DESIGN.md §3 and §10: Update is a pure function of the model and a
// message, without I/O or the clock (times come inside the lines); saving is a command
// that captures the lines' values and writes outside Update. Keys come from keymap.Logs;
// enter and esc are fixed (see keys.go). A Model is used the way Bubble Tea uses it: the
// value Update and SetSize return replaces the old one. Copies share the ring, so an
// older copy is not a snapshot.
package logs

import (
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

type mode int

const (
	modeNormal mode = iota
	modeInput
	modePicker
	modeDetail
)

// inputKind is what the one-line input in the top line is for.
type inputKind int

const (
	inputFilter inputKind = iota
	inputSearch
	inputSave
	inputJump
)

// picker is the host filter's list: every host known, with a tick for the shown ones and
// its stream state, the failed ones with their reason.
type picker struct {
	names  []string
	hidden map[string]bool // the choice being made; applied on enter
	cursor int
	top    int
}

// detailState is the record the detail view shows. It holds a copy of the line, so the
// record stays readable when the ring lets the line go meanwhile.
type detailState struct {
	line logs.Line
	host hostInfo
	rows []string // rendered at the pane's width
	top  int
}

// Model is the Logs pane.
type Model struct {
	keys   keymap.Logs
	local  localKeys
	styles *themes.Styles
	pal    *palette // shared by copies, never changed

	width, height int
	lay           layout

	st *store
	// view is the ring positions of the lines the filter shows, ascending.
	view []uint64

	flt        filterState
	ignoreCase bool
	searchPat  string
	search     *logs.Filter

	// scan is the first ring position not yet matched against the filter: the view is
	// exact for the lines before it. Matching is done a budget of lines per Update
	// (scanBudget), so a slow pattern over a full ring never stalls a frame; scanArmed
	// says a scanMsg is on its way to continue.
	scan      uint64
	scanArmed bool
	// keep is the line the cursor goes back to when a rescan passes it.
	keep        uint64
	keepPending bool

	follow bool
	// pausedAt is the ring's end when the view was paused: the lines shown from there on
	// are the badge's new lines.
	pausedAt uint64
	cursor   int // position in view
	top      int // first position in view drawn
	wrap     bool

	mode   mode
	inKind inputKind
	input  textinput.Model
	inErr  string

	pick picker
	det  detailState
}

// New returns the pane, following, holding at most capacity lines (DefaultCapacity when
// capacity is not positive).
func New(keys keymap.Logs, styles *themes.Styles, capacity int) Model {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	m := Model{
		keys:       keys,
		local:      newLocalKeys(),
		styles:     styles,
		pal:        newPalette(styles),
		st:         newStore(capacity),
		follow:     true,
		ignoreCase: true,
	}
	m.lay = computeLayout(0, 0)
	return m
}

// SetSize gives the pane its inner size (the root draws the border).
func (m Model) SetSize(w, h int) Model {
	m.width, m.height = max(w, 0), max(h, 0)
	m.lay = computeLayout(m.width, m.st.maxHost)
	m.fitInput()
	if m.mode == modeDetail {
		m.renderDetail()
	}
	m.settle()
	return m
}

// SetStyles replaces the styles, for a theme change at run time.
func (m Model) SetStyles(s *themes.Styles) Model {
	m.styles = s
	m.pal = newPalette(s)
	if m.mode == modeInput {
		m.input.PromptStyle, m.input.TextStyle, m.input.PlaceholderStyle = s.Accent, s.Text, s.Faint
	}
	if m.mode == modeDetail {
		m.renderDetail()
	}
	return m
}

// Width returns the width last given to SetSize.
func (m Model) Width() int { return m.width }

// Height returns the height last given to SetSize.
func (m Model) Height() int { return m.height }

// InputFocused reports whether the one-line input (filter, search, save path, time) is
// open, so the root sends it every key instead of taking letters as global keys.
func (m Model) InputFocused() bool { return m.mode == modeInput }

// Following reports whether the pane follows the stream.
func (m Model) Following() bool { return m.follow }

// Title is the pane border's title: the lines shown, and whether the view is paused or
// which record the detail view shows.
func (m Model) Title() string {
	var b strings.Builder
	b.WriteString(views.PaneLogs.String())
	if m.mode == modeDetail {
		b.WriteString(" › ")
		b.WriteString(m.det.host.name)
		b.WriteString(" #")
		b.WriteString(strconv.FormatUint(m.det.line.Seq, 10))
		return b.String()
	}
	b.WriteString(" · ")
	if m.flt.active() {
		b.WriteString(count(len(m.view)) + " of ")
	}
	b.WriteString(plural(m.st.len(), "line", "lines"))
	if !m.follow {
		b.WriteString(" · paused")
	}
	return b.String()
}

// Update takes lines and stream states, save results and keys. It does no I/O and reads
// no clock: everything it knows arrives in msg.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case LinesMsg:
		m.st.streams.apply(msg.States)
		m.appendLines(msg.Lines)
		if m.mode == modePicker {
			m.refreshPicker()
		}
	case scanMsg:
		m.scanArmed = false
		m.scanSome()
	case SavedMsg:
		if msg.Err != nil {
			cmd = flash("save failed: "+termsafe.Line(msg.Err.Error()), true)
		} else {
			cmd = flash("saved "+plural(msg.N, "line", "lines")+" to "+termsafe.Line(msg.Path), false)
		}
	case tea.KeyMsg:
		m, cmd = m.handleKey(msg)
	}
	cmd = m.armScan(cmd)
	return m, cmd
}

// scanMsg continues matching the lines not yet matched against the filter.
type scanMsg struct{}

// armScan adds to cmd the message that continues an unfinished scan, unless one is on
// its way already.
func (m *Model) armScan(cmd tea.Cmd) tea.Cmd {
	if m.scan >= m.st.end() || m.scanArmed {
		return cmd
	}
	m.scanArmed = true
	return tea.Batch(cmd, func() tea.Msg { return scanMsg{} })
}

// Scan budgets: how many lines one Update matches. A pattern costs from a few hundred
// nanoseconds a line (the engine's literal search) to several microseconds (a general
// regular expression that ignores case), so 1,024 lines stay within a few milliseconds
// either way; hosts and levels alone are a map lookup and a comparison.
const (
	scanBudgetPattern = 1 << 10
	scanBudgetCheap   = 1 << 16
)

// scanSome matches lines from scan on against the filter, up to the budget, extends the
// view with those it shows, and settles the cursor and the scroll.
func (m *Model) scanSome() {
	s := m.st
	m.scan = max(m.scan, s.first())
	end := s.end()
	n := end - m.scan
	switch {
	case m.flt.f == nil:
		// No filter: every line is shown, and nothing needs matching.
		for p := m.scan; p < end; p++ {
			m.view = append(m.view, p)
		}
	default:
		budget := uint64(scanBudgetCheap)
		if m.flt.pattern != "" {
			budget = scanBudgetPattern
		}
		n = min(n, budget)
		for p := m.scan; p < m.scan+n; p++ {
			if m.flt.match(s.at(p)) {
				m.view = append(m.view, p)
			}
		}
	}
	m.scan += n
	m.dropEvicted()
	if m.keepPending && (m.scan > m.keep || m.scan >= end) {
		// The rescan reached the line the cursor was on: back onto it, or the nearest
		// shown line after it.
		m.keepPending = false
		m.cursor = sort.Search(len(m.view), func(i int) bool { return m.view[i] >= m.keep })
		m.top = m.cursor
	}
	m.settle()
}

// scanning reports whether some lines are not yet matched against the filter.
func (m Model) scanning() bool { return m.scan < m.st.end() }

// newLines is the badge's count: the lines shown that arrived since the view paused.
func (m Model) newLines() int {
	if m.follow {
		return 0
	}
	return len(m.view) - sort.Search(len(m.view), func(i int) bool { return m.view[i] >= m.pausedAt })
}

// appendLines takes a batch into the ring and matches it: the cost is the batch's, not
// the ring's, and at most a budget of it (scanSome).
func (m *Model) appendLines(lines []logs.Line) {
	if len(lines) == 0 {
		return
	}
	s := m.st
	maxHost := s.maxHost
	for i := range lines {
		l := &lines[i]
		// A batch delivered twice (a replayed message) must not show its lines twice.
		if l.Seq != 0 {
			if l.Seq <= s.lastSeq {
				continue
			}
			s.lastSeq = l.Seq
		}
		if _, isNew := s.host(l.Host); isNew && len(m.flt.hidden) > 0 {
			// The filter lists the hosts to show; a new one joins them. The pattern
			// compiled before, so it compiles again.
			_ = m.flt.build(m.ignoreCase, s)
		}
		s.ring.Append(*l)
	}
	if s.maxHost != maxHost {
		m.lay = computeLayout(m.width, s.maxHost)
	}
	m.scanSome()
}

// dropEvicted removes from the view the positions the ring no longer holds, and moves
// the cursor and the scroll with them so the same lines stay on screen.
func (m *Model) dropEvicted() {
	first := m.st.first()
	if len(m.view) == 0 || m.view[0] >= first {
		return
	}
	k := sort.Search(len(m.view), func(i int) bool { return m.view[i] >= first })
	m.view = m.view[k:]
	m.cursor = max(m.cursor-k, 0)
	m.top = max(m.top-k, 0)
}

// refilter rebuilds the view from the whole ring after the filter changed, a budget of
// lines per Update, and puts the cursor back on the line it was on (or the nearest shown
// one after it) once the rescan passes it.
func (m *Model) refilter() {
	if len(m.view) > 0 && !m.follow {
		m.keep, m.keepPending = m.view[min(m.cursor, len(m.view)-1)], true
	}
	// A fresh slice: an older copy of the model keeps the view it had.
	m.view = make([]uint64, 0, min(m.st.len(), max(len(m.view), 1024)))
	m.cursor, m.top = 0, 0
	m.scan = m.st.first()
	m.scanSome()
}

// rows says which parts the pane draws at its height: the top line (counts, filters, or
// the open input), the body, and the status bar. Tiny heights keep the input if open,
// then the body, then the status bar.
func (m *Model) rows() (top bool, body int, status bool) {
	h := m.height
	switch {
	case h >= 3:
		return true, h - 2, true
	case m.mode == modeInput:
		return true, h - 1, false
	case h == 2:
		return false, 1, true
	}
	return false, h, false
}

func (m *Model) bodyHeight() int {
	_, b, _ := m.rows()
	return max(b, 0)
}

// lineRows is how many rows the view's i-th line takes.
func (m *Model) lineRows(i, body int) int {
	if !m.wrap {
		return 1
	}
	l := m.st.at(m.view[i])
	if l.Marker != logs.NotMarker {
		return 1
	}
	text, _, _ := displayText(l)
	return wrapRows(text, m.lay.msgW, body)
}

// minTop is the smallest first line that still shows line i whole (or from its start
// when it is taller than the body).
func (m *Model) minTop(i, body int) int {
	if !m.wrap {
		return max(i-body+1, 0)
	}
	k, sum := i, m.lineRows(i, body)
	for k > 0 {
		h := m.lineRows(k-1, body)
		if sum+h > body {
			break
		}
		k--
		sum += h
	}
	return k
}

// settle puts the cursor and the scroll where they belong after any change: at the end
// while following; otherwise the cursor within the view and on screen, and no empty rows
// below the last line while lines above are hidden. View then only reads.
func (m *Model) settle() {
	n := len(m.view)
	body := max(m.bodyHeight(), 1)
	if n == 0 {
		m.cursor, m.top = 0, 0
		return
	}
	end := m.minTop(n-1, body)
	if m.follow {
		m.cursor, m.top = n-1, end
		return
	}
	m.cursor = min(max(m.cursor, 0), n-1)
	m.top = min(max(m.top, 0), n-1)
	if m.cursor < m.top {
		m.top = m.cursor
	}
	m.top = max(m.top, m.minTop(m.cursor, body))
	m.top = min(m.top, end)
}

func (m *Model) pause() {
	if m.follow {
		m.follow = false
		m.pausedAt = m.st.end()
	}
}

func (m *Model) resume() {
	m.follow = true
	m.keepPending = false
	m.settle()
}

// move moves the cursor by delta lines. Moving up pauses the view; moving down while
// following stays at the end.
func (m *Model) move(delta int) {
	if len(m.view) == 0 {
		return
	}
	if delta < 0 {
		m.pause()
	}
	if m.follow {
		return
	}
	m.keepPending = false
	m.cursor = min(max(m.cursor+delta, 0), len(m.view)-1)
	m.settle()
}

// jumpTo pauses on view position i, shown at the top of the body so what follows it is
// in view.
func (m *Model) jumpTo(i int) {
	m.pause()
	m.keepPending = false
	m.cursor, m.top = i, i
	m.settle()
}

// applyFilter compiles the filter as changed by edit and puts it in force, or, when the
// pattern does not compile, keeps the filter in force and returns the error.
func (m *Model) applyFilter(edit func(f *filterState)) error {
	next := m.flt
	edit(&next)
	if next.pattern == "" {
		next.invert = false
	}
	if err := next.build(m.ignoreCase, m.st); err != nil {
		return err
	}
	m.flt = next
	m.refilter()
	return nil
}

// setCase switches case sensitivity for the filter and the search alike. Both patterns
// compiled before, so they compile again.
func (m *Model) setCase(ignore bool) {
	m.ignoreCase = ignore
	if m.searchPat != "" {
		m.search, _ = compileSearch(m.searchPat, ignore)
	}
	if m.flt.pattern != "" {
		_ = m.applyFilter(func(*filterState) {})
	}
}

// findMatch is the search's next (dir > 0, newer) or previous (dir < 0, older) matching
// line from the cursor, among the lines shown.
func (m *Model) findMatch(from, dir int) (int, bool) {
	if m.search == nil {
		return 0, false
	}
	for i := from; i >= 0 && i < len(m.view); i += dir {
		if searchMatch(m.search, m.st.at(m.view[i])) {
			return i, true
		}
	}
	return 0, false
}

// openDetail shows the record under the cursor.
func (m *Model) openDetail() bool {
	if len(m.view) == 0 {
		return false
	}
	l := m.st.at(m.view[m.cursor])
	m.det = detailState{line: *l, host: m.st.hostOf(l.Host)}
	m.mode = modeDetail
	m.renderDetail()
	return true
}

func (m *Model) renderDetail() {
	m.det.rows = renderDetail(&m.det.line, m.det.host, m.pal, m.width)
	m.clampDetail()
}

func (m *Model) clampDetail() {
	page := max(m.height-1, 1) // the first row stays put
	m.det.top = max(min(m.det.top, len(m.det.rows)-1-page), 0)
}

// openInput opens the one-line input in the top line.
func (m *Model) openInput(kind inputKind, prompt, placeholder, value string) {
	in := textinput.New()
	in.Prompt = prompt
	in.Placeholder = placeholder
	// A steady cursor: a blinking one would send messages twice a second, and a
	// recorded session would not replay frame for frame.
	in.Cursor.SetMode(cursor.CursorStatic)
	in.PromptStyle = m.styles.Accent
	in.TextStyle = m.styles.Text
	in.PlaceholderStyle = m.styles.Faint
	in.SetValue(value)
	in.CursorEnd()
	in.Focus()
	m.input = in
	m.inKind = kind
	m.inErr = ""
	m.mode = modeInput
	m.fitInput()
	m.settle()
}

func (m *Model) closeInput() {
	m.mode = modeNormal
	m.inErr = ""
	m.input.Blur()
	m.settle()
}

// fitInput sizes the input to the top line. With an error to show, the input is only as
// wide as its text, so the error sits right after what it is about.
func (m *Model) fitInput() {
	if m.mode != modeInput {
		return
	}
	avail := m.width - textWidth(m.input.Prompt) - 1
	if m.inErr != "" {
		avail -= min(textWidth(m.inErr)+4, m.width/2)
		avail = min(avail, max(textWidth(m.input.Value())+1, 12))
	}
	m.input.Width = max(avail, 1)
	m.input.SetCursor(m.input.Position())
}

// refreshPicker takes in hosts that appeared while the picker is open.
func (m *Model) refreshPicker() {
	m.pick.names = m.st.hostNames()
	m.pick.cursor = min(m.pick.cursor, max(len(m.pick.names)-1, 0))
	m.clampPicker()
}

func (m *Model) clampPicker() {
	rows := max(m.bodyHeight()-1, 1) // one row is the picker's own header
	p := &m.pick
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+rows {
		p.top = p.cursor - rows + 1
	}
	p.top = max(min(p.top, len(p.names)-rows), 0)
}
