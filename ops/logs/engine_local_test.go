package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/backends/local"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/sessions"
)

// collector drains an engine the way a pane does, keeping everything it got.
type collector struct {
	mu     sync.Mutex
	lines  []Line
	states []StreamState
	err    error
	done   chan struct{}
	wake   chan struct{}
}

func collect(e *Engine) *collector {
	c := &collector{done: make(chan struct{}), wake: make(chan struct{}, 1)}
	go func() {
		defer close(c.done)
		for {
			lines, states, err := e.Next(context.Background())
			c.mu.Lock()
			c.lines = append(c.lines, lines...)
			c.states = append(c.states, states...)
			if err != nil {
				c.err = err
			}
			c.mu.Unlock()
			select {
			case c.wake <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

// wait blocks until cond holds over what was collected, failing after timeout.
func (c *collector) wait(t *testing.T, timeout time.Duration, what string, cond func(lines []Line) bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		ok := cond(c.lines)
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.wake:
		case <-c.done:
			c.mu.Lock()
			ok := cond(c.lines)
			c.mu.Unlock()
			if !ok {
				t.Fatalf("%s: engine ended (%v) first; got:\n%s", what, c.err, c.dump())
			}
			return
		case <-deadline:
			t.Fatalf("%s: not within %v; got:\n%s", what, timeout, c.dump())
		}
	}
}

func (c *collector) dump() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for i, l := range c.lines {
		if i > 60 && i < len(c.lines)-20 {
			if i == 61 {
				b.WriteString("  ...\n")
			}
			continue
		}
		fmt.Fprintf(&b, "  %d %s %s %q\n", l.Seq, l.Host, l.Marker, l.Raw)
	}
	return b.String()
}

func (c *collector) snapshot() []Line {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Line(nil), c.lines...)
}

func content(lines []Line) []string {
	var out []string
	for _, l := range lines {
		if l.Marker == NotMarker {
			out = append(out, l.Raw)
		}
	}
	return out
}

func countMarkers(lines []Line, k MarkerKind) int {
	n := 0
	for _, l := range lines {
		if l.Marker == k {
			n++
		}
	}
	return n
}

func localPool() *sessions.Pool {
	return sessions.NewPool(func(context.Context, config.Host) (sessions.Session, error) { return local.New(), nil })
}

func appendFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
}

func fileTarget(path string) Target {
	return Target{Host: config.Host{Name: "local", Transport: config.TransportLocal}, Source: Source{Name: "app", Path: path}}
}

func TestLocalFollowBacklogRotationTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, path, "one", "two", "three", "four")
	pool := localPool()
	defer pool.Close()
	e := Start(context.Background(), pool, []Target{fileTarget(path)}, Options{Follow: true, Backlog: 2})
	c := collect(e)
	c.wait(t, 5*time.Second, "backlog", func(ls []Line) bool { return len(content(ls)) >= 2 })
	appendFile(t, path, "five")
	c.wait(t, 5*time.Second, "appended line", func(ls []Line) bool { return len(content(ls)) >= 3 })

	// Rotation: a partial last line in the old file, then a new file.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("partial")
	f.Close()
	time.Sleep(200 * time.Millisecond) // let tail read the partial line before the rename
	os.Rename(path, path+".1")
	appendFile(t, path, "new-1", "new-2")
	c.wait(t, 10*time.Second, "rotation", func(ls []Line) bool { return len(content(ls)) >= 6 })
	// Truncation in place.
	os.WriteFile(path, nil, 0o644)
	time.Sleep(1500 * time.Millisecond) // tail notices truncation by size on its next check
	appendFile(t, path, "after-trunc")
	c.wait(t, 10*time.Second, "truncation", func(ls []Line) bool { return len(content(ls)) >= 7 })
	e.Stop()
	<-c.done
	got := content(c.snapshot())
	want := []string{"three", "four", "five", "partial", "new-1", "new-2", "after-trunc"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("lines %q, want %q\n%s", got, want, c.dump())
	}
	if n := countMarkers(c.snapshot(), MarkerRotated); n < 2 {
		t.Errorf("%d rotation markers, want 2 (rotated, truncated)\n%s", n, c.dump())
	}
	if !errors.Is(c.err, io.EOF) {
		t.Errorf("Next after Stop: %v, want io.EOF", c.err)
	}
	for i, l := range c.snapshot() {
		if l.Seq != uint64(i+1) {
			t.Fatalf("line %d has Seq %d", i, l.Seq)
		}
	}
	st := e.States()[0]
	if st.Status != StreamDone || st.Lines != 7 {
		t.Errorf("final state %+v", st)
	}
}

// TestSlowReaderPausesFileStreamsLosslessly reads far slower than the file grows, with a
// tiny buffer: the stream must let go of its channel and resume at its offset, losing
// and repeating nothing, with no reconnect or gap markers.
func TestSlowReaderPausesFileStreamsLosslessly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	os.WriteFile(path, nil, 0o644)
	pool := localPool()
	defer pool.Close()
	e := Start(context.Background(), pool, []Target{fileTarget(path)},
		Options{Follow: true, Backlog: BacklogAll, Buffer: 1, BatchLines: 50, PauseAfter: 50 * time.Millisecond})
	const total = 5000
	var b strings.Builder
	for i := 1; i <= total; i++ {
		fmt.Fprintf(&b, "line %d %s\n", i, strings.Repeat("x", 100))
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	var got []Line
	for len(content(got)) < total {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		lines, _, err := e.Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("after %d lines: %v", len(got), err)
		}
		got = append(got, lines...)
		time.Sleep(30 * time.Millisecond) // a slow reader
	}
	e.Stop()
	for i, l := range content(got) {
		if want := fmt.Sprintf("line %d ", i+1); !strings.HasPrefix(l, want) {
			t.Fatalf("line %d is %.20q", i+1, l)
		}
	}
	if len(got) != total {
		t.Errorf("%d markers among the lines", len(got)-total)
	}
	if st := e.States()[0]; st.Pauses == 0 || st.Reconnects != 0 {
		t.Errorf("state %+v: want pauses and no reconnects", st)
	}
}

func commandTarget(cmd string) Target {
	return Target{Host: config.Host{Name: "local", Transport: config.TransportLocal}, Source: Source{Name: "cmd", Command: cmd}}
}

// TestCommandSourceRestartsWithMarker: a followed command that ends is started again,
// and the restart is marked, since a command cannot resume where it stopped.
func TestCommandSourceRestartsWithMarker(t *testing.T) {
	pool := localPool()
	defer pool.Close()
	e := Start(context.Background(), pool, []Target{commandTarget("echo one; echo two >&2")},
		Options{Follow: true, BackoffMin: 50 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	c := collect(e)
	c.wait(t, 10*time.Second, "two runs", func(ls []Line) bool { return len(content(ls)) >= 4 })
	e.Stop()
	<-c.done
	lines := c.snapshot()
	if got := content(lines)[:4]; strings.Join(got, ",") != "one,two,one,two" {
		t.Fatalf("lines %q: stderr is log too", got)
	}
	if countMarkers(lines, MarkerReconnected) == 0 || !strings.Contains(c.dump(), "cannot resume") {
		t.Fatalf("no restart marker:\n%s", c.dump())
	}
}

// TestCommandSourceOnceKeepsLastLines: without following, a command that never ends is
// cut after CommandWindow and its last lines are kept.
func TestCommandSourceOnceKeepsLastLines(t *testing.T) {
	pool := localPool()
	defer pool.Close()
	e := Start(context.Background(), pool, []Target{commandTarget("for i in 1 2 3 4 5; do echo $i; done; sleep 30")},
		Options{Backlog: 2, CommandWindow: 300 * time.Millisecond})
	c := collect(e)
	<-c.done
	if got := content(c.snapshot()); strings.Join(got, ",") != "4,5" {
		t.Fatalf("lines %q\n%s", got, c.dump())
	}
	if st := e.States()[0]; st.Status != StreamDone {
		t.Fatalf("state %+v", st)
	}
}

// TestNonFollowFailure: a file that cannot be read fails the stream with tail's reason.
func TestNonFollowFailure(t *testing.T) {
	pool := localPool()
	defer pool.Close()
	e := Start(context.Background(), pool, []Target{fileTarget("/nonexistent/app.log")}, Options{Backlog: 10})
	c := collect(e)
	<-c.done
	st := e.States()[0]
	if st.Status != StreamFailed || st.Err == nil || !strings.Contains(st.Err.Error(), "No such file") {
		t.Fatalf("state %+v", st)
	}
}

// TestSinceDropsOldLines: Options.Since drops lines stamped before it, and unstamped
// lines go with the stamped line before them.
func TestSinceDropsOldLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, path,
		"2026-11-22T03:00:00Z ERROR old", "  old trace", "2026-11-22T04:30:00Z INFO new", "  new detail")
	pool := localPool()
	defer pool.Close()
	e := Start(context.Background(), pool, []Target{fileTarget(path)},
		Options{Backlog: BacklogAll, Since: time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)})
	c := collect(e)
	<-c.done
	if got := content(c.snapshot()); strings.Join(got, "|") != "2026-11-22T04:30:00Z INFO new|  new detail" {
		t.Fatalf("lines %q", got)
	}
}

// TestJournalResumesAfterCursor: a restarted JSON journalctl stream resumes after the
// cursor of the last entry delivered, so nothing repeats. A fake journalctl prints three
// entries after the cursor it is given and exits.
func TestJournalResumesAfterCursor(t *testing.T) {
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "journalctl"), []byte(`#!/bin/sh
start=1
for a in "$@"; do case $a in --after-cursor=*) c=${a#--after-cursor=}; start=$((c+1));; esac; done
i=$start
while [ $i -lt $((start+3)) ]; do printf '{"__CURSOR":"%d","PRIORITY":"6","MESSAGE":"entry %d"}\n' $i $i; i=$((i+1)); done
`), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	pool := localPool()
	defer pool.Close()
	tg := commandTarget("journalctl -f -o json")
	tg.Source.Format = FormatJSON
	e := Start(context.Background(), pool, []Target{tg}, Options{Follow: true, BackoffMin: 20 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	c := collect(e)
	c.wait(t, 10*time.Second, "three runs", func(ls []Line) bool { return len(content(ls)) >= 9 })
	e.Stop()
	<-c.done
	var msgs []string
	for _, l := range c.snapshot() {
		if l.Marker == NotMarker {
			msgs = append(msgs, l.Message)
		}
	}
	for i, m := range msgs[:9] {
		if want := fmt.Sprintf("entry %d", i+1); m != want {
			t.Fatalf("message %d is %q, want %q: %q", i, m, want, msgs)
		}
	}
	if !strings.Contains(c.dump(), "journal resumed after the last entry shown") {
		t.Fatalf("no resume marker:\n%s", c.dump())
	}
}

// TestBatchesArePacedNotDelayed: with a BatchWait far longer than the test, a line after
// a quiet spell still comes out at once, and while lines keep coming the next batch
// waits for BatchWait (here: is not returned within the test's patience), gathering what
// arrives meanwhile.
func TestBatchesArePacedNotDelayed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	os.WriteFile(path, nil, 0o644)
	pool := localPool()
	defer pool.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := Start(ctx, pool, []Target{fileTarget(path)}, Options{Follow: true, BatchWait: time.Hour})
	defer e.Stop()

	next := func(ctx context.Context) []string {
		var got []string
		for len(got) == 0 {
			lines, _, err := e.Next(ctx)
			if err != nil {
				return nil
			}
			got = content(lines)
		}
		return got
	}
	// The stream's start is announced by a state change; the first line follows it.
	ready := make(chan []string, 1)
	go func() { ready <- next(ctx) }()
	until := func(what string, cond func(StreamState) bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(e.States()[0]); {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", what, e.States()[0])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	until("the stream did not start", func(st StreamState) bool { return st.Status == StreamStreaming })
	receive := func(ch <-chan []string, want, late string) {
		t.Helper()
		select {
		case got := <-ch:
			if strings.Join(got, ",") != want {
				t.Fatalf("batch %q, want %s", got, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatal(late)
		}
	}
	appendFile(t, path, "first")
	receive(ready, "first", "a line after a quiet spell waited for BatchWait")

	// Within BatchWait of that batch, the next waits and gathers; ending the streams
	// returns what it gathered.
	second := make(chan []string, 1)
	go func() { second <- next(ctx) }()
	appendFile(t, path, "second", "third")
	// Lines are counted once handed to Next.
	until("the stream did not read the appended lines", func(st StreamState) bool { return st.Lines >= 3 })
	time.Sleep(300 * time.Millisecond) // time for a batch that is not paced to come out
	select {
	case got := <-second:
		t.Fatalf("a batch within BatchWait of the last came at once: %q", got)
	default:
	}
	e.Stop()
	receive(second, "second,third", "Stop did not end the gathering batch")
}
