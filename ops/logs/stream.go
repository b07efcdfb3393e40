package logs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconsole/opsconsole/backends/local"
	sshb "github.com/opsconsole/opsconsole/backends/ssh"
	"github.com/opsconsole/opsconsole/sessions"
)

// stream follows one target. Its loop runs one remote command at a time (a run); the
// position survives from run to run.
type stream struct {
	e       *Engine
	idx     int
	t       Target
	parser  *Parser
	path    string // files: the path on the host (template filled in)
	name    string // files: the path as tail names it (expanded by the remote shell)
	pathErr error

	// Position in the file, as of the last chunk Next accepted.
	offset   int64
	tail     [checkBytes]byte // the bytes just before offset (the last tailLen of them)
	tailLen  int
	started  bool // a first run reached its header: later runs resume
	fileGone bool // tail said the file went away after reading all of it

	cursor string // journald cursor of the last line delivered (json journalctl sources)

	lines      uint64
	reconnects int
	pauses     int
	sinceKeep  bool
}

func newStream(e *Engine, i int, t Target) *stream {
	s := &stream{e: e, idx: i, t: t, parser: t.Source.Parser(), sinceKeep: true}
	if t.Source.IsFile() {
		s.path, s.pathErr = t.Source.PathFor(t.Host)
		s.name = s.path
	}
	return s
}

func (s *stream) state(ctx context.Context, status StreamStatus, err error) {
	now := s.e.opt.Now()
	s.e.setState(ctx, s.idx, func(st *StreamState) bool {
		changed := st.Status != status || !sameErr(st.Err, err)
		if st.Status != status {
			st.Since = now
		}
		st.Status, st.Err = status, err
		st.Offset, st.Lines, st.Reconnects, st.Pauses = s.offset, s.lines, s.reconnects, s.pauses
		return changed
	})
}

// marker delivers a line the engine made.
func (s *stream) marker(ctx context.Context, kind MarkerKind, format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	l := Line{Host: s.t.Host.Name, Source: s.t.Source.Name, Received: s.e.opt.Now(), Message: text, Raw: text, Marker: kind}
	s.e.send(ctx, item{lines: []Line{l}})
}

// permanent reports errors that retrying cannot fix: a host key that does not verify and
// refused authentication need a person.
func permanent(err error) bool {
	var hk *sshb.HostKeyError
	var auth *sshb.AuthError
	return errors.As(err, &hk) || errors.As(err, &auth)
}

// lost reports whether an Exec error means the session's connection is gone.
func lost(sess sessions.Session, err error) bool {
	if errors.Is(err, sshb.ErrConnectionLost) || errors.Is(err, local.ErrClosed) {
		return true
	}
	if l, ok := sess.(sessions.Liveness); ok {
		select {
		case <-l.Done():
			return true
		default:
		}
	}
	return false
}

func (s *stream) loop(ctx context.Context) {
	defer s.e.wg.Done()
	opt := &s.e.opt
	if s.pathErr != nil {
		s.state(ctx, StreamFailed, s.pathErr)
		return
	}
	backoff := opt.BackoffMin
	var down time.Time // when the stream last dropped
	var lastMarker string
	paused := false // the last run let go of its channel for the reader to catch up
	wait := func() bool {
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(2*backoff, opt.BackoffMax)
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	// dropped reports a drop once per distinct reason, so a host that stays down does
	// not fill the view with one line per attempt.
	dropped := func(status StreamStatus, why error, what string) {
		if down.IsZero() {
			down = opt.Now()
		}
		s.state(ctx, status, why)
		if msg := what + ": " + why.Error(); msg != lastMarker {
			lastMarker = msg
			s.marker(ctx, MarkerState, "%s", msg)
		}
	}
	for {
		if ctx.Err() != nil {
			s.stop()
			return
		}
		sess, err := s.e.pool.Get(ctx, s.t.Host)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				s.stop()
				return
			case permanent(err) || !opt.Follow:
				s.state(ctx, StreamFailed, err)
				s.marker(ctx, MarkerState, "cannot connect: %v", err)
				return
			}
			status := StreamReconnecting
			if !s.started {
				status = StreamConnecting
			}
			// While the pool holds a failed host back it returns the failure again,
			// wrapped: that is not news.
			if !errors.Is(err, sessions.ErrBackoff) {
				dropped(status, err, "cannot connect")
			}
			if !wait() {
				s.stop()
				return
			}
			continue
		}

		r := s.newRun(down, paused)
		paused = false
		var execCtx context.Context
		if !opt.Follow && !s.t.Source.IsFile() {
			execCtx, r.cancel = context.WithTimeout(ctx, opt.CommandWindow)
		} else {
			execCtx, r.cancel = context.WithCancel(ctx)
		}
		stderr := sessions.NewCappedBuffer(4 << 10)
		began := time.Now()
		code, err := sess.Exec(execCtx, r.script, r, stderr)
		r.cancel()
		if r.paused.Load() && ctx.Err() == nil {
			// The reader fell behind: the channel was let go; reopen it at the offset
			// once there is room. Nothing was lost, so this is no reconnect.
			s.pauses++
			if !s.e.waitRoom(ctx) {
				s.stop()
				return
			}
			paused = true
			continue
		}
		if r.reachedHeader() {
			lastMarker = ""
		}
		windowEnded := !opt.Follow && !s.t.Source.IsFile() && execCtx.Err() != nil && ctx.Err() == nil
		if err == nil || windowEnded {
			r.finish(ctx)
		}
		if time.Since(began) > time.Minute {
			backoff = opt.BackoffMin
		}
		switch {
		case ctx.Err() != nil:
			s.stop()
			return
		case windowEnded:
			s.state(ctx, StreamDone, nil)
			return
		case err != nil:
			// A lost connection must be redialled by the next Get. Other failures (the
			// server refused another channel) leave the connection to the streams
			// that share it.
			if lost(sess, err) {
				s.e.pool.Invalidate(s.t.Host.Name, sess, err)
			}
			if !opt.Follow {
				s.state(ctx, StreamFailed, err)
				s.marker(ctx, MarkerState, "connection lost: %v", err)
				return
			}
			down = time.Time{}
			dropped(StreamReconnecting, err, "connection lost")
		case !opt.Follow:
			if code != 0 {
				why := exitErr(code, stderr.Bytes(), r.lastLine)
				s.state(ctx, StreamFailed, why)
				s.marker(ctx, MarkerState, "%v", why)
				return
			}
			s.state(ctx, StreamDone, nil)
			return
		case code == 126 || code == 127:
			why := exitErr(code, stderr.Bytes(), r.lastLine)
			s.state(ctx, StreamFailed, why)
			s.marker(ctx, MarkerState, "%v", why)
			return
		default:
			// A followed stream does not end by itself: tail gave up on the file, or the
			// command exited. Start it again after the backoff.
			down = time.Time{}
			dropped(StreamReconnecting, exitErr(code, stderr.Bytes(), r.lastLine), "stream ended")
		}
		if !wait() {
			s.stop()
			return
		}
	}
}

// stop marks a stream that ran until it was stopped.
func (s *stream) stop() {
	s.e.mu.Lock()
	st := &s.e.states[s.idx]
	// Only a stream that was streaming is done; one still connecting delivered nothing
	// and keeps saying so.
	if st.Status == StreamStreaming {
		st.Status, st.Since = StreamDone, s.e.opt.Now()
	}
	st.Offset, st.Lines, st.Reconnects, st.Pauses = s.offset, s.lines, s.reconnects, s.pauses
	s.e.mu.Unlock()
}

func exitErr(code int, stderr []byte, last string) error {
	msg := strings.TrimSpace(string(stderr))
	if msg == "" {
		msg = strings.TrimSpace(last)
	}
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
		msg = msg[i+1:]
	}
	if msg != "" {
		return fmt.Errorf("exited with status %d: %s", code, msg)
	}
	return fmt.Errorf("exited with status %d", code)
}

// run is one remote command of a stream; it is the io.Writer its output goes to.
type run struct {
	s      *stream
	script string
	down   time.Time // when the stream dropped before this run (zero: first run)
	resume bool
	cursor bool // resumed after a journald cursor
	// afterPause: the run reopens a channel let go while the reader caught up.
	afterPause bool
	cancel     context.CancelFunc
	paused     atomic.Bool // this run let go of its channel

	mu       sync.Mutex
	partial  []byte
	header   bool
	pos      int64 // file offset of the next byte
	tail     [checkBytes]byte
	tailLen  int
	lastLine string

	// A first run's backlog: lines ending at or before backlogEnd are existing lines, of
	// which the last keep are shown.
	backlogEnd int64
	skipFirst  bool // the window started mid-file: its first line is partial
	backlog    []Line
	keep       int
	// once: a command read without following keeps only its last lines.
	once bool
}

func (s *stream) newRun(down time.Time, afterPause bool) *run {
	opt := &s.e.opt
	r := &run{s: s, down: down, afterPause: afterPause, backlogEnd: -1, keep: opt.Backlog}
	src := &s.t.Source
	switch {
	case !opt.Follow && src.IsFile():
		r.script = onceScript(s.path, opt.Backlog)
	case !opt.Follow:
		r.script = commandScript(src.Command)
		r.once = opt.Backlog != BacklogAll
	case src.IsFile():
		r.resume = s.started
		r.script = followScript(s.path, opt.Backlog, window(opt.Backlog), s.started, s.offset, s.tail[checkBytes-s.tailLen:])
	default:
		cmd := src.Command
		if s.started && src.Format == FormatJSON {
			cmd, r.cursor = journalResume(cmd, s.cursor)
		}
		r.script = commandScript(cmd)
	}
	r.tail, r.tailLen = s.tail, s.tailLen
	return r
}

func (r *run) reachedHeader() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.header
}

// window is how far back from a file's end a first run reads to find its last lines.
func window(lines int) int64 {
	return min(max(int64(lines)*2048, 64<<10), 64<<20)
}

// Write receives the command's output. It splits it into lines, delivers them in one
// chunk, and only once Next's buffer took the chunk moves the stream's committed position:
// what a reconnect resumes from is always the end of a line that was delivered.
func (r *run) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.s
	ctx := s.e.runCtx()
	now := s.e.opt.Now()
	// One string per read: the lines are substrings of it, one allocation instead of one
	// per line.
	data := string(p)
	var chunk []Line
	if n := strings.Count(data, "\n"); n > 0 {
		chunk = make([]Line, 0, n+2)
	}
	for len(data) > 0 {
		i := strings.IndexByte(data, '\n')
		if i < 0 {
			r.partial = append(r.partial, data...)
			if len(r.partial) >= s.e.opt.MaxLineBytes {
				chunk = r.line(ctx, chunk, string(r.partial), len(r.partial), now)
				r.partial = r.partial[:0]
			}
			break
		}
		line := data[:i]
		if len(r.partial) > 0 {
			line = string(append(r.partial, line...))
			r.partial = r.partial[:0]
		}
		data = data[i+1:]
		chunk = r.line(ctx, chunk, line, len(line)+1, now)
	}
	if r.backlogEnd >= 0 && r.pos+int64(len(r.partial)) >= r.backlogEnd {
		// Everything that existed at the start was read: show the last lines now rather
		// than when the next line is written.
		r.flushBacklog(&chunk)
	}
	if !r.deliver(ctx, chunk) {
		return 0, errStopped
	}
	return len(p), nil
}

// deliver hands a chunk to Next and commits the position it reached.
func (r *run) deliver(ctx context.Context, chunk []Line) bool {
	s := r.s
	if len(chunk) > 0 {
		if s.t.Source.IsFile() && s.e.opt.Follow && r.header {
			// A reader that stopped (a pager at a full screen, ctrl-S) would leave this
			// channel holding up to its SSH window of unread data. After PauseAfter, let
			// go of the channel instead: the chunk is not committed, so the next run
			// reads it again from the file.
			ok, stopped := s.e.sendWithin(ctx, item{lines: chunk}, s.e.opt.PauseAfter)
			if !ok {
				if !stopped {
					r.paused.Store(true)
					r.cancel()
				}
				return false
			}
		} else if !s.e.send(ctx, item{lines: chunk}) {
			return false
		}
		for i := range chunk {
			if chunk[i].Marker == NotMarker {
				s.lines++
			}
		}
		if s.t.Source.Format == FormatJSON && !s.t.Source.IsFile() {
			for _, f := range chunk[len(chunk)-1].Fields {
				if f.Key == "__CURSOR" {
					s.cursor = f.Value
				}
			}
		}
	}
	// The position is committed only now that the chunk was taken, and not while a
	// first run still holds its backlog: a run that fails before this point leaves the
	// stream where it was (a first run starts over, a resumed one resumes again).
	if r.header && r.backlogEnd < 0 {
		s.started = true
		if !r.once {
			s.offset, s.tail, s.tailLen = r.pos, r.tail, r.tailLen
		}
	}
	s.e.mu.Lock()
	st := &s.e.states[s.idx]
	st.Offset, st.Lines = s.offset, s.lines
	s.e.mu.Unlock()
	return true
}

// line handles one line of output (n bytes of it, newline included when it had one).
func (r *run) line(ctx context.Context, chunk []Line, line string, n int, now time.Time) []Line {
	s := r.s
	if !r.header {
		h, ok := parseHeader(line)
		if !ok {
			return chunk // shell start-up noise before our header
		}
		r.header = true
		return r.begin(ctx, chunk, h, now)
	}
	if s.t.Source.IsFile() && s.e.opt.Follow {
		content, kind, notice := tailNotice(line, s.name)
		if kind != diagNone {
			if content != "" {
				chunk = r.content(chunk, content, len(content), now)
			}
			return r.notice(chunk, kind, notice, now)
		}
	}
	return r.content(chunk, line, n, now)
}

// begin handles the header: where the run starts, and what the user must be told.
func (r *run) begin(ctx context.Context, chunk []Line, h header, now time.Time) []Line {
	s := r.s
	if h.path != "" {
		s.name = h.path
	}
	mk := func(kind MarkerKind, format string, args ...any) {
		text := fmt.Sprintf(format, args...)
		chunk = append(chunk, Line{Host: s.t.Host.Name, Source: s.t.Source.Name, Received: now, Message: text, Raw: text, Marker: kind})
	}
	after := ""
	if !r.down.IsZero() {
		after = " after " + now.Sub(r.down).Round(100*time.Millisecond).String()
	}
	switch h.result {
	case resNew:
		r.pos = h.start
		if s.e.opt.Backlog != BacklogAll && h.size > h.start {
			r.backlogEnd = h.size
			r.skipFirst = h.start > 0
		}
	case resOK:
		r.pos = h.start
		if !r.afterPause {
			mk(MarkerReconnected, "reconnected%s: resumed %s at byte %d", after, s.name, h.start)
		}
	case resGap:
		r.pos = 0
		r.tailLen = 0
		mk(MarkerGap, "%s changed while the stream was down (rotated or truncated): lines written to the old file after byte %d may be missing; reading the current file from its start",
			s.name, s.offset)
	case resGone:
		r.pos = 0
		r.tailLen = 0
		if !s.fileGone && s.offset > 0 {
			mk(MarkerGap, "%s is gone (rotated while the stream was down?): lines written to it after byte %d may be missing; waiting for it to reappear", s.name, s.offset)
		} else {
			mk(MarkerReconnected, "reconnected%s: waiting for %s to appear", after, s.name)
		}
		s.fileGone = true
	case resCmd:
		if r.s.started && r.s.e.opt.Follow {
			if r.cursor {
				mk(MarkerReconnected, "reconnected%s: journal resumed after the last entry shown", after)
			} else {
				mk(MarkerReconnected, "reconnected%s: command restarted; a command cannot resume where it stopped, so lines it printed meanwhile may be missing or repeated", after)
			}
		}
	}
	if r.s.started && !r.afterPause {
		s.reconnects++
	}
	s.state(ctx, StreamStreaming, nil)
	return chunk
}

// notice handles a notice of tail -F: rotation and truncation restart the offset at 0.
func (r *run) notice(chunk []Line, kind diagKind, notice string, now time.Time) []Line {
	s := r.s
	var text string
	mkind := MarkerState
	switch kind {
	case diagReplaced, diagAppeared:
		r.flushBacklog(&chunk)
		r.pos, r.tailLen = 0, 0
		s.fileGone = false
		mkind = MarkerRotated
		text = s.name + " was rotated: following the new file from its start"
	case diagTruncated:
		r.flushBacklog(&chunk)
		r.pos, r.tailLen = 0, 0
		mkind = MarkerRotated
		text = s.name + " was truncated: following it from its start"
	case diagGone:
		r.flushBacklog(&chunk)
		// tail reads a renamed file to its end before it says so: nothing of it is left.
		r.pos, r.tailLen = 0, 0
		s.fileGone = true
		text = strings.TrimPrefix(notice, "tail: ") + " (waiting for it to reappear)"
	default:
		text = strings.TrimPrefix(notice, "tail: ")
	}
	return append(chunk, Line{Host: s.t.Host.Name, Source: s.t.Source.Name, Received: now, Message: text, Raw: text, Marker: mkind})
}

// content handles a line of the log itself.
func (r *run) content(chunk []Line, raw string, n int, now time.Time) []Line {
	s := r.s
	r.pos += int64(n)
	r.remember(raw, n)
	r.lastLine = raw
	l := Line{Host: s.t.Host.Name, Source: s.t.Source.Name, Received: now}
	s.parser.Parse(strings.TrimSuffix(raw, "\r"), now, &l)
	if !s.since(&l) {
		return chunk
	}
	if r.backlogEnd >= 0 {
		if r.pos <= r.backlogEnd {
			if r.skipFirst {
				r.skipFirst = false
				return chunk
			}
			r.keepLast(&r.backlog, l)
			return chunk
		}
		r.flushBacklog(&chunk)
	}
	if r.once {
		r.keepLast(&r.backlog, l)
		return chunk
	}
	return append(chunk, l)
}

// since applies Options.Since.
func (s *stream) since(l *Line) bool {
	since := s.e.opt.Since
	if since.IsZero() {
		return true
	}
	if !l.Time.IsZero() {
		s.sinceKeep = !l.Time.Before(since)
	}
	return s.sinceKeep
}

func (r *run) keepLast(buf *[]Line, l Line) {
	if r.keep == 0 {
		return
	}
	if r.keep > 0 && len(*buf) >= r.keep {
		copy(*buf, (*buf)[1:])
		(*buf)[len(*buf)-1] = l
		return
	}
	*buf = append(*buf, l)
}

func (r *run) flushBacklog(chunk *[]Line) {
	if r.backlogEnd < 0 {
		return
	}
	*chunk = append(*chunk, r.backlog...)
	r.backlog, r.backlogEnd = nil, -1
}

// remember keeps the last checkBytes bytes of the file before pos (raw and its newline).
func (r *run) remember(raw string, n int) {
	// Only the end of the line matters; n may include the newline raw lacks.
	var b [checkBytes]byte
	k := 0
	nl := n > len(raw)
	if nl {
		b[checkBytes-1] = '\n'
		k = 1
	}
	take := min(len(raw), checkBytes-k)
	copy(b[checkBytes-k-take:checkBytes-k], raw[len(raw)-take:])
	k += take
	if k >= checkBytes {
		r.tail, r.tailLen = b, checkBytes
		return
	}
	// Shift the old tail left by k and put the new bytes after it.
	keepOld := min(r.tailLen, checkBytes-k)
	var out [checkBytes]byte
	copy(out[checkBytes-k-keepOld:checkBytes-k], r.tail[checkBytes-keepOld:])
	copy(out[checkBytes-k:], b[checkBytes-k:])
	r.tail, r.tailLen = out, keepOld+k
}

// finish runs when the command ended by itself: a last line without a newline is still a
// line, and a one-off read delivers the last lines it kept.
func (r *run) finish(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var chunk []Line
	now := r.s.e.opt.Now()
	// A followed file's partial last line is left for the next run to read whole.
	if len(r.partial) > 0 && r.header && !(r.s.e.opt.Follow && r.s.t.Source.IsFile()) {
		chunk = r.content(chunk, string(r.partial), len(r.partial), now)
		r.partial = r.partial[:0]
	}
	r.flushBacklog(&chunk)
	if r.once {
		chunk = append(chunk, r.backlog...)
		r.backlog = nil
	}
	r.deliver(ctx, chunk)
}
