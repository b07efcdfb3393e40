package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

// loadTheme checks that a theme loads, in a command: a name may be a file path, and
// reading files is no business of Update. Not every pane can take new styles while it
// runs (the fleet pane holds its styles for its life), and a console half in one theme
// and half in another would be worse than either, so the answer is a flash saying how to
// start with the theme.
func loadTheme(name string) tea.Cmd {
	return func() tea.Msg {
		t, err := themes.Load(name, nil)
		if err != nil {
			return views.FlashMsg{Text: err.Error(), Err: true}
		}
		return views.FlashMsg{Text: "theme " + t.Name + ": theme changes apply on restart (opsconsole --theme " + name + ")"}
	}
}
