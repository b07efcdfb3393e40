package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// keepaliveMisses is how many keepalive intervals may pass without a reply before the
// connection is declared dead (OpenSSH's ServerAliveCountMax default).
const keepaliveMisses = 3

// Client is one authenticated connection to one host. It is safe for concurrent use:
// every Exec opens its own session channel on the shared connection.
type Client struct {
	name, addr string
	conn       *ssh.Client
	jump       *jumpEntry // the hop chain this connection runs through; released on Close

	done      chan struct{}
	mu        sync.Mutex
	lostCause error // why the connection ended, when we know better than "closed"

	closeOnce sync.Once
	closeErr  error
}

func newClient(conn *ssh.Client, t Target) *Client {
	c := &Client{name: t.Name, addr: t.addr(), conn: conn, done: make(chan struct{})}
	go func() {
		// Wait returns when the transport dies, whatever killed it: a reset, our Close,
		// the keepalive giving up, or the jump connection below going away.
		conn.Wait()
		close(c.done)
	}()
	if t.Keepalive > 0 {
		go c.keepalive(t.Keepalive)
	}
	return c
}

// Done is closed when the connection is lost or closed.
func (c *Client) Done() <-chan struct{} { return c.done }

func (c *Client) lost() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Close ends the connection; Exec calls in flight fail. Closing a connection that was
// lost already is not an error.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		err := c.conn.Close()
		if errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
			err = nil
		}
		c.closeErr = err
		if c.jump != nil {
			c.jump.release()
		}
	})
	return c.closeErr
}

// keepalive sends keepalive@openssh.com requests every interval, one at a time, and
// closes the connection when keepaliveMisses intervals pass without a reply. A peer that
// vanished without a reset (a hung host, a dropped route) is otherwise only noticed
// when TCP gives up, many minutes later.
func (c *Client) keepalive(interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	replies := make(chan error, 1)
	pending, missed := false, 0
	for {
		select {
		case <-c.done:
			return
		case err := <-replies:
			if err != nil {
				return // the transport is gone; Wait reports it
			}
			pending, missed = false, 0
		case <-tick.C:
			if !pending {
				pending = true
				go func() {
					// OpenSSH answers with a failure (it does not know the request): any
					// answer proves the peer alive.
					_, _, err := c.conn.SendRequest("keepalive@openssh.com", true, nil)
					replies <- err
				}()
				continue
			}
			if missed++; missed >= keepaliveMisses {
				c.mu.Lock()
				c.lostCause = fmt.Errorf("no keepalive reply in %v", time.Duration(keepaliveMisses)*interval)
				c.mu.Unlock()
				c.conn.Close()
				return
			}
		}
	}
}

// lostErr is the error for a command cut off by the connection's end.
func (c *Client) lostErr(when string) error {
	c.mu.Lock()
	cause := c.lostCause
	c.mu.Unlock()
	if cause != nil {
		return fmt.Errorf("%s (%s): %w %s: %v", c.name, c.addr, ErrConnectionLost, when, cause)
	}
	return fmt.Errorf("%s (%s): %w %s", c.name, c.addr, ErrConnectionLost, when)
}

// Exec runs cmd in a new session channel and streams its output into stdout and stderr
// (either may be nil to discard). It returns the exit status when the command ran to
// completion (128+N for a command killed by signal N). When ctx ends, the command is sent
// SIGKILL, its channel is closed and ctx's error is returned at once, whatever the
// remote does. When the connection dies first, the error wraps ErrConnectionLost.
//
// No write to stdout or stderr happens after Exec returns, and writes to them never
// overlap, so both may be the same buffer.
func (c *Client) Exec(ctx context.Context, cmd string, stdout, stderr io.Writer) (int, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	if c.lost() {
		return -1, c.lostErr("before the command started")
	}
	g := &gate{}
	r := &execRun{}
	res := make(chan execResult, 1)
	go c.run(r, cmd, g.wrap(stdout), g.wrap(stderr), res)
	select {
	case out := <-res:
		return out.code, out.err
	case <-ctx.Done():
		r.abandon()
		g.close()
		return -1, ctx.Err()
	}
}

type execResult struct {
	code int
	err  error
}

// execRun is the state an abandoned Exec shares with its still running goroutine.
type execRun struct {
	mu        sync.Mutex
	sess      *ssh.Session
	started   bool
	abandoned bool
}

// abandon stops the command of an Exec whose ctx ended. The signal and the close are
// sent from a goroutine: both write to the connection, which may be stalled, and Exec
// must return at once.
func (r *execRun) abandon() {
	r.mu.Lock()
	r.abandoned = true
	sess, started := r.sess, r.started
	r.mu.Unlock()
	if sess != nil && started {
		go kill(sess)
	}
	// Not started yet: run sees abandoned after Start and kills it there.
}

func kill(sess *ssh.Session) {
	// sshd delivers it with killpg to the command's process group. Best effort: sshd
	// refuses signals for forced commands, so the close below is what ends the
	// session on our side in any case.
	sess.Signal(ssh.SIGKILL)
	sess.Close()
}

func (c *Client) run(r *execRun, cmd string, stdout, stderr io.Writer, res chan<- execResult) {
	sess, err := c.conn.NewSession()
	if err != nil {
		if c.lost() || errors.Is(err, io.EOF) {
			res <- execResult{-1, c.lostErr("before the command started")}
		} else {
			res <- execResult{-1, fmt.Errorf("%s (%s): open session: %w", c.name, c.addr, err)}
		}
		return
	}
	defer sess.Close()
	r.mu.Lock()
	if r.abandoned {
		r.mu.Unlock()
		return
	}
	r.sess = sess
	r.mu.Unlock()

	if stdout != nil {
		sess.Stdout = stdout
	}
	if stderr != nil {
		sess.Stderr = stderr
	}
	err = sess.Start(cmd)
	r.mu.Lock()
	r.started = err == nil
	abandoned := r.abandoned
	r.mu.Unlock()
	if abandoned {
		if err == nil {
			kill(sess)
		}
		return
	}
	if err != nil {
		if c.lost() || errors.Is(err, io.EOF) {
			res <- execResult{-1, c.lostErr("before the command started")}
		} else {
			res <- execResult{-1, fmt.Errorf("%s (%s): start command: %w", c.name, c.addr, err)}
		}
		return
	}
	err = sess.Wait()
	if err == nil {
		res <- execResult{0, nil}
		return
	}
	if ee, ok := errors.AsType[*ssh.ExitError](err); ok {
		res <- execResult{ee.ExitStatus(), nil}
		return
	}
	if _, ok := errors.AsType[*ssh.ExitMissingError](err); ok || c.lost() || errors.Is(err, io.EOF) {
		res <- execResult{-1, c.lostErr("before exit status")}
		return
	}
	res <- execResult{-1, fmt.Errorf("%s (%s): %w", c.name, c.addr, err)}
}

// gate serialises the writes of one Exec to its writers and shuts them off when Exec
// returns early, so that the caller's buffers are never written after Exec returned
// (x/crypto copies stdout and stderr on goroutines of its own).
type gate struct {
	mu     sync.Mutex
	closed bool
}

var errExecEnded = errors.New("exec ended")

func (g *gate) wrap(w io.Writer) io.Writer {
	if w == nil {
		return nil
	}
	return &gatedWriter{g: g, w: w}
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

type gatedWriter struct {
	g *gate
	w io.Writer
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	w.g.mu.Lock()
	defer w.g.mu.Unlock()
	if w.g.closed {
		return 0, errExecEnded
	}
	return w.w.Write(p)
}
