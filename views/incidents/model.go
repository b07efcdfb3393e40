// Package incidents is the Incidents pane: the fleet's current problems (down and
// unhealthy hosts, failing or flapping probes, firing alerts, log markers, runs a crash
// interrupted), worst first, each with the runbooks the `[[heal]]` rules suggest for it.
//
// Choosing a suggestion builds the exact plan for the incident's host (runbook.NewPlan)
// and asks the root's gate with views.ConfirmActionMsg; only the gate's Run starts
// anything, and the run goes through the audit log. Progress per host shows under the
// incident while it runs; the result names its audit records.
//
// Automatic self-heal is the same path with a different proposer. When a rule says
// auto = true and the limiter (heal.Limiter: runs per host per hour, cooldown, share of
// the group in flight) allows it, the pane proposes the run with a countdown of
// Deps.Countdown clock ticks that Dismiss or esc cancels; when it ends, the pane asks
// the gate exactly as a person would, so the operator still confirms and read-only mode
// still refuses. A proposal the operator declines is not made again while the incident
// lasts.
//
// Update is a pure function of the model and a message: reports (fleet.HostsPolledMsg),
// signals (SignalsMsg) and the time (views.ClockMsg) arrive as messages, the audit log
// and the limiter's state file are read and written by commands (msgs.go), and the pane
// starts no goroutine.
package incidents

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/heal"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/ops/runbook"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
	viewsfleet "github.com/opsconsole/opsconsole/views/fleet"
	logsview "github.com/opsconsole/opsconsole/views/logs"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// DefaultCountdown is how many clock ticks (seconds in the console) an automatic
// proposal waits before it asks the gate.
const DefaultCountdown = 10

// maxRuns bounds the finished runs the pane remembers (memory is bounded by design).
const maxRuns = 32

// Deps is what the pane needs from the engine and the config.
type Deps struct {
	Runbooks []runbook.Runbook
	Rules    []heal.Rule
	Pool     *sessions.Pool
	// Audit records every confirmed heal; without it no heal runs (the gate's Run is
	// answered with a cancellation), though incidents and suggestions still show.
	Audit *audit.Log
	// AuditPath is read for interrupted runs at start; empty means Audit's path. A
	// read-only console has no Audit but can still show what a crash left behind.
	AuditPath string
	// Hosts is the inventory: a suggestion runs on its incident's host as defined here.
	Hosts []config.Host
	// ReadOnly stops automatic proposals: the gate would refuse them anyway, and a
	// refusal modal every few seconds would bury the console.
	ReadOnly bool

	// Ctx is what runs are started under; the root's context, so quitting cancels them.
	Ctx context.Context
	// RunOptions tune runs (Concurrency, OutputLimit, DefaultTimeout, Metric, Probe);
	// Reason is set per run. A plan with a metric precondition gets RemoteMetrics when
	// Metric is nil; one with a probe precondition is refused without Probe.
	RunOptions runbook.Options
	// StatePath is the limiter's state file shared with `opsconsole heal`
	// (heal.DefaultStatePath); empty keeps the limiter in memory only. With a path,
	// automatic proposals wait until Init has read it, and stay off if it is unreadable.
	StatePath string
	// Countdown is the ticks an automatic proposal waits; 0 means DefaultCountdown.
	Countdown int
}

// request is a heal asked of the gate and not started yet.
type request struct {
	id       int
	incident string
	host     string
	rule     heal.Rule
	plan     runbook.Plan
	auto     bool
}

// run is a heal that started: its progress, then its outcome.
type run struct {
	request
	reason   string
	cancel   context.CancelFunc
	feed     *feed
	actionID audit.ActionID
	hosts    []HostProgress
	finished bool
	outcome  runbook.Outcome
}

// countdown is an automatic proposal waiting to ask the gate.
type countdown struct {
	incident string
	rule     string
	left     int
}

func (c countdown) active() bool { return c.incident != "" }

type notice struct {
	text  string
	isErr bool
}

// row is a selectable line: an incident's header (sug < 0) or one of its suggestions.
type row struct {
	inc int
	sug int
}

// Model is the Incidents pane. It is a value: Update and SetSize return the new one.
type Model struct {
	deps   Deps
	keys   keymap.Incidents
	local  localKeys
	styles *themes.Styles
	width  int
	height int

	now      time.Time
	rules    []heal.Rule
	hostsBy  map[string]config.Host
	reports  map[string]fleet.Report
	reported bool
	signals  SignalsMsg

	interrupted []heal.Incident
	loadNote    string
	all         []heal.Incident // every current incident, dismissed ones too
	incidents   []heal.Incident // what the list shows
	dismissed   map[string]bool
	declined    map[string]bool // automatic proposals the operator said no to

	rows     []row
	sel      int
	top      int
	expanded string // the incident whose details and plans are open
	plans    map[string][]string

	seq       int
	pending   request
	runs      []run
	countdown countdown
	limiter   heal.Limiter
	// stateLoaded is set once the state file was read; stateErr when it could not be.
	stateLoaded bool
	stateErr    string
	notice      notice
}

// New returns the pane. Nothing is read until Init's commands run.
func New(keys keymap.Incidents, styles *themes.Styles, deps Deps) Model {
	if deps.Countdown <= 0 {
		deps.Countdown = DefaultCountdown
	}
	if deps.AuditPath == "" && deps.Audit != nil {
		deps.AuditPath = deps.Audit.Path()
	}
	m := Model{
		deps:      deps,
		keys:      keys,
		local:     defaultLocalKeys(),
		styles:    styles,
		rules:     deps.Rules,
		hostsBy:   make(map[string]config.Host, len(deps.Hosts)),
		reports:   map[string]fleet.Report{},
		dismissed: map[string]bool{},
		declined:  map[string]bool{},
	}
	for _, h := range deps.Hosts {
		m.hostsBy[h.Name] = h
	}
	return m
}

// Init reads the audit log for interrupted runs and the limiter's state file. The root
// batches it into its own Init.
func (m Model) Init() tea.Cmd {
	return tea.Batch(loadInterruptedCmd(m.deps.AuditPath), loadStateCmd(m.deps.StatePath))
}

// SetSize gives the pane its inner size.
func (m Model) SetSize(w, h int) Model {
	m.width, m.height = max(w, 0), max(h, 0)
	m.layout()
	return m
}

// SetStyles replaces the styles, for a theme change at run time.
func (m Model) SetStyles(s *themes.Styles) Model {
	m.styles = s
	return m
}

// InputFocused is false: the pane has no text input, so global keys always apply.
func (m Model) InputFocused() bool { return false }

// Title names the pane with the number of incidents, and what runs or waits to.
func (m Model) Title() string {
	t := views.PaneIncidents.String()
	if n := len(m.incidents); n > 0 {
		t += " · " + itoa(n)
	}
	if m.countdown.active() {
		t += " · auto in " + itoa(m.countdown.left) + "s"
	}
	if n := m.running(); n > 0 {
		t += " · " + itoa(n) + " running"
	}
	return t
}

// Close cancels the runs in flight, for the root when the console quits (runs started
// under Deps.Ctx stop with it anyway).
func (m Model) Close() {
	for _, r := range m.runs {
		if !r.finished && r.cancel != nil {
			r.cancel()
		}
	}
}

// Incidents returns the incidents the list shows, worst first.
func (m Model) Incidents() []heal.Incident { return m.incidents }

// Update handles a key or a message and returns the new pane.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return m.handleKey(msg)

	case viewsfleet.HostsPolledMsg:
		m.reports = maps.Clone(m.reports)
		for _, r := range msg.Reports {
			if r.Status == health.Unknown && r.Outcome == sessions.OutcomeCancelled {
				continue // a stopped poll says nothing about the host
			}
			if old, ok := m.reports[r.Host]; ok && r.Time.Before(old.Time) {
				continue
			}
			m.reports[r.Host] = r
		}
		m.reported = true
		// Probe results and firing alerts ride on the reports; markers still come as
		// SignalsMsg from the logs engine.
		m.signals.Probes, m.signals.Alerts = heal.SignalsFromReports(m.reports)
		m.rebuild()
		return m.propose()

	case logsview.LinesMsg:
		// Log lines that matched a configured marker (OOM killer, panic) become marker
		// signals; the rest is the logs pane's business.
		if !hasFlag(msg.Lines) {
			return m, nil
		}
		m.signals.Markers = heal.AddMarkers(m.signals.Markers, msg.Lines)
		m.rebuild()
		return m.propose()

	case SignalsMsg:
		if msg.Probes != nil {
			m.signals.Probes = msg.Probes
		}
		if msg.Markers != nil {
			m.signals.Markers = msg.Markers
		}
		if msg.Alerts != nil {
			m.signals.Alerts = msg.Alerts
		}
		m.rebuild()
		return m.propose()

	case views.ClockMsg:
		m.now = msg.Now
		return m.tick()

	case InterruptedLoadedMsg:
		m.loadNote = ""
		switch {
		case msg.Err != nil:
			m.loadNote = "audit log unreadable: " + msg.Err.Error()
		case msg.Problems > 0:
			m.loadNote = "audit log: " + itoa(msg.Problems) + " unreadable " + plural(msg.Problems, "line", "lines") +
				" (opsconsole audit shows them)"
		}
		if msg.Err == nil {
			m.interrupted = heal.FromInterrupted(msg.Runs, msg.MaybeRunning)
		}
		m.rebuild()
		return m, nil

	case AbandonedMsg:
		if msg.Err != nil {
			m.notice = notice{text: "✗ could not close the interrupted run: " + termsafe.Line(msg.Err.Error()), isErr: true}
			return m, nil
		}
		m.interrupted = slices.DeleteFunc(slices.Clone(m.interrupted), func(in heal.Incident) bool {
			return in.Subject == string(msg.ID)
		})
		m.notice = notice{text: "✓ interrupted run " + string(msg.ID) + " closed in the audit log"}
		m.rebuild()
		return m, nil

	case StateLoadedMsg:
		m.stateLoaded = true
		if msg.Err != nil {
			// Without the runs a cron `heal` recorded, the limits cannot be kept: no
			// automatic proposals until the file is fixed (the pane says so).
			m.stateErr = "state file unreadable"
			m.notice = notice{text: "✗ " + termsafe.Line(msg.Err.Error()), isErr: true}
			return m, nil
		}
		m.limiter = m.limiter.Merge(msg.Limiter)
		return m.propose()

	case StateSavedMsg:
		if msg.Err != nil {
			return m, flash("self-heal state not saved: "+msg.Err.Error(), true)
		}
		return m, nil

	case views.ActionCancelledMsg:
		if msg.Pane != views.PaneIncidents || msg.RequestID == 0 || msg.RequestID != m.pending.id {
			return m, nil
		}
		req := m.pending
		m.pending = request{}
		reason := msg.Reason
		if reason == "" {
			reason = "not confirmed"
		}
		// The root's gate answers "another confirmation is open" when it was busy with
		// another question: nobody said no, so an automatic proposal may come back.
		if req.auto && !strings.Contains(reason, "another confirmation is open") {
			// Declined once is declined while the incident lasts: asking again every
			// few seconds would train the operator to press yes.
			m.declined = cloneSet(m.declined)
			m.declined[req.incident] = true
		}
		m.notice = notice{text: "⊘ cancelled: " + req.rule.Runbook + " on " + req.host + ": " + termsafe.Line(reason)}
		return m.propose()

	case HealStartedMsg:
		return m.started(msg)

	case HealProgressMsg:
		i := m.runIndex(msg.ID)
		if i < 0 || m.runs[i].finished {
			return m, nil
		}
		m.runs = slices.Clone(m.runs)
		m.runs[i].hosts = msg.Hosts
		if msg.ActionID != "" {
			m.runs[i].actionID = msg.ActionID
		}
		if msg.Final {
			return m, nil // HealDoneMsg is on its way
		}
		return m, waitForProgress(msg.ID, m.runs[i].feed)

	case HealDoneMsg:
		return m.done(msg)
	}
	return m, nil
}

func (m Model) handleKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Up):
		m.selectRow(m.sel - 1)
	case key.Matches(msg, m.keys.Down):
		m.selectRow(m.sel + 1)
	case key.Matches(msg, m.keys.PageUp):
		m.selectRow(m.sel - max(m.listHeight()/2, 1))
	case key.Matches(msg, m.keys.PageDown):
		m.selectRow(m.sel + max(m.listHeight()/2, 1))
	case key.Matches(msg, m.keys.Top):
		m.selectRow(0)
	case key.Matches(msg, m.keys.Bottom):
		m.selectRow(len(m.rows) - 1)
	case key.Matches(msg, m.keys.Enter):
		m.toggleExpanded()
	case key.Matches(msg, m.keys.Refresh):
		// Dismissed incidents come back and the audit log is read again.
		m.dismissed = map[string]bool{}
		m.rebuild()
		m.notice = notice{text: "reloading interrupted runs; dismissed incidents shown again"}
		return m, loadInterruptedCmd(m.deps.AuditPath)
	case key.Matches(msg, m.local.Cancel), key.Matches(msg, m.keys.Dismiss) && m.countdown.active():
		if m.countdown.active() {
			return m.cancelCountdown("cancelled by you")
		}
		if m.expanded != "" {
			m.expanded = ""
			m.layout()
		}
	case key.Matches(msg, m.keys.Dismiss):
		return m.dismiss()
	case key.Matches(msg, m.keys.RunSuggestion):
		inc, sug, ok := m.selected()
		if !ok {
			m.notice = notice{text: "✗ no incident selected", isErr: true}
			return m, nil
		}
		if inc.Kind == heal.KindInterrupted {
			m.notice = notice{text: "✗ an interrupted run is read, not re-run, from here: opsconsole audit --id " + inc.Subject, isErr: true}
			return m, nil
		}
		if len(inc.Suggestions) == 0 {
			m.notice = notice{text: "✗ no self-heal rule applies to " + termsafe.Line(inc.Host), isErr: true}
			return m, nil
		}
		return m.request(inc, max(sug, 0), false)
	}
	return m, nil
}

// selected returns the incident under the cursor and the suggestion (-1 on its header).
func (m Model) selected() (heal.Incident, int, bool) {
	if m.sel < 0 || m.sel >= len(m.rows) {
		return heal.Incident{}, -1, false
	}
	r := m.rows[m.sel]
	return m.incidents[r.inc], r.sug, true
}

// request asks the gate to run one suggestion on its incident's host: the one path of
// every heal, chosen or automatic.
func (m Model) request(inc heal.Incident, sug int, auto bool) (Model, tea.Cmd) {
	s := inc.Suggestions[sug]
	fail := func(text string) (Model, tea.Cmd) {
		m.notice = notice{text: "✗ " + text, isErr: true}
		if auto {
			m.declined = cloneSet(m.declined)
			m.declined[inc.ID] = true
		}
		return m, nil
	}
	if m.pending.id != 0 {
		return fail("a confirmation is already open for " + m.pending.rule.Runbook + " on " + m.pending.host)
	}
	if m.runningFor(inc.ID) {
		return fail(s.Runbook + " is already running for this incident")
	}
	rule, ok := heal.Find(m.rules, s.Rule)
	if !ok {
		return fail("rule " + s.Rule + " is not configured")
	}
	host, ok := m.hostsBy[inc.Host]
	if !ok {
		return fail(termsafe.Line(inc.Host) + " is not in the inventory")
	}
	plan, err := heal.Plan(rule, m.deps.Runbooks, host)
	if err != nil {
		return fail(termsafe.Line(err.Error()))
	}
	if _, probe := plan.Needs(); probe && m.deps.RunOptions.Probe == nil {
		return fail("runbook " + plan.Runbook + " has a probe precondition and the console has no probe results yet")
	}
	if m.countdown.incident == inc.ID {
		m.countdown = countdown{}
	}
	reason := heal.Reason(inc, s, auto)
	m.seq++
	id := m.seq
	m.pending = request{id: id, incident: inc.ID, host: host.Name, rule: rule, plan: plan, auto: auto}
	who := "asking to run "
	if auto {
		who = "automatic self-heal: asking to run "
	}
	m.notice = notice{text: "… " + who + plan.Runbook + " on " + host.Name + ": confirm in the dialog"}
	ctx, log, hosts := m.deps.Ctx, m.deps.Audit, plan.HostNames
	return m, emit(views.ConfirmActionMsg{
		Action: plan.Action(reason),
		// The reason the gate passes is the plan's own unless the operator gave one.
		Run: func(given string) tea.Cmd {
			if strings.TrimSpace(given) == "" {
				given = reason
			}
			return startCmd(id, ctx, log, hosts, given)
		},
		Pane:      views.PaneIncidents,
		RequestID: id,
	})
}

// started begins a confirmed run, if it answers the request waiting for the gate.
func (m Model) started(msg HealStartedMsg) (Model, tea.Cmd) {
	if msg.ID == 0 || msg.ID != m.pending.id {
		if msg.cancel != nil {
			msg.cancel()
		}
		return m, nil
	}
	req := m.pending
	m.pending = request{}
	r := run{request: req, reason: msg.Reason, cancel: msg.cancel, feed: msg.feed}
	for _, h := range req.plan.HostNames {
		r.hosts = append(r.hosts, HostProgress{Host: h, State: runbook.StatePending})
	}
	m.runs = append(slices.Clip(m.runs), r)
	m.trimRuns()
	m.notice = notice{text: "… running " + req.plan.Runbook + " on " + req.host}
	opt := m.deps.RunOptions
	opt.Reason = msg.Reason
	cmds := []tea.Cmd{
		execCmd(msg.ID, msg, req.plan, m.deps.Pool, m.deps.Audit, opt),
		waitForProgress(msg.ID, msg.feed),
	}
	if req.auto {
		m.limiter = m.limiter.Started(req.rule, req.host, m.now)
		cmds = append(cmds, saveStateCmd(m.deps.StatePath, heal.Retention(m.rules), req.rule, req.host, m.now, true))
	}
	m.layout()
	return m, tea.Batch(cmds...)
}

// done records a run's outcome and says it in the flash line.
func (m Model) done(msg HealDoneMsg) (Model, tea.Cmd) {
	i := m.runIndex(msg.ID)
	if i < 0 || m.runs[i].finished {
		return m, nil
	}
	m.runs = slices.Clone(m.runs)
	r := &m.runs[i]
	r.finished, r.outcome = true, msg.Outcome
	if msg.Outcome.ID != "" {
		r.actionID = msg.Outcome.ID
	}
	for _, h := range msg.Outcome.Hosts {
		for j := range r.hosts {
			if r.hosts[j].Host == h.Host {
				r.hosts = slices.Clone(r.hosts)
				r.hosts[j].State, r.hosts[j].Note = h.State, h.Note
			}
		}
	}
	var cmds []tea.Cmd
	if r.auto {
		m.limiter = m.limiter.Finished(r.rule, r.host, m.now)
		cmds = append(cmds, saveStateCmd(m.deps.StatePath, heal.Retention(m.rules), r.rule, r.host, m.now, false))
	}
	text, bad := outcomeText(*r)
	m.notice = notice{text: text, isErr: bad}
	cmds = append(cmds, flash(text, bad))
	m.layout()
	m, next := m.propose()
	return m, tea.Batch(append(cmds, next)...)
}

// tick advances the countdown by one clock tick; at zero the proposal asks the gate.
func (m Model) tick() (Model, tea.Cmd) {
	if !m.countdown.active() {
		return m.propose()
	}
	if m.pending.id != 0 {
		return m, nil // the gate holds another question; wait for it
	}
	if m.countdown.left > 1 {
		m.countdown.left--
		return m, nil
	}
	c := m.countdown
	m.countdown = countdown{}
	inc, sug, ok := m.proposal(c.incident, c.rule)
	if !ok {
		m.notice = notice{text: "automatic self-heal withdrawn: the incident or its rule no longer applies"}
		return m, nil
	}
	return m.request(inc, sug, true)
}

// proposal finds an incident's automatic suggestion of rule, and whether the limiter
// still lets it run now.
func (m Model) proposal(incID, ruleName string) (heal.Incident, int, bool) {
	for _, inc := range m.incidents {
		if inc.ID != incID {
			continue
		}
		for j, s := range inc.Suggestions {
			if s.Rule != ruleName || !s.Auto {
				continue
			}
			rule, ok := heal.Find(m.rules, s.Rule)
			if !ok {
				return heal.Incident{}, 0, false
			}
			if ok, _ := m.limiter.Allow(rule, inc.Host, m.now); !ok {
				return heal.Incident{}, 0, false
			}
			return inc, j, true
		}
	}
	return heal.Incident{}, 0, false
}

// propose starts a countdown for the worst incident whose automatic rule may run now,
// when nothing else is proposed or waiting for the gate. One proposal at a time: the gate
// asks one question at a time, and an operator can weigh one countdown, not ten.
func (m Model) propose() (Model, tea.Cmd) {
	if m.countdown.active() {
		// Withdraw a proposal whose incident healed or whose limits closed meanwhile.
		if _, _, ok := m.proposal(m.countdown.incident, m.countdown.rule); !ok {
			m.countdown = countdown{}
			m.notice = notice{text: "automatic self-heal withdrawn: the incident or its rule no longer applies"}
		}
		return m, nil
	}
	if !m.autoPossible() || m.pending.id != 0 || m.now.IsZero() {
		return m, nil
	}
	for _, inc := range m.incidents {
		if m.declined[inc.ID] || m.runningFor(inc.ID) {
			continue
		}
		for _, s := range inc.Suggestions {
			if !s.Auto {
				continue
			}
			if _, _, ok := m.proposal(inc.ID, s.Rule); ok {
				m.countdown = countdown{incident: inc.ID, rule: s.Rule, left: m.deps.Countdown}
				m.notice = notice{text: "auto-heal proposed: " + s.Runbook + " on " + termsafe.Line(inc.Host) + " · " +
					m.keys.Dismiss.Help().Key + "/" + m.local.Cancel.Help().Key + " cancels · you confirm at 0"}
				m.layout()
				return m, nil
			}
		}
	}
	return m, nil
}

// autoPossible says whether automatic proposals can happen at all, and why not.
func (m Model) autoPossible() bool { return m.autoOff() == "" }

func (m Model) autoOff() string {
	switch {
	case m.deps.ReadOnly:
		return "read-only"
	case m.deps.Audit == nil:
		return "no audit log"
	case m.stateErr != "":
		return m.stateErr
	case m.deps.StatePath != "" && !m.stateLoaded:
		// Proposing before the runs other processes recorded are known could break
		// the hourly limit they already used up.
		return "reading its state"
	}
	return ""
}

func (m Model) cancelCountdown(why string) (Model, tea.Cmd) {
	c := m.countdown
	m.countdown = countdown{}
	m.declined = cloneSet(m.declined)
	m.declined[c.incident] = true
	m.notice = notice{text: "⊘ automatic self-heal cancelled (" + why + "): " + c.rule}
	m.layout()
	return m, nil
}

// dismiss hides the selected incident until it clears. An interrupted run that is
// certainly dead is closed in the audit log instead, so no console reports it again.
func (m Model) dismiss() (Model, tea.Cmd) {
	inc, _, ok := m.selected()
	if !ok {
		return m, nil
	}
	if inc.Kind == heal.KindInterrupted && inc.Run != nil && !inc.MaybeRunning && m.deps.Audit != nil {
		m.notice = notice{text: "closing interrupted run " + inc.Subject + " in the audit log"}
		return m, abandonCmd(m.deps.Audit, *inc.Run)
	}
	m.dismissed = cloneSet(m.dismissed)
	m.dismissed[inc.ID] = true
	m.notice = notice{text: "dismissed " + termsafe.Line(inc.ID) + " until it clears (" + m.keys.Refresh.Help().Key + " shows it again)"}
	m.rebuild()
	return m, nil
}

// rebuild evaluates the rules over the latest reports and signals and refreshes the
// list, keeping the cursor on the row it was on.
func (m *Model) rebuild() {
	var selID string
	selSug := -1
	if inc, sug, ok := m.selected(); ok {
		selID, selSug = inc.ID, sug
	}
	reports := make([]fleet.Report, 0, len(m.reports))
	for _, r := range m.reports {
		reports = append(reports, r)
	}
	ev := heal.Evaluator{}
	if s := m.signals.Probes; s != nil {
		ev.Probes = func(h string) []heal.ProbeState { return s[h] }
	}
	if s := m.signals.Markers; s != nil {
		ev.Markers = func(h string) []heal.MarkerHit { return s[h] }
	}
	if s := m.signals.Alerts; s != nil {
		ev.Alerts = func(h string) []heal.Alert { return s[h] }
	}
	cur := append(ev.Evaluate(m.rules, reports, m.now), m.interrupted...)
	heal.Sort(cur)
	cur = heal.Track(m.all, cur)
	m.all = cur

	// Dismissals and declines last as long as their incident: once it clears, the next
	// occurrence is news again.
	live := map[string]bool{}
	for _, in := range cur {
		live[in.ID] = true
	}
	m.dismissed = keepLive(m.dismissed, live)
	m.declined = keepLive(m.declined, live)
	m.incidents = slices.DeleteFunc(slices.Clone(cur), func(in heal.Incident) bool { return m.dismissed[in.ID] })
	if m.expanded != "" && !live[m.expanded] {
		m.expanded = ""
	}

	m.rows = m.rows[:0:0]
	for i, in := range m.incidents {
		m.rows = append(m.rows, row{inc: i, sug: -1})
		for j := range in.Suggestions {
			m.rows = append(m.rows, row{inc: i, sug: j})
		}
	}
	m.sel = 0
	for i, r := range m.rows {
		if m.incidents[r.inc].ID == selID && (r.sug == selSug || r.sug < 0) {
			m.sel = i
			if r.sug == selSug {
				break
			}
		}
	}
	m.plans = m.planLines()
	m.layout()
}

func keepLive(set, live map[string]bool) map[string]bool {
	changed := false
	for id := range set {
		if !live[id] {
			changed = true
			break
		}
	}
	if !changed {
		return set
	}
	out := map[string]bool{}
	for id := range set {
		if live[id] {
			out[id] = true
		}
	}
	return out
}

func cloneSet(s map[string]bool) map[string]bool {
	out := make(map[string]bool, len(s)+1)
	maps.Copy(out, s)
	return out
}

func (m *Model) toggleExpanded() {
	inc, _, ok := m.selected()
	if !ok {
		return
	}
	if m.expanded == inc.ID {
		m.expanded = ""
	} else {
		m.expanded = inc.ID
	}
	m.plans = m.planLines()
	m.layout()
}

// planLines renders the exact plan of each suggestion of the expanded incident, so the
// operator can read what R would ask to run before asking.
func (m Model) planLines() map[string][]string {
	if m.expanded == "" {
		return nil
	}
	out := map[string][]string{}
	for _, inc := range m.incidents {
		if inc.ID != m.expanded {
			continue
		}
		host, ok := m.hostsBy[inc.Host]
		for _, s := range inc.Suggestions {
			rule, found := heal.Find(m.rules, s.Rule)
			if !ok || !found {
				continue
			}
			p, err := heal.Plan(rule, m.deps.Runbooks, host)
			if err != nil {
				out[s.Rule] = []string{"✗ " + err.Error()}
				continue
			}
			out[s.Rule] = strings.Split(strings.TrimRight(p.Text(), "\n"), "\n")
		}
	}
	return out
}

func (m *Model) trimRuns() {
	for len(m.runs) > maxRuns {
		i := slices.IndexFunc(m.runs, func(r run) bool { return r.finished })
		if i < 0 {
			return
		}
		m.runs = slices.Delete(slices.Clone(m.runs), i, i+1)
	}
}

func (m Model) runIndex(id int) int {
	return slices.IndexFunc(m.runs, func(r run) bool { return r.id == id })
}

// lastRun is the newest run for an incident.
func (m Model) lastRun(incID string) (run, bool) {
	for i := len(m.runs) - 1; i >= 0; i-- {
		if m.runs[i].incident == incID {
			return m.runs[i], true
		}
	}
	return run{}, false
}

func (m Model) runningFor(incID string) bool {
	r, ok := m.lastRun(incID)
	return ok && !r.finished
}

func (m Model) running() int {
	n := 0
	for _, r := range m.runs {
		if !r.finished {
			n++
		}
	}
	return n
}

// Rows above the list: the summary and the notice line.
const rowsAbove = 2

func (m Model) listHeight() int { return max(m.height-rowsAbove, 1) }

func (m *Model) selectRow(i int) {
	m.sel = min(max(i, 0), max(len(m.rows)-1, 0))
	m.layout()
}

// layout keeps the selected row in view: it scrolls as little as it can, and shows the
// whole block of the selected incident when it fits.
func (m *Model) layout() {
	m.sel = min(max(m.sel, 0), max(len(m.rows)-1, 0))
	lines, selLine, blockEnd := m.listLines()
	h := m.listHeight()
	if selLine >= 0 {
		if blockEnd-m.top > h {
			m.top = max(blockEnd-h, 0)
		}
		if selLine >= m.top+h {
			m.top = selLine - h + 1
		}
		if selLine < m.top {
			m.top = selLine
		}
	}
	m.top = min(max(m.top, 0), max(len(lines)-h, 0))
}

func hasFlag(lines []logs.Line) bool {
	for _, l := range lines {
		if l.Flag != "" {
			return true
		}
	}
	return false
}
