package incidents

import (
	"github.com/charmbracelet/bubbles/key"
)

// localKeys are the pane's keys that keymap.Incidents has no name for. Esc is the key
// every dialog and countdown answers to: it cancels an automatic proposal (as Dismiss
// does) and closes an expanded incident. The root passes esc on to the pane, its Back key
// having nothing to do at the top level.
type localKeys struct {
	Cancel key.Binding
}

func defaultLocalKeys() localKeys {
	return localKeys{
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel auto-heal")),
	}
}

// ShortHelp implements help.KeyMap with the keys that do something now: while a
// countdown runs, the keys that stop it come first.
func (m Model) ShortHelp() []key.Binding {
	if m.countdown.active() {
		dismiss := m.keys.Dismiss
		dismiss.SetHelp(dismiss.Help().Key, "cancel auto-heal")
		return []key.Binding{dismiss, m.local.Cancel, m.keys.RunSuggestion}
	}
	details := m.keys.Enter
	details.SetHelp(details.Help().Key, "details")
	return []key.Binding{m.keys.Up, m.keys.Down, details, m.keys.RunSuggestion, m.keys.Dismiss}
}

// FullHelp implements help.KeyMap: the pane's bindings in force, then esc.
func (m Model) FullHelp() [][]key.Binding {
	details := m.keys.Enter
	details.SetHelp(details.Help().Key, "details and plans")
	refresh := m.keys.Refresh
	refresh.SetHelp(refresh.Help().Key, "show dismissed, reread audit log")
	return append(m.keys.Nav.FullHelp(),
		[]key.Binding{details, m.keys.RunSuggestion, m.keys.Dismiss, refresh, m.local.Cancel})
}
