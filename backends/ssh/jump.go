package ssh

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// jumpEntry is a shared connection to the last hop of a ProxyJump chain. Targets behind
// the same chain share it (500 hosts behind one bastion make one bastion connection),
// counted by refs; the last user to leave closes it. A chain longer than one hop holds a
// reference on the chain one hop shorter, which carries it.
type jumpEntry struct {
	key   string
	refs  int  // holders and waiters; guarded by jumps.mu
	dialt bool // the dial finished (client or err set); guarded by jumps.mu

	ready  chan struct{} // closed when the dial finished
	client *Client
	err    error
	parent *jumpEntry

	cancel context.CancelFunc // abandons the dial when every waiter gave up
}

var jumps = struct {
	sync.Mutex
	m map[string]*jumpEntry
}{m: map[string]*jumpEntry{}}

// chainKey identifies a hop chain by everything that decides which connection it makes
// and how it is verified (not by names, which only decorate messages).
func chainKey(hops []Target) string {
	var b strings.Builder
	for _, h := range hops {
		fmt.Fprintf(&b, "%s@%s id=%q kh=%q agent=%v > ", h.User, h.addr(), h.IdentityFiles, h.KnownHosts, h.Agent)
	}
	return b.String()
}

func hopNames(hops []Target) string {
	names := make([]string, len(hops))
	for i, h := range hops {
		names[i] = h.Name
	}
	return strings.Join(names, " > ")
}

// acquireJump returns the shared connection to the last of hops, dialling it (and the
// chain before it) if no live one exists. The dial is shared too: concurrent callers
// wait for the same one. It is not bound to the first caller's ctx (that caller may give
// up while others still wait) but is abandoned when every waiter gave up; each hop's own
// ConnectTimeout bounds it.
func acquireJump(ctx context.Context, hops []Target) (*jumpEntry, error) {
	key := chainKey(hops)
	jumps.Lock()
	e := jumps.m[key]
	if e != nil && e.dialt && (e.err != nil || e.client.lost()) {
		// Dead: leave it to its holders, who release it, and dial afresh.
		delete(jumps.m, key)
		e = nil
	}
	if e == nil {
		dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		e = &jumpEntry{key: key, ready: make(chan struct{}), cancel: cancel}
		jumps.m[key] = e
		go e.dial(dctx, hops)
	}
	e.refs++
	jumps.Unlock()

	select {
	case <-e.ready:
		if e.err != nil {
			e.release()
			return nil, e.err
		}
		return e, nil
	case <-ctx.Done():
		e.release()
		return nil, ctx.Err()
	}
}

func (e *jumpEntry) dial(ctx context.Context, hops []Target) {
	defer e.cancel()
	var parent *jumpEntry
	var via *Client
	var err error
	if len(hops) > 1 {
		if parent, err = acquireJump(ctx, hops[:len(hops)-1]); err == nil {
			via = parent.client
		}
	}
	var c *Client
	if err == nil {
		c, err = dialHop(ctx, hops[len(hops)-1], via)
	}
	if err != nil && parent != nil {
		parent.release()
		parent = nil
	}

	jumps.Lock()
	e.client, e.err, e.parent, e.dialt = c, err, parent, true
	if err != nil && jumps.m[e.key] == e {
		delete(jumps.m, e.key) // failures are not cached: the next caller tries again
	}
	abandoned := e.refs == 0
	jumps.Unlock()
	close(e.ready)
	if abandoned {
		e.teardown()
	}
}

// release drops one reference; the last one closes the connection, or abandons the
// dial if it is still running (dial then tears down what it made).
func (e *jumpEntry) release() {
	jumps.Lock()
	e.refs--
	last := e.refs == 0
	if last && jumps.m[e.key] == e {
		delete(jumps.m, e.key)
	}
	dialt := e.dialt
	jumps.Unlock()
	if !last {
		return
	}
	if dialt {
		e.teardown()
	} else {
		e.cancel()
	}
}

// teardown closes the entry's connection and releases the chain below it. It runs once:
// either dial finds no reference left, or release drops the last one after the dial.
func (e *jumpEntry) teardown() {
	if e.client != nil {
		e.client.Close()
	}
	if e.parent != nil {
		e.parent.release()
	}
}
