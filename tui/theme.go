package tui

import (
	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

// themeLoadedMsg carries a theme read by loadTheme into Update.
type themeLoadedMsg struct {
	Theme themes.Theme
}

// loadTheme reads a theme in a command: a name may be a file path, and reading files is no
// business of Update.
func loadTheme(name string) tea.Cmd {
	return func() tea.Msg {
		t, err := themes.Load(name, nil)
		if err != nil {
			return views.FlashMsg{Text: err.Error(), Err: true}
		}
		return themeLoadedMsg{Theme: t}
	}
}

// applyTheme restyles the root and every pane at once, so the console is never half in
// one theme and half in another.
func (m Model) applyTheme(t themes.Theme) Model {
	s := themes.Build(t)
	m.styles = s
	m.help.Styles = help.Styles(s.Help)
	m.fleet = m.fleet.SetStyles(s)
	m.exec.SetStyles(s)
	m.logs = m.logs.SetStyles(s)
	m.rollouts.SetStyles(s)
	m.incidents = m.incidents.SetStyles(s)
	m.query.SetStyles(s)
	m.palette.restyle(s)
	return m.flashMsg("theme "+t.Name, false)
}

// defaultStyles are the no-colour theme's styles, for Options that name none: a console
// built without a theme still draws, in plain attributes.
func defaultStyles() *themes.Styles {
	t, err := themes.Load(themes.NoColor, nil)
	if err != nil {
		panic("the built-in no-color theme does not load: " + err.Error())
	}
	return themes.Build(t)
}
