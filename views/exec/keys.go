package exec

import (
	"github.com/charmbracelet/bubbles/key"
)

// fieldKeys are the keys of the pane's own fields: the two text inputs and the
// drill-down. keymap.Exec has no names for them, and they cannot be letters or the
// shared Nav keys (j, k, g would never reach the input), so they are the keys every
// text field uses. Help draws them from these bindings like any other.
type fieldKeys struct {
	Submit   key.Binding // run the command; from the host pattern, go to the command
	Leave    key.Binding // leave the inputs for the results; leave a drill-down
	Next     key.Binding // next field: hosts → command → results
	Prev     key.Binding // previous field
	HistPrev key.Binding // older command from history
	HistNext key.Binding // newer command, then back to what was being typed
	Open     key.Binding // drill into the selected group or host
}

func defaultFieldKeys() fieldKeys {
	return fieldKeys{
		Submit:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
		Leave:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to results")),
		Next:     key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
		Prev:     key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
		HistPrev: key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "older command")),
		HistNext: key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "newer command")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "full output")),
	}
}

// ShortHelp implements help.KeyMap with the keys that work where the focus is, so the
// help bar never offers j/k while the user is typing.
func (m Model) ShortHelp() []key.Binding {
	switch {
	case m.InputFocused():
		return m.inputHelp()
	case m.detail:
		back := m.fields.Leave
		back.SetHelp(back.Help().Key, "back")
		return []key.Binding{m.keys.Up, m.keys.Down, m.keys.NextHost, m.keys.PrevHost, back}
	}
	return []key.Binding{m.fields.Open, m.keys.ToggleGroup, m.keys.EditCommand, m.keys.Run, m.keys.RerunFailed, m.keys.Cancel}
}

// FullHelp implements help.KeyMap: the pane's bindings in force, then the fields' keys.
func (m Model) FullHelp() [][]key.Binding {
	back := m.fields.Leave
	back.SetHelp(back.Help().Key, "back")
	f := m.fields
	return append(m.keys.FullHelp(),
		[]key.Binding{f.Open, back},
		[]key.Binding{f.Submit, f.Next, f.Prev, f.HistPrev, f.HistNext, f.Leave},
	)
}

func (m Model) inputHelp() []key.Binding {
	submit := m.fields.Submit
	if m.focus == focusHosts {
		submit.SetHelp(submit.Help().Key, "to command")
	}
	keys := []key.Binding{submit, m.fields.Next, m.fields.Prev}
	if m.focus == focusCommand {
		keys = append(keys, m.fields.HistPrev, m.fields.HistNext)
	}
	return append(keys, m.fields.Leave)
}
