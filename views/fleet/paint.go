package fleet

import (
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/opsconsole/opsconsole/themes"
)

// ink is a style reduced to the escape sequences around its text. A table row paints a
// dozen cells and a frame fifty rows; lipgloss' Render re-reads every property of the
// style on each call, which was most of a frame's cost, while a cell's text is one line
// with no layout, so the sequences can be taken once and concatenated.
type ink struct {
	open, close string
	// slow keeps Render for a style that does more than wrap its text (padding, a
	// transform, underlined spaces styled apart); none of the table's styles do today.
	slow bool
	st   lipgloss.Style
}

func newInk(st lipgloss.Style) ink {
	const probe = "x"
	out := st.Render(probe)
	i := strings.Index(out, probe)
	if i < 0 {
		return ink{slow: true, st: st}
	}
	k := ink{open: out[:i], close: out[i+len(probe):], st: st}
	// Keep the shortcut only if it renders what Render does for text like a cell's.
	for _, s := range []string{"a b", " 12% ", "✓ ok  "} {
		if k.open+s+k.close != st.Render(s) {
			return ink{slow: true, st: st}
		}
	}
	return k
}

func (k ink) paint(s string) string {
	switch {
	case k.slow:
		return k.st.Render(s)
	case k.open == "" && k.close == "":
		return s
	}
	return k.open + s + k.close
}

// palette is the inks of the table's rows, made once from the pane's Styles.
type palette struct {
	row, faint, accent, spark, header, selected ink
	state                                       [numStates]ink
}

func newPalette(s *themes.Styles) *palette {
	p := &palette{
		row: newInk(s.TableRow), faint: newInk(s.Faint), accent: newInk(s.Accent),
		spark: newInk(s.Sparkline), header: newInk(s.TableHeader), selected: newInk(s.TableSelected),
	}
	for st := range numStates {
		p.state[st] = newInk(s.Status(stateWords[st]))
	}
	return p
}

// oneLine makes text from a report safe for a single table cell: newlines and tabs
// become spaces and other control characters (an ESC from a remote's stderr would
// otherwise reach the terminal) are dropped. Clean text, the usual case, is returned as is.
func oneLine(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// oneLines applies oneLine to each string, copying the slice only when one changes.
func oneLines(ss []string) []string {
	for _, s := range ss {
		if oneLine(s) != s {
			out := make([]string, len(ss))
			for j := range ss {
				out[j] = oneLine(ss[j])
			}
			return out
		}
	}
	return ss
}
