// Package sessions puts every transport behind one Session interface and owns what sits on
// top of them: the host pool (connect once, reuse), bounded fan-out with per-host timeouts
// and cancellation, and the capped output capture. It knows nothing of panes or Bubble Tea.
package sessions

import (
	"context"
	"io"
)

// Session is one live connection to one host. Implementations: backends/ssh.Client,
// backends/local.Session. A Session must allow concurrent Exec calls: each opens its own
// channel (SSH) or process (local) over the shared connection.
type Session interface {
	// Exec runs cmd on the host and streams its output into stdout and stderr until the
	// command exits, ctx ends, or the transport fails. exitCode is the remote exit status
	// when the command ran to completion (err == nil). err is non-nil when the command did
	// not complete: ctx's error when ctx ended (the remote command is signalled and its
	// channel closed), or a transport error.
	Exec(ctx context.Context, cmd string, stdout, stderr io.Writer) (exitCode int, err error)
	// Close ends the connection; Exec calls in flight fail.
	Close() error
}

// Liveness is an optional power: a Session that can tell when its connection died (so the
// pool reconnects before the next command rather than failing it).
type Liveness interface {
	// Done is closed when the underlying connection is lost.
	Done() <-chan struct{}
}
