// Package keymap holds opsconsole's key bindings as values: one struct of bubbles
// key.Binding per pane, built by Default, rebound by name from the config's [keys] table
// with Apply, and narrowed by SetReadOnly. Views take their pane's struct by value and
// draw help from the bindings in force, so a rebound or disabled key shows up in help as
// it is.
//
// Every binding has a stable dotted name, "<scope>.<action>" (global.quit, nav.up,
// logs.follow, exec.rerun_failed), declared in a struct tag next to the field. The names
// are the config's vocabulary: they never change when a Go field is renamed. Bindings
// that change hosts are tagged dangerous; read-only mode disables them, and
// DisabledReason tells the flash line why such a key did nothing.
//
// Scopes: global keys work everywhere; nav (movement) and list (enter, sort, group,
// refresh) are shared by the panes that embed them, so one override moves every pane;
// each pane adds its own. Two bindings may not share a key within a pane plus the global
// keys. The confirm dialog takes keys before anything else (DESIGN.md §10.4), so it is
// checked on its own.
package keymap

import "github.com/charmbracelet/bubbles/key"

// Scope names: the first part of a binding's name, and the panes conflicts are checked in.
const (
	ScopeGlobal    = "global"
	ScopeNav       = "nav"
	ScopeList      = "list"
	ScopeFleet     = "fleet"
	ScopeExec      = "exec"
	ScopeLogs      = "logs"
	ScopeRollouts  = "rollouts"
	ScopeIncidents = "incidents"
	ScopeQuery     = "query"
	ScopeConfirm   = "confirm"
)

// Global keys work in every pane, after a focused modal or input had its turn.
type Global struct {
	Quit     key.Binding `keymap:"quit"`
	Help     key.Binding `keymap:"help"`
	Palette  key.Binding `keymap:"palette"`
	Filter   key.Binding `keymap:"filter"`
	Back     key.Binding `keymap:"back"`
	NextPane key.Binding `keymap:"next_pane"`
	PrevPane key.Binding `keymap:"prev_pane"`
	Pane1    key.Binding `keymap:"pane1"`
	Pane2    key.Binding `keymap:"pane2"`
	Pane3    key.Binding `keymap:"pane3"`
	Pane4    key.Binding `keymap:"pane4"`
	Pane5    key.Binding `keymap:"pane5"`
	Pane6    key.Binding `keymap:"pane6"`
}

// Nav moves through anything that scrolls: tables, logs, command output.
type Nav struct {
	Up       key.Binding `keymap:"up"`
	Down     key.Binding `keymap:"down"`
	PageUp   key.Binding `keymap:"page_up"`
	PageDown key.Binding `keymap:"page_down"`
	Top      key.Binding `keymap:"top"`
	Bottom   key.Binding `keymap:"bottom"`
}

// List is Nav plus what a table of rows offers.
type List struct {
	Nav         `keymap:"nav"`
	Enter       key.Binding `keymap:"enter"`
	SortNext    key.Binding `keymap:"sort_next"`
	SortReverse key.Binding `keymap:"sort_reverse"`
	GroupBy     key.Binding `keymap:"group_by"`
	Refresh     key.Binding `keymap:"refresh"`
}

// Fleet is the host table: health at a glance, and the place hosts are picked for
// exec and logs.
type Fleet struct {
	List    `keymap:"list"`
	Detail  key.Binding `keymap:"detail"`
	Mark    key.Binding `keymap:"mark"`
	MarkAll key.Binding `keymap:"mark_all"`
	Exec    key.Binding `keymap:"exec"`
	Logs    key.Binding `keymap:"logs"`
}

// Exec is the ad-hoc command pane: one command fanned out, output per host.
type Exec struct {
	Nav         `keymap:"nav"`
	Run         key.Binding `keymap:"run,dangerous"`
	RerunFailed key.Binding `keymap:"rerun_failed,dangerous"`
	Cancel      key.Binding `keymap:"cancel"`
	ToggleGroup key.Binding `keymap:"toggle_group"`
	NextHost    key.Binding `keymap:"next_host"`
	PrevHost    key.Binding `keymap:"prev_host"`
	EditCommand key.Binding `keymap:"edit_command"`
	EditHosts   key.Binding `keymap:"edit_hosts"`
}

// Logs is the merged, followed log stream of many hosts.
type Logs struct {
	Nav         `keymap:"nav"`
	Follow      key.Binding `keymap:"follow"`
	Pause       key.Binding `keymap:"pause"`
	Wrap        key.Binding `keymap:"wrap"`
	Search      key.Binding `keymap:"search"`
	NextMatch   key.Binding `keymap:"next_match"`
	PrevMatch   key.Binding `keymap:"prev_match"`
	CaseToggle  key.Binding `keymap:"case_toggle"`
	Invert      key.Binding `keymap:"invert"`
	Save        key.Binding `keymap:"save"`
	JumpTime    key.Binding `keymap:"jump_time"`
	HostFilter  key.Binding `keymap:"host_filter"`
	LevelFilter key.Binding `keymap:"level_filter"`
}

// Rollouts drives staged rollouts. Pause is deliberately not dangerous: stopping a
// rollout must stay one key away, even in read-only mode.
type Rollouts struct {
	List     `keymap:"list"`
	Pause    key.Binding `keymap:"pause"`
	Resume   key.Binding `keymap:"resume,dangerous"`
	Promote  key.Binding `keymap:"promote,dangerous"`
	Rollback key.Binding `keymap:"rollback,dangerous"`
	Abort    key.Binding `keymap:"abort,dangerous"`
}

// Incidents lists firing alerts and failing probes with suggested runbooks.
type Incidents struct {
	List          `keymap:"list"`
	RunSuggestion key.Binding `keymap:"run_suggestion,dangerous"`
	Dismiss       key.Binding `keymap:"dismiss"`
}

// Query is the PromQL pane. Its input's own keys (enter runs, up/down walk the history,
// esc leaves the input) are the input's, like every text field's; these work on the
// result.
type Query struct {
	Nav     `keymap:"nav"`
	Edit    key.Binding `keymap:"edit"`
	Refresh key.Binding `keymap:"refresh"`
	// Range switches the query between an instant table and a range chart, in the input
	// and on the result alike.
	Range key.Binding `keymap:"range"`
	// Cancel stops the running query (a newer query cancels it too).
	Cancel key.Binding `keymap:"cancel"`
}

// Confirm answers the confirmation modal. (Above the blast-radius threshold the user
// types a word instead; that is an input, not a binding.)
type Confirm struct {
	Yes key.Binding `keymap:"yes"`
	No  key.Binding `keymap:"no"`
}

// Map is every binding of the console. Build it with Default, then Apply the config's
// overrides, then SetReadOnly, and only then hand the pane structs to the panes: they
// hold copies, so later changes to the Map do not reach them.
type Map struct {
	Global    `keymap:"global"`
	Fleet     `keymap:"fleet"`
	Exec      `keymap:"exec"`
	Logs      `keymap:"logs"`
	Rollouts  `keymap:"rollouts"`
	Incidents `keymap:"incidents"`
	Query     `keymap:"query"`
	Confirm   `keymap:"confirm"`

	readOnly bool
}

// Default returns the built-in bindings: arrows and vim keys for movement, 1-6 and
// tab/shift+tab between panes, ? help, : palette, / filter, esc back, q or ctrl+c quit.
// Keys that change hosts are capital letters (R run, P promote, B rollback, A abort),
// so a stray lower-case keystroke never starts one; the confirm gate still asks.
func Default() Map {
	nav := Nav{
		Up:       bind("move up", "up", "k"),
		Down:     bind("move down", "down", "j"),
		PageUp:   bind("page up", "pgup", "ctrl+u"),
		PageDown: bind("page down", "pgdown", "ctrl+d"),
		Top:      bind("go to top", "home", "g"),
		Bottom:   bind("go to bottom", "end", "G"),
	}
	list := List{
		Nav:         nav,
		Enter:       bind("open", "enter"),
		SortNext:    bind("sort by next column", "s"),
		SortReverse: bind("reverse sort", "S"),
		GroupBy:     bind("group by", "b"),
		Refresh:     bind("refresh", "r"),
	}
	return Map{
		Global: Global{
			Quit:     bind("quit", "q", "ctrl+c"),
			Help:     bind("help", "?"),
			Palette:  bind("command palette", ":"),
			Filter:   bind("filter", "/"),
			Back:     bind("back", "esc"),
			NextPane: bind("next pane", "tab"),
			PrevPane: bind("previous pane", "shift+tab"),
			// The pane order here is the tui's layout order; the tui owns it, and
			// changes the help text with SetHelp if it ever differs.
			Pane1: bind("fleet", "1"),
			Pane2: bind("exec", "2"),
			Pane3: bind("logs", "3"),
			Pane4: bind("rollouts", "4"),
			Pane5: bind("incidents", "5"),
			Pane6: bind("query", "6"),
		},
		Fleet: Fleet{
			List:    list,
			Detail:  bind("host detail", "d"),
			Mark:    bind("mark host", " "),
			MarkAll: bind("mark all", "a"),
			Exec:    bind("exec on marked", "x"),
			Logs:    bind("logs of marked", "l"),
		},
		Exec: Exec{
			Nav:         nav,
			Run:         bind("run on hosts", "R"),
			RerunFailed: bind("rerun failed hosts", "F"),
			Cancel:      bind("cancel run", "x"),
			ToggleGroup: bind("group identical output", "t"),
			NextHost:    bind("next host", "n"),
			PrevHost:    bind("previous host", "N"),
			EditCommand: bind("edit command", "e"),
			EditHosts:   bind("edit hosts", "h"),
		},
		Logs: Logs{
			Nav:         nav,
			Follow:      bind("follow", "f", "F"),
			Pause:       bind("pause", "p", " "),
			Wrap:        bind("wrap lines", "w"),
			Search:      bind("search", "s"),
			NextMatch:   bind("next match", "n"),
			PrevMatch:   bind("previous match", "N"),
			CaseToggle:  bind("toggle case", "i"),
			Invert:      bind("invert filter", "v"),
			Save:        bind("save to file", "ctrl+s"),
			JumpTime:    bind("jump to time", "t"),
			HostFilter:  bind("filter hosts", "H"),
			LevelFilter: bind("filter levels", "L"),
		},
		Rollouts: Rollouts{
			List:     list,
			Pause:    bind("pause rollout", "p"),
			Resume:   bind("resume rollout", "R"),
			Promote:  bind("promote next batch", "P"),
			Rollback: bind("roll back", "B"),
			Abort:    bind("abort rollout", "A"),
		},
		Incidents: Incidents{
			List:          list,
			RunSuggestion: bind("run suggested runbook", "R"),
			Dismiss:       bind("dismiss", "d"),
		},
		Query: Query{
			Nav:     nav,
			Edit:    bind("edit query", "e"),
			Refresh: bind("run again", "r"),
			Range:   bind("instant/range", "ctrl+r"),
			Cancel:  bind("cancel query", "x"),
		},
		Confirm: Confirm{
			Yes: bind("confirm", "y"),
			No:  bind("cancel", "n", "esc"),
		},
	}
}

// bind makes a binding whose help shows its keys, so help and keys cannot disagree.
func bind(desc string, keys ...string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKeys(keys), desc))
}
