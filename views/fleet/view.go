package fleet

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/themes"
)

// View draws the pane in exactly its height, every line at most its width. It only reads:
// the order, the layout and the scroll were settled in Update, and only the rows on screen
// are rendered, so a frame costs the same for ten hosts or ten thousand.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.detail {
		return m.viewDetail()
	}
	out := make([]string, 0, m.height)
	out = append(out, m.topLine())
	if m.height > 1 {
		out = append(out, renderHeader(m.layout, m.pal, m.sortBy, m.reverse))
	}
	body := m.bodyHeight()
	switch {
	case body == 0:
	case len(m.hosts) == 0:
		out = append(out, ansi.Truncate(m.styles.Faint.Render("no hosts in the inventory"), m.width, "…"))
	case len(m.order) == 0:
		out = append(out, ansi.Truncate(m.styles.Faint.Render("no host matches "+quote(m.query)), m.width, "…"))
	default:
		cur := m.cursorLine()
		end := min(m.top+body, len(m.lines))
		for i := m.top; i < end; i++ {
			ln := m.lines[i]
			if ln.host < 0 {
				out = append(out, renderGroupHeader(ln.group, m.styles, m.width))
				continue
			}
			out = append(out, renderHostRow(m.hosts[ln.host], m.layout, m.pal, m.now, i == cur))
		}
	}
	if m.layout.clip {
		for i := range out {
			out[i] = ansi.Truncate(out[i], m.width, "")
		}
	}
	for len(out) < m.height {
		out = append(out, "")
	}
	return strings.Join(out, "\n")
}

// topLine is the filter input while it is open; otherwise the fleet's counts, the filter
// in force, the marks, where metrics come from, the sort and the grouping.
func (m Model) topLine() string {
	s := m.styles
	if m.inputOpen {
		count := "  " + itoa(len(m.order)) + " of " + plural(len(m.hosts), "host", "hosts")
		w := max(m.width-textWidth(count), min(m.width, 12))
		in := m.input.view(s.Accent.Render("/")+" ", s.TableSelected, w)
		return ansi.Truncate(in+s.Faint.Render(count), m.width, "")
	}
	// Most important first, since a narrow pane cuts from the right: what is shown
	// (the filter, the marks) before where the numbers come from, before the order.
	parts := stateCounts(m.counts, s)
	if m.filtering() {
		parts = append(parts, s.Accent.Render("filter "+quote(m.query)))
	}
	if m.marked > 0 {
		parts = append(parts, s.Accent.Render(itoa(m.marked)+" marked"))
	}
	if src := serverNote(m.server, m.now, s); src != "" {
		parts = append(parts, src)
	}
	sortBy := "sort " + m.sortBy.String() + " " + sortMark(m.reverse)
	parts = append(parts, s.Faint.Render(sortBy))
	if m.grouped {
		parts = append(parts, s.Faint.Render("grouped by tag"))
	}
	return ansi.Truncate(strings.Join(parts, "  "), m.width, "…")
}

func quote(s string) string { return "“" + s + "”" }

// serverNote says where the fleet's metrics come from when a metrics server is
// configured, and that they are stale, since when, when it stopped answering.
func serverNote(srv fleet.ServerStatus, now time.Time, s *themes.Styles) string {
	switch {
	case srv.Source == "":
		return "" // each host's own metrics, as its VIA column says
	case srv.Rounds == 0:
		return s.Faint.Render("metrics from " + srv.Source + " …")
	case !srv.Stale:
		return s.Faint.Render("metrics from " + srv.Source)
	}
	note := "metrics from " + srv.Source + ": stale"
	switch {
	case srv.Fresh.IsZero():
		note = "metrics from " + srv.Source + ": no answer yet"
	case !now.IsZero():
		note += " " + fmtAgo(now.Sub(srv.Fresh))
	}
	return s.StatusWarn.Render("! " + note)
}

func (m Model) viewDetail() string {
	lines := m.detailLines()
	out := make([]string, 0, m.height)
	// The first line names the host and stays put while the rest scrolls.
	out = append(out, lines[0])
	rest := lines[1:]
	top := min(m.detailTop, max(len(rest)-(m.height-1), 0))
	for i := top; i < len(rest) && len(out) < m.height; i++ {
		out = append(out, rest[i])
	}
	for i := range out {
		out[i] = ansi.Truncate(out[i], m.width, "…")
	}
	for len(out) < m.height {
		out = append(out, "")
	}
	return strings.Join(out, "\n")
}

// detailLines is the detail view's content for the host it shows, in full.
func (m Model) detailLines() []string {
	return renderDetail(m.hosts[m.detailIdx], m.styles, m.now, m.width, m.server, detailActions{
		exec: m.keys.Exec.Help().Key,
		back: m.local.Back.Help().Key,
	})
}
