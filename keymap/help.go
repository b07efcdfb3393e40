package keymap

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// Each pane's struct is a help.KeyMap, so a pane's model can return its keys' help
// directly (DESIGN.md §10.3). Disabled and unbound bindings drop out of the help view
// on their own.
var (
	_ help.KeyMap = Global{}
	_ help.KeyMap = Nav{}
	_ help.KeyMap = List{}
	_ help.KeyMap = Fleet{}
	_ help.KeyMap = Exec{}
	_ help.KeyMap = Logs{}
	_ help.KeyMap = Rollouts{}
	_ help.KeyMap = Incidents{}
	_ help.KeyMap = Query{}
	_ help.KeyMap = Confirm{}
)

// ShortHelp implements help.KeyMap.
func (g Global) ShortHelp() []key.Binding {
	return []key.Binding{g.Help, g.Palette, g.Filter, g.NextPane, g.Quit}
}

// FullHelp implements help.KeyMap.
func (g Global) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{g.NextPane, g.PrevPane, g.Pane1, g.Pane2, g.Pane3, g.Pane4, g.Pane5, g.Pane6},
		{g.Help, g.Palette, g.Filter, g.Back, g.Quit},
	}
}

// ShortHelp implements help.KeyMap.
func (n Nav) ShortHelp() []key.Binding { return []key.Binding{n.Up, n.Down} }

// FullHelp implements help.KeyMap.
func (n Nav) FullHelp() [][]key.Binding {
	return [][]key.Binding{{n.Up, n.Down, n.PageUp, n.PageDown, n.Top, n.Bottom}}
}

// ShortHelp implements help.KeyMap.
func (l List) ShortHelp() []key.Binding {
	return []key.Binding{l.Up, l.Down, l.Enter, l.SortNext}
}

// FullHelp implements help.KeyMap.
func (l List) FullHelp() [][]key.Binding {
	return append(l.Nav.FullHelp(), l.ownHelp())
}

func (l List) ownHelp() []key.Binding {
	return []key.Binding{l.Enter, l.SortNext, l.SortReverse, l.GroupBy, l.Refresh}
}

// ShortHelp implements help.KeyMap.
func (f Fleet) ShortHelp() []key.Binding {
	return []key.Binding{f.Enter, f.Mark, f.Exec, f.Logs, f.SortNext}
}

// FullHelp implements help.KeyMap.
func (f Fleet) FullHelp() [][]key.Binding {
	return append(f.List.FullHelp(), []key.Binding{f.Detail, f.Mark, f.MarkAll, f.Exec, f.Logs})
}

// ShortHelp implements help.KeyMap.
func (e Exec) ShortHelp() []key.Binding {
	return []key.Binding{e.EditCommand, e.EditHosts, e.Run, e.RerunFailed, e.Cancel}
}

// FullHelp implements help.KeyMap.
func (e Exec) FullHelp() [][]key.Binding {
	return append(e.Nav.FullHelp(),
		[]key.Binding{e.EditCommand, e.EditHosts, e.Run, e.RerunFailed, e.Cancel},
		[]key.Binding{e.NextHost, e.PrevHost, e.ToggleGroup},
	)
}

// ShortHelp implements help.KeyMap.
func (l Logs) ShortHelp() []key.Binding {
	return []key.Binding{l.Follow, l.Pause, l.Search, l.NextMatch, l.HostFilter, l.LevelFilter}
}

// FullHelp implements help.KeyMap.
func (l Logs) FullHelp() [][]key.Binding {
	return append(l.Nav.FullHelp(),
		[]key.Binding{l.Follow, l.Pause, l.Wrap, l.JumpTime, l.Save},
		[]key.Binding{l.Search, l.NextMatch, l.PrevMatch, l.CaseToggle, l.Invert, l.HostFilter, l.LevelFilter},
	)
}

// ShortHelp implements help.KeyMap.
func (r Rollouts) ShortHelp() []key.Binding {
	return []key.Binding{r.Enter, r.Pause, r.Resume, r.Promote, r.Rollback, r.Abort}
}

// FullHelp implements help.KeyMap.
func (r Rollouts) FullHelp() [][]key.Binding {
	return append(r.List.FullHelp(), []key.Binding{r.Pause, r.Resume, r.Promote, r.Rollback, r.Abort})
}

// ShortHelp implements help.KeyMap.
func (i Incidents) ShortHelp() []key.Binding {
	return []key.Binding{i.Enter, i.RunSuggestion, i.Dismiss}
}

// FullHelp implements help.KeyMap.
func (i Incidents) FullHelp() [][]key.Binding {
	return append(i.List.FullHelp(), []key.Binding{i.RunSuggestion, i.Dismiss})
}

// ShortHelp implements help.KeyMap.
func (q Query) ShortHelp() []key.Binding {
	return []key.Binding{q.Edit, q.Refresh, q.Range, q.Up, q.Down}
}

// FullHelp implements help.KeyMap.
func (q Query) FullHelp() [][]key.Binding {
	return append(q.Nav.FullHelp(), []key.Binding{q.Edit, q.Refresh, q.Range, q.Cancel})
}

// ShortHelp implements help.KeyMap.
func (c Confirm) ShortHelp() []key.Binding { return []key.Binding{c.Yes, c.No} }

// FullHelp implements help.KeyMap.
func (c Confirm) FullHelp() [][]key.Binding { return [][]key.Binding{{c.Yes, c.No}} }

// WithGlobal joins a pane's help with the global keys, for the root's help bar and
// help screen: the pane's keys first, then help and quit (short) or the global
// columns (full).
func WithGlobal(g Global, pane help.KeyMap) help.KeyMap {
	return withGlobal{g: g, pane: pane}
}

type withGlobal struct {
	g    Global
	pane help.KeyMap
}

func (w withGlobal) ShortHelp() []key.Binding {
	return append(w.pane.ShortHelp(), w.g.Help, w.g.Quit)
}

func (w withGlobal) FullHelp() [][]key.Binding {
	return append(w.pane.FullHelp(), w.g.FullHelp()...)
}

// helpKeys is how a binding's keys read in help: "↑/k", "space", "q/ctrl+c".
func helpKeys(keys []string) string {
	shown := make([]string, len(keys))
	for i, k := range keys {
		shown[i] = helpKey(k)
	}
	return strings.Join(shown, "/")
}

func helpKey(k string) string {
	if rest, ok := strings.CutPrefix(k, "alt+"); ok && rest != "" {
		return "alt+" + helpKey(rest)
	}
	switch k {
	case " ":
		return "space"
	case "up":
		return "↑"
	case "down":
		return "↓"
	case "left":
		return "←"
	case "right":
		return "→"
	}
	return k
}
