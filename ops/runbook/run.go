package runbook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/sessions"
)

// Runner runs one command on one host. *sessions.Pool is the Runner of a real fleet.
type Runner interface {
	Run(ctx context.Context, h config.Host, cmd string, opt sessions.FanOutOptions) sessions.Result
}

// MetricFunc returns the current value of a named metric on a host, for metric
// preconditions. RemoteMetrics is one; the console may pass one that reads its own
// latest poll instead of asking the host again.
type MetricFunc func(ctx context.Context, h config.Host, metric string) (float64, error)

// ProbeFunc reports whether a named probe is failing on a host, for probe
// preconditions.
type ProbeFunc func(ctx context.Context, h config.Host, probe string) (failing bool, err error)

// Options tune a run.
type Options struct {
	// Reason is the operator's stated reason, recorded in the intent.
	Reason string
	// Concurrency bounds how many hosts run a command at once (default
	// sessions.DefaultConcurrency); a step's batch size bounds it further.
	Concurrency int
	// OutputLimit caps the output kept per command per stream (default 1 MiB).
	OutputLimit int64
	// DefaultTimeout bounds the commands of steps that set no timeout (and of command
	// preconditions); zero leaves them to each host's command_timeout.
	DefaultTimeout time.Duration
	// Metric and Probe evaluate metric and probe preconditions. A plan that has such a
	// precondition is refused, before anything is written or run, when its function is
	// nil.
	Metric MetricFunc
	Probe  ProbeFunc
}

// HostState is where one host stands in a run.
type HostState string

// Host states. A run ends with every host in one of the states after StateRunning.
const (
	StatePending HostState = "pending"
	StateRunning HostState = "running"
	// StateOK: every step ran and passed its check.
	StateOK HostState = "ok"
	// StateFailed: a step failed (its command or its check) and the host was left as it
	// was, or a precondition could not be evaluated.
	StateFailed HostState = "failed"
	// StateRolledBack: the host's steps were undone after a failure (its own, or, with
	// rollback-all, another host's).
	StateRolledBack HostState = "rolled_back"
	// StateRollbackFailed: a rollback command failed; the host is in between.
	StateRollbackFailed HostState = "rollback_failed"
	// StateSkipped: a precondition did not hold; the runbook does not apply here.
	StateSkipped HostState = "skipped"
	// StateNotRun: the run stopped (another host failed) before this host ran any step.
	StateNotRun HostState = "not_run"
	// StateStopped: the run stopped after this host ran some of its steps, not all.
	StateStopped HostState = "stopped"
	// StateCancelled: the run was cancelled (ctx) before the host finished.
	StateCancelled HostState = "cancelled"
)

// Good reports whether the state is a success for the run's exit status: the host ran
// every step, or the runbook did not apply to it.
func (s HostState) Good() bool { return s == StateOK || s == StateSkipped }

// EventKind names what an Event reports.
type EventKind string

// Event kinds, in the order a run produces them.
const (
	// EventStarted: the intent is on disk; Event.ID is the Action's id.
	EventStarted EventKind = "started"
	// EventCommandStarted: a command is about to run on Host (Step, Phase, Command).
	EventCommandStarted EventKind = "command_started"
	// EventCommandDone: the command ended; Result holds how.
	EventCommandDone EventKind = "command_done"
	// EventHostState: Host moved to State (Note says why).
	EventHostState EventKind = "host_state"
	// EventDone: the run is over and the done record written; Outcome is set.
	EventDone EventKind = "done"
)

// Event is one step of progress, for a live view (the Incidents pane, the CLI's jsonl
// output). The time it happened is inside it. Command and Result are as run, not
// redacted: whatever records events to a file passes them through package redact.
type Event struct {
	Time time.Time
	Kind EventKind
	ID   audit.ActionID
	Host string
	// Step numbers the runbook step from 1; 0 for a precondition.
	Step    int
	Phase   string
	Command string
	Result  *sessions.Result
	State   HostState
	Note    string
	Outcome *Outcome
}

// Observer receives a run's events. Calls are serialised (never two at once) and come
// from the run's goroutines, so an observer must return quickly: a console hands the
// event to a bounded channel and returns.
type Observer func(Event)

// Outcome is how a run ended.
type Outcome struct {
	// ID names the run's records in the audit log; empty if the intent was never
	// written (then nothing ran).
	ID      audit.ActionID
	Runbook string
	// Hosts are in plan order.
	Hosts   []HostOutcome
	Started time.Time
	Ended   time.Time
	// Cancelled is true when ctx ended the run.
	Cancelled bool
	// Err is a problem of the run itself rather than of a host: the run was refused
	// before it started (no audit log, a precondition with no way to evaluate it, the
	// intent could not be written: then ID is empty and nothing ran), or the audit log
	// failed during the run (which stops it).
	Err error
}

// HostOutcome is how the run ended on one host.
type HostOutcome struct {
	Host  string
	State HostState
	// FailedStep is the step (from 1) that failed, 0 if none; -1 for a precondition that
	// could not be evaluated.
	FailedStep int
	Note       string
	// Results are the commands the host ran, in order.
	Results []CommandResult
}

// CommandResult is one command a host ran.
type CommandResult struct {
	Step    int
	Phase   string
	Command string
	Result  sessions.Result
}

// OK reports whether the run did everything it planned: no error, not cancelled, and
// every host ok or skipped by a precondition.
func (o Outcome) OK() bool {
	if o.Err != nil || o.Cancelled {
		return false
	}
	for _, h := range o.Hosts {
		if !h.State.Good() {
			return false
		}
	}
	return true
}

// Counts tallies the hosts by final state.
func (o Outcome) Counts() map[HostState]int {
	c := map[HostState]int{}
	for _, h := range o.Hosts {
		c[h.State]++
	}
	return c
}

// Needs reports which precondition hooks running the plan requires.
func (p Plan) Needs() (metric, probe bool) {
	for _, w := range p.When {
		switch w.Condition.Kind {
		case CondMetric:
			metric = true
		case CondProbe:
			probe = true
		}
	}
	return metric, probe
}

// aligned reports whether every step and precondition lists the plan's hosts in plan
// order, which the engine relies on to find a host's commands.
func (p Plan) aligned() bool {
	if len(p.HostNames) != len(p.Hosts) {
		return false
	}
	for i, h := range p.Hosts {
		if p.HostNames[i] != h.Name {
			return false
		}
		for _, s := range p.Steps {
			if len(s.Hosts) != len(p.Hosts) || s.Hosts[i].Host != h.Name {
				return false
			}
		}
		for _, w := range p.When {
			if w.Condition.Kind == CondCommand && (len(w.Commands) != len(p.Hosts) || w.Commands[i].Host != h.Name) {
				return false
			}
		}
	}
	return true
}

// ErrNoAuditLog refuses a run without an audit log: nothing runs unrecorded.
var ErrNoAuditLog = errors.New("no audit log: refusing to run")

// Run executes an approved plan. It must only be called once the gate has said yes: it
// writes the intent (and returns, having run nothing, if that fails), evaluates the
// preconditions on every host, then runs the steps in order, each on the hosts still in
// the run, in batches as the step says; after each host's run command it runs the
// step's check, and a failed command or check applies the step's failure policy. Every
// command is recorded in the audit log as it ends; the done record is written last,
// whatever happened. Cancelling ctx stops the run: commands in flight are interrupted and
// nothing is rolled back, since the person who cancelled is there to decide.
func Run(ctx context.Context, p Plan, pool Runner, log *audit.Log, obs Observer, opt Options) Outcome {
	e := &engine{plan: p, pool: pool, log: log, opt: opt, obs: obs}
	e.out = Outcome{Runbook: p.Runbook, Started: time.Now()}
	if opt.Concurrency <= 0 {
		e.opt.Concurrency = sessions.DefaultConcurrency
	}
	metric, probe := p.Needs()
	switch {
	case log == nil:
		e.out.Err = ErrNoAuditLog
	case len(p.Steps) == 0 || len(p.Hosts) == 0:
		e.out.Err = errors.New("empty plan")
	case !p.aligned():
		e.out.Err = errors.New("inconsistent plan: its steps do not list the plan's hosts in order (build plans with NewPlan)")
	case metric && opt.Metric == nil:
		e.out.Err = fmt.Errorf("runbook %q has a metric precondition and no metric source was given", p.Runbook)
	case probe && opt.Probe == nil:
		e.out.Err = fmt.Errorf("runbook %q has a probe precondition and no probe results are available", p.Runbook)
	}
	if e.out.Err != nil {
		e.out.Ended = time.Now()
		return e.out
	}
	id, err := log.Intent(p.Intent(opt.Reason))
	if err != nil {
		e.out.Err = fmt.Errorf("refusing to run: %w", err)
		e.out.Ended = time.Now()
		return e.out
	}
	e.out.ID = id
	e.hosts = make([]*hostRun, len(p.Hosts))
	for i, h := range p.Hosts {
		e.hosts[i] = &hostRun{h: h, idx: i, out: HostOutcome{Host: h.Name, State: StatePending}}
	}
	e.emit(Event{Kind: EventStarted})
	e.run(ctx)
	return e.finish(ctx)
}

type engine struct {
	plan Plan
	pool Runner
	log  *audit.Log
	opt  Options
	out  Outcome

	obsMu sync.Mutex
	obs   Observer

	hosts []*hostRun

	mu          sync.Mutex
	stopped     bool
	stopNote    string
	rollbackAll bool
	auditErr    error
}

// hostRun is one host's progress. Only one goroutine works on a host at a time (its
// precondition, its step of a wave, its rollback); the engine reads it between waves.
type hostRun struct {
	h   config.Host
	idx int
	out HostOutcome
	// next is the index of the next step to run.
	next int
	// applied lists the steps (0-based) whose run command was started, for rollback.
	applied []int
	// rollbackTried is set once the host's rollback began, so rollback-all does not
	// roll a host back twice.
	rollbackTried bool
}

func (e *engine) emit(ev Event) {
	if e.obs == nil {
		return
	}
	ev.ID = e.out.ID
	e.obsMu.Lock()
	defer e.obsMu.Unlock()
	// Stamped under the lock, so that events arrive in the order of their times.
	ev.Time = time.Now()
	e.obs(ev)
}

func (e *engine) setState(hr *hostRun, s HostState, note string) {
	hr.out.State = s
	hr.out.Note = note
	e.emit(Event{Kind: EventHostState, Host: hr.h.Name, State: s, Note: note})
}

// stop keeps hosts that have not started from starting; the first reason wins.
func (e *engine) stop(note string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.stopped {
		e.stopped, e.stopNote = true, note
	}
}

func (e *engine) isStopped() (bool, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopped, e.stopNote
}

// record writes a result; an audit log that cannot be written stops the run, since
// what runs next could not be accounted for.
func (e *engine) record(r audit.Result) {
	if err := e.log.Result(e.out.ID, r); err != nil {
		e.mu.Lock()
		if e.auditErr == nil {
			e.auditErr = err
		}
		e.mu.Unlock()
		e.stop("the audit log failed: " + err.Error())
	}
}

// command runs one command on a host, recording it in the host's results, the audit log
// (with note) and the event stream.
func (e *engine) command(ctx context.Context, hr *hostRun, step int, phase, cmd string, timeout time.Duration, note func(sessions.Result) string) sessions.Result {
	e.emit(Event{Kind: EventCommandStarted, Host: hr.h.Name, Step: step, Phase: phase, Command: cmd})
	if timeout <= 0 {
		timeout = e.opt.DefaultTimeout
	}
	r := e.pool.Run(ctx, hr.h, cmd, sessions.FanOutOptions{Timeout: timeout, OutputLimit: e.opt.OutputLimit})
	hr.out.Results = append(hr.out.Results, CommandResult{Step: step, Phase: phase, Command: cmd, Result: r})
	ar := audit.FromSession(r, step, phase, cmd)
	if note != nil {
		ar.Note = note(r)
	}
	e.record(ar)
	e.emit(Event{Kind: EventCommandDone, Host: hr.h.Name, Step: step, Phase: phase, Command: cmd, Result: &r})
	return r
}

func (e *engine) run(ctx context.Context) {
	active := e.hosts
	if len(e.plan.When) > 0 {
		active = e.preconditions(ctx)
	} else {
		for _, hr := range active {
			e.setState(hr, StateRunning, "")
		}
	}
	for si := range e.plan.Steps {
		ps := e.plan.Steps[si]
		var targets []*hostRun
		for _, hr := range active {
			if hr.out.State == StateRunning && hr.next == si {
				targets = append(targets, hr)
			}
		}
		if len(targets) == 0 {
			break
		}
		size := ps.Batch
		if size <= 0 {
			size = len(targets)
		}
		for start := 0; start < len(targets); start += size {
			if stopped, _ := e.isStopped(); stopped || ctx.Err() != nil {
				break
			}
			e.wave(ctx, si, targets[start:min(start+size, len(targets))])
		}
		if stopped, _ := e.isStopped(); stopped || ctx.Err() != nil {
			break
		}
	}
	e.mu.Lock()
	all := e.rollbackAll
	e.mu.Unlock()
	if all && ctx.Err() == nil {
		e.rollbackRest(ctx)
	}
}

// preconditions evaluates the runbook's `when` on every host and returns the hosts
// where all hold.
func (e *engine) preconditions(ctx context.Context) []*hostRun {
	byName := e.byName()
	done := sessions.Each(ctx, e.plan.Hosts, e.opt.Concurrency, nil,
		func(ctx context.Context, h config.Host) *hostRun {
			hr := byName[h.Name]
			e.checkWhen(ctx, hr)
			return hr
		},
		func(h config.Host) *hostRun {
			hr := byName[h.Name]
			e.setState(hr, StateCancelled, "cancelled before its preconditions were evaluated")
			return hr
		})
	for range done {
	}
	var active []*hostRun
	for _, hr := range e.hosts {
		if hr.out.State == StateRunning {
			active = append(active, hr)
		}
	}
	return active
}

func (e *engine) checkWhen(ctx context.Context, hr *hostRun) {
	for _, w := range e.plan.When {
		c := w.Condition
		switch c.Kind {
		case CondCommand:
			cmd := w.Commands[hr.idx].Command
			var verdict string
			r := e.command(ctx, hr, 0, audit.PhaseWhen, cmd, 0, func(r sessions.Result) string {
				switch {
				case r.Outcome != sessions.OutcomeOK && r.Outcome != sessions.OutcomeFailed:
					verdict = "error"
				case r.ExitCode != c.ExpectExit:
					verdict = "skip"
					return fmt.Sprintf("precondition not met (exit %d, want %d): host skipped", r.ExitCode, c.ExpectExit)
				}
				return ""
			})
			switch verdict {
			case "error":
				e.whenError(ctx, hr, fmt.Sprintf("precondition %s could not be evaluated: %s", w.Text, describe(r)))
				return
			case "skip":
				e.setState(hr, StateSkipped, fmt.Sprintf("precondition not met: %s (exited %d)", w.Text, r.ExitCode))
				return
			}
		case CondMetric, CondProbe:
			start := time.Now()
			var holds bool
			var value string
			var err error
			if c.Kind == CondMetric {
				var v float64
				v, err = e.opt.Metric(ctx, hr.h, c.Metric)
				holds, value = c.holds(v), fmt.Sprintf("%s = %g", c.Metric, v)
			} else {
				var failing bool
				failing, err = e.opt.Probe(ctx, hr.h, c.Probe)
				holds, value = failing == c.Failing, fmt.Sprintf("probe %s failing = %t", c.Probe, failing)
			}
			ar := audit.Result{Host: hr.h.Name, Phase: audit.PhaseWhen, Command: w.Text, Started: start,
				DurationMS: audit.Millis(time.Since(start)), Outcome: "ok", FirstLine: value}
			switch {
			case err != nil:
				ar.Outcome, ar.Error, ar.FirstLine, ar.ExitCode = string(sessions.OutcomeError), err.Error(), "", -1
			case !holds:
				ar.Outcome, ar.Note = audit.OutcomeSkipped, "precondition not met: host skipped"
			}
			e.record(ar)
			switch {
			case err != nil:
				e.whenError(ctx, hr, fmt.Sprintf("precondition %s could not be evaluated: %v", w.Text, err))
				return
			case !holds:
				e.setState(hr, StateSkipped, fmt.Sprintf("precondition not met: %s (%s)", w.Text, value))
				return
			}
		}
	}
	e.setState(hr, StateRunning, "")
}

func (e *engine) whenError(ctx context.Context, hr *hostRun, note string) {
	if ctx.Err() != nil {
		e.setState(hr, StateCancelled, "cancelled while its preconditions were evaluated")
		return
	}
	hr.out.FailedStep = -1
	e.setState(hr, StateFailed, note)
}

func (e *engine) byName() map[string]*hostRun {
	m := make(map[string]*hostRun, len(e.hosts))
	for _, hr := range e.hosts {
		m[hr.h.Name] = hr
	}
	return m
}

// wave runs step si on a batch of hosts at once (within the run's concurrency) and
// returns when all of them have finished, rolled back included.
func (e *engine) wave(ctx context.Context, si int, batch []*hostRun) {
	hosts := make([]config.Host, len(batch))
	byName := make(map[string]*hostRun, len(batch))
	for i, hr := range batch {
		hosts[i] = hr.h
		byName[hr.h.Name] = hr
	}
	done := sessions.Each(ctx, hosts, e.opt.Concurrency, nil,
		func(ctx context.Context, h config.Host) struct{} {
			hr := byName[h.Name]
			// A failure elsewhere may have stopped the run while this host waited for
			// a slot; it must not start then.
			if stopped, why := e.isStopped(); stopped {
				e.setState(hr, stoppedState(hr), why)
				return struct{}{}
			}
			e.step(ctx, si, hr)
			return struct{}{}
		},
		func(h config.Host) struct{} {
			e.setState(byName[h.Name], StateCancelled, fmt.Sprintf("cancelled before step %d", si+1))
			return struct{}{}
		})
	for range done {
	}
}

func stoppedState(hr *hostRun) HostState {
	if hr.next == 0 {
		return StateNotRun
	}
	return StateStopped
}

// step runs step si on one host: its command, then its check, then on failure the
// step's policy.
func (e *engine) step(ctx context.Context, si int, hr *hostRun) {
	ps := e.plan.Steps[si]
	hs := ps.Hosts[hr.idx]
	n := si + 1
	hr.applied = append(hr.applied, si)
	r := e.command(ctx, hr, n, audit.PhaseRun, hs.Run, ps.Timeout, nil)
	failure := ""
	if r.Outcome != sessions.OutcomeOK {
		failure = fmt.Sprintf("step %d failed: %s", n, describe(r))
	} else if hs.Check != "" {
		c := e.command(ctx, hr, n, audit.PhaseCheck, hs.Check, ps.Timeout, nil)
		if c.Outcome != sessions.OutcomeOK {
			failure = fmt.Sprintf("step %d check failed: %s", n, describe(c))
		}
	}
	if failure == "" {
		hr.next = si + 1
		if hr.next == len(e.plan.Steps) {
			e.setState(hr, StateOK, "")
		}
		return
	}
	if ctx.Err() != nil {
		e.setState(hr, StateCancelled, fmt.Sprintf("cancelled during step %d", n))
		return
	}
	hr.out.FailedStep = n
	e.setState(hr, StateFailed, failure)
	why := fmt.Sprintf("stopped: %s failed step %d", hr.h.Name, n)
	switch ps.OnFailure {
	case Continue:
	case Rollback:
		e.stop(why)
		e.rollback(ctx, hr, failure)
	case RollbackAll:
		e.stop(why)
		e.mu.Lock()
		e.rollbackAll = true
		e.mu.Unlock()
		e.rollback(ctx, hr, failure)
	default:
		e.stop(why)
	}
}

// rollback undoes a host's applied steps, newest first, stopping at the first rollback
// that fails: undoing an earlier step under a later one that is still in place could
// leave the host worse than either.
func (e *engine) rollback(ctx context.Context, hr *hostRun, why string) {
	hr.rollbackTried = true
	ran := false
	for i := len(hr.applied) - 1; i >= 0; i-- {
		si := hr.applied[i]
		ps := e.plan.Steps[si]
		cmd := ps.Hosts[hr.idx].Rollback
		if cmd == "" {
			continue
		}
		if ctx.Err() != nil {
			e.setState(hr, StateCancelled, why+"; cancelled during rollback")
			return
		}
		ran = true
		r := e.command(ctx, hr, si+1, audit.PhaseRollback, cmd, ps.Timeout, nil)
		if r.Outcome != sessions.OutcomeOK {
			e.setState(hr, StateRollbackFailed, fmt.Sprintf("%s; rollback of step %d failed: %s", why, si+1, describe(r)))
			return
		}
	}
	if !ran {
		e.setState(hr, hr.out.State, why+"; nothing to roll back")
		return
	}
	e.setState(hr, StateRolledBack, why+"; rolled back")
}

// rollbackRest rolls back, after a rollback-all failure, every host that applied steps
// and has not been rolled back yet.
func (e *engine) rollbackRest(ctx context.Context) {
	_, why := e.isStopped()
	var hosts []config.Host
	byName := map[string]*hostRun{}
	for _, hr := range e.hosts {
		if hr.rollbackTried || len(hr.applied) == 0 || hr.out.State == StateCancelled {
			continue
		}
		hosts = append(hosts, hr.h)
		byName[hr.h.Name] = hr
	}
	done := sessions.Each(ctx, hosts, e.opt.Concurrency, nil,
		func(ctx context.Context, h config.Host) struct{} {
			e.rollback(ctx, byName[h.Name], why)
			return struct{}{}
		},
		func(h config.Host) struct{} { return struct{}{} })
	for range done {
	}
}

// finish settles every host's final state, writes the done record and reports it.
func (e *engine) finish(ctx context.Context) Outcome {
	stopped, why := e.isStopped()
	for _, hr := range e.hosts {
		switch hr.out.State {
		case StatePending, StateRunning:
			switch {
			case ctx.Err() != nil:
				e.setState(hr, StateCancelled, fmt.Sprintf("cancelled after step %d of %d", hr.next, len(e.plan.Steps)))
			case hr.next == len(e.plan.Steps):
				e.setState(hr, StateOK, "")
			case stopped:
				e.setState(hr, stoppedState(hr), why)
			default:
				// Not reachable by construction; say so rather than claim success.
				e.setState(hr, StateStopped, fmt.Sprintf("ended after step %d of %d", hr.next, len(e.plan.Steps)))
			}
		}
		e.out.Hosts = append(e.out.Hosts, hr.out)
	}
	e.out.Cancelled = ctx.Err() != nil
	e.out.Ended = time.Now()
	e.mu.Lock()
	e.out.Err = e.auditErr
	e.mu.Unlock()

	d := audit.Done{Outcome: "ok", Hosts: map[string]string{}, DurationMS: audit.Millis(e.out.Ended.Sub(e.out.Started))}
	for _, h := range e.out.Hosts {
		d.Hosts[h.Host] = string(h.State)
	}
	switch {
	case e.out.Err != nil:
		d.Outcome, d.Error = "error", e.out.Err.Error()
	case e.out.Cancelled:
		d.Outcome = "cancelled"
	case !e.out.OK():
		d.Outcome = "failed"
	}
	if err := e.log.Done(e.out.ID, d); err != nil && e.out.Err == nil {
		e.out.Err = err
	}
	out := e.out
	e.emit(Event{Kind: EventDone, Outcome: &out})
	return e.out
}

// describe says how a command ended, for notes.
func describe(r sessions.Result) string {
	switch r.Outcome {
	case sessions.OutcomeOK:
		return "ok"
	case sessions.OutcomeFailed:
		return fmt.Sprintf("exit %d", r.ExitCode)
	}
	if r.Err != nil {
		return fmt.Sprintf("%s: %v", r.Outcome, r.Err)
	}
	return string(r.Outcome)
}
