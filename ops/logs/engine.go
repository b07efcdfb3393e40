package logs

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/sessions"
)

// Sessions is what the engine needs of the session pool: a host's live Session (dialled
// when there is none) and a way to drop one whose transport failed so the next Get
// redials. *sessions.Pool has both.
type Sessions interface {
	Get(ctx context.Context, h config.Host) (sessions.Session, error)
	Invalidate(host string, s sessions.Session, err error)
}

// BacklogAll as Options.Backlog reads files from their start.
const BacklogAll = -1

// Defaults for Options left zero.
const (
	DefaultBatchLines    = 4096
	DefaultBatchWait     = 50 * time.Millisecond
	DefaultBuffer        = 256
	DefaultBackoffMin    = 500 * time.Millisecond
	DefaultBackoffMax    = 30 * time.Second
	DefaultCommandWindow = 2 * time.Second
	DefaultMaxLineBytes  = 1 << 20
	DefaultPauseAfter    = 2 * time.Second
)

// Options shape an Engine.
type Options struct {
	// Follow keeps streams open and reconnects them; without it each stream reads what
	// exists (Backlog lines) and ends.
	Follow bool
	// Backlog is how many existing lines of a file each stream starts with: the last
	// Backlog lines (as tail -n), BacklogAll for the whole file, 0 for none (new lines
	// only). When following, the last lines are found in a window of about 2 kB per line
	// (at least 64 kB) before the end, so very long lines may show fewer. A command prints
	// what it prints; without Follow, its last Backlog lines are kept.
	Backlog int
	// Since, when set, drops lines stamped before it; a line without a time stamp goes
	// with the stamped line before it in its stream (a stack trace with its error), and
	// is kept when no stamped line came before it (its age is unknown).
	Since time.Time
	// BatchLines caps the lines Next returns at once. BatchWait paces batches: Next
	// returns at most one batch per BatchWait while lines keep coming, and a line after a
	// quiet spell at once.
	BatchLines int
	BatchWait  time.Duration
	// Buffer bounds the chunks (one read each, up to ~32 kB of lines) waiting between
	// the streams and Next.
	Buffer int
	// Reconnect backoff: doubling from BackoffMin to BackoffMax, back to BackoffMin
	// after a stream has run for a minute.
	BackoffMin, BackoffMax time.Duration
	// PauseAfter is how long a followed file's stream may wait for room in the buffer
	// before it lets go of its channel, to resume from its offset once Next has caught
	// up: while the reader has stopped, memory goes back to nothing instead of each
	// channel holding its SSH window (2 MB) of unread data.
	PauseAfter time.Duration
	// CommandWindow is how long a command source runs when not following (journalctl -f
	// never exits by itself).
	CommandWindow time.Duration
	// MaxLineBytes splits a line longer than this (a binary file, a runaway line) so a
	// stream's memory stays bounded.
	MaxLineBytes int
	// OnFlag, if set, is called from Next for every line a marker rule flagged, after
	// its Seq is set: the hook incidents are raised from.
	OnFlag func(Line)
	// Now is the clock for Received times (time.Now when nil).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.BatchLines <= 0 {
		o.BatchLines = DefaultBatchLines
	}
	if o.BatchWait <= 0 {
		o.BatchWait = DefaultBatchWait
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = DefaultBackoffMin
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(DefaultBackoffMax, o.BackoffMin)
	}
	if o.CommandWindow <= 0 {
		o.CommandWindow = DefaultCommandWindow
	}
	if o.PauseAfter <= 0 {
		o.PauseAfter = DefaultPauseAfter
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// StreamStatus is where one stream stands.
type StreamStatus int

// Stream statuses.
const (
	StreamConnecting   StreamStatus = iota // first connection under way
	StreamStreaming                        // lines flow
	StreamReconnecting                     // it dropped (Err says why) and is being retried
	StreamFailed                           // given up for good (Err says why)
	StreamDone                             // ended: read all it was asked to, or stopped
)

var statusNames = [...]string{"connecting", "streaming", "reconnecting", "failed", "done"}

func (s StreamStatus) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return "?"
	}
	return statusNames[s]
}

// StreamState is one stream's state, published whenever it changes.
type StreamState struct {
	Host, Source string
	Status       StreamStatus
	// Err says why a stream is reconnecting or failed.
	Err   error
	Since time.Time
	// Offset is, for a file, the byte after the last complete line delivered from the
	// file being followed: where a reconnect resumes.
	Offset int64
	// Lines counts the lines delivered (markers excluded); Reconnects the reconnections;
	// Pauses the times a file stream let go of its channel while the reader caught up.
	Lines      uint64
	Reconnects int
	Pauses     int
}

// Engine streams log lines from many hosts into one merged stream: one stream per
// target (a source on a host), each on its own channel of the host's persistent
// connection, reconnecting with backoff, files resuming at their byte offset.
//
// Backpressure is lossless, and nothing is dropped inside the engine: lines wait in a
// bounded buffer, and when it is full the streams wait. A waiting stream stops reading
// its channel, which then holds up to its SSH window of data (2 MB in x/crypto/ssh,
// not configurable) before the remote tail blocks on its pipe: that window per stream
// is the memory bound while the reader is slower than the hosts. A followed file's
// stream that waits longer than PauseAfter (the reader stopped: a pager at a full
// screen, ctrl-S) closes its channel, dropping what it held uncommitted, and reopens
// it at its offset once the buffer has room again; the file is the buffer meanwhile.
// A command cannot resume, so its stream only waits. The pane
// drains every batch into its Ring, which is where old lines are let go (counted by
// Ring.Evicted); the batch command writes every line out.
type Engine struct {
	opt     Options
	pool    Sessions
	streams []*stream
	ch      chan item
	ctx     context.Context // the streams'
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu     sync.Mutex
	states []StreamState

	nextMu  sync.Mutex // one Next at a time
	pending []Line     // lines of a chunk past the last batch's cap
	// lastBatch is how many lines the last batch held: the next batch's slice starts at
	// about that size rather than growing to it by doubling, which under a stream made
	// the largest share of the engine's garbage (large, zeroed, short-lived slices).
	lastBatch int
	// lastReturn is when Next last returned a batch; batches are paced from it.
	lastReturn time.Time
	seq        uint64
	closed     bool
}

// item is what a stream hands to Next: a chunk of lines or a state change.
type item struct {
	lines []Line
	state *StreamState
}

// Start starts one stream per target; they run until ctx ends or Stop is called (or,
// without Follow, until each has read what it was asked to).
func Start(ctx context.Context, pool Sessions, targets []Target, opt Options) *Engine {
	opt.defaults()
	ctx, cancel := context.WithCancel(ctx)
	e := &Engine{opt: opt, pool: pool, ch: make(chan item, opt.Buffer), ctx: ctx, cancel: cancel}
	e.states = make([]StreamState, len(targets))
	now := opt.Now()
	for i, t := range targets {
		e.states[i] = StreamState{Host: t.Host.Name, Source: t.Source.Name, Status: StreamConnecting, Since: now}
		s := newStream(e, i, t)
		e.streams = append(e.streams, s)
	}
	e.wg.Add(len(e.streams))
	for _, s := range e.streams {
		go s.loop(ctx)
	}
	go func() {
		e.wg.Wait()
		close(e.ch)
	}()
	return e
}

// Stop ends every stream and waits for them. Lines already delivered stay readable:
// Next returns them, then io.EOF.
func (e *Engine) Stop() {
	e.cancel()
	e.wg.Wait()
}

func (e *Engine) runCtx() context.Context { return e.ctx }

// States returns every stream's current state, in target order.
func (e *Engine) States() []StreamState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]StreamState(nil), e.states...)
}

// Next returns the next batch of the merged stream: it waits for a line or a state
// change, then gathers until BatchWait has passed since the last batch (at once after a
// quiet spell) or BatchLines lines are in, and returns the lines in merge order, their
// Seq set, with the state changes seen meanwhile. It returns
// io.EOF once every stream has ended and everything was returned, and ctx's error if ctx
// ends first while nothing was gathered. A pane re-arms one command around it.
func (e *Engine) Next(ctx context.Context) ([]Line, []StreamState, error) {
	e.nextMu.Lock()
	defer e.nextMu.Unlock()
	lines := make([]Line, 0, min(e.lastBatch+e.lastBatch/4+16, e.opt.BatchLines))
	var states []StreamState
	if len(e.pending) > 0 {
		n := min(len(e.pending), e.opt.BatchLines)
		lines = append(lines, e.pending[:n]...)
		e.pending = e.pending[n:]
	} else {
		if e.closed {
			return nil, nil, io.EOF
		}
		select {
		case it, ok := <-e.ch:
			if !ok {
				e.closed = true
				return nil, nil, io.EOF
			}
			lines, states = e.take(it, lines, states)
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	// Batches are paced, not delayed: a line that comes after a quiet spell (the last
	// batch went out BatchWait or more ago) goes out at once with whatever else is already
	// waiting, while under a stream Next gathers until BatchWait has passed since the last
	// batch. A fixed gather after the first line made every line of a quiet log BatchWait
	// late.
	var timeout <-chan time.Time
	if wait := time.Until(e.lastReturn.Add(e.opt.BatchWait)); wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		timeout = timer.C
	}
	take := func(it item, ok bool) bool {
		if !ok {
			e.closed = true
			return false
		}
		lines, states = e.take(it, lines, states)
		return true
	}
gather:
	for len(lines) < e.opt.BatchLines && len(e.pending) == 0 && !e.closed {
		if timeout == nil {
			select {
			case it, ok := <-e.ch:
				if !take(it, ok) {
					break gather
				}
			default:
				break gather
			}
			continue
		}
		select {
		case it, ok := <-e.ch:
			if !take(it, ok) {
				break gather
			}
		case <-timeout:
			break gather
		case <-ctx.Done():
			break gather
		}
	}
	if len(lines) > 0 {
		// Only lines pace the next batch: a state change alone (a stream starting) must
		// not hold back the first line after it.
		e.lastReturn = time.Now()
	}
	e.lastBatch = len(lines)
	for i := range lines {
		e.seq++
		lines[i].Seq = e.seq
		if lines[i].Flag != "" && e.opt.OnFlag != nil {
			e.opt.OnFlag(lines[i])
		}
	}
	return lines, states, nil
}

// take adds an item to the batch, keeping lines past BatchLines for the next call.
func (e *Engine) take(it item, lines []Line, states []StreamState) ([]Line, []StreamState) {
	if it.state != nil {
		states = append(states, *it.state)
	}
	room := e.opt.BatchLines - len(lines)
	if len(it.lines) <= room {
		return append(lines, it.lines...), states
	}
	e.pending = append(e.pending, it.lines[room:]...)
	return append(lines, it.lines[:room]...), states
}

// send hands a chunk or a state to Next, waiting while the buffer is full (this is the
// backpressure). It reports false when ctx ended first.
func (e *Engine) send(ctx context.Context, it item) bool {
	select {
	case e.ch <- it:
		return true
	default:
	}
	select {
	case e.ch <- it:
		return true
	case <-ctx.Done():
		return false
	}
}

// sendWithin is send that gives up after d when the buffer stays full (ok false);
// stopped says ctx ended.
func (e *Engine) sendWithin(ctx context.Context, it item, d time.Duration) (ok, stopped bool) {
	select {
	case e.ch <- it:
		return true, false
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case e.ch <- it:
		return true, false
	case <-ctx.Done():
		return false, true
	case <-t.C:
		return false, false
	}
}

// waitRoom waits until the buffer is at most a quarter full: a paused stream resumes
// then, rather than refill it at once and pause again.
func (e *Engine) waitRoom(ctx context.Context) bool {
	for len(e.ch) > cap(e.ch)/4 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond): // a poll: Next signals nothing per batch
		}
	}
	return true
}

// setState records a stream's state and publishes it when it changed.
func (e *Engine) setState(ctx context.Context, i int, fn func(st *StreamState) bool) {
	e.mu.Lock()
	st := e.states[i]
	changed := fn(&st)
	e.states[i] = st
	e.mu.Unlock()
	if changed {
		e.send(ctx, item{state: &st})
	}
}

func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

var errStopped = errors.New("stopped")
