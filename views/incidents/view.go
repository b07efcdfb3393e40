package incidents

import (
	"strings"

	"github.com/opsconsole/opsconsole/ops/heal"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// View draws the pane: the summary line, the notice line, then the incidents worst first,
// each with what was seen, its suggested runbooks and the state of its last heal. It is
// exactly height lines of at most width cells.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	st := m.styles
	lines := make([]string, 0, m.height)
	lines = append(lines,
		renderSummary(m.incidents, len(m.all)-len(m.incidents), m.reported, m.autoSummary(), st, m.width),
		m.noticeView(),
	)
	list, _, _ := m.listLines()
	h := m.listHeight()
	end := min(m.top+h, len(list))
	if m.top < end {
		lines = append(lines, list[m.top:end]...)
	}
	if len(m.incidents) == 0 && m.reported {
		lines = append(lines, st.Faint.Render(cut("  every host reports healthy and no rule applies", m.width)))
	}
	for i, l := range lines {
		lines[i] = cut(l, m.width)
	}
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	for len(lines) < m.height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func (m Model) noticeView() string {
	switch {
	case m.notice.text != "" && m.notice.isErr:
		return m.styles.FlashErr.Render(termsafe.Line(m.notice.text))
	case m.notice.text != "":
		return m.styles.Flash.Render(termsafe.Line(m.notice.text))
	case m.loadNote != "":
		return m.styles.StatusWarn.Render("▲ " + termsafe.Line(m.loadNote))
	}
	return m.styles.Faint.Render(strings.Repeat("─", m.width))
}

// autoSummary is the summary line's right side: the countdown, the runs in flight, or
// why automatic self-heal is off.
func (m Model) autoSummary() string {
	st := m.styles
	switch {
	case m.countdown.active():
		return st.StatusWarn.Render("auto-heal in " + itoa(m.countdown.left) + "s")
	case m.running() > 0:
		return st.Accent.Render("… " + itoa(m.running()) + " running")
	}
	if off := m.autoOff(); off != "" && hasAutoRule(m.rules) {
		return st.Faint.Render("auto-heal off: " + off)
	}
	return ""
}

func hasAutoRule(rules []heal.Rule) bool {
	for _, r := range rules {
		if r.Auto {
			return true
		}
	}
	return false
}

// listLines renders every incident block; it also returns the line of the selected row
// and the end of the selected incident's block, for scrolling.
func (m Model) listLines() (lines []string, selLine, blockEnd int) {
	st := m.styles
	hw := hostWidth(m.incidents, m.width)
	selLine, blockEnd = -1, -1
	selInc := -1
	if m.sel >= 0 && m.sel < len(m.rows) {
		selInc = m.rows[m.sel].inc
	}
	rowIdx := 0
	for i, in := range m.incidents {
		expanded := in.ID == m.expanded
		if rowIdx == m.sel {
			selLine = len(lines)
		}
		lines = append(lines, renderHeader(in, rowIdx == m.sel, hw, m.now, st, m.width))
		rowIdx++
		lines = append(lines, renderDetail(in, expanded, st, m.width)...)
		if in.Kind == heal.KindInterrupted {
			lines = append(lines, renderInterrupted(in.Run, expanded, st, m.width)...)
		}
		for j, s := range in.Suggestions {
			if rowIdx == m.sel {
				selLine = len(lines)
			}
			auto, warn := m.autoState(in, j)
			lines = append(lines, renderSuggestion(s, rowIdx == m.sel, auto, warn, st, m.width)...)
			rowIdx++
			if expanded {
				lines = append(lines, renderPlan(m.plans[s.Rule], st, m.width)...)
			}
		}
		if len(in.Suggestions) == 0 && in.Kind != heal.KindInterrupted {
			lines = append(lines, cut(indent+st.Faint.Render("no self-heal rule applies"), m.width))
		}
		if r, ok := m.lastRun(in.ID); ok {
			lines = append(lines, renderRun(r, st, m.width)...)
		}
		if i == selInc {
			blockEnd = len(lines)
		}
	}
	return lines, selLine, blockEnd
}

// autoState says what automatic self-heal is doing about suggestion j of in, and
// whether that wants attention (a countdown running).
func (m Model) autoState(in heal.Incident, j int) (string, bool) {
	s := in.Suggestions[j]
	if !s.Auto {
		return "", false
	}
	switch {
	case m.countdown.incident == in.ID && m.countdown.rule == s.Rule:
		return "auto-run in " + itoa(m.countdown.left) + "s · " + m.keys.Dismiss.Help().Key + "/" +
			m.local.Cancel.Help().Key + " cancels", true
	case m.pending.id != 0 && m.pending.incident == in.ID:
		return "waiting for confirmation", true
	case m.runningFor(in.ID):
		return "auto", false
	case m.autoOff() != "":
		return "auto off: " + m.autoOff(), false
	case m.declined[in.ID]:
		return "auto declined", false
	}
	rule, ok := heal.Find(m.rules, s.Rule)
	if !ok {
		return "auto", false
	}
	if ok, why := m.limiter.Allow(rule, in.Host, m.now); !ok {
		return "auto held: " + why, false
	}
	return "auto: next in line", false
}
