package probes

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
)

// Result is one job's latest attempt with what the engine knows around it. It embeds
// probe.Result, so it reads (and encodes to JSON) as one flat record: name, host, type,
// target, status, latency_ns, reason, time, detail, flapping…
type Result struct {
	probe.Result
	// Flapping is true when the status changed FlapChanges times or more within the
	// probe's FlapWindow (Scheduler only).
	Flapping bool `json:"flapping,omitempty"`
	// History is the job's last statuses, oldest first, ending with this one (Scheduler
	// only; for sparklines).
	History []health.Status `json:"history,omitempty"`
	// Missed counts the ticks skipped so far because the previous run was still going,
	// or shed because the pool was too busy to start the run within an interval.
	Missed int64 `json:"missed,omitempty"`
	// Lag is how late this run started after it was due (Scheduler only).
	Lag time.Duration `json:"lag_ns,omitempty"`
}

// Job is one probe against one host, its target expanded.
type Job struct {
	Spec   *Spec
	Host   config.Host
	Target string // the URL or host:port; the command for exec

	run func(ctx context.Context, pool *sessions.Pool) probe.Result
}

// Key names the job uniquely: probe@host.
func (j *Job) Key() string { return j.Spec.Name + "@" + j.Host.Name }

// Expand makes one job per spec per matched host, in spec order then host order. A spec
// from Parse runs on the hosts its pattern selected from the configuration's inventory
// that are among hosts; so Expand over a selection (check -H) narrows, never errs. A spec
// built by hand resolves its pattern against hosts. The jobs point into specs.
//
// The error reports a spec that cannot run (a bad pattern or template on a hand-built
// spec, a target that does not expand for some host); the other specs' jobs are still
// returned.
func Expand(specs []Spec, hosts []config.Host) ([]Job, error) {
	var jobs []Job
	var errs []error
	for i := range specs {
		s := &specs[i]
		matched := hosts
		if s.selected != nil {
			matched = nil
			for _, h := range hosts {
				if s.selected[h.Name] {
					matched = append(matched, h)
				}
			}
		} else {
			var err error
			if matched, err = config.Resolve(hosts, s.Hosts); err != nil {
				errs = append(errs, fmt.Errorf("probe %s: %w", s.Name, err))
				continue
			}
		}
		for _, h := range matched {
			target, err := expand(s, h)
			if err != nil {
				errs = append(errs, fmt.Errorf("probe %s: host %s: %w", s.Name, h.Name, err))
				continue
			}
			j := Job{Spec: s, Host: h, Target: target}
			j.run = runner(s, target)
			jobs = append(jobs, j)
		}
	}
	if len(errs) > 0 {
		return jobs, joinErrs(errs)
	}
	return jobs, nil
}

func joinErrs(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msg := ""
	for i, e := range errs {
		if i > 0 {
			msg += "\n"
		}
		msg += e.Error()
	}
	return fmt.Errorf("%s", msg)
}

// runner builds the backend spec once per job, so that a run allocates no spec.
func runner(s *Spec, target string) func(context.Context, *sessions.Pool) probe.Result {
	switch s.Type {
	case probe.TypeHTTP:
		hs := probe.HTTPSpec{URL: target, Method: s.Method, Headers: s.Headers, ExpectStatus: s.ExpectStatus,
			BodyMatch: s.BodyMatch, FollowRedirects: s.FollowRedirects, NoKeepAlive: s.NoKeepAlive,
			TLS: s.TLS, WarnDays: s.WarnDays, CritDays: s.CritDays}
		return func(ctx context.Context, _ *sessions.Pool) probe.Result { return probe.HTTP(ctx, hs) }
	case probe.TypeTCP:
		return func(ctx context.Context, _ *sessions.Pool) probe.Result { return probe.TCP(ctx, target) }
	case probe.TypeGRPC:
		gs := probe.GRPCSpec{Addr: target, Service: s.Service, TLS: s.GRPCTLS, TLSOptions: s.TLS, WarnDays: s.WarnDays, CritDays: s.CritDays}
		return func(ctx context.Context, _ *sessions.Pool) probe.Result { return probe.GRPC(ctx, gs) }
	case probe.TypeTLS:
		ts := probe.TLSSpec{Addr: target, TLSOptions: s.TLS, WarnDays: s.WarnDays, CritDays: s.CritDays}
		return func(ctx context.Context, _ *sessions.Pool) probe.Result { return probe.TLS(ctx, ts) }
	case probe.TypeExec:
		return nil // needs the host: see Job.Probe
	}
	return func(context.Context, *sessions.Pool) probe.Result {
		return probe.Result{Type: s.Type, Target: target, Status: health.Unknown, Reason: "unknown probe type " + s.Type, Time: time.Now()}
	}
}

// Probe runs the job once within its timeout (DefaultTimeout when the spec has none, so
// that no probe can hang a worker for ever). Command probes get the host's session from
// pool (a nil pool makes them Unknown).
func (j *Job) Probe(ctx context.Context, pool *sessions.Pool) probe.Result {
	timeout := j.Spec.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := probe.WithTimeout(ctx, timeout)
	defer cancel()
	var r probe.Result
	switch {
	case j.Spec.Type == probe.TypeExec:
		r = j.exec(ctx, pool)
	case j.run != nil:
		r = j.run(ctx, pool)
	default: // a Job built by hand rather than by Expand
		r = runner(j.Spec, j.Target)(ctx, pool)
	}
	r.Name, r.Host = j.Spec.Name, j.Host.Name
	return r
}

func (j *Job) exec(ctx context.Context, pool *sessions.Pool) probe.Result {
	if pool == nil {
		return probe.Exec(ctx, nil, j.Spec.Command, j.Spec.ExpectExit, j.Spec.OutputMatch)
	}
	s, err := pool.Get(ctx, j.Host)
	if err != nil {
		r := probe.Result{Type: probe.TypeExec, Target: j.Spec.Command, Time: time.Now(), Status: health.Down,
			Reason: "no session: " + err.Error(), Detail: probe.Detail{ExitCode: -1}}
		if ctx.Err() != nil {
			r.Reason = context.Cause(ctx).Error()
			if sessions.Classify(ctx, nil, err) == sessions.OutcomeCancelled {
				r.Status, r.Reason = health.Unknown, "cancelled"
			}
		}
		return r
	}
	w := &watched{s: s}
	r := probe.Exec(ctx, w, j.Spec.Command, j.Spec.ExpectExit, j.Spec.OutputMatch)
	if w.err != nil && sessions.Classify(ctx, nil, w.err) == sessions.OutcomeError {
		// A broken transport: the pool must redial before the next command, as fleet does.
		pool.Invalidate(j.Host.Name, s, w.err)
	}
	return r
}

// watched remembers the transport's error so that Job.exec can tell a broken connection
// from a command that merely failed.
type watched struct {
	s   sessions.Session
	err error
}

func (w *watched) Exec(ctx context.Context, cmd string, stdout, stderr io.Writer) (int, error) {
	code, err := w.s.Exec(ctx, cmd, stdout, stderr)
	w.err = err
	return code, err
}

// RunOnce runs every job once, at most concurrency at a time (≤ 0: the sessions
// default), and returns the results in job order. Jobs not started when ctx ends are
// Unknown, "cancelled". This is batch check's probe round.
func RunOnce(ctx context.Context, jobs []Job, pool *sessions.Pool, concurrency int) []Result {
	if concurrency <= 0 {
		concurrency = sessions.DefaultConcurrency
	}
	out := make([]Result, len(jobs))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := range jobs {
		j := &jobs[i]
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			out[i] = Result{Result: probe.Result{Name: j.Spec.Name, Host: j.Host.Name, Type: j.Spec.Type,
				Target: j.Target, Status: health.Unknown, Reason: "cancelled", Time: time.Now()}}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = Result{Result: j.Probe(ctx, pool)}
		}()
	}
	wg.Wait()
	return out
}

// ByHost groups results by host name, each host's sorted by probe name, so that check
// can hang them on the host's report.
func ByHost(results []Result) map[string][]Result {
	m := map[string][]Result{}
	for _, r := range results {
		m[r.Host] = append(m[r.Host], r)
	}
	for _, rs := range m {
		slices.SortStableFunc(rs, func(a, b Result) int { return cmp.Compare(a.Name, b.Name) })
	}
	return m
}

// HostStatus judges a host by its probes: the worst probe status (a failing probe makes
// the host unhealthy), and a reason for each probe that is not OK, worst first, such as
// "probe web-health http://10.0.0.1:8080/healthz: status 500, want 2xx/3xx". A probe that
// passes but is flapping makes the host Warn. No results: OK with no reasons.
func HostStatus(results []Result) (health.Status, []string) {
	type reason struct {
		s    health.Status
		text string
	}
	var rs []reason
	for _, r := range results {
		switch {
		case r.Status != health.OK:
			text := fmt.Sprintf("probe %s %s: %s", r.Name, r.Target, r.Reason)
			if r.Flapping {
				text += " (flapping)"
			}
			rs = append(rs, reason{r.Status, text})
		case r.Flapping:
			rs = append(rs, reason{health.Warn, fmt.Sprintf("probe %s %s: flapping", r.Name, r.Target)})
		}
	}
	slices.SortStableFunc(rs, func(a, b reason) int {
		switch {
		case a.s.Worse(b.s):
			return -1
		case b.s.Worse(a.s):
			return 1
		}
		return 0
	})
	worst := health.OK
	var texts []string
	for _, r := range rs {
		worst = health.Worst(worst, r.s)
		texts = append(texts, r.text)
	}
	return worst, texts
}
