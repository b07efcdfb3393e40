// Package exec is the ad-hoc exec pane: type a host pattern and a command, run it across
// the fleet, and read the answers gathered the way clush -b gathers them (identical
// outputs once, under a folded host list), with drill-down into one host's full output
// and a re-run on the hosts that did not succeed.
//
// A command that is not on the read-only list is an Action and goes through the gate: the
// pane asks the root with views.ConfirmActionMsg and runs nothing until the root calls
// Run. The fan-out itself happens in the sessions engine; the pane only holds the channel
// its results arrive on, read in batches by a re-armed Cmd (msgs.go). Update does no I/O
// and never reads the clock: durations come from the results' own timestamps.
//
// Focus contract with the root. The pane has three places for focus: the host-pattern
// input, the command input and the results. While InputFocused reports true the root
// forwards every key except ctrl+c to the pane, so tab, shift+tab, esc, q and the digits
// are the pane's while typing: tab and shift+tab move between the inputs and the results,
// esc leaves the inputs for the results. From the results the root's global keys apply
// again (tab is the next pane, q quits), and exec.edit_command / exec.edit_hosts bring
// the inputs back. In a drill-down the pane also wants esc (back to the list): a root
// whose global Back key is esc should let the pane have it first.
package exec

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/ops/gather"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

// Deps is what the pane needs from the engine and the config.
type Deps struct {
	Pool             *sessions.Pool
	Hosts            []config.Host
	ReadOnlyCommands []string
	FanOut           sessions.FanOutOptions
	// ReadOnly refuses every command that could change hosts, before the gate.
	ReadOnly bool
	// Audit receives every confirmed Action's intent (fsync'd before any host sees the
	// command) and its results. Without it, commands that could change hosts are refused.
	Audit *audit.Log
}

// DefaultPattern is the host pattern the pane starts with.
const DefaultPattern = "all"

// historyMax bounds the command history (memory is bounded by design, DESIGN.md §3).
const historyMax = 200

type focus int

const (
	focusHosts focus = iota
	focusCommand
	focusResults
	numFocus
)

// Rows above the results: host pattern, command, notice line, summary line. A
// drill-down adds its own header line.
const (
	rowsAbove    = 4
	detailHeader = 1
)

// request is a run asked for and not started yet: waiting for the gate, or for the
// fan-out to begin.
type request struct {
	id      int
	command string
	hosts   []config.Host
}

// run is the current fan-out and what it has answered so far. results and lines are
// only ever appended to, so an older copy of the Model still sees what it saw.
type run struct {
	id         int
	command    string
	hosts      []config.Host
	ch         <-chan sessions.Result
	cancel     func()
	results    []sessions.Result
	lines      [][]string // sanitised output of results[i], made once on arrival
	finished   bool
	cancelling bool
}

func (r run) active() bool { return r.id != 0 && !r.finished }

// notice is the pane's inline line under the inputs.
type notice struct {
	text  string
	isErr bool
}

// Model is the exec pane.
type Model struct {
	deps   Deps
	keys   keymap.Exec
	fields fieldKeys
	styles *themes.Styles
	width  int
	height int

	focus      focus
	hostsIn    lineInput
	cmdIn      lineInput
	resolved   []config.Host
	resolveErr error

	history []string
	histPos int    // index into history while browsing; len(history) when not
	draft   string // what was typed before browsing history began

	notice notice

	seq     int // last request id handed out
	pending request
	run     run

	grouped bool
	entries []entry
	sel     int
	offset  int // first line of the results list shown

	detail     bool
	detailName string // the host drilled into
	detailPos  int    // its place among the run's answered hosts in name order
	vp         viewport.Model
}

// New returns the pane with the host pattern "all" resolved and the command input
// focused: the pane exists to type a command.
func New(deps Deps, keys keymap.Exec, styles *themes.Styles) Model {
	m := Model{
		deps:    deps,
		keys:    keys,
		fields:  defaultFieldKeys(),
		styles:  styles,
		grouped: true,
		focus:   focusCommand,
		hostsIn: newLineInput("hosts", "pattern: web-*, tag:db, group:prod, !name"),
		cmdIn:   newLineInput("cmd  ", "command to run on every host"),
		vp:      viewport.New(0, 0),
	}
	m.hostsIn.SetValue(DefaultPattern)
	m.resolve()
	m.setFocus(focusCommand)
	return m
}

// SetStyles replaces the styles, for a theme change at run time.
func (m *Model) SetStyles(s *themes.Styles) {
	m.styles = s
	m.refreshDetail()
}

// SetSize sets the area the pane draws in.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(width, 0), max(height, 0)
	m.vp.Width = max(m.width, 1)
	m.vp.Height = max(m.height-rowsAbove-detailHeader, 1)
	m.layout()
	m.refreshDetail()
}

// InputFocused reports whether the user is typing in the host pattern or the command,
// so the root passes keys through instead of taking letters as global keys.
func (m Model) InputFocused() bool { return m.focus == focusHosts || m.focus == focusCommand }

// Title names the pane, with the command of the current run and its progress.
func (m Model) Title() string {
	t := views.PaneExec.String()
	if m.run.id == 0 {
		return t
	}
	t += " · " + cut(sanitizeText(m.run.command), 24) + " " +
		strconv.Itoa(len(m.run.results)) + "/" + strconv.Itoa(len(m.run.hosts))
	if m.run.active() {
		t += " …"
	}
	return t
}

// Close stops the run in flight, if any: for the root when the program quits or the pane
// goes away (DESIGN.md §3: long work is cancellable by its owner).
func (m *Model) Close() {
	if m.run.active() && m.run.cancel != nil {
		m.run.cancel()
		m.run.cancelling = true
	}
}

// Update handles a key or a message and returns the new pane.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case m.InputFocused():
			return m.updateInput(msg)
		case m.detail:
			return m.updateDetail(msg)
		}
		return m.updateResults(msg)

	case views.OpenExecMsg:
		m.hostsIn.SetValue(msg.Pattern)
		m.resolve()
		m.setFocus(focusCommand)
		return m, nil

	case views.ActionCancelledMsg:
		if msg.Pane != views.PaneExec || msg.RequestID != m.pending.id || m.pending.id == 0 {
			return m, nil
		}
		m.pending = request{}
		reason := msg.Reason
		if reason == "" {
			reason = "not confirmed"
		}
		m.notice = notice{text: "⊘ cancelled: " + sanitizeText(reason)}
		// Back to the command: whoever said no most likely wants to change it.
		m.setFocus(focusCommand)
		return m, nil

	case RunStartedMsg:
		return m.started(msg)

	case ResultsMsg:
		return m.received(msg)
	}
	return m, nil
}

// updateInput handles keys while one of the inputs has focus.
func (m Model) updateInput(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.fields.Next):
		m.setFocus((m.focus + 1) % numFocus)
		return m, nil
	case key.Matches(msg, m.fields.Prev):
		m.setFocus((m.focus + numFocus - 1) % numFocus)
		return m, nil
	case key.Matches(msg, m.fields.Leave):
		m.setFocus(focusResults)
		return m, nil
	case key.Matches(msg, m.fields.Submit):
		if m.focus == focusHosts {
			m.setFocus(focusCommand)
			return m, nil
		}
		return m.submit()
	case m.focus == focusCommand && key.Matches(msg, m.fields.HistPrev):
		m.historyStep(-1)
		return m, nil
	case m.focus == focusCommand && key.Matches(msg, m.fields.HistNext):
		m.historyStep(+1)
		return m, nil
	}

	in := &m.cmdIn
	if m.focus == focusHosts {
		in = &m.hostsIn
	}
	before := in.Value()
	*in = in.update(msg)
	if in.Value() == before {
		return m, nil
	}
	if m.focus == focusHosts {
		m.resolve()
	}
	// A complaint about what was typed is stale once it is being fixed.
	if m.notice.isErr {
		m.notice = notice{}
	}
	return m, nil
}

// updateResults handles keys on the results list.
func (m Model) updateResults(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Up), key.Matches(msg, m.keys.PrevHost):
		m.selectEntry(m.sel - 1)
	case key.Matches(msg, m.keys.Down), key.Matches(msg, m.keys.NextHost):
		m.selectEntry(m.sel + 1)
	case key.Matches(msg, m.keys.PageUp):
		m.page(-1)
	case key.Matches(msg, m.keys.PageDown):
		m.page(+1)
	case key.Matches(msg, m.keys.Top):
		m.selectEntry(0)
	case key.Matches(msg, m.keys.Bottom):
		m.selectEntry(len(m.entries) - 1)
	case key.Matches(msg, m.fields.Open):
		if m.sel < len(m.entries) {
			m.openDetail(m.entries[m.sel].hosts[0])
		}
	case key.Matches(msg, m.fields.Next):
		// Only reached when the root lets tab through: back round to the inputs.
		m.setFocus(focusHosts)
	case key.Matches(msg, m.fields.Prev):
		m.setFocus(focusCommand)
	default:
		return m.updateCommon(msg)
	}
	return m, nil
}

// updateDetail handles keys in one host's full output.
func (m Model) updateDetail(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.fields.Leave):
		m.closeDetail()
	case key.Matches(msg, m.keys.Up):
		m.vp.LineUp(1)
	case key.Matches(msg, m.keys.Down):
		m.vp.LineDown(1)
	case key.Matches(msg, m.keys.PageUp):
		m.vp.PageUp()
	case key.Matches(msg, m.keys.PageDown):
		m.vp.PageDown()
	case key.Matches(msg, m.keys.Top):
		m.vp.GotoTop()
	case key.Matches(msg, m.keys.Bottom):
		m.vp.GotoBottom()
	case key.Matches(msg, m.keys.NextHost):
		m.stepDetail(+1)
	case key.Matches(msg, m.keys.PrevHost):
		m.stepDetail(-1)
	default:
		return m.updateCommon(msg)
	}
	return m, nil
}

// updateCommon handles the pane keys that work in the list and in a drill-down alike.
func (m Model) updateCommon(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.EditCommand):
		m.closeDetail()
		m.setFocus(focusCommand)
	case key.Matches(msg, m.keys.EditHosts):
		m.closeDetail()
		m.setFocus(focusHosts)
	case key.Matches(msg, m.keys.ToggleGroup):
		m.grouped = !m.grouped
		m.rebuild()
	case key.Matches(msg, m.keys.Cancel):
		return m.cancelRun()
	case key.Matches(msg, m.keys.Run):
		return m.submit()
	case key.Matches(msg, m.keys.RerunFailed):
		return m.rerunFailed()
	}
	return m, nil
}

func (m *Model) setFocus(f focus) {
	m.focus = f
	m.hostsIn.focused = f == focusHosts
	m.cmdIn.focused = f == focusCommand
}

// resolve selects the hosts of the pattern as typed. config.Resolve is a pure function
// of the inventory, so doing it on every keystroke is what makes the count live.
func (m *Model) resolve() {
	m.resolved, m.resolveErr = config.Resolve(m.deps.Hosts, m.hostsIn.Value())
	if m.resolveErr == nil && len(m.resolved) == 0 {
		m.resolveErr = errNoHosts
	}
}

var errNoHosts = errors.New("the inventory has no hosts")

func (m *Model) historyStep(d int) {
	pos := m.histPos + d
	if pos < 0 || pos > len(m.history) {
		return
	}
	if m.histPos == len(m.history) {
		m.draft = m.cmdIn.Value()
	}
	m.histPos = pos
	if pos == len(m.history) {
		m.cmdIn.SetValue(m.draft)
	} else {
		m.cmdIn.SetValue(m.history[pos])
	}
}

func (m *Model) remember(command string) {
	if n := len(m.history); n == 0 || m.history[n-1] != command {
		// A fresh slice each time: the old Model's history stays as it was.
		m.history = append(slices.Clip(m.history), command)
		if len(m.history) > historyMax {
			m.history = slices.Clone(m.history[len(m.history)-historyMax:])
		}
	}
	m.histPos = len(m.history)
	m.draft = ""
}

// submit runs the command in the command input on the hosts of the pattern.
func (m Model) submit() (Model, tea.Cmd) {
	command := strings.TrimSpace(m.cmdIn.Value())
	if command == "" {
		m.notice = notice{text: "✗ type a command first", isErr: true}
		m.setFocus(focusCommand)
		return m, nil
	}
	m.remember(command)
	if m.resolveErr != nil {
		m.notice = notice{text: "✗ fix the host pattern first: " + sanitizeText(m.resolveErr.Error()), isErr: true}
		return m, nil
	}
	return m.request(command, m.resolved)
}

// request is the one path every run takes, typed or re-run: a read-only command starts
// at once, anything else goes to the gate, and read-only mode refuses it before that.
func (m Model) request(command string, hosts []config.Host) (Model, tea.Cmd) {
	if m.run.active() && !m.run.cancelling {
		m.notice = notice{text: "✗ a run is in progress: cancel it with " + m.keys.Cancel.Help().Key + " first", isErr: true}
		return m, nil
	}
	if m.deps.Pool == nil {
		m.notice = notice{text: "✗ no session pool: the console was started without one", isErr: true}
		return m, nil
	}
	readOnlyCmd := config.IsReadOnlyCommand(command, m.deps.ReadOnlyCommands)
	if !readOnlyCmd && m.deps.ReadOnly {
		const why = "read-only mode: this command could change hosts"
		m.notice = notice{text: "✗ " + why, isErr: true}
		return m, flash(why, true)
	}

	m.seq++
	id := m.seq
	hosts = slices.Clone(hosts)
	m.pending = request{id: id, command: command, hosts: hosts}
	m.setFocus(focusResults)
	start := runCmd(id, m.deps.Pool, hosts, command, m.deps.FanOut)
	if readOnlyCmd {
		m.notice = notice{text: "starting " + sanitizeText(command) + " on " + plural(len(hosts), "host")}
		return m, start
	}
	m.notice = notice{text: "… waiting for confirmation: " + sanitizeText(command) + " on " + plural(len(hosts), "host")}
	action := execAction(command, hosts)
	pool, log, opt := m.deps.Pool, m.deps.Audit, m.deps.FanOut
	return m, emit(views.ConfirmActionMsg{
		Action: action,
		// The confirmed run goes through the audit log: intent with the operator's
		// reason first, then the fan-out.
		Run: func(reason string) tea.Cmd {
			action.Reason = reason
			return auditedRunCmd(id, log, action, pool, hosts, command, opt)
		},
		Pane:      views.PaneExec,
		RequestID: id,
	})
}

// execAction is the gate's view of an ad-hoc command: one step, every host.
func execAction(command string, hosts []config.Host) gate.Action {
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	return gate.Action{Kind: "exec", Name: command, Steps: []gate.Step{{Hosts: names, Command: command}}}
}

// rerunFailed runs the last command again on the hosts that did not end ok.
func (m Model) rerunFailed() (Model, tea.Cmd) {
	if m.run.id == 0 {
		m.notice = notice{text: "✗ nothing has run yet", isErr: true}
		return m, nil
	}
	// A host with no result yet (a cancelled run still draining) did not succeed either.
	ok := map[string]bool{}
	for _, r := range m.run.results {
		if r.Outcome == sessions.OutcomeOK {
			ok[r.Host] = true
		}
	}
	var hosts []config.Host
	for _, h := range m.run.hosts {
		if !ok[h.Name] {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		m.notice = notice{text: "✓ no failed hosts to re-run"}
		return m, nil
	}
	m.closeDetail()
	return m.request(m.run.command, hosts)
}

// cancelRun stops the fan-out in flight. Hosts not done report cancelled; the pane keeps
// reading until the run's channel closes, and a new run may start meanwhile.
func (m Model) cancelRun() (Model, tea.Cmd) {
	if !m.run.active() {
		m.notice = notice{text: "nothing is running"}
		return m, nil
	}
	if m.run.cancel != nil {
		m.run.cancel()
	}
	m.run.cancelling = true
	m.notice = notice{text: "⊘ cancelling " + sanitizeText(m.run.command)}
	return m, nil
}

// started makes a started fan-out the current run, if it answers the latest request.
func (m Model) started(msg RunStartedMsg) (Model, tea.Cmd) {
	if msg.ID == 0 || msg.ID != m.pending.id {
		// A run nobody waits for any more: stop it rather than let it work unseen.
		if msg.cancel != nil {
			msg.cancel()
		}
		return m, nil
	}
	if m.run.active() && m.run.cancel != nil {
		m.run.cancel()
	}
	m.run = run{
		id:      msg.ID,
		command: m.pending.command,
		hosts:   m.pending.hosts,
		ch:      msg.ch,
		cancel:  msg.cancel,
	}
	m.pending = request{}
	m.notice = notice{}
	m.detail = false
	m.sel, m.offset = 0, 0
	m.rebuild()
	return m, waitForResults(msg.ID, msg.ch)
}

// received adds a batch of results to the current run; a batch of any other run is
// dropped.
func (m Model) received(msg ResultsMsg) (Model, tea.Cmd) {
	if msg.ID != m.run.id || m.run.finished {
		return m, nil
	}
	// Clip first, so appending copies instead of writing into an array an older Model
	// shares: Update stays a function of its inputs even if a caller keeps both.
	m.run.results = append(slices.Clip(m.run.results), msg.Results...)
	lines := slices.Clip(m.run.lines)
	for _, r := range msg.Results {
		lines = append(lines, sanitizeLines(gather.Output(r)))
	}
	m.run.lines = lines
	m.rebuild()
	if m.detail {
		// Hosts that just answered may sort before the one being read.
		m.detailPos = slices.Index(m.sortedHosts(), m.detailName)
	}
	if !msg.Done {
		return m, waitForResults(m.run.id, m.run.ch)
	}
	m.run.finished = true
	m.run.ch = nil
	if m.run.cancel != nil {
		// Every host is done; this only releases the context.
		m.run.cancel()
	}
	if m.run.cancelling {
		m.notice = notice{text: "⊘ cancelled " + sanitizeText(m.run.command)}
	}
	t := countOutcomes(m.run.results)
	text := "exec " + cut(sanitizeText(m.run.command), 40) + ": " + strconv.Itoa(t.ok) + "/" + strconv.Itoa(len(m.run.hosts)) + " ok"
	return m, flash(text, t.ok != len(m.run.hosts))
}

// rebuild recomputes the list's entries from the run's results (grouped or per host),
// keeping the selection on the host it was on: groups reorder as results arrive.
func (m *Model) rebuild() {
	var selHost string
	if m.sel >= 0 && m.sel < len(m.entries) {
		selHost = m.entries[m.sel].hosts[0]
	}
	m.entries = buildEntries(m.run.results, m.run.lines, m.grouped)
	m.sel = 0
	if selHost != "" {
		if i := entryOf(m.entries, selHost); i >= 0 {
			m.sel = i
		}
	}
	m.layout()
}

// buildEntries makes the list's blocks: identical outputs gathered (gather.Groups), or
// one block per host in natural host order.
func buildEntries(results []sessions.Result, lines [][]string, grouped bool) []entry {
	idx := make(map[string]int, len(results))
	for i, r := range results {
		idx[r.Host] = i
	}
	if !grouped {
		names := make([]string, 0, len(results))
		for _, r := range results {
			names = append(names, r.Host)
		}
		gather.SortHosts(names)
		out := make([]entry, len(names))
		for i, n := range names {
			r := results[idx[n]]
			out[i] = entry{hosts: []string{n}, outcome: r.Outcome, exitCode: r.ExitCode, lines: lines[idx[n]], dropped: r.Dropped}
		}
		return out
	}
	groups := gather.Groups(results)
	out := make([]entry, len(groups))
	for i, g := range groups {
		first := idx[g.Hosts[0]]
		out[i] = entry{hosts: g.Hosts, outcome: g.Outcome, exitCode: g.ExitCode, lines: lines[first], dropped: results[first].Dropped}
	}
	return out
}

func entryOf(entries []entry, host string) int {
	for i, e := range entries {
		if slices.Contains(e.hosts, host) {
			return i
		}
	}
	return -1
}

// resolveWidth is the room at the right of the host pattern for "→ N hosts" or the
// pattern's error.
func (m Model) resolveWidth() int { return min(44, m.width/2) }

// listHeight is the number of lines the results list has.
func (m Model) listHeight() int { return max(m.height-rowsAbove, 1) }

// bodyMax is how many output lines one block shows in the list: a third of the list, so
// a few groups are visible at once; drill-down shows the rest.
func (m Model) bodyMax() int { return max(m.listHeight()/3, 3) }

// blockStarts returns the first line of each entry in the list, and the total.
func (m Model) blockStarts() ([]int, int) {
	starts := make([]int, len(m.entries))
	n, bm := 0, m.bodyMax()
	for i, e := range m.entries {
		starts[i] = n
		n += blockHeight(e, bm)
	}
	return starts, n
}

func (m *Model) selectEntry(i int) {
	m.sel = min(max(i, 0), max(len(m.entries)-1, 0))
	m.layout()
}

// page scrolls the list by a screen and selects the first block that starts in view.
func (m *Model) page(dir int) {
	starts, total := m.blockStarts()
	if len(starts) == 0 {
		return
	}
	h := m.listHeight()
	m.offset = min(max(m.offset+dir*h, 0), max(total-h, 0))
	m.sel = len(starts) - 1
	for i, s := range starts {
		if s >= m.offset {
			m.sel = i
			break
		}
	}
	m.layout()
}

// layout keeps the selection in range and its block in view (the whole block when it
// fits, its header at least), and sizes the inputs.
func (m *Model) layout() {
	m.sel = min(max(m.sel, 0), max(len(m.entries)-1, 0))
	starts, total := m.blockStarts()
	h := m.listHeight()
	if len(starts) > 0 {
		top := starts[m.sel]
		bottom := total
		if m.sel+1 < len(starts) {
			bottom = starts[m.sel+1]
		}
		if bottom-m.offset > h {
			// Scroll down to the first block start that shows the selection whole, so
			// the top line is a header, not the tail of a block whose hosts are hidden.
			m.offset = top
			for _, s := range starts[:m.sel] {
				if s >= bottom-h {
					m.offset = s
					break
				}
			}
		}
		if top < m.offset {
			m.offset = top
		}
	}
	m.offset = min(max(m.offset, 0), max(total-h, 0))

	m.hostsIn.width = max(m.width-m.hostsIn.headWidth()-m.resolveWidth()-2, 8)
	m.cmdIn.width = max(m.width-m.cmdIn.headWidth(), 8)
}

// sortedHosts is the run's answered hosts in natural order, the order drill-down steps
// through.
func (m Model) sortedHosts() []string {
	names := make([]string, len(m.run.results))
	for i, r := range m.run.results {
		names[i] = r.Host
	}
	gather.SortHosts(names)
	return names
}

func (m *Model) openDetail(host string) {
	if _, ok := m.resultOf(host); !ok {
		return
	}
	m.detail, m.detailName = true, host
	m.detailPos = slices.Index(m.sortedHosts(), host)
	m.refreshDetail()
	m.vp.GotoTop()
}

// stepDetail moves the drill-down to the next or previous host in name order.
func (m *Model) stepDetail(d int) {
	names := m.sortedHosts()
	i := slices.Index(names, m.detailName)
	j := min(max(i+d, 0), len(names)-1)
	if i < 0 || j == i {
		return
	}
	m.openDetail(names[j])
}

// closeDetail returns to the list with the host just read selected.
func (m *Model) closeDetail() {
	if !m.detail {
		return
	}
	m.detail = false
	if i := entryOf(m.entries, m.detailName); i >= 0 {
		m.sel = i
	}
	m.layout()
}

// resultOf finds a host's result in the current run.
func (m Model) resultOf(host string) (sessions.Result, bool) {
	for _, r := range m.run.results {
		if r.Host == host {
			return r, true
		}
	}
	return sessions.Result{}, false
}

// refreshDetail fills the viewport with the drilled-into host's output at the current
// width and styles. A host's result never changes once it arrived, so this runs only on
// entering, stepping, resizing and a theme change.
func (m *Model) refreshDetail() {
	if !m.detail {
		return
	}
	r, ok := m.resultOf(m.detailName)
	if !ok {
		m.detail = false
		return
	}
	y := m.vp.YOffset
	m.vp.SetContent(strings.Join(detailLines(r, m.styles, m.vp.Width), "\n"))
	m.vp.SetYOffset(y)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
