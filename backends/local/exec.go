// Package local is the backend for the machine opsconsole runs on: commands run through
// /bin/sh, and health metrics, processes and network counters are read with gopsutil and
// from /proc. It satisfies the same Session contract as the remote transports, so the
// local host sits in the fleet like any other.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrClosed is returned by Exec on a closed Session, and by Exec calls that Close ended.
var ErrClosed = errors.New("local: session closed")

// waitDelay bounds how long Exec waits for the output pipes once the shell is gone. A
// process that escaped the group (setsid, a daemon) can hold them open forever; without
// a bound, Exec would wait for it.
const waitDelay = 500 * time.Millisecond

// Session runs commands on this machine. It is safe for concurrent use; each Exec is its
// own process.
type Session struct {
	// done ends with Close; it cancels every Exec in flight.
	done  context.Context
	close context.CancelFunc
}

// New returns a Session for this machine. There is nothing to connect, so it cannot fail.
func New() *Session {
	done, cancel := context.WithCancel(context.Background())
	return &Session{done: done, close: cancel}
}

// Exec runs cmd with /bin/sh -c, streaming its output into stdout and stderr (nil
// discards), with standard input empty. It returns the exit status once the command
// exits: a non-zero status is not an error, and death by signal N reads 128+N as a shell
// reports it.
//
// The command gets a process group of its own, and when ctx ends (or Close is called)
// the whole group is killed with SIGKILL, so pipelines and background jobs die with it.
// Exec then returns -1 and ctx's error (ErrClosed after Close) within waitDelay, even if
// some process outside the group still holds the output pipes. A background job left
// running by a command that exited (`daemon &`) does not hold Exec up longer than
// waitDelay either; it keeps running without its output pipes.
//
// If writing to stdout or stderr fails, the command loses its reader as through a
// broken pipe, and Exec returns -1 and the writer's error.
func (s *Session) Exec(ctx context.Context, cmd string, stdout, stderr io.Writer) (int, error) {
	if s.done.Err() != nil {
		return -1, ErrClosed
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.done, cancel)()

	c := exec.CommandContext(runCtx, "/bin/sh", "-c", cmd)
	var writeErr firstError
	c.Stdout, c.Stderr = writeErr.watch(stdout), writeErr.watch(stderr)
	// Our own group: the kill below reaches every descendant that did not leave it, and a
	// Ctrl-C typed into the console's terminal does not reach the command behind our back.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var killed atomic.Bool
	c.Cancel = func() error {
		err := syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		if err == nil {
			killed.Store(true)
		}
		return err
	}
	c.WaitDelay = waitDelay

	err := c.Run()
	switch {
	case killed.Load() || (c.ProcessState == nil && runCtx.Err() != nil):
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return -1, ErrClosed
	case c.ProcessState == nil: // never started
		return -1, err
	}
	if err := writeErr.get(); err != nil {
		// The output went nowhere: the command was cut off from its reader (it saw a
		// broken pipe), so its status says nothing about the command.
		return -1, fmt.Errorf("local: writing output: %w", err)
	}
	var exitErr *exec.ExitError
	if err == nil || errors.As(err, &exitErr) || errors.Is(err, exec.ErrWaitDelay) {
		// ErrWaitDelay: the shell finished but left a background job holding the pipes
		// (`daemon &`). The command itself completed.
		return exitStatus(c.ProcessState), nil
	}
	return -1, err
}

// firstError remembers the first error of the writers it watches. exec reports a
// writer's failure only when the command otherwise succeeded, but a failed writer
// usually kills the command with SIGPIPE first.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// watch wraps w. A nil w stays nil (exec connects /dev/null), and an *os.File is
// handed to the command as it is: it cannot fail here, and the command writes to it
// directly with no copying.
func (f *firstError) watch(w io.Writer) io.Writer {
	if w == nil {
		return nil
	}
	if file, ok := w.(*os.File); ok {
		return file
	}
	return watchedWriter{w, f}
}

// watchedWriter is comparable whenever the writer it wraps is, so exec still recognises
// one writer passed as both stdout and stderr and gives the command a single pipe for
// both, which keeps the order in which the command interleaved them.
type watchedWriter struct {
	w io.Writer
	f *firstError
}

func (w watchedWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		w.f.mu.Lock()
		if w.f.err == nil {
			w.f.err = err
		}
		w.f.mu.Unlock()
	}
	return n, err
}

// exitStatus reports the status as a shell would: the exit code, or 128+N for death by
// signal N.
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// Close ends every Exec in flight (they return ErrClosed) and refuses new ones. It is
// safe to call more than once.
func (s *Session) Close() error {
	s.close()
	return nil
}
