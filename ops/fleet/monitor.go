package fleet

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/sessions"
)

// MonitorOptions shape the live polling behind the fleet view.
type MonitorOptions struct {
	Check    CheckOptions
	Interval time.Duration // between two reads of one host, and two server rounds (default 5s)
	// Concurrency bounds reads in flight across the fleet (default 256), so a large
	// inventory does not open a thousand handshakes at once. It also sizes the probes'
	// worker pool.
	Concurrency int
	// Server, when set, is read once per Interval for the whole fleet (one FleetMetrics
	// call, not one per host). Hosts it has metrics for take them from it and their own
	// sessions only prove they answer; when it stops answering, the last metrics stay,
	// marked stale, and no host is marked down for it. Its firing alerts join their
	// hosts' reports and ServerStatus.
	Server MetricsServer
	// Probes run on their own schedules beside the polls (a probes.Scheduler); each
	// host's latest results join its reports and its judgement.
	Probes []probes.Job
}

// Monitor polls every host on its own schedule and coalesces the latest Report per host, so
// a slow or hung host delays nobody else, producers never block, and memory stays bounded
// by the inventory size however slowly the consumer reads.
//
// A host's Report is put together from what is known of it: its own latest poll
// (reachability, and metrics unless the server has them), the server's latest round, its
// latest probe results and its firing alerts. Whichever of these changes, the host's
// Report is judged again and published.
type Monitor struct {
	pool  *sessions.Pool
	hosts []config.Host
	opt   MonitorOptions
	sem   chan struct{}
	sched *probes.Scheduler // nil without probes

	mu     sync.Mutex
	state  map[string]*hostState
	server *ServerMetrics // the latest server round; nil before the first or without a server
	status ServerStatus
	// statusDirty is set when status changed and Next has not returned since.
	statusDirty bool
	latest      map[string]Report
	dirty       []string        // hosts with a report not yet taken, in arrival order
	pending     map[string]bool // the same hosts, for O(1) membership
	wake        chan struct{}   // signalled (non-blocking) when there is something for Next

	inflight atomic.Int64
}

// hostState is what the monitor knows of one host, guarded by Monitor.mu. The slices are
// replaced, never changed in place: published reports share them.
type hostState struct {
	own    Report // the host's own latest poll
	polled bool   // own is set: nothing is published for a host before its first poll
	probes []probes.Result
	alerts []prom.Alert
}

// NewMonitor prepares a monitor; Run starts it.
func NewMonitor(pool *sessions.Pool, hosts []config.Host, opt MonitorOptions) *Monitor {
	if opt.Interval <= 0 {
		opt.Interval = 5 * time.Second
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = sessions.DefaultConcurrency
	}
	// Probes are scheduled here, not run with every poll as a batch check runs them.
	opt.Check.Probes = nil
	m := &Monitor{pool: pool, hosts: hosts, opt: opt, sem: make(chan struct{}, opt.Concurrency),
		state:  make(map[string]*hostState, len(hosts)),
		latest: map[string]Report{}, pending: map[string]bool{}, wake: make(chan struct{}, 1)}
	for _, h := range hosts {
		m.state[h.Name] = &hostState{}
	}
	if opt.Server != nil {
		m.status = ServerStatus{Source: SourcePrometheus, URL: opt.Server.URL()}
	}
	if len(opt.Probes) > 0 {
		m.sched = probes.NewScheduler(opt.Probes, pool, probes.Options{Concurrency: opt.Concurrency})
	}
	return m
}

// Run polls until ctx ends. Each host gets its own loop with a random phase, so a thousand
// hosts spread over the interval instead of arriving as one burst; the server and the
// probes have loops of their own.
func (m *Monitor) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, h := range m.hosts {
		wg.Go(func() { m.loop(ctx, h) })
	}
	if m.opt.Server != nil {
		wg.Go(func() { m.serverLoop(ctx) })
	}
	if m.sched != nil {
		wg.Go(func() { m.sched.Run(ctx) })
		wg.Go(func() { m.probeLoop(ctx) })
	}
	wg.Wait()
}

func (m *Monitor) loop(ctx context.Context, h config.Host) {
	// The first round starts at once for every host (the console must fill fast); later
	// rounds are spread by a random phase.
	phase := time.Duration(rand.Int64N(int64(m.opt.Interval)))
	for round := 0; ; round++ {
		select {
		case m.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		m.inflight.Add(1)
		opt := m.opt.Check
		m.mu.Lock()
		opt.Server = m.server
		m.mu.Unlock()
		rep := CheckHost(ctx, m.pool, h, opt)
		<-m.sem
		if ctx.Err() != nil {
			m.inflight.Add(-1)
			return
		}
		m.mu.Lock()
		st := m.state[h.Name]
		st.own, st.polled = rep, true
		m.publishLocked(m.compose(st))
		m.mu.Unlock()
		m.signal()
		m.inflight.Add(-1) // after publishing, so that a caller who sees quiet sees the report
		wait := m.opt.Interval
		if round == 0 {
			wait = phase
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// serverLoop reads the server's metrics and alerts once per interval.
func (m *Monitor) serverLoop(ctx context.Context) {
	srv := m.opt.Server
	for {
		m.inflight.Add(1)
		var alerts []prom.Alert
		var aerr error
		var wg sync.WaitGroup
		wg.Go(func() { alerts, aerr = srv.Alerts(ctx) })
		m.mu.Lock()
		prev := m.server
		m.mu.Unlock()
		round := ReadServer(ctx, srv, m.hosts, prev)
		wg.Wait()
		if ctx.Err() != nil {
			m.inflight.Add(-1)
			return
		}
		m.applyServer(round, alerts, aerr)
		m.inflight.Add(-1)
		if !sleep(ctx, m.opt.Interval) {
			return
		}
	}
}

// applyServer files a server round and publishes every polled host again: its metrics,
// their staleness or its alerts may have changed. Alerts that could not be read stay as
// they were, like stale metrics.
func (m *Monitor) applyServer(round *ServerMetrics, alerts []prom.Alert, aerr error) {
	var byHost map[string][]prom.Alert
	n := 0
	if aerr == nil {
		byHost, n = fleetAlerts(alerts, m.hosts, m.opt.Server.HostLabel())
	}
	m.mu.Lock()
	m.server = round
	st := &m.status
	st.Rounds++
	st.Stale, st.Fresh, st.Err = round.Stale || aerr != nil, round.Fresh, ""
	switch {
	case round.Err != nil:
		st.Err = round.Err.Error()
	case aerr != nil:
		st.Err = "alerts: " + aerr.Error()
	}
	if aerr == nil {
		st.Alerts, st.AlertsKnown = n, true
	}
	m.statusDirty = true
	for _, h := range m.hosts {
		hs := m.state[h.Name]
		if aerr == nil {
			hs.alerts = byHost[h.Name]
		}
		if hs.polled {
			m.publishLocked(m.compose(hs))
		}
	}
	m.mu.Unlock()
	m.signal()
}

// probeLoop takes the scheduler's results in batches and publishes the hosts they
// concern.
func (m *Monitor) probeLoop(ctx context.Context) {
	for {
		rs, err := m.sched.Next(ctx)
		if err != nil {
			return
		}
		m.mu.Lock()
		var touched []*hostState
		for _, r := range rs {
			hs := m.state[r.Host]
			if hs == nil {
				continue // a job on a host this monitor does not poll
			}
			hs.probes = withResult(hs.probes, r)
			if hs.polled && !slices.Contains(touched, hs) {
				touched = append(touched, hs)
			}
		}
		for _, hs := range touched {
			m.publishLocked(m.compose(hs))
		}
		m.mu.Unlock()
		m.signal()
	}
}

// withResult returns rs, sorted by probe name, with r in place of the earlier result of
// its probe. It is a new slice: published reports share the old one.
func withResult(rs []probes.Result, r probes.Result) []probes.Result {
	i, found := slices.BinarySearchFunc(rs, r.Name, func(x probes.Result, name string) int { return cmp.Compare(x.Name, name) })
	out := slices.Clone(rs)
	if found {
		out[i] = r
		return out
	}
	return slices.Insert(out, i, r)
}

// compose puts a host's Report together from its own poll, the server's latest round,
// its probes and its alerts, and judges it. m.mu must be held.
func (m *Monitor) compose(hs *hostState) Report {
	r := hs.own
	if srv := m.server; srv != nil {
		if mt, ok := srv.Metrics[r.Host]; ok {
			r.Metrics, r.Source, r.Stale = mt, srv.Source, srv.Stale
		} else if r.Source == srv.Source {
			// The server answered without this host's series: what it gave before is old.
			// The next poll reads the host's own metrics.
			r.Stale = true
		}
	}
	r.Probes, r.Alerts = hs.probes, hs.alerts
	r.judge(m.opt.Check.Thresholds)
	return r
}

// Publish records a report as if a poll had produced it (state from elsewhere, such as a
// pool's connection events, joins the same stream).
func (m *Monitor) Publish(r Report) {
	m.mu.Lock()
	m.publishLocked(r)
	m.mu.Unlock()
	m.signal()
}

func (m *Monitor) publishLocked(r Report) {
	if !m.pending[r.Host] {
		m.pending[r.Host] = true
		m.dirty = append(m.dirty, r.Host)
	}
	m.latest[r.Host] = r
}

func (m *Monitor) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Next blocks until at least one host has a new report or the server's status changed
// (or ctx ends), then returns the latest report of every host that changed since the
// previous call, in arrival order (none when only the status changed: read it with
// Server).
func (m *Monitor) Next(ctx context.Context) ([]Report, error) {
	for {
		m.mu.Lock()
		if len(m.dirty) > 0 || m.statusDirty {
			out := make([]Report, len(m.dirty))
			for i, h := range m.dirty {
				out[i] = m.latest[h]
				delete(m.pending, h)
			}
			m.dirty = m.dirty[:0]
			m.statusDirty = false
			m.mu.Unlock()
			return out, nil
		}
		m.mu.Unlock()
		select {
		case <-m.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Server returns the metrics server's state; the zero ServerStatus when none is
// configured.
func (m *Monitor) Server() ServerStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// InFlight counts reads, server rounds and probes under way, so tests can wait for quiet
// instead of sleeping.
func (m *Monitor) InFlight() int64 {
	n := m.inflight.Load()
	if m.sched != nil {
		n += m.sched.InFlight()
	}
	return n
}

// sleep waits d or until ctx ends; false means ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
