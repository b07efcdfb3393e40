package logs

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// View draws the pane in exactly its height, every row at most its width. It only reads:
// the scroll was settled in Update, and only the rows on screen are rendered, so a frame
// costs the same with a hundred lines held or a hundred thousand.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.mode == modeDetail {
		return m.viewDetail()
	}
	top, body, status := m.rows()
	out := make([]string, 0, m.height)
	if top {
		out = append(out, m.topLine())
	}
	if m.mode == modePicker {
		out = append(out, m.pickerRows(body)...)
	} else {
		out = append(out, m.bodyRows(body)...)
	}
	for len(out) < m.height-boolInt(status) {
		out = append(out, "")
	}
	if status {
		out = append(out, renderStatus(statusView{
			counts:   m.st.streams.counts,
			known:    len(m.st.streams.byKey) > 0,
			follow:   m.follow,
			newLines: m.newLines(),
			wrap:     m.wrap,
		}, m.pal, m.width))
	}
	return finish(out, m.width, m.height)
}

// finish makes rows exactly height rows of at most width cells. The renderers already
// fit their rows; this is the guarantee, cheap next to drawing them.
func finish(out []string, width, height int) string {
	if len(out) > height {
		out = out[:height]
	}
	for i := range out {
		out[i] = ansi.Truncate(out[i], width, "")
	}
	for len(out) < height {
		out = append(out, "")
	}
	return strings.Join(out, "\n")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// topLine is the open input with its inline error, or what is shown: how many lines, the
// filters and the search in force.
func (m Model) topLine() string {
	if m.mode == modeInput {
		line := m.input.View()
		if m.inErr != "" {
			line += "  " + m.pal.crit.paint("✗ "+m.inErr)
		}
		return ansi.Truncate(line, m.width, "…")
	}
	return renderTop(topView{
		shown:       len(m.view),
		held:        m.st.len(),
		dropped:     m.st.first() > 0,
		hosts:       m.st.knownHosts(),
		hiddenHosts: len(m.flt.hidden),
		pattern:     m.flt.pattern,
		invert:      m.flt.invert,
		ignoreCase:  m.ignoreCase,
		minLevel:    m.flt.minLevel,
		search:      m.searchPat,
		checked:     m.checked(),
	}, m.pal, m.width)
}

// highlights are the filters whose matches rows mark: the filter's pattern (an inverted
// one marks nothing: its lines are those that do not match) and the search.
func (m Model) highlights() []*logs.Filter {
	var fs []*logs.Filter
	if m.flt.f != nil && m.flt.pattern != "" {
		fs = append(fs, m.flt.f)
	}
	if m.search != nil {
		fs = append(fs, m.search)
	}
	return fs
}

func (m Model) bodyRows(body int) []string {
	if body <= 0 {
		return nil
	}
	if len(m.view) == 0 {
		msg := "waiting for log lines…"
		if m.st.len() > 0 {
			msg = "no line matches the filter (" + plural(m.st.len(), "line", "lines") + " held)"
		}
		return []string{m.pal.faint.paint(msg)}
	}
	c := rowCtx{lay: m.lay, pal: m.pal, hl: m.highlights()}
	rows := make([]string, 0, body)
	for i := m.top; i < len(m.view) && len(rows) < body; i++ {
		r := m.st.row(m.view[i])
		rows = append(rows, renderLine(&r, &c, i == m.cursor && !m.follow, m.wrap, body-len(rows))...)
	}
	return rows
}

// pickerRows draws the host filter's list: a header with its keys, then one row per host
// with a tick when shown, its name in its colour, and its stream state with the reason
// of a failure or a reconnect.
func (m Model) pickerRows(body int) []string {
	if body <= 0 {
		return nil
	}
	p, l := m.pal, m.local
	out := []string{p.faint.paint("show hosts: " + l.Toggle.Help().Key + " toggle · " + l.All.Help().Key + " all · " +
		l.Only.Help().Key + " only · " + l.Apply.Help().Key + " apply · " + l.Cancel.Help().Key + " cancel")}
	if len(m.pick.names) == 0 {
		return append(out, p.faint.paint("no host has sent a line yet"))
	}
	nameW := 4
	for _, n := range m.pick.names {
		nameW = max(nameW, textWidth(termsafe.Line(n)))
	}
	nameW = min(nameW, max(m.width/3, 8))
	for i := m.pick.top; i < len(m.pick.names) && len(out) < body; i++ {
		name := m.pick.names[i]
		var b strings.Builder
		if i == m.pick.cursor {
			p.accent.write(&b, "›")
		} else {
			b.WriteByte(' ')
		}
		if m.pick.hidden[name] {
			b.WriteString("[ ] ")
		} else {
			b.WriteString("[x] ")
		}
		h := newHostInfo(name)
		p.host(h.color).write(&b, padCut(h.name, nameW))
		b.WriteString("  ")
		hs := m.st.streams.host(name)
		switch {
		case !hs.known:
			p.faint.write(&b, "no stream state")
		case hs.status == logs.StreamStreaming:
			p.ok.write(&b, "● streaming")
		case hs.status == logs.StreamConnecting:
			p.faint.write(&b, "… connecting")
		case hs.status == logs.StreamReconnecting:
			p.warn.write(&b, "↻ reconnecting")
		case hs.status == logs.StreamDone:
			p.faint.write(&b, "■ done")
		default:
			p.crit.write(&b, "✗ failed")
		}
		if hs.known && hs.reason != "" && (hs.status == logs.StreamReconnecting || hs.status == logs.StreamFailed) {
			b.WriteString(": ")
			p.text.write(&b, hs.reason)
		}
		out = append(out, ansi.Truncate(b.String(), m.width, "…"))
	}
	return out
}

// viewDetail draws the record rendered when the detail view opened, scrolled; the first
// row names the record and stays put.
func (m Model) viewDetail() string {
	rows := m.det.rows
	if len(rows) == 0 {
		return finish(nil, m.width, m.height)
	}
	out := make([]string, 0, m.height)
	out = append(out, rows[0])
	rest := rows[1:]
	for i := m.det.top; i < len(rest) && len(out) < m.height; i++ {
		out = append(out, rest[i])
	}
	return finish(out, m.width, m.height)
}

// checked is the share of the held lines matched against the filter so far.
func (m Model) checked() float64 {
	if !m.scanning() {
		return 1
	}
	held := m.st.end() - m.st.first()
	return float64(m.scan-m.st.first()) / float64(held)
}
