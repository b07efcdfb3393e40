package incidents

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/heal"
	"github.com/opsconsole/opsconsole/ops/runbook"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/views"
)

// The pane's commands and the messages they answer with. Every command captures values
// (the pool and the audit log are the engine's, safe for concurrent use), never the
// model (DESIGN.md §10.6), and the pane starts no goroutine: a run is one command that
// blocks in runbook.Run, which Bubble Tea runs off the Update path, and its progress
// reaches the pane through a second, re-armed command.

// SignalsMsg carries the signals a health report does not: probe results, log markers
// and firing alerts, by host. A nil map leaves that signal as it was; any other map
// replaces it whole. Until the probe, log and alert engines publish it, rules that need
// these signals never apply in the console.
type SignalsMsg struct {
	Probes  map[string][]heal.ProbeState
	Markers map[string][]heal.MarkerHit
	Alerts  map[string][]heal.Alert
}

// InterruptedLoadedMsg carries the runs the audit log holds without a done record.
type InterruptedLoadedMsg struct {
	Runs []audit.Run
	// MaybeRunning names the runs whose process may still be alive.
	MaybeRunning map[audit.ActionID]bool
	// Problems counts lines the log could not read (a torn last line).
	Problems int
	Err      error
}

// StateLoadedMsg carries the self-heal limiter's state from its file.
type StateLoadedMsg struct {
	Limiter heal.Limiter
	Err     error
}

// StateSavedMsg says whether the limiter's state reached its file.
type StateSavedMsg struct{ Err error }

// AbandonedMsg says an interrupted run was closed in the audit log (or why not).
type AbandonedMsg struct {
	ID  audit.ActionID
	Err error
}

// HealStartedMsg says a confirmed heal is about to run: the pane keeps the cancel func
// and starts the run and its progress reader. ID is the request it answers.
type HealStartedMsg struct {
	ID     int
	Reason string
	ctx    context.Context
	cancel context.CancelFunc
	feed   *feed
}

// HealProgressMsg carries where each host of a run stands now. Final marks the last
// snapshot, taken after the run returned: the reader is not re-armed after it.
type HealProgressMsg struct {
	ID       int
	ActionID audit.ActionID
	Hosts    []HostProgress
	Final    bool
}

// HealDoneMsg says a run ended, and how.
type HealDoneMsg struct {
	ID      int
	Outcome runbook.Outcome
}

// HostProgress is one host's place in a run.
type HostProgress struct {
	Host  string
	State runbook.HostState
	// Step, Phase and Command are the command the host is running or ran last.
	Step    int
	Phase   string
	Command string
	Note    string
}

// feed collects a run's events for the pane. The engine's observer must return at once
// (runbook.Observer), so it only updates the latest state of each host under a lock and
// pokes a one-slot channel; the pane's reader takes a snapshot whenever poked. Memory is
// one entry per host however many events the run produces, and nothing is lost: a
// snapshot always holds every host's latest state.
type feed struct {
	mu       sync.Mutex
	order    []string
	hosts    map[string]*HostProgress
	actionID audit.ActionID
	notify   chan struct{}
	done     chan struct{}
}

func newFeed(hosts []string) *feed {
	f := &feed{order: slices.Clone(hosts), hosts: make(map[string]*HostProgress, len(hosts)),
		notify: make(chan struct{}, 1), done: make(chan struct{})}
	for _, h := range hosts {
		f.hosts[h] = &HostProgress{Host: h, State: runbook.StatePending}
	}
	return f
}

func (f *feed) observe(ev runbook.Event) {
	f.mu.Lock()
	switch ev.Kind {
	case runbook.EventStarted:
		f.actionID = ev.ID
	case runbook.EventCommandStarted:
		if p := f.host(ev.Host); p != nil {
			p.Step, p.Phase, p.Command = ev.Step, ev.Phase, ev.Command
		}
	case runbook.EventHostState:
		if p := f.host(ev.Host); p != nil {
			p.State, p.Note = ev.State, ev.Note
		}
	}
	f.mu.Unlock()
	select {
	case f.notify <- struct{}{}:
	default: // a poke is already waiting; the reader will see this change too
	}
}

func (f *feed) host(name string) *HostProgress {
	if name == "" {
		return nil
	}
	p := f.hosts[name]
	if p == nil {
		p = &HostProgress{Host: name}
		f.hosts[name] = p
		f.order = append(f.order, name)
	}
	return p
}

func (f *feed) snapshot(id int) HealProgressMsg {
	f.mu.Lock()
	defer f.mu.Unlock()
	msg := HealProgressMsg{ID: id, ActionID: f.actionID, Hosts: make([]HostProgress, 0, len(f.order))}
	for _, h := range f.order {
		msg.Hosts = append(msg.Hosts, *f.hosts[h])
	}
	return msg
}

// progressInterval bounds how often progress redraws the pane: a run over many quick
// commands becomes a few frames, not one per event (DESIGN.md §10.8).
const progressInterval = 100 * time.Millisecond

// waitForProgress waits for the run's next change (or its end) and delivers a snapshot.
// Update re-arms it after each one until the run is done.
func waitForProgress(id int, f *feed) tea.Cmd {
	return func() tea.Msg {
		select {
		case <-f.notify:
			// Let a burst of events settle into one snapshot.
			select {
			case <-time.After(progressInterval):
			case <-f.done:
			}
		case <-f.done:
		}
		msg := f.snapshot(id)
		select {
		case <-f.done:
			msg.Final = true
		default:
		}
		return msg
	}
}

// startCmd is what the gate's Run returns: it makes the run's context and progress feed
// and hands them to the pane. Nothing has run yet; the intent is written by runbook.Run.
func startCmd(id int, parent context.Context, log *audit.Log, hosts []string, reason string) tea.Cmd {
	hosts = slices.Clone(hosts)
	return func() tea.Msg {
		if log == nil {
			return views.ActionCancelledMsg{Pane: views.PaneIncidents, RequestID: id,
				Reason: "no audit log: refusing to run an action that is not recorded"}
		}
		if parent == nil {
			parent = context.Background()
		}
		ctx, cancel := context.WithCancel(parent)
		return HealStartedMsg{ID: id, Reason: reason, ctx: ctx, cancel: cancel, feed: newFeed(hosts)}
	}
}

// execCmd runs the approved plan to its end and reports the outcome. It blocks for the
// whole run, on Bubble Tea's goroutine for commands, never on Update's.
func execCmd(id int, msg HealStartedMsg, p runbook.Plan, pool *sessions.Pool, log *audit.Log, opt runbook.Options) tea.Cmd {
	return func() tea.Msg {
		defer close(msg.feed.done)
		defer msg.cancel()
		if pool == nil {
			return HealDoneMsg{ID: id, Outcome: runbook.Outcome{Runbook: p.Runbook, Err: errors.New("no session pool")}}
		}
		if metric, _ := p.Needs(); metric && opt.Metric == nil {
			opt.Metric = runbook.RemoteMetrics(pool, opt.DefaultTimeout)
		}
		out := runbook.Run(msg.ctx, p, pool, log, msg.feed.observe, opt)
		return HealDoneMsg{ID: id, Outcome: out}
	}
}

// loadInterruptedCmd reads the audit log for runs that never finished. Runs of this
// process are left out: they are running, in this console.
func loadInterruptedCmd(path string) tea.Cmd {
	if path == "" {
		return nil
	}
	return func() tea.Msg {
		recs, probs, err := audit.Read(path)
		if errors.Is(err, fs.ErrNotExist) {
			return InterruptedLoadedMsg{}
		}
		if err != nil {
			return InterruptedLoadedMsg{Err: err}
		}
		self, _ := os.Hostname()
		msg := InterruptedLoadedMsg{Problems: len(probs), MaybeRunning: map[audit.ActionID]bool{}}
		for _, r := range audit.Interrupted(recs) {
			if r.Intent.Who.PID == os.Getpid() && r.Intent.Who.Machine == self {
				continue
			}
			if r.MaybeRunning() {
				msg.MaybeRunning[r.ID] = true
			}
			msg.Runs = append(msg.Runs, r)
		}
		return msg
	}
}

// abandonCmd closes an interrupted run in the audit log once the operator has seen it,
// so it is not reported again.
func abandonCmd(log *audit.Log, run audit.Run) tea.Cmd {
	return func() tea.Msg {
		return AbandonedMsg{ID: run.ID, Err: log.Abandon(run, "dismissed in the console's incidents pane")}
	}
}

func loadStateCmd(path string) tea.Cmd {
	if path == "" {
		return nil
	}
	return func() tea.Msg {
		l, err := heal.LoadState(path)
		return StateLoadedMsg{Limiter: l, Err: err}
	}
}

// saveStateCmd records an automatic run's start or end in the state file shared with
// `opsconsole heal`, so a cron job and the console respect each other's limits.
func saveStateCmd(path string, keep time.Duration, rule heal.Rule, host string, at time.Time, started bool) tea.Cmd {
	if path == "" {
		return nil
	}
	return func() tea.Msg {
		_, err := heal.UpdateState(path, at, keep, func(l heal.Limiter) heal.Limiter {
			if started {
				return l.Started(rule, host, at)
			}
			return l.Finished(rule, host, at)
		})
		return StateSavedMsg{Err: err}
	}
}

// emit wraps a message in a Cmd.
func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

func flash(text string, isErr bool) tea.Cmd { return emit(views.FlashMsg{Text: text, Err: isErr}) }
