package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/views"
)

const appName = "opsconsole"

// View implements tea.Model. The frame is exactly the terminal's size: no line wider
// than the terminal, no more lines than it has, whatever a pane or a message holds.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		// Bubble Tea sends the size first thing; until then there is nothing to lay out.
		return ""
	}
	if m.width < MinWidth || m.height < MinHeight {
		return m.tooSmallView()
	}
	bw, bh := m.bodySize()
	// Each piece is cut to the width on its own (the body by block), so the frame needs
	// no pass of its own.
	return strings.Join([]string{
		m.memoHeader(),
		fit(m.memoTabs(), m.width, 1),
		m.bodyView(bw, bh),
		fit(m.memoHelpLine(), m.width, 1),
		m.statusView(),
	}, "\n")
}

func (m Model) tooSmallView() string {
	msg := fmt.Sprintf("terminal too small: %dx%d,\nneed at least %dx%d", m.width, m.height, MinWidth, MinHeight)
	return fit(lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center,
		m.styles.Text.Align(lipgloss.Center).Render(msg)), m.width, m.height)
}

// headerView is the top bar: the app, the fleet at a glance, alerts, mode badges and the
// clock. When the full form does not fit, shorter forms are tried before anything is cut,
// so the counts stay readable at 60 columns.
func (m Model) headerView() string {
	s := m.styles
	bar := s.Header.UnsetPadding()
	// Pieces inherit the bar's background, so a coloured piece does not punch a hole in
	// the bar when its style resets.
	on := func(st lipgloss.Style, text string) string { return st.Inherit(bar).Render(text) }
	gap := func(n int) string { return bar.Render(strings.Repeat(" ", n)) }

	sum := m.fleet.Summary()
	counts := []struct {
		style     lipgloss.Style
		sym, word string
		n         int
	}{
		{s.StatusOK, "▲", "up", sum.Up},
		{s.StatusWarn, "!", "degraded", sum.Degraded},
		{s.StatusDown, "↓", "down", sum.Down},
		{s.StatusUnknown, "…", "connecting", sum.Connecting},
	}
	var long, short []string
	for _, c := range counts {
		long = append(long, on(c.style, fmt.Sprintf("%s %d %s", c.sym, c.n, c.word)))
		short = append(short, on(c.style, fmt.Sprintf("%s%d", c.sym, c.n)))
	}
	name := on(s.Title, appName)

	right := []string{m.alertsBadge(on)}
	if m.opt.Recording {
		right = append(right, s.Badge.Render("● REC"))
	}
	if m.opt.ReadOnly {
		right = append(right, s.Badge.Render("READ-ONLY"))
	}
	right = append(right, on(s.Text, m.clock()))
	rightText := strings.Join(right, gap(2))

	inner := m.width - s.Header.GetHorizontalFrameSize()
	// The counts in words matter more than the app's name, and the name more than the
	// words.
	candidates := []string{
		name + gap(2) + strings.Join(long, gap(2)),
		strings.Join(long, gap(2)),
		name + gap(2) + strings.Join(short, gap(1)),
		strings.Join(short, gap(1)),
	}
	left := candidates[len(candidates)-1]
	for _, c := range candidates {
		if lipgloss.Width(c)+1+lipgloss.Width(rightText) <= inner {
			left = c
			break
		}
	}
	spare := max(inner-lipgloss.Width(left)-lipgloss.Width(rightText), 1)
	line := fit(left+gap(spare)+rightText, inner, 1)
	return s.Header.Width(m.width).Render(line)
}

// alertsBadge is the header's count of firing alerts from the metrics server. Without
// a server it is a dash, not a 0: "0 alerts" on an on-call console would claim that
// nothing is firing. Likewise before the server first answered ("…"), and a count the
// server could not refresh says so.
func (m Model) alertsBadge(on func(lipgloss.Style, string) string) string {
	s := m.styles
	st := m.fleet.Server()
	switch {
	case st.Source == "":
		return on(s.Faint, "alerts –")
	case !st.AlertsKnown:
		return on(s.Faint, "alerts …")
	}
	text, style := fmt.Sprintf("alerts %d", st.Alerts), s.StatusOK
	if st.Alerts > 0 {
		text, style = "! "+text, s.StatusCrit
	}
	if st.Stale {
		return on(style, text) + on(s.StatusWarn, " (stale)")
	}
	return on(style, text)
}

func (m Model) clock() string {
	if m.now.IsZero() {
		return "--:--:--"
	}
	return m.now.Format("15:04:05")
}

// tabsView is the pane bar. The focused tab is bracketed as well as styled, so focus
// shows without colour. When the names do not all fit, the tabs without focus shrink to
// their numbers, so the focused one is never cut off.
func (m Model) tabsView() string {
	s := m.styles
	line := m.tabs(true)
	if lipgloss.Width(line) > m.width {
		line = m.tabs(false)
	}
	if title := m.paneTitle(m.focus); title != "" {
		room := m.width - lipgloss.Width(line) - 3
		if lipgloss.Width(title) > room {
			// The bracketed tab already names the pane: its details go on without it.
			title = strings.TrimPrefix(title, m.focus.String()+" · ")
		}
		if room >= 8 {
			title = ansi.Truncate(title, room, "…")
			line += strings.Repeat(" ", m.width-lipgloss.Width(line)-lipgloss.Width(title)) + s.Faint.Render(title)
		}
	}
	return line
}

func (m Model) tabs(names bool) string {
	s := m.styles
	tabs := make([]string, 0, views.NumPanes)
	for p := range views.NumPanes {
		label := fmt.Sprintf("%d %s", p+1, p)
		switch {
		case p == m.focus:
			tabs = append(tabs, s.PaneTitleFocused.Render("["+label+"]"))
		case names:
			tabs = append(tabs, s.PaneTitle.Render(" "+label+" "))
		default:
			tabs = append(tabs, s.PaneTitle.Render(fmt.Sprintf("%d", p+1)))
		}
	}
	return strings.Join(tabs, " ")
}

// bodyView is the focused pane, or the modal or help that covers it, exactly bw x bh.
func (m Model) bodyView(bw, bh int) string {
	switch {
	case m.gate.active:
		return place(bw, bh, m.gate.view(m.styles, m.help.ShortHelpView(m.keys.Confirm.ShortHelp())))
	case m.showHelp:
		return place(bw, bh, m.helpView(bw, bh))
	}
	body := block(m.paneView(m.focus), bw, bh)
	if m.palette.active {
		body = overBottom(body, m.paletteView(bw, bh))
	}
	return body
}

// helpView is the full help: the focused pane's keys, then the global keys, each group a
// column, columns flowed into as many rows as the width needs. When it is taller than the
// body it scrolls (helpTop), with a line saying there is more.
func (m Model) helpView(bw, bh int) string {
	box, w, h := m.helpBox(bw, bh)
	lines := m.helpLines(w)
	top := min(m.helpTop, max(len(lines)-h, 0))
	end := min(top+h, len(lines))
	shown := slices.Clone(lines[top:end])
	if end < len(lines) {
		shown[len(shown)-1] = m.styles.Faint.Render(fmt.Sprintf("↓ %d more lines", len(lines)-end+1))
	}
	return box.Render(block(strings.Join(shown, "\n"), w, len(shown)))
}

// helpBox is the help overlay's frame and the width and height inside it.
func (m Model) helpBox(bw, bh int) (lipgloss.Style, int, int) {
	box := m.styles.Modal.Padding(0, 1)
	return box, max(bw-2-box.GetHorizontalFrameSize(), 20), max(bh-box.GetVerticalFrameSize(), 1)
}

// helpLines are the full help's lines at width. They are memoised like the chrome: with
// the help open over a stream, styling every binding again for each frame was most of the
// frame.
func (m Model) helpLines(width int) []string {
	if m.memo == nil {
		return m.drawHelpLines(width)
	}
	var b strings.Builder
	for _, g := range m.paneFullHelp(m.focus) {
		writeBindings(&b, g)
	}
	for _, g := range m.keys.Global.FullHelp() {
		writeBindings(&b, g)
	}
	k := helpKey{styles: m.styles, width: width, focus: m.focus, bindings: b.String()}
	m.memo.mu.Lock()
	defer m.memo.mu.Unlock()
	return m.memo.fullHelp.get(k, func() []string { return m.drawHelpLines(width) })
}

func (m Model) drawHelpLines(width int) []string {
	s := m.styles
	var parts []string
	if groups := m.paneFullHelp(m.focus); len(groups) > 0 {
		parts = append(parts, s.Title.Render(m.focus.String()+" keys"), m.flow(groups, width), "")
	}
	parts = append(parts, s.Title.Render("Global keys"), m.flow(m.keys.Global.FullHelp(), width))
	return strings.Split(strings.Join(parts, "\n"), "\n")
}

func (m Model) flow(groups [][]key.Binding, width int) string {
	h := m.help
	h.Width = 0
	const sep = "    "
	var rows, row []string
	used := 0
	for _, g := range groups {
		col := h.FullHelpView([][]key.Binding{g})
		if col == "" {
			continue
		}
		w := lipgloss.Width(col)
		if len(row) > 0 && used+len(sep)+w > width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
			row, used = nil, 0
		}
		if len(row) > 0 {
			row = append(row, sep)
			used += len(sep)
		}
		row = append(row, col)
		used += w
	}
	if len(row) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
	}
	return strings.Join(rows, "\n")
}

// helpLineView is the short help of whatever has the keys now.
func (m Model) helpLineView() string {
	h := m.help
	h.Width = m.width
	var b []key.Binding
	switch {
	case m.gate.active && m.gate.readOnly:
		b = []key.Binding{key.NewBinding(key.WithKeys("any"), key.WithHelp("any key", "close"))}
	case m.gate.active && m.gate.word != "":
		b = []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
			withDesc(m.keys.Global.Back, "cancel"),
			key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll plan")),
		}
	case m.gate.active:
		b = append(m.keys.Confirm.ShortHelp(),
			key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll plan")))
	case m.palette.active:
		b = paletteHelp
	case m.showHelp:
		b = []key.Binding{withDesc(m.keys.Global.Back, "close help"), withDesc(m.keys.Global.Help, "close help")}
		if bw, bh := m.bodySize(); m.helpOverflows(bw, bh) {
			b = append(b, key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll")))
		}
	default:
		// The global help and quit keys are drawn on their own at the right, so a pane
		// with many keys never pushes "? help" off the line.
		g := m.keys.Global
		right := h.ShortHelpView([]key.Binding{g.Help, g.Palette, g.Quit})
		h.Width = max(m.width-lipgloss.Width(right)-2, 0)
		left := h.ShortHelpView(m.paneShortHelp(m.focus))
		return left + strings.Repeat(" ", max(m.width-lipgloss.Width(left)-lipgloss.Width(right), 1)) + right
	}
	return h.ShortHelpView(b)
}

func withDesc(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// statusView is the flash line: errors marked with ✗ as well as colour.
func (m Model) statusView() string {
	s := m.styles
	bar := s.Footer.UnsetPadding()
	inner := m.width - s.Footer.GetHorizontalFrameSize()
	text := ""
	switch {
	case m.flash.err:
		text = s.FlashErr.Inherit(bar).Render(fit("✗ "+m.flash.text, inner, 1))
	case m.flash.text != "":
		text = s.Flash.Inherit(bar).Render(fit(m.flash.text, inner, 1))
	}
	return s.Footer.Width(m.width).Render(text)
}

// fit cuts s to at most w columns and h lines. It is on every frame's path, so it does
// what lipgloss' MaxWidth and MaxHeight would (tabs as four spaces, CRLF as LF) without
// the rest of a style's rendering, and measures a line only when its bytes could be wider
// than w: a UTF-8 character never takes more columns than it has bytes.
func fit(s string, w, h int) string {
	if h <= 0 {
		return ""
	}
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	var b strings.Builder
	b.Grow(len(s))
	for n := 0; n < h; n++ {
		line, rest, more := strings.Cut(s, "\n")
		if n > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(cutLine(line, w))
		if !more {
			break
		}
		s = rest
	}
	return b.String()
}

// cutLine cuts one line to at most w columns, keeping its escape sequences whole.
func cutLine(line string, w int) string {
	if strings.IndexByte(line, '\t') >= 0 {
		line = strings.ReplaceAll(line, "\t", "    ")
	}
	if len(line) <= w || ansi.StringWidth(line) <= w {
		return line
	}
	return ansi.Truncate(line, max(w, 0), "")
}

// block makes s exactly h lines (cut or padded with empty lines) of at most w columns.
func block(s string, w, h int) string {
	if h <= 0 {
		return ""
	}
	s = fit(s, w, h)
	if n := strings.Count(s, "\n") + 1; n < h {
		s += strings.Repeat("\n", h-n)
	}
	return s
}

// place centres s in a w x h block.
func place(w, h int, s string) string {
	return block(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, s), w, h)
}

// overBottom lays top over the last lines of body, keeping body's line count.
func overBottom(body, top string) string {
	b := strings.Split(body, "\n")
	t := strings.Split(top, "\n")
	if len(t) > len(b) {
		t = t[len(t)-len(b):]
	}
	copy(b[len(b)-len(t):], t)
	return strings.Join(b, "\n")
}

func (m Model) helpOverflows(bw, bh int) bool {
	_, w, h := m.helpBox(bw, bh)
	return len(m.helpLines(w)) > h
}
