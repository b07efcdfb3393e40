// Package ssh is opsconsole's SSH transport, on golang.org/x/crypto/ssh. A Client is one
// persistent, authenticated connection to one host; every Exec opens a new session
// channel on it, so a fan-out pays for the handshake once per host and commands after
// the first cost one channel round trip.
//
// Host keys are checked strictly against known_hosts (parsed once per process and
// cached), authentication uses ssh-agent and identity files (parsed once and cached),
// ProxyJump hops are verified at every hop and shared between the targets behind them,
// and keepalives detect a dead peer. Failures to connect come back as *HostKeyError,
// *AuthError or *ConnectError so that callers can tell them apart.
//
// The package takes its own plain Target and knows nothing of the configuration or the
// session layer above it.
package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// Target says how to reach one host.
type Target struct {
	// Name is the inventory name, used in messages (the address when empty).
	Name    string
	Address string
	Port    int // 22 when 0
	User    string
	// IdentityFiles are private key files. Encrypted ones are skipped, and the reason is
	// kept for the AuthError.
	IdentityFiles []string
	// KnownHosts are known_hosts files; hashed entries work. A missing file counts as
	// empty. With none, every host is unknown and refused.
	KnownHosts []string
	// Agent uses the keys of the agent at SSH_AUTH_SOCK, when set.
	Agent bool
	// ConnectTimeout bounds everything before the connection is usable: TCP connect,
	// SSH handshake and authentication (and, through Jumps, the hops). 0: no bound but
	// ctx.
	ConnectTimeout time.Duration
	// Keepalive is the keepalive@openssh.com interval; 0 turns keepalives off. After 3
	// intervals without a reply the connection is declared dead and closed.
	Keepalive time.Duration
	// Jumps are ProxyJump hops, first hop first. Each hop's host key is verified.
	Jumps []Target
}

func (t Target) addr() string {
	return net.JoinHostPort(t.Address, strconv.Itoa(t.Port))
}

func (t Target) normalized() Target {
	if t.Port == 0 {
		t.Port = 22
	}
	if t.Name == "" {
		t.Name = t.Address
	}
	return t
}

// Dial connects to t (through its jump hosts, if any) and authenticates. ctx bounds the
// dial only; the connection lives until Close or until it is lost.
func Dial(ctx context.Context, t Target) (*Client, error) {
	t = t.normalized()
	if len(t.Jumps) == 0 {
		return dialHop(ctx, t, nil)
	}
	// The connect timeout covers the hops too.
	if t.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t.ConnectTimeout, errConnectTimeout)
		defer cancel()
	}
	hops := make([]Target, len(t.Jumps))
	for i, h := range t.Jumps {
		hops[i] = h.normalized()
	}
	j, err := acquireJump(ctx, hops)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && errors.Is(context.Cause(ctx), errConnectTimeout) {
			err = &timeoutError{fmt.Sprintf("no jump connection within %v", t.ConnectTimeout)}
		}
		return nil, &ConnectError{Host: t.Name, Addr: t.addr(), Err: fmt.Errorf("via %s: %w", hopNames(hops), err)}
	}
	c, err := dialHop(ctx, t, j.client)
	if err != nil {
		j.release()
		return nil, err
	}
	c.jump = j
	return c, nil
}

// dialHop makes one SSH connection to t, over TCP or, when via is set, over a
// direct-tcpip channel of via.
func dialHop(ctx context.Context, t Target, via *Client) (*Client, error) {
	addr := t.addr()
	db, err := loadKnownHosts(t.KnownHosts)
	if err != nil {
		return nil, &HostKeyError{Host: t.Name, Addr: addr, Files: t.KnownHosts, Err: err}
	}
	if t.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t.ConnectTimeout, errConnectTimeout)
		defer cancel()
	}
	connectErr := func(err error) error { return &ConnectError{Host: t.Name, Addr: addr, Err: err} }
	// fail explains a failure in phase, saying so when time ran out (ours, or the
	// caller's deadline) or the caller cancelled.
	fail := func(phase string, err error) error {
		if ctx.Err() == nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return connectErr(err)
		}
		cause := context.Cause(ctx)
		if (cause == nil || errors.Is(cause, errConnectTimeout)) && t.ConnectTimeout > 0 {
			return connectErr(&timeoutError{fmt.Sprintf("%s within %v", phase, t.ConnectTimeout)})
		}
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		return connectErr(fmt.Errorf("%s: %w", phase, cause))
	}

	var conn net.Conn
	if via == nil {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", addr)
	} else {
		conn, err = via.conn.DialContext(ctx, "tcp", addr)
		if err != nil && via.lost() {
			err = fmt.Errorf("jump host %s: %w", via.name, ErrConnectionLost)
		}
	}
	if err != nil {
		return nil, fail("no TCP connection", err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		// Go's default, stated because it matters: our channel opens and exec requests
		// are small writes, which Nagle's algorithm would hold behind the server's
		// delayed ACK. (The server's side of the same problem: quickack_linux.go.)
		tc.SetNoDelay(true)
	}

	// The handshake has no context of its own. Closing the socket when ctx ends bounds
	// it (a host that accepts TCP and never speaks) and covers cancellation and jump
	// channels, which take no deadline. The socket deadline is a backstop set a little
	// later: set exactly, it could fire inside x/crypto's reader just after a handshake
	// that made it in time, killing the new connection before we clear it.
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d.Add(deadlineGrace))
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	watched := &watchedConn{Conn: conn, quickAck: quickAcker(conn)}

	auth := newAuthState(t)
	defer auth.close()
	// Written by the handshake (x/crypto runs key exchange on its own goroutine).
	var hostKeyErr atomic.Pointer[HostKeyError]
	var verified atomic.Bool
	cfg := &ssh.ClientConfig{
		User: t.User,
		Auth: []ssh.AuthMethod{ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			return auth.signers(ctx), nil
		})},
		AuthCallback: auth.callback,
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			if err := db.cb(hostname, remote, key); err != nil {
				e := db.hostKeyError(t.Name, addr, key, err)
				hostKeyErr.Store(e)
				return e
			}
			verified.Store(true)
			return nil
		},
		HostKeyAlgorithms: db.hostKeyAlgorithms(addr),
	}
	sc, chans, reqs, err := ssh.NewClientConn(watched, addr, cfg)
	if !stop() && err == nil {
		// ctx ended just as the handshake finished and the socket is closed already.
		sc.Close()
		err = ctx.Err()
	}
	if err != nil {
		conn.Close()
		if e := hostKeyErr.Load(); e != nil {
			return nil, e
		}
		if e := auth.authError(err); e != nil {
			return nil, e
		}
		switch {
		case !watched.spoke.Load():
			return nil, fail("no SSH banner", err)
		case !verified.Load():
			return nil, fail("no SSH handshake", err)
		case ctx.Err() == nil && len(auth.tried) > 0 && strings.Contains(err.Error(), "ssh: disconnect"):
			// The server hung up during authentication, typically MaxAuthTries exceeded
			// by an agent holding many keys.
			return nil, &AuthError{Host: t.Name, User: t.User, Tried: auth.tried, Skipped: auth.skip, Err: err}
		default:
			return nil, fail("no authentication", err)
		}
	}
	conn.SetDeadline(time.Time{})
	return newClient(ssh.NewClient(sc, chans, reqs), t), nil
}

// deadlineGrace is how long after ctx's deadline the socket deadline falls.
const deadlineGrace = 250 * time.Millisecond

// errConnectTimeout is the cause of a context ended by Target.ConnectTimeout, to tell it
// from the caller's own deadline.
var errConnectTimeout = errors.New("connect timeout")

// watchedConn records whether the server sent anything, to tell "no banner" (a
// listener that never speaks) from a handshake that stalled later, and keeps our ACKs
// prompt.
type watchedConn struct {
	net.Conn
	spoke    atomic.Bool
	quickAck func() // nil when not applicable; see quickAcker
}

func (w *watchedConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if w.quickAck != nil && n > 0 {
		w.quickAck()
	}
	if n > 0 && !w.spoke.Load() {
		w.spoke.Store(true)
	}
	return n, err
}
