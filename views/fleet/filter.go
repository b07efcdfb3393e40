package fleet

import (
	"slices"
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// lineInput is the filter's one-line editor. It stands in for bubbles/textinput, which
// needs a module (a clipboard library) this build does not carry; the filter needs no
// more than typing, moving and deleting, and without a blink timer the editor needs no
// clock either.
type lineInput struct {
	value []rune
	pos   int // cursor, in runes
}

func newLineInput(s string) lineInput {
	r := []rune(s)
	return lineInput{value: r, pos: len(r)}
}

func (in lineInput) String() string { return string(in.value) }

// update applies one key and reports whether the text changed. The slice is copied before
// any edit so that an older Model keeps its own text.
func (in lineInput) update(k tea.KeyMsg) (lineInput, bool) {
	edit := func(f func(v []rune) []rune) (lineInput, bool) {
		in.value = f(slices.Clone(in.value))
		return in, true
	}
	switch k.Type {
	case tea.KeyRunes, tea.KeySpace:
		if k.Alt {
			return in, false
		}
		ins := k.Runes
		if k.Type == tea.KeySpace {
			ins = []rune{' '}
		}
		ins = slices.DeleteFunc(slices.Clone(ins), func(r rune) bool { return r == '\n' || r == '\r' || r == '\t' })
		if len(ins) == 0 {
			return in, false
		}
		p := in.pos
		in.pos += len(ins)
		return edit(func(v []rune) []rune { return slices.Insert(v, p, ins...) })
	case tea.KeyBackspace, tea.KeyCtrlH:
		if in.pos == 0 {
			return in, false
		}
		p := in.pos
		in.pos--
		return edit(func(v []rune) []rune { return slices.Delete(v, p-1, p) })
	case tea.KeyDelete, tea.KeyCtrlD:
		if in.pos >= len(in.value) {
			return in, false
		}
		p := in.pos
		return edit(func(v []rune) []rune { return slices.Delete(v, p, p+1) })
	case tea.KeyCtrlW: // delete the word before the cursor, as shells do
		if in.pos == 0 {
			return in, false
		}
		start := in.pos
		for start > 0 && unicode.IsSpace(in.value[start-1]) {
			start--
		}
		for start > 0 && !unicode.IsSpace(in.value[start-1]) {
			start--
		}
		end := in.pos
		in.pos = start
		return edit(func(v []rune) []rune { return slices.Delete(v, start, end) })
	case tea.KeyCtrlU:
		if in.pos == 0 {
			return in, false
		}
		end := in.pos
		in.pos = 0
		return edit(func(v []rune) []rune { return slices.Delete(v, 0, end) })
	case tea.KeyCtrlK:
		if in.pos >= len(in.value) {
			return in, false
		}
		p := in.pos
		return edit(func(v []rune) []rune { return v[:p] })
	case tea.KeyLeft, tea.KeyCtrlB:
		in.pos = max(in.pos-1, 0)
	case tea.KeyRight, tea.KeyCtrlF:
		in.pos = min(in.pos+1, len(in.value))
	case tea.KeyHome, tea.KeyCtrlA:
		in.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		in.pos = len(in.value)
	}
	return in, false
}

// view draws prompt and text in width cells with the cursor as a reversed cell, scrolled
// so the cursor stays in view.
func (in lineInput) view(prompt string, cursor lipgloss.Style, width int) string {
	avail := width - textWidth(prompt) - 1 // one cell for the cursor past the end
	if avail < 1 {
		return ansi.Truncate(prompt, width, "")
	}
	start := 0
	for textWidth(string(in.value[start:in.pos])) > avail {
		start++
	}
	var b strings.Builder
	b.WriteString(prompt)
	b.WriteString(string(in.value[start:in.pos]))
	under := " "
	if in.pos < len(in.value) {
		under = string(in.value[in.pos])
	}
	b.WriteString(cursor.Render(under))
	if in.pos < len(in.value) {
		b.WriteString(string(in.value[in.pos+1:]))
	}
	return ansi.Truncate(b.String(), width, "…")
}

// term is one word of a filter query. All terms must match (AND); a leading ! negates.
type term struct {
	kind termKind
	neg  bool
	text string // lower-cased
}

type termKind int

const (
	termText   termKind = iota // substring of name, address, tags, status word or reasons
	termTag                    // tag:x, the host has tag x
	termStatus                 // status:x, the host's status word is x (or an alias)
)

// parseQuery splits a filter into terms: plain words, tag:x and status:x. Matching is
// case-insensitive.
func parseQuery(q string) []term {
	var terms []term
	for _, w := range strings.Fields(strings.ToLower(q)) {
		t := term{}
		if rest, ok := strings.CutPrefix(w, "!"); ok && rest != "" {
			t.neg, w = true, rest
		}
		switch {
		case strings.HasPrefix(w, "tag:") && len(w) > len("tag:"):
			t.kind, t.text = termTag, w[len("tag:"):]
		case strings.HasPrefix(w, "status:") && len(w) > len("status:"):
			t.kind, t.text = termStatus, w[len("status:"):]
		default:
			t.text = w
		}
		terms = append(terms, t)
	}
	return terms
}

// statusAliases are the words status: accepts besides the status words themselves,
// matching the words the root's header uses.
var statusAliases = map[string][]string{
	"up":       {"ok"},
	"degraded": {"warn", "crit"},
	"bad":      {"warn", "crit", "down", "unknown"},
}

func (t term) match(h *host) bool {
	var ok bool
	switch t.kind {
	case termTag:
		ok = slices.ContainsFunc(h.cfg.Tags, func(tag string) bool { return strings.EqualFold(tag, t.text) })
	case termStatus:
		word := h.statusWord()
		ok = word == t.text || slices.Contains(statusAliases[t.text], word)
	default:
		ok = strings.Contains(h.hay, t.text)
	}
	return ok != t.neg
}

func matchAll(terms []term, h *host) bool {
	for _, t := range terms {
		if !t.match(h) {
			return false
		}
	}
	return true
}
