package logs

import (
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/themes"
)

// ink is a style reduced to the escape sequences around its text. A frame paints a few
// hundred runs (time, host, level, message, fields, matches on every row) and lipgloss'
// Render re-reads every property of a style on each call; a run's text here is one line
// with no layout, so the sequences are taken once and concatenated.
type ink struct {
	open, close string
	// slow keeps Render for a style that does more than wrap its text (padding, a
	// transform); none of the row styles do today.
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
	for _, s := range []string{"a b", " 12 ", "web-1  "} {
		if k.open+s+k.close != st.Render(s) {
			return ink{slow: true, st: st}
		}
	}
	return k
}

func (k ink) paint(s string) string {
	switch {
	case s == "":
		return ""
	case k.slow:
		return k.st.Render(s)
	case k.open == "" && k.close == "":
		return s
	}
	return k.open + s + k.close
}

// write appends s painted to b.
func (k ink) write(b *strings.Builder, s string) {
	switch {
	case s == "":
	case k.slow:
		b.WriteString(k.st.Render(s))
	default:
		b.WriteString(k.open)
		b.WriteString(s)
		b.WriteString(k.close)
	}
}

// palette is the pane's inks, made once from its Styles and shared by copies.
type palette struct {
	text, faint, accent, match, crit, warn, ok ink
	level                                      [logs.LevelFatal + 1]ink
	hosts                                      [themes.HostColors]ink
}

func newPalette(s *themes.Styles) *palette {
	p := &palette{
		text: newInk(s.Text), faint: newInk(s.Faint), accent: newInk(s.Accent),
		match: newInk(s.Match), crit: newInk(s.StatusCrit), warn: newInk(s.StatusWarn),
		ok: newInk(s.StatusOK),
	}
	for l := logs.LevelNone; l <= logs.LevelFatal; l++ {
		p.level[l] = newInk(s.Level(levelWord(l)))
	}
	for i := range themes.HostColors {
		p.hosts[i] = newInk(s.HostColor(i))
	}
	return p
}

func (p *palette) host(color int) ink { return p.hosts[color%themes.HostColors] }

func (p *palette) levelInk(l logs.Level) ink {
	if l < 0 || int(l) >= len(p.level) {
		return p.text
	}
	return p.level[l]
}
