// Package placeholder is the pane shown where a pane is not built yet. It says what the
// pane will hold and that it is coming, and nothing else: an on-call engineer must never
// mistake a mock-up for the state of the fleet, so a placeholder shows no data at all.
package placeholder

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

// Model is a pane that is not built yet. It has the methods every pane has (DESIGN.md
// §10.3), so the root treats it like the others and a real pane replaces it field for
// field.
type Model struct {
	pane   views.PaneID
	what   string
	styles *themes.Styles
	width  int
	height int
}

// New returns the placeholder of pane; what says what the pane will hold.
func New(pane views.PaneID, what string, styles *themes.Styles) Model {
	return Model{pane: pane, what: what, styles: styles}
}

// Logs is the placeholder of the logs pane.
func Logs(styles *themes.Styles) Model {
	return New(views.PaneLogs,
		"Streamed logs from many hosts, merged by time, followed and filtered by host, level and pattern.",
		styles)
}

// Rollouts is the placeholder of the rollouts pane.
func Rollouts(styles *themes.Styles) Model {
	return New(views.PaneRollouts,
		"Staged rollouts: batches, health gates, promote, pause, abort and rollback, resumable after a restart.",
		styles)
}

// Incidents is the placeholder of the incidents pane.
func Incidents(styles *themes.Styles) Model {
	return New(views.PaneIncidents,
		"Firing alerts and failing probes, each with the runbook that may fix it.",
		styles)
}

// Update ignores every message: there is nothing here to change.
func (m Model) Update(tea.Msg) (Model, tea.Cmd) { return m, nil }

// SetSize sets the area the pane draws in.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// SetStyles replaces the styles, for a theme change at run time.
func (m *Model) SetStyles(s *themes.Styles) { m.styles = s }

// InputFocused is always false: a placeholder has no input.
func (m Model) InputFocused() bool { return false }

// Title names the pane.
func (m Model) Title() string { return m.pane.String() }

// ShortHelp implements help.KeyMap: a placeholder offers no keys of its own, so help
// shows only the keys that work.
func (m Model) ShortHelp() []key.Binding { return nil }

// FullHelp implements help.KeyMap.
func (m Model) FullHelp() [][]key.Binding { return nil }

// View says what the pane will hold, centred in its area.
func (m Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	textWidth := min(m.width, 64)
	body := lipgloss.JoinVertical(lipgloss.Center,
		m.styles.Title.Render(m.pane.String()),
		"",
		m.styles.Text.Width(textWidth).Align(lipgloss.Center).Render(m.what),
		"",
		m.styles.Faint.Width(textWidth).Align(lipgloss.Center).Render("Not built yet: this pane is coming."),
	)
	return lipgloss.NewStyle().MaxWidth(m.width).MaxHeight(m.height).
		Render(lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, body))
}
