package fleet

// Log markers as the pane draws them: the badge in a row's reason column and the "Log
// markers" section of the detail view. The text drawn here comes from remote hosts (a
// log line may hold anything a process printed), so it is cleaned once, when it arrives,
// with the sequence scanner the other panes that show remote text use.

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// markerSymbol starts a badge, so a row with markers reads as such without colour.
const markerSymbol = "⚑"

// maxMarkerWord caps a marker's name as shown; names come from the configuration and
// are short, this only keeps a mistaken one from filling the row.
const maxMarkerWord = 32

// markerBadge is the row's badge: the symbol, then each marker's name and count, the
// markers in the order given (most recent first): "⚑ oom×3 panic×1".
func markerBadge(hits []markerHit) string {
	var b strings.Builder
	b.WriteString(markerSymbol)
	for _, k := range hits {
		b.WriteByte(' ')
		b.WriteString(k.word)
		b.WriteString("×")
		b.WriteString(itoa(k.count))
	}
	return b.String()
}

// markerRecent reports whether a latest hit at last is within markerWindow of now. Before
// the first clock tick every hit counts as recent: it has only just arrived.
func markerRecent(last, now time.Time) bool {
	return now.IsZero() || now.Sub(last) < markerWindow
}

// markerInk is the badge's ink: warn while the latest hit is recent, faint after.
func markerInk(last, now time.Time, p *palette) ink {
	if markerRecent(last, now) {
		return p.state[stateWarn]
	}
	return p.faint
}

// paintBadge paints a reason cell (already fitted to its width) that starts with the
// badge: the badge in its own ink, the rest in the reason's. A cell cut inside the badge
// is all badge.
func paintBadge(cell, badge string, badgeInk, rest ink) string {
	tail, ok := strings.CutPrefix(cell, badge)
	switch {
	case !ok:
		return badgeInk.paint(cell)
	case tail == "":
		return badgeInk.paint(badge)
	}
	return badgeInk.paint(badge) + rest.paint(tail)
}

// markerWord is a marker's name cleaned and capped for the row and the detail view.
func markerWord(name string) string {
	name, cut := termsafe.CutBytes(name, maxMarkerWord)
	name = termsafe.Line(name)
	if cut {
		name += "…"
	}
	return name
}

// markerLine is a flagged line as kept for the detail view: capped at maxMarkerLine bytes,
// then cleaned. Cutting first bounds the cleaning's cost; a sequence cut in half is
// dropped whole like any other.
func markerLine(text string) string {
	text, cut := termsafe.CutBytes(text, maxMarkerLine)
	text = termsafe.Line(text)
	if cut {
		text += "…"
	}
	return text
}

// markerLines is the detail view's "Log markers" section: per marker, most recent first,
// its name, count, first and last time, and below it the latest line cut to width. A
// host without markers has no section.
func markerLines(h *host, s *themes.Styles, now time.Time, width int) []string {
	if len(h.markers) == 0 {
		return nil
	}
	total, nw, cw := 0, 0, 0
	for _, k := range h.markers {
		total += k.count
		nw = max(nw, textWidth(k.word))
		cw = max(cw, len(itoa(k.count)))
	}
	out := make([]string, 0, 2+2*len(h.markers))
	out = append(out, "", s.Title.Render("Log markers")+"  "+
		s.Faint.Render(plural(len(h.markers), "marker", "markers")+" · "+plural(total, "line", "lines")))
	lineW := max(width-6, 1)
	for _, k := range h.markers {
		st := s.Faint
		if markerRecent(k.last, now) {
			st = s.StatusWarn
		}
		row := "  " + st.Render(markerSymbol+" "+padRight(k.word, nw)) + "  " +
			s.Text.Render("×"+padRight(itoa(k.count), cw)) + "  "
		if k.count == 1 || k.first.Equal(k.last) {
			row += s.Faint.Render("at ") + s.Text.Render(fmtClock(k.last, now))
		} else {
			row += s.Faint.Render("first ") + s.Text.Render(fmtClock(k.first, now)) +
				s.Faint.Render("  last ") + s.Text.Render(fmtClock(k.last, now))
		}
		out = append(out, row)
		if k.line == "" {
			out = append(out, "      "+s.Faint.Render("(an empty line)"))
			continue
		}
		out = append(out, "      "+s.Text.Render(ansi.Truncate(k.line, lineW, "…")))
	}
	return out
}
