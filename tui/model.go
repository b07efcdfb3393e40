// Package tui is the console's root model. It lays out the header, the tab bar, the
// focused pane, the help line and the flash line; it routes messages and keys; and it owns
// what sits above the panes: the command palette, the help overlay and the confirm gate,
// the only door through which an Action runs from the console.
//
// Pane logic stays in the panes (views/*). The root sizes, focuses and delivers, nothing
// more (DESIGN.md §10.4). Keys go, in order, to a modal or input that has focus, then to
// the global keys, then to the focused pane. Update is pure: the time arrives in
// views.ClockMsg, work runs in returned commands, and the journal is written by a wrapper
// outside the model (Recorded), so a recorded session replays through the same Update.
package tui

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	opsfleet "github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/gate"
	opslogs "github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/exec"
	"github.com/opsconsole/opsconsole/views/fleet"
	"github.com/opsconsole/opsconsole/views/incidents"
	logsview "github.com/opsconsole/opsconsole/views/logs"
	"github.com/opsconsole/opsconsole/views/placeholder"
	"github.com/opsconsole/opsconsole/views/query"
)

// The smallest terminal the console lays out in. Below it the console says so instead of
// drawing a garbled frame: an on-call engineer in a split pane must see why, not guess.
const (
	MinWidth  = 60
	MinHeight = 16
)

// flashTicks is how many clock ticks (seconds) a flash stays on the status line. Counting
// ClockMsgs, rather than reading a timer, keeps Update pure and makes a replayed flash
// clear when it did live.
const flashTicks = 6

// Options are what cmd hands the console.
type Options struct {
	Hosts []config.Host
	// Monitor feeds the fleet pane; nil in tests and replays, where reports arrive as
	// messages.
	Monitor  *opsfleet.Monitor
	ExecDeps exec.Deps
	// QueryDeps feed the query pane; a nil Client means no [prometheus] is configured.
	// A nil Ctx takes Ctx below.
	QueryDeps query.Deps
	// Logs feeds the logs pane; nil when no [[logs]] source is configured (or in tests,
	// where lines arrive as messages). LogCapacity bounds its ring (0: the default).
	Logs        *opslogs.Engine
	LogCapacity int
	// IncidentDeps feed the incidents pane (runbooks, heal rules, the audit log).
	IncidentDeps incidents.Deps
	Keys         keymap.Map
	Styles       *themes.Styles
	// ReadOnly refuses every Action at the gate. Keys.SetReadOnly should agree with it;
	// the gate refuses on this flag alone, whatever the keys say.
	ReadOnly bool
	// Recording shows the REC badge; the journal itself is written by Recorded.
	Recording bool
	// TypedConfirmThreshold is the blast radius above which the gate asks for the host
	// count to be typed; 0 means gate.DefaultTypedThreshold.
	TypedConfirmThreshold int
	// Ctx is what commands that wait on engines run under; Cancel ends it, and quitting
	// calls Cancel so every stream and fan-out stops with the console.
	Ctx     context.Context
	Cancel  context.CancelFunc
	Version string
}

// Model is the root model. It is a value: Update returns a changed copy.
type Model struct {
	opt    Options
	keys   keymap.Map
	styles *themes.Styles

	width, height int
	// now is the time of the last ClockMsg; the header's clock shows it.
	now time.Time

	focus     views.PaneID
	fleet     fleet.Model
	exec      exec.Model
	logs      logsview.Model
	rollouts  placeholder.Model
	incidents incidents.Model
	query     query.Model

	help     help.Model
	showHelp bool
	helpTop  int // first line of the help overlay shown
	palette  palette
	gate     gateModal
	flash    flash

	memo *chromeMemo
}

// flash is the status line's message and how many ticks it has left.
type flash struct {
	text  string
	err   bool
	ticks int
}

// New builds the console. Nothing runs until Init's commands do.
func New(opt Options) Model {
	if opt.Ctx == nil {
		opt.Ctx = context.Background()
	}
	if opt.TypedConfirmThreshold <= 0 {
		opt.TypedConfirmThreshold = gate.DefaultTypedThreshold
	}
	if opt.QueryDeps.Ctx == nil {
		opt.QueryDeps.Ctx = opt.Ctx
	}
	if opt.Styles == nil {
		opt.Styles = defaultStyles()
	}
	h := help.New()
	h.Styles = help.Styles(opt.Styles.Help)
	return Model{
		opt:       opt,
		keys:      opt.Keys,
		styles:    opt.Styles,
		fleet:     fleet.New(opt.Hosts, opt.Keys.Fleet, opt.Styles),
		exec:      exec.New(opt.ExecDeps, opt.Keys.Exec, opt.Styles),
		logs:      logsview.New(opt.Keys.Logs, opt.Styles, opt.LogCapacity),
		rollouts:  placeholder.Rollouts(opt.Styles),
		incidents: incidents.New(opt.Keys.Incidents, opt.Styles, opt.IncidentDeps),
		query:     query.New(opt.QueryDeps, opt.Keys.Query, opt.Styles),
		help:      h,
		palette:   newPalette(opt.Styles, opt.Hosts),
		memo:      &chromeMemo{},
	}
}

// Init starts the fleet's report stream and the clock.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.waitForReports(), m.waitForLines(), tick(), m.incidents.Init())
}

// tick sends the next ClockMsg in a second. The time travels in the message, so Update
// never reads the clock.
func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return views.ClockMsg{Now: t} })
}

func (m Model) waitForLines() tea.Cmd {
	if m.opt.Logs == nil {
		return nil
	}
	return logsview.WaitForLines(m.opt.Ctx, m.opt.Logs)
}

func (m Model) waitForReports() tea.Cmd {
	if m.opt.Monitor == nil {
		return nil
	}
	return fleet.WaitForReports(m.opt.Ctx, m.opt.Monitor)
}

// Update implements tea.Model.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	return m.update(msg)
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return m.handleKey(msg)
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		return m, nil
	case views.ClockMsg:
		m.now = msg.Now
		if m.flash.ticks > 0 {
			if m.flash.ticks--; m.flash.ticks == 0 {
				m.flash = flash{}
			}
		}
		cmd := m.broadcast(msg)
		return m, tea.Batch(cmd, tick())
	case views.FlashMsg:
		return m.flashMsg(msg.Text, msg.Err), nil
	case themeLoadedMsg:
		return m.applyTheme(msg.Theme), nil
	case views.FocusPaneMsg:
		return m.focusPane(msg.Pane), nil
	case views.OpenExecMsg:
		m = m.focusPane(views.PaneExec)
		return m, m.updatePane(views.PaneExec, msg)
	case views.RunQueryMsg:
		m = m.focusPane(views.PaneQuery)
		return m, m.updatePane(views.PaneQuery, msg)
	case views.ConfirmActionMsg:
		return m.openGate(msg)
	case views.ActionCancelledMsg:
		return m, m.updatePane(msg.Pane, msg)
	case fleet.HostsPolledMsg:
		// The root re-arms the wait, so exactly one wait is ever pending on the monitor.
		// The incidents pane judges the same reports.
		cmd := m.updatePane(views.PaneFleet, msg)
		icmd := m.updatePane(views.PaneIncidents, msg)
		return m, tea.Batch(cmd, icmd, m.waitForReports())
	case logsview.LinesMsg:
		// Lines that matched a configured marker also mark their host's row in the fleet
		// pane and raise incidents. The root re-arms the one wait on the engine.
		cmd := m.updatePane(views.PaneLogs, msg)
		fcmd := m.updatePane(views.PaneFleet, msg)
		icmd := m.updatePane(views.PaneIncidents, msg)
		return m, tea.Batch(cmd, fcmd, icmd, m.waitForLines())
	}
	// Anything else is some pane's own result (command output, a stream's batch). It is
	// addressed to its pane by type and request id (DESIGN.md §10.5), so every pane gets
	// it and each keeps only its own.
	return m, m.broadcast(msg)
}

// handleKey applies the key precedence: ctrl+c, then whatever modal or input has focus,
// then the global keys, then the focused pane.
func (m Model) handleKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	// ctrl+c is the terminal's own way out; no input or modal may swallow it.
	if msg.Type == tea.KeyCtrlC {
		return m.quit()
	}
	switch {
	case m.gate.active:
		return m.gateKey(msg)
	case m.palette.active:
		return m.paletteKey(msg)
	case m.showHelp:
		return m.helpKey(msg), nil
	case m.paneInputFocused():
		return m, m.updatePane(m.focus, msg)
	}

	g := m.keys.Global
	switch {
	case key.Matches(msg, g.Quit):
		return m.quit()
	case key.Matches(msg, g.Help):
		m.showHelp = true
		return m, nil
	case key.Matches(msg, g.Palette):
		return m.openPalette()
	case key.Matches(msg, g.Filter):
		return m.startFilter()
	case key.Matches(msg, g.NextPane):
		return m.focusPane((m.focus + 1) % views.NumPanes), nil
	case key.Matches(msg, g.PrevPane):
		return m.focusPane((m.focus + views.NumPanes - 1) % views.NumPanes), nil
	}
	for i, b := range []key.Binding{g.Pane1, g.Pane2, g.Pane3, g.Pane4, g.Pane5, g.Pane6} {
		if key.Matches(msg, b) {
			return m.focusPane(views.PaneID(i)), nil
		}
	}
	// A dangerous key disabled by read-only mode says why instead of doing nothing.
	if reason, ok := m.keys.DisabledReasonIn(scope(m.focus), msg); ok {
		return m.flashMsg(reason, true), nil
	}
	return m, m.updatePane(m.focus, msg)
}

func (m Model) helpKey(msg tea.KeyMsg) Model {
	g, nav := m.keys.Global, m.keys.Exec.Nav
	bw, bh := m.bodySize()
	_, w, h := m.helpBox(bw, bh)
	last := max(len(m.helpLines(w))-h, 0)
	switch {
	case key.Matches(msg, g.Help), key.Matches(msg, g.Back), key.Matches(msg, g.Quit):
		// q closes the help rather than quitting: someone reading help is not leaving.
		m.showHelp, m.helpTop = false, 0
	case key.Matches(msg, nav.Up):
		m.helpTop = max(m.helpTop-1, 0)
	case key.Matches(msg, nav.Down):
		m.helpTop = min(m.helpTop+1, last)
	case key.Matches(msg, nav.PageUp):
		m.helpTop = max(m.helpTop-h, 0)
	case key.Matches(msg, nav.PageDown):
		m.helpTop = min(m.helpTop+h, last)
	}
	return m
}

// quit cancels the context every engine command runs under, then ends the program.
// Cancelling happens in the command, so Update itself stays free of effects.
func (m Model) quit() (Model, tea.Cmd) {
	cancel := m.opt.Cancel
	return m, func() tea.Msg {
		if cancel != nil {
			cancel()
		}
		return tea.Quit()
	}
}

func (m Model) startFilter() (Model, tea.Cmd) {
	var cmd tea.Cmd
	switch m.focus {
	case views.PaneFleet:
		m.fleet, cmd = m.fleet.StartFilter()
	case views.PaneLogs:
		m.logs, cmd = m.logs.StartFilter()
	default:
		return m.flashMsg("no filter here", false), nil
	}
	return m, cmd
}

func (m Model) focusPane(p views.PaneID) Model {
	if p >= 0 && p < views.NumPanes {
		m.focus = p
	}
	return m
}

func (m Model) flashMsg(text string, isErr bool) Model {
	m.flash = flash{text: text, err: isErr, ticks: flashTicks}
	return m
}

// resize lays the panes out again. Every pane gets the body's size, focused or not, so
// switching panes never shows a frame drawn for another size.
func (m *Model) resize(w, h int) {
	m.width, m.height = w, h
	bw, bh := m.bodySize()
	m.fleet = m.fleet.SetSize(bw, bh)
	m.exec.SetSize(bw, bh)
	m.logs = m.logs.SetSize(bw, bh)
	m.rollouts.SetSize(bw, bh)
	m.incidents = m.incidents.SetSize(bw, bh)
	m.query.SetSize(bw, bh)
	m.gate.layout(bw, bh, m.styles)
	m.palette.input.Width = max(w-2, 1)
}

// chromeLines are the lines around the body: header, tab bar, help line, status line.
const chromeLines = 4

func (m Model) bodySize() (int, int) {
	return m.width, max(m.height-chromeLines, 0)
}

// updatePane hands msg to one pane. The panes are concrete types, so this is a switch
// rather than an interface call: each gets back its own type, with no assertion after
// Update (DESIGN.md §10.3). It changes m in place: the caller holds its own copy (Update's
// receiver), and copying the whole root for each pane a message visits cost more than
// the panes' own work.
func (m *Model) updatePane(p views.PaneID, msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch p {
	case views.PaneFleet:
		m.fleet, cmd = m.fleet.Update(msg)
	case views.PaneExec:
		m.exec, cmd = m.exec.Update(msg)
	case views.PaneLogs:
		m.logs, cmd = m.logs.Update(msg)
	case views.PaneRollouts:
		m.rollouts, cmd = m.rollouts.Update(msg)
	case views.PaneIncidents:
		m.incidents, cmd = m.incidents.Update(msg)
	case views.PaneQuery:
		m.query, cmd = m.query.Update(msg)
	}
	return cmd
}

func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, views.NumPanes)
	for p := range views.NumPanes {
		cmds = append(cmds, m.updatePane(p, msg))
	}
	return tea.Batch(cmds...)
}

// The root reads a pane through these switches rather than through an interface: each
// calls the concrete pane's method where it lies in m, where boxing the pane into an
// interface put a copy of it on the heap each time a frame asked for its title or keys
// (DESIGN.md §10.3: concrete panes, no assertions).
func (m *Model) paneView(p views.PaneID) string {
	switch p {
	case views.PaneFleet:
		return m.fleet.View()
	case views.PaneExec:
		return m.exec.View()
	case views.PaneLogs:
		return m.logs.View()
	case views.PaneRollouts:
		return m.rollouts.View()
	case views.PaneQuery:
		return m.query.View()
	}
	return m.incidents.View()
}

func (m *Model) paneTitle(p views.PaneID) string {
	switch p {
	case views.PaneFleet:
		return m.fleet.Title()
	case views.PaneExec:
		return m.exec.Title()
	case views.PaneLogs:
		return m.logs.Title()
	case views.PaneRollouts:
		return m.rollouts.Title()
	case views.PaneQuery:
		return m.query.Title()
	}
	return m.incidents.Title()
}

func (m *Model) paneShortHelp(p views.PaneID) []key.Binding {
	switch p {
	case views.PaneFleet:
		return m.fleet.ShortHelp()
	case views.PaneExec:
		return m.exec.ShortHelp()
	case views.PaneLogs:
		return m.logs.ShortHelp()
	case views.PaneRollouts:
		return m.rollouts.ShortHelp()
	case views.PaneQuery:
		return m.query.ShortHelp()
	}
	return m.incidents.ShortHelp()
}

func (m *Model) paneFullHelp(p views.PaneID) [][]key.Binding {
	switch p {
	case views.PaneFleet:
		return m.fleet.FullHelp()
	case views.PaneExec:
		return m.exec.FullHelp()
	case views.PaneLogs:
		return m.logs.FullHelp()
	case views.PaneRollouts:
		return m.rollouts.FullHelp()
	case views.PaneQuery:
		return m.query.FullHelp()
	}
	return m.incidents.FullHelp()
}

func (m *Model) paneInputFocusedIn(p views.PaneID) bool {
	switch p {
	case views.PaneFleet:
		return m.fleet.InputFocused()
	case views.PaneExec:
		return m.exec.InputFocused()
	case views.PaneLogs:
		return m.logs.InputFocused()
	case views.PaneRollouts:
		return m.rollouts.InputFocused()
	case views.PaneQuery:
		return m.query.InputFocused()
	}
	return m.incidents.InputFocused()
}

func (m *Model) paneInputFocused() bool { return m.paneInputFocusedIn(m.focus) }

// scope is the keymap scope of a pane, for DisabledReasonIn.
func scope(p views.PaneID) string {
	switch p {
	case views.PaneFleet:
		return keymap.ScopeFleet
	case views.PaneExec:
		return keymap.ScopeExec
	case views.PaneLogs:
		return keymap.ScopeLogs
	case views.PaneRollouts:
		return keymap.ScopeRollouts
	case views.PaneQuery:
		return keymap.ScopeQuery
	}
	return keymap.ScopeIncidents
}

// SecretInputFocused reports whether the key about to be handled would go into an input
// that hides what is typed (a password), so the journal records "•" instead of the key.
// The root's own inputs count when they echo as passwords; a pane that grows a secret
// input adds its own answer here.
func (m Model) SecretInputFocused() bool {
	switch {
	case m.gate.active:
		return m.gate.secret()
	case m.palette.active:
		return m.palette.secret()
	}
	return false
}

// Focused returns the pane with focus.
func (m Model) Focused() views.PaneID { return m.focus }
