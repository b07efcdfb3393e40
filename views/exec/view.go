package exec

import (
	"strings"
)

// View draws the pane: the host pattern with its live host count or error, the command,
// a notice line, the run's summary, and below them the gathered results or one host's
// full output. It is exactly height lines of at most width cells.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	st := m.styles
	lines := make([]string, 0, m.height)
	lines = append(lines,
		spread(m.hostsIn.view(st), m.resolveView(), m.width),
		m.cmdIn.view(st),
		m.noticeView(),
	)

	switch {
	case m.run.id == 0:
		lines = append(lines, st.Faint.Render(
			"enter runs it: read-only commands at once, others after you confirm"))
	default:
		lines = append(lines, renderSummary(summary{
			command:    sanitizeText(m.run.command),
			done:       len(m.run.results),
			total:      len(m.run.hosts),
			counts:     countOutcomes(m.run.results),
			finished:   m.run.finished,
			cancelling: m.run.cancelling,
			grouped:    m.grouped,
		}, st, m.width))
		if m.detail {
			lines = append(lines, m.detailView()...)
		} else {
			lines = append(lines, m.listView()...)
		}
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

// resolveView says what the pattern selects, or why it selects nothing, in words and a
// symbol as well as colour.
func (m Model) resolveView() string {
	w := m.resolveWidth()
	if m.resolveErr != nil {
		return m.styles.StatusCrit.Render(cut("✗ "+sanitizeText(m.resolveErr.Error()), w))
	}
	return m.styles.Accent.Render(cut("→ "+plural(len(m.resolved), "host"), w))
}

func (m Model) noticeView() string {
	switch {
	case m.notice.text == "":
		return m.styles.Faint.Render(strings.Repeat("─", m.width))
	case m.notice.isErr:
		return m.styles.FlashErr.Render(m.notice.text)
	}
	return m.styles.Flash.Render(m.notice.text)
}

// listView draws the visible part of the results list, from the scroll offset.
func (m Model) listView() []string {
	h := m.listHeight()
	if len(m.entries) == 0 {
		return []string{m.styles.Faint.Render("waiting for the first host…")}
	}
	sw, bm := statusWidth(m.entries), m.bodyMax()
	out := make([]string, 0, h)
	line := 0
	for i, e := range m.entries {
		bh := blockHeight(e, bm)
		if line+bh <= m.offset {
			line += bh
			continue
		}
		block := renderBlock(e, i == m.sel, sw, bm, m.styles, m.width)
		if skip := m.offset - line; skip > 0 {
			block = block[skip:]
		}
		out = append(out, block...)
		line += bh
		if len(out) >= h {
			break
		}
	}
	if len(out) > h {
		out = out[:h]
	}
	return out
}

// detailView draws one host's header and its output in the viewport.
func (m Model) detailView() []string {
	r, ok := m.resultOf(m.detailName)
	if !ok {
		return nil
	}
	nav := m.keys.PrevHost.Help().Key + "/" + m.keys.NextHost.Help().Key + " host · " +
		m.fields.Leave.Help().Key + " back"
	header := renderDetailHeader(r, m.detailPos, len(m.run.results), nav, m.styles, m.width)
	out := []string{header}
	for _, l := range strings.Split(m.vp.View(), "\n") {
		// The viewport pads every line to its width; the pane pads nothing.
		out = append(out, strings.TrimRight(l, " "))
	}
	return out
}
