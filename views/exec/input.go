package exec

import (
	"github.com/opsconsole/opsconsole/views/termsafe"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/themes"
)

// lineInput is a one-line text field. It stands in for bubbles/textinput, which imports
// a clipboard package this module's go.sum does not carry; it does what the pane needs
// and no more: edit, move, scroll horizontally, show a placeholder. It is a value, like
// every model here, and has no cursor blink (no timers, so recorded sessions replay
// frame for frame).
type lineInput struct {
	label       string
	placeholder string
	value       []rune
	pos         int
	focused     bool
	width       int // cells for the text, cursor included
	keys        editKeys
}

// editKeys are the field's editing keys, the usual readline ones (as bubbles/textinput
// binds them), so a shell user's hands already know them.
type editKeys struct {
	Left, Right         key.Binding
	WordLeft, WordRight key.Binding
	Home, End           key.Binding
	Backspace, Delete   key.Binding
	DeleteWordBack      key.Binding
	DeleteToStart       key.Binding
	DeleteToEnd         key.Binding
}

func defaultEditKeys() editKeys {
	b := func(keys ...string) key.Binding { return key.NewBinding(key.WithKeys(keys...)) }
	return editKeys{
		Left:           b("left", "ctrl+b"),
		Right:          b("right", "ctrl+f"),
		WordLeft:       b("alt+left", "ctrl+left", "alt+b"),
		WordRight:      b("alt+right", "ctrl+right", "alt+f"),
		Home:           b("home", "ctrl+a"),
		End:            b("end", "ctrl+e"),
		Backspace:      b("backspace", "ctrl+h"),
		Delete:         b("delete", "ctrl+d"),
		DeleteWordBack: b("alt+backspace", "ctrl+w"),
		DeleteToStart:  b("ctrl+u"),
		DeleteToEnd:    b("ctrl+k"),
	}
}

func newLineInput(label, placeholder string) lineInput {
	return lineInput{label: label, placeholder: placeholder, keys: defaultEditKeys()}
}

func (in lineInput) Value() string { return string(in.value) }

func (in *lineInput) SetValue(s string) {
	in.value = []rune(cleanInput(s))
	in.pos = len(in.value)
}

// update applies one key to the field.
func (in lineInput) update(msg tea.KeyMsg) lineInput {
	k := in.keys
	switch {
	case key.Matches(msg, k.Left):
		in.pos = max(in.pos-1, 0)
	case key.Matches(msg, k.Right):
		in.pos = min(in.pos+1, len(in.value))
	case key.Matches(msg, k.WordLeft):
		in.pos = in.wordStart()
	case key.Matches(msg, k.WordRight):
		in.pos = in.wordEnd()
	case key.Matches(msg, k.Home):
		in.pos = 0
	case key.Matches(msg, k.End):
		in.pos = len(in.value)
	case key.Matches(msg, k.Backspace):
		if in.pos > 0 {
			in.value = splice(in.value, in.pos-1, in.pos, nil)
			in.pos--
		}
	case key.Matches(msg, k.Delete):
		if in.pos < len(in.value) {
			in.value = splice(in.value, in.pos, in.pos+1, nil)
		}
	case key.Matches(msg, k.DeleteWordBack):
		start := in.wordStart()
		in.value = splice(in.value, start, in.pos, nil)
		in.pos = start
	case key.Matches(msg, k.DeleteToStart):
		in.value = splice(in.value, 0, in.pos, nil)
		in.pos = 0
	case key.Matches(msg, k.DeleteToEnd):
		in.value = splice(in.value, in.pos, len(in.value), nil)
	case msg.Type == tea.KeySpace:
		in.insert(" ")
	case msg.Type == tea.KeyRunes && !msg.Alt:
		in.insert(string(msg.Runes))
	}
	return in
}

func (in *lineInput) insert(s string) {
	r := []rune(cleanInput(s))
	in.value = splice(in.value, in.pos, in.pos, r)
	in.pos += len(r)
}

// splice returns a new slice with v[i:j] replaced by r, never writing into v's array:
// an older copy of the field keeps its text.
func splice(v []rune, i, j int, r []rune) []rune {
	out := make([]rune, 0, len(v)-(j-i)+len(r))
	out = append(out, v[:i]...)
	out = append(out, r...)
	return append(out, v[j:]...)
}

// cleanInput keeps typed or pasted text on one line: tabs and line breaks become spaces
// (as bubbles/textinput does), other control characters are dropped.
func cleanInput(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r) || termsafe.IsBidiControl(r):
			return -1
		}
		return r
	}, s)
}

func (in lineInput) wordStart() int {
	i := in.pos
	for i > 0 && unicode.IsSpace(in.value[i-1]) {
		i--
	}
	for i > 0 && !unicode.IsSpace(in.value[i-1]) {
		i--
	}
	return i
}

func (in lineInput) wordEnd() int {
	i := in.pos
	for i < len(in.value) && unicode.IsSpace(in.value[i]) {
		i++
	}
	for i < len(in.value) && !unicode.IsSpace(in.value[i]) {
		i++
	}
	return i
}

// headWidth is the width of the label and focus marker before the text.
func (in lineInput) headWidth() int { return lipgloss.Width(in.label) + 3 }

// view draws the label, a focus marker (so focus shows without colour), and the part of
// the text around the cursor that fits the width.
func (in lineInput) view(st *themes.Styles) string {
	marker := "   "
	if in.focused {
		marker = " › "
	}
	head := st.Accent.Render(in.label + marker)
	if len(in.value) == 0 {
		ph := st.Faint.Render(cut(in.placeholder, max(in.width-1, 0)))
		if in.focused {
			ph = cursorStyle(st).Render(" ") + ph
		}
		return head + ph
	}

	// Scroll so the cursor (one cell past the text at the end) stays in view, then show
	// as much after it as fits.
	start := 0
	for start < in.pos && runesWidth(in.value[start:in.pos])+1 > in.width {
		start++
	}
	end := in.pos
	for end < len(in.value) && runesWidth(in.value[start:end+1]) <= in.width {
		end++
	}
	if !in.focused {
		return head + st.Text.Render(string(in.value[start:end]))
	}
	at, after := " ", ""
	if in.pos < end {
		at, after = string(in.value[in.pos]), string(in.value[in.pos+1:end])
	}
	return head + st.Text.Render(string(in.value[start:in.pos])) + cursorStyle(st).Render(at) + st.Text.Render(after)
}

// cursorStyle shows the cursor by reversing the text style: an attribute, not a colour,
// so it shows in every theme.
func cursorStyle(st *themes.Styles) lipgloss.Style { return st.Text.Reverse(true) }

func runesWidth(r []rune) int { return ansi.StringWidth(string(r)) }
