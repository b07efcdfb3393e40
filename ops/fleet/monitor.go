package fleet

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/sessions"
)

// MonitorOptions shape the live polling behind the fleet view.
type MonitorOptions struct {
	Check    CheckOptions
	Interval time.Duration // between two reads of one host (default 5s)
	// Concurrency bounds reads in flight across the fleet (default 256), so a large
	// inventory does not open a thousand handshakes at once.
	Concurrency int
}

// Monitor polls every host on its own schedule and coalesces the latest Report per host, so
// a slow or hung host delays nobody else, producers never block, and memory stays bounded
// by the inventory size however slowly the consumer reads.
type Monitor struct {
	pool  *sessions.Pool
	hosts []config.Host
	opt   MonitorOptions
	sem   chan struct{}

	mu      sync.Mutex
	latest  map[string]Report
	dirty   []string        // hosts with a report not yet taken, in arrival order
	pending map[string]bool // the same hosts, for O(1) membership
	wake    chan struct{}   // signalled (non-blocking) when dirty becomes non-empty

	inflight atomic.Int64
}

// NewMonitor prepares a monitor; Run starts it.
func NewMonitor(pool *sessions.Pool, hosts []config.Host, opt MonitorOptions) *Monitor {
	if opt.Interval <= 0 {
		opt.Interval = 5 * time.Second
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = sessions.DefaultConcurrency
	}
	return &Monitor{pool: pool, hosts: hosts, opt: opt, sem: make(chan struct{}, opt.Concurrency),
		latest: map[string]Report{}, pending: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// Run polls until ctx ends. Each host gets its own loop with a random phase, so a thousand
// hosts spread over the interval instead of arriving as one burst.
func (m *Monitor) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, h := range m.hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.loop(ctx, h)
		}()
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
		rep := CheckHost(ctx, m.pool, h, m.opt.Check)
		<-m.sem
		m.inflight.Add(-1)
		if ctx.Err() != nil {
			return
		}
		m.publish(rep)
		wait := m.opt.Interval
		if round == 0 {
			wait = phase
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// Publish records a report as if a poll had produced it (state from elsewhere, such as a
// pool's connection events, joins the same stream).
func (m *Monitor) Publish(r Report) { m.publish(r) }

func (m *Monitor) publish(r Report) {
	m.mu.Lock()
	if !m.pending[r.Host] {
		m.pending[r.Host] = true
		m.dirty = append(m.dirty, r.Host)
	}
	m.latest[r.Host] = r
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Next blocks until at least one host has a new report (or ctx ends), then returns the
// latest report of every host that changed since the previous call, in arrival order.
func (m *Monitor) Next(ctx context.Context) ([]Report, error) {
	for {
		m.mu.Lock()
		if len(m.dirty) > 0 {
			out := make([]Report, len(m.dirty))
			for i, h := range m.dirty {
				out[i] = m.latest[h]
				delete(m.pending, h)
			}
			m.dirty = m.dirty[:0]
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

// InFlight counts reads under way, so tests can wait for quiet instead of sleeping.
func (m *Monitor) InFlight() int64 { return m.inflight.Load() }
