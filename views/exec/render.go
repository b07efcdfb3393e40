package exec

import (
	"fmt"
	"github.com/opsconsole/opsconsole/views/termsafe"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/ops/gather"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
)

// The renderers below are pure functions of their arguments (DESIGN.md §10.13): no model,
// no clock, no terminal. Every string that came from a host has been through
// sanitizeLines before it gets here.

const (
	tabWidth = 8
	// indent is how far output sits under its group's header line.
	indent = "    "
	// cutMarker ends a line that was cut to the width; drill-down shows it whole.
	cutMarker = "…"
)

// entry is one block of the results list: a group of hosts with identical output, or
// one host in the per-host view.
type entry struct {
	hosts    []string
	outcome  sessions.Outcome
	exitCode int
	// lines is the sanitised output, whole; the list cuts it, drill-down shows it all.
	lines   []string
	dropped int64
}

// sanitizeLines turns a host's raw output into lines a terminal shows as text and
// nothing else. Remote output is untrusted: a hostile or broken host must not move the
// cursor, clear the screen, set the title, write the clipboard (OSC 52) or reorder
// text. So escape sequences (CSI, OSC, DCS, APC, PM, SOS, and their 8-bit C1 forms) are
// removed whole; other control characters become their visible Control Pictures
// (a bell shows as ␇, a lone carriage return as ␍) so nothing is hidden; tabs expand
// to spaces at 8-column stops; invalid UTF-8 and bidi overrides become U+FFFD. Lines
// end at \n (or \r\n); a final newline does not make an empty last line.
func sanitizeLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	var (
		lines []string
		line  strings.Builder
		col   int
	)
	put := func(r rune) {
		line.WriteRune(r)
		if r < utf8.RuneSelf {
			col++
		} else {
			col += ansi.StringWidth(string(r))
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n':
			lines = append(lines, line.String())
			line.Reset()
			col = 0
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// CRLF: the \n ends the line.
		case r == '\t':
			n := tabWidth - col%tabWidth
			line.WriteString(strings.Repeat(" ", n))
			col += n
		case r == 0x1b:
			i = termsafe.SkipEscape(s, i)
			continue
		case r == 0x9b: // C1 CSI
			i = termsafe.SkipCSI(s, i+size)
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // C1 DCS, SOS, OSC, PM, APC
			i = termsafe.SkipString(s, i+size)
			continue
		case r < 0x20:
			put(0x2400 + r)
		case r == 0x7f:
			put('␡')
		case r >= 0x80 && r <= 0x9f:
			// Other C1 controls have no picture; drop them.
		case r == utf8.RuneError && size == 1, termsafe.IsBidiControl(r):
			put(utf8.RuneError)
		default:
			put(r)
		}
		i += size
	}
	if line.Len() > 0 {
		lines = append(lines, line.String())
	}
	return lines
}

// sanitizeText is sanitizeLines for a one-line label (a command, a host name, an
// error): any line breaks in it are joined with a visible ⏎.
func sanitizeText(s string) string {
	return strings.Join(sanitizeLines([]byte(s)), "⏎")
}

// cut shortens a line to width cells, ending it with the cut marker when it was longer.
func cut(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, cutMarker)
}

// wrap breaks lines longer than width into several, at a space where there is one, for
// drill-down, where nothing of the output may be cut.
func wrap(lines []string, width int) []string {
	if width <= 0 {
		return lines
	}
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if ansi.StringWidth(l) <= width {
			out = append(out, l)
			continue
		}
		out = append(out, strings.Split(ansi.Wrap(l, width, ""), "\n")...)
	}
	return out
}

// outcomeLabel names an outcome with a symbol and a word, so status never rests on
// colour alone.
func outcomeLabel(oc sessions.Outcome, exitCode int) string {
	switch oc {
	case sessions.OutcomeOK:
		return "✓ ok"
	case sessions.OutcomeFailed:
		return "✗ failed (exit " + strconv.Itoa(exitCode) + ")"
	case sessions.OutcomeTimedOut:
		return "⏱ timeout"
	case sessions.OutcomeError:
		return "↯ error"
	case sessions.OutcomeCancelled:
		return "⊘ cancelled"
	}
	return "? " + sanitizeText(string(oc))
}

func outcomeStyle(oc sessions.Outcome, st *themes.Styles) lipgloss.Style {
	switch oc {
	case sessions.OutcomeOK:
		return st.StatusOK
	case sessions.OutcomeFailed:
		return st.StatusCrit
	case sessions.OutcomeTimedOut:
		return st.StatusWarn
	case sessions.OutcomeError:
		return st.StatusDown
	}
	return st.StatusUnknown
}

// tally counts a run's results by outcome.
type tally struct {
	ok, failed, timeout, errored, cancelled int
}

func countOutcomes(rs []sessions.Result) tally {
	var t tally
	for _, r := range rs {
		switch r.Outcome {
		case sessions.OutcomeOK:
			t.ok++
		case sessions.OutcomeFailed:
			t.failed++
		case sessions.OutcomeTimedOut:
			t.timeout++
		case sessions.OutcomeCancelled:
			t.cancelled++
		default:
			t.errored++
		}
	}
	return t
}

// summary is what the header line says about a run.
type summary struct {
	command    string
	done       int
	total      int
	counts     tally
	finished   bool
	cancelling bool
	grouped    bool
}

// renderSummary draws "cmd — N/M hosts done: X ok, Y failed, Z timeout, W error" with
// the run's state and the view mode at the right edge.
func renderSummary(s summary, st *themes.Styles, width int) string {
	count := func(n int, word string, style lipgloss.Style) string {
		text := strconv.Itoa(n) + " " + word
		if n == 0 {
			return st.Text.Render(text)
		}
		return style.Render(text)
	}
	parts := []string{
		count(s.counts.ok, "ok", st.StatusOK),
		count(s.counts.failed, "failed", st.StatusCrit),
		count(s.counts.timeout, "timeout", st.StatusWarn),
		count(s.counts.errored, "error", st.StatusDown),
	}
	if s.counts.cancelled > 0 {
		parts = append(parts, count(s.counts.cancelled, "cancelled", st.StatusUnknown))
	}
	counts := fmt.Sprintf(" — %d/%d hosts done: ", s.done, s.total) + strings.Join(parts, ", ")

	var state string
	switch {
	case s.cancelling && !s.finished:
		state = "⊘ cancelling"
	case !s.finished:
		state = "… running"
	}
	mode := "per host"
	if s.grouped {
		mode = "grouped"
	}

	// What gives way when the line is short, first to last: the view mode, the
	// command's tail, the run state. The counts are what a glance needs.
	cmd := st.Title.Render(s.command)
	rightOf := func(state, mode string) string {
		switch {
		case state != "" && mode != "":
			return st.Accent.Render(state) + st.Faint.Render(" · "+mode)
		case state != "":
			return st.Accent.Render(state)
		}
		return st.Faint.Render(mode)
	}
	fits := func(right string) bool {
		return lipgloss.Width(cmd)+lipgloss.Width(counts)+2+lipgloss.Width(right) <= width
	}
	right := rightOf(state, mode)
	if !fits(right) {
		right = rightOf(state, "")
	}
	if !fits(right) {
		room := width - lipgloss.Width(counts) - lipgloss.Width(right) - 2
		cmd = st.Title.Render(cut(s.command, max(room, min(12, width/4))))
	}
	if !fits(right) && state != "" {
		right = ""
	}
	if right == "" {
		return cut(cmd+counts, width)
	}
	return spread(cmd+counts, right, width)
}

// spread puts left and right on one line of width cells, cutting left when both do not
// fit and dropping right when even that is too little.
func spread(left, right string, width int) string {
	lw, rw := lipgloss.Width(left), lipgloss.Width(right)
	if lw+1+rw > width {
		if rw+2 > width/2 {
			return cut(left, width)
		}
		left = cut(left, width-rw-1)
		lw = lipgloss.Width(left)
	}
	return left + strings.Repeat(" ", max(1, width-lw-rw)) + right
}

// statusWidth is the width of the widest outcome label among entries, so the host lists
// after them line up.
func statusWidth(entries []entry) int {
	w := 0
	for _, e := range entries {
		w = max(w, lipgloss.Width(outcomeLabel(e.outcome, e.exitCode)))
	}
	return w
}

// blockHeight is how many lines renderBlock draws for e.
func blockHeight(e entry, bodyMax int) int {
	n := len(e.lines)
	switch {
	case n == 0:
		return 2 // header and "(no output)"
	case n > bodyMax:
		return 1 + bodyMax + 1 // header, bodyMax lines, "… N more lines"
	}
	return 1 + n
}

// renderBlock draws one entry: a header with a selection marker, the outcome and the
// hosts (folded into ranges, with their count), then at most bodyMax lines of output
// cut to the width. The marker, not the highlight alone, shows the selection.
func renderBlock(e entry, selected bool, statusW, bodyMax int, st *themes.Styles, width int) []string {
	marker, hostStyle := "  ", st.Text
	if selected {
		marker, hostStyle = "› ", st.TableSelected
	}
	label := outcomeLabel(e.outcome, e.exitCode)
	label += strings.Repeat(" ", max(0, statusW-lipgloss.Width(label)))
	hosts := sanitizeText(gather.Fold(e.hosts)) + " (" + strconv.Itoa(len(e.hosts)) + ")"
	room := width - lipgloss.Width(marker) - lipgloss.Width(label) - 2
	header := st.Accent.Render(marker) + outcomeStyle(e.outcome, st).Render(label) + "  " + hostStyle.Render(cut(hosts, room))
	out := []string{cut(header, width)}

	bodyW := width - len(indent)
	if len(e.lines) == 0 {
		return append(out, indent+st.Faint.Render(cut("(no output)", bodyW)))
	}
	shown := e.lines
	if len(shown) > bodyMax {
		shown = shown[:bodyMax]
	}
	for _, l := range shown {
		out = append(out, indent+st.Text.Render(cut(l, bodyW)))
	}
	if more := len(e.lines) - len(shown); more > 0 {
		out = append(out, indent+st.Faint.Render(cut(fmt.Sprintf("… %d more lines (enter: full output)", more), bodyW)))
	}
	return out
}

// renderDetailHeader is the line above one host's full output: host, outcome, how long it
// took (from the result's own timestamps) and where it sits among the run's hosts.
func renderDetailHeader(r sessions.Result, pos, total int, nav string, st *themes.Styles, width int) string {
	left := st.Title.Render(sanitizeText(r.Host)) + "  " +
		outcomeStyle(r.Outcome, st).Render(outcomeLabel(r.Outcome, r.ExitCode))
	if d := r.Duration(); d > 0 {
		left += st.Faint.Render(" · " + d.Round(time.Millisecond).String())
	}
	left += st.Faint.Render(fmt.Sprintf(" · host %d of %d", pos+1, total))
	return spread(left, st.Faint.Render(nav), width)
}

// detailLines is one host's whole output for the drill-down viewport: stdout, then
// stderr under a rule of its own, the error when the command did not complete, and what
// the output limit dropped, wrapped to the width so nothing is cut.
func detailLines(r sessions.Result, st *themes.Styles, width int) []string {
	var out []string
	stdout, stderr := sanitizeLines(r.Stdout), sanitizeLines(r.Stderr)
	for _, l := range wrap(stdout, width) {
		out = append(out, st.Text.Render(l))
	}
	if len(stderr) > 0 {
		out = append(out, st.Faint.Render(cut("── stderr ──", width)))
		for _, l := range wrap(stderr, width) {
			out = append(out, st.Text.Render(l))
		}
	}
	if r.Err != nil {
		for _, l := range wrap([]string{"↯ " + sanitizeText(r.Err.Error())}, width) {
			out = append(out, outcomeStyle(r.Outcome, st).Render(l))
		}
	}
	if r.Dropped > 0 {
		out = append(out, st.StatusWarn.Render(cut(fmt.Sprintf("▲ %d bytes past the output limit were not kept", r.Dropped), width)))
	}
	if len(out) == 0 {
		out = append(out, st.Faint.Render("(no output)"))
	}
	return out
}
