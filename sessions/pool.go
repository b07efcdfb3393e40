package sessions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/config"
)

// Dialer opens a Session to one inventory host.
type Dialer func(ctx context.Context, h config.Host) (Session, error)

// State is where a host's connection stands.
type State int

// The connection states a pool reports.
const (
	StateIdle State = iota
	StateConnecting
	StateReady
	StateFailed
)

func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateReady:
		return "ready"
	case StateFailed:
		return "failed"
	}
	return "idle"
}

// HostState is one host's connection state, with the reason when it failed.
type HostState struct {
	Host     string
	State    State
	Err      error
	Since    time.Time
	Failures int
}

// ErrBackoff is wrapped by the error Get returns while a failed host waits for its next
// reconnect attempt; the wrapped chain also holds the failure that caused the wait.
var ErrBackoff = errors.New("waiting to reconnect")

// Backoff bounds for reconnecting to a failed host: doubling from Min to Max.
const (
	BackoffMin = 500 * time.Millisecond
	BackoffMax = 60 * time.Second
)

// Pool keeps one Session per host, dialled once and reused by every command, so a second
// command to the fleet costs a channel open, not a TCP connection and a key exchange.
type Pool struct {
	dial    Dialer
	now     func() time.Time
	observe func(HostState)
	// dials bounds handshakes in flight. A handshake is CPU work on both ends; hundreds at
	// once on a small machine starve every other goroutine (the console's first frame
	// waited seconds behind them) and finish no sooner, because the servers' CPU is the
	// floor. Connected hosts are not limited: commands on open connections are cheap.
	dials chan struct{}

	mu      sync.Mutex
	entries map[string]*entry
	closed  bool
}

type entry struct {
	sess     Session
	dialing  chan struct{} // non-nil while a dial is in flight; closed when it ends
	state    State
	err      error
	since    time.Time
	failures int
	retryAt  time.Time
}

// PoolOption configures a Pool.
type PoolOption func(*Pool)

// WithObserver reports every state change (connecting, ready, failed) to fn. fn runs on the
// dialling goroutine and must not block.
func WithObserver(fn func(HostState)) PoolOption { return func(p *Pool) { p.observe = fn } }

// DefaultMaxDials is how many handshakes a pool runs at once unless told otherwise.
const DefaultMaxDials = 32

// WithMaxDials bounds the handshakes in flight (n <= 0: DefaultMaxDials).
func WithMaxDials(n int) PoolOption {
	return func(p *Pool) {
		if n > 0 {
			p.dials = make(chan struct{}, n)
		}
	}
}

// WithClock replaces time.Now, for tests of the backoff.
func WithClock(now func() time.Time) PoolOption { return func(p *Pool) { p.now = now } }

// NewPool returns an empty pool that dials with d.
func NewPool(d Dialer, opts ...PoolOption) *Pool {
	p := &Pool{dial: d, now: time.Now, entries: map[string]*entry{}, dials: make(chan struct{}, DefaultMaxDials)}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Get returns the host's live Session, dialling it if there is none. Concurrent callers
// for the same host share one dial. A host that failed recently returns its last error
// (wrapping ErrBackoff) until its backoff expires, so pollers cannot hammer a dead host.
func (p *Pool) Get(ctx context.Context, h config.Host) (Session, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errors.New("session pool closed")
		}
		e := p.entries[h.Name]
		if e == nil {
			e = &entry{}
			p.entries[h.Name] = e
		}
		if e.sess != nil {
			if !isDead(e.sess) {
				s := e.sess
				p.mu.Unlock()
				return s, nil
			}
			// The connection died under us (keepalive, EOF): forget it and redial now
			// rather than fail the caller's command.
			go e.sess.Close()
			e.sess = nil
		}
		if ch := e.dialing; ch != nil {
			p.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if e.state == StateFailed && p.now().Before(e.retryAt) {
			err := e.err
			p.mu.Unlock()
			return nil, fmt.Errorf("%w: %w", ErrBackoff, err)
		}
		var err error
		ch := make(chan struct{})
		e.dialing = ch
		st := p.setLocked(h.Name, e, StateConnecting, nil)
		p.mu.Unlock()
		p.notify(st)

		var s Session
		select {
		case p.dials <- struct{}{}:
			s, err = p.dial(ctx, h)
			<-p.dials
		case <-ctx.Done():
			err = ctx.Err()
		}

		p.mu.Lock()
		e.dialing = nil
		close(ch)
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				// The caller gave up; that says nothing about the host.
				st = p.setLocked(h.Name, e, StateIdle, nil)
			} else {
				e.failures++
				e.retryAt = p.now().Add(backoff(e.failures))
				st = p.setLocked(h.Name, e, StateFailed, err)
			}
			p.mu.Unlock()
			p.notify(st)
			return nil, err
		}
		if p.closed {
			p.mu.Unlock()
			s.Close()
			return nil, errors.New("session pool closed")
		}
		e.sess = s
		e.failures = 0
		st = p.setLocked(h.Name, e, StateReady, nil)
		p.mu.Unlock()
		p.notify(st)
		return s, nil
	}
}

// Invalidate drops the host's Session after a transport error so the next Get redials.
// The host is marked failed with err; its backoff starts from the first step.
func (p *Pool) Invalidate(host string, s Session, err error) {
	p.mu.Lock()
	e := p.entries[host]
	if e == nil || e.sess != s {
		p.mu.Unlock()
		return
	}
	e.sess = nil
	st := p.setLocked(host, e, StateFailed, err)
	p.mu.Unlock()
	s.Close()
	p.notify(st)
}

// States returns every known host's connection state.
func (p *Pool) States() []HostState {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]HostState, 0, len(p.entries))
	for name, e := range p.entries {
		out = append(out, HostState{Host: name, State: e.state, Err: e.err, Since: e.since, Failures: e.failures})
	}
	return out
}

// Close ends every Session. Commands in flight fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	var sess []Session
	for _, e := range p.entries {
		if e.sess != nil {
			sess = append(sess, e.sess)
			e.sess = nil
		}
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range sess {
		wg.Add(1)
		go func() { defer wg.Done(); s.Close() }()
	}
	wg.Wait()
	return nil
}

func (p *Pool) setLocked(host string, e *entry, s State, err error) HostState {
	e.state, e.err, e.since = s, err, p.now()
	return HostState{Host: host, State: s, Err: err, Since: e.since, Failures: e.failures}
}

func (p *Pool) notify(st HostState) {
	if p.observe != nil {
		p.observe(st)
	}
}

func backoff(failures int) time.Duration {
	d := BackoffMin
	for i := 1; i < failures && d < BackoffMax; i++ {
		d *= 2
	}
	return min(d, BackoffMax)
}

func isDead(s Session) bool {
	l, ok := s.(Liveness)
	if !ok {
		return false
	}
	select {
	case <-l.Done():
		return true
	default:
		return false
	}
}
