package query

import (
	"github.com/charmbracelet/bubbles/key"
)

// fieldKeys are the input's own keys. They are fixed, as every text field's are: enter,
// esc and the arrows belong to the input while it has focus (keymap.Query holds the keys
// that work on the result).
type fieldKeys struct {
	Run      key.Binding // run what is typed
	Leave    key.Binding // leave the input for the result
	HistPrev key.Binding // older query from history
	HistNext key.Binding // newer query, then back to what was being typed
}

func defaultFieldKeys() fieldKeys {
	return fieldKeys{
		Run:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		Leave:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "to result")),
		HistPrev: key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "older query")),
		HistNext: key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "newer query")),
	}
}

// ShortHelp implements help.KeyMap with the keys that work where the focus is.
func (m Model) ShortHelp() []key.Binding {
	if m.editing {
		f := m.fields
		return []key.Binding{f.Run, m.keys.Range, f.HistPrev, f.HistNext, f.Leave}
	}
	return m.keys.ShortHelp()
}

// FullHelp implements help.KeyMap: the result's keys, then the input's.
func (m Model) FullHelp() [][]key.Binding {
	f := m.fields
	return append(m.keys.FullHelp(), []key.Binding{f.Run, f.HistPrev, f.HistNext, f.Leave})
}
