// Package probe runs one health probe and judges its answer: HTTP(S) with status, body
// match and certificate expiry, TCP connect, gRPC health (grpc.health.v1), TLS certificate
// expiry, and commands run over a host's session. It does no scheduling: ops/probes
// decides when and how often, and this package only says what one attempt found.
//
// Every probe takes a context; its deadline is the probe's timeout. Use WithTimeout to set
// it, so that a probe cut short says "timeout after 2s" rather than a bare deadline error.
//
// Statuses mean the same for every kind of probe: Down when the target gave no answer
// (refused, unreachable, timed out), Crit when it answered wrongly (HTTP 500, a body that
// does not match, NOT_SERVING, a wrong exit code, an expired or untrusted certificate),
// Warn or Crit for a certificate close to expiry, Unknown when the probe could not be
// attempted (a header's environment variable unset, the caller cancelled), OK otherwise.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/opsconsole/opsconsole/ops/health"
)

// The kinds of probe, as Result.Type names them.
const (
	TypeHTTP = "http"
	TypeTCP  = "tcp"
	TypeGRPC = "grpc"
	TypeTLS  = "tls"
	TypeExec = "exec"
)

// Result is what one probe attempt found. The backend fills Type, Target, Status, Latency,
// Reason, Time and Detail; Name and Host belong to whoever scheduled the probe.
type Result struct {
	Name   string        `json:"name"`
	Host   string        `json:"host"`
	Type   string        `json:"type"`
	Target string        `json:"target"` // URL (password redacted), host:port, or command
	Status health.Status `json:"status"`
	// Latency is how long the attempt took: connect for TCP, the whole request with its
	// body for HTTP, the Check RPC with its connection for gRPC, the run for a command.
	Latency time.Duration `json:"latency_ns"`
	// Reason says why Status is not OK, in a few words ("status 500, want 2xx/3xx"). It
	// never holds a header value.
	Reason string    `json:"reason,omitempty"`
	Time   time.Time `json:"time"` // when the attempt started
	Detail Detail    `json:"detail,omitzero"`
}

// Detail holds what a probe measured beyond its verdict; each field is set only by the
// kinds of probe that measure it.
type Detail struct {
	StatusCode int `json:"status_code,omitempty"` // HTTP
	// CertExpiry is the leaf certificate's NotAfter (HTTPS, TLS, gRPC over TLS); CertDays
	// is the time left until then in whole days, rounded to the nearest.
	CertExpiry    time.Time `json:"cert_expiry,omitzero"`
	CertDays      int       `json:"cert_days,omitempty"`
	ServingStatus string    `json:"serving_status,omitempty"` // gRPC: SERVING, NOT_SERVING…
	ExitCode      int       `json:"exit_code,omitempty"`      // exec; -1 when it did not complete
	// Output is the start of an exec probe's standard output, for a failing probe's
	// reason to be checked by eye.
	Output string `json:"output,omitempty"`
}

// OK reports whether the probe passed.
func (r Result) OK() bool { return r.Status == health.OK }

// TimeoutError is the cause WithTimeout gives its context, so that every probe cut short
// by its timeout explains itself the same way.
type TimeoutError struct {
	After    time.Duration
	deadline time.Time
}

func (e *TimeoutError) Error() string { return "timeout after " + e.After.String() }

// Timeout is true, as for net.Error.
func (e *TimeoutError) Timeout() bool { return true }

// Is lets errors.Is(err, context.DeadlineExceeded) hold for a probe timeout too.
func (e *TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// WithTimeout bounds a probe by d. A probe it cuts short reports "timeout after d". d ≤ 0
// leaves ctx's own deadline, if any.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	te := &TimeoutError{After: d, deadline: time.Now().Add(d)}
	if dl, ok := ctx.Deadline(); ok && dl.Before(te.deadline) {
		return context.WithCancel(ctx) // the caller's deadline comes first and speaks
	}
	return context.WithDeadlineCause(context.WithValue(ctx, timeoutKey{}, te), te.deadline, te)
}

// start opens a Result; done closes it with the latency measured from its Time.
func start(typ, target string) Result {
	return Result{Type: typ, Target: target, Time: time.Now()}
}

func (r *Result) done() { r.Latency = time.Since(r.Time) }

// judge records a verdict; a second verdict keeps the worse status and joins the reasons,
// so that an HTTPS probe can say "status 500; certificate expires in 3 days".
func (r *Result) judge(s health.Status, format string, args ...any) {
	reason := fmt.Sprintf(format, args...)
	switch {
	case r.Reason == "":
		r.Status, r.Reason = s, reason
		return
	case s.Worse(r.Status):
		r.Status, r.Reason = s, reason+"; "+r.Reason
	default:
		r.Reason += "; " + reason
	}
}

// fail records a probe that got no usable answer. When ctx ended the context's cause
// speaks (a timeout from WithTimeout, or the caller's cancel), because the transport's
// own error for it is noise such as "i/o timeout" or "operation was canceled".
func (r *Result) fail(ctx context.Context, err error) {
	r.done()
	switch {
	case expired(ctx):
		// A deadline that is not the probe's own: say how long the probe had.
		r.Status, r.Reason = health.Down, "deadline exceeded after "+roundLatency(r.Latency)
		if te := ownTimeout(ctx); te != nil {
			r.Reason = te.Error()
		}
	case ctx.Err() == nil:
		r.Status, r.Reason = health.Down, errReason(err)
	default:
		r.Status, r.Reason = health.Unknown, "cancelled"
	}
}

// expired reports whether ctx's deadline has passed. The transports turn a context's
// deadline into a socket deadline of their own, which can fire a moment before the
// context's timer marks it done, so the clock decides rather than ctx.Err.
func expired(ctx context.Context) bool {
	if errors.Is(ctx.Err(), context.Canceled) {
		return false
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl) || errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// roundLatency keeps three significant digits or so: "1.23s", "45ms", "312µs".
func roundLatency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

type timeoutKey struct{}

// ownTimeout returns the TimeoutError of the WithTimeout that set ctx's deadline, or nil
// when the deadline came from elsewhere (a caller's shorter one).
func ownTimeout(ctx context.Context) *TimeoutError {
	te, _ := ctx.Value(timeoutKey{}).(*TimeoutError)
	if dl, ok := ctx.Deadline(); te == nil || !ok || !dl.Equal(te.deadline) {
		return nil
	}
	return te
}

// errReason shortens a transport error to what an on-call engineer needs: the target is
// printed beside it already, so "dial tcp 127.0.0.1:1: connect: connection refused"
// becomes "connection refused".
func errReason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "i/o timeout"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "lookup " + dnsErr.Name + ": " + dnsErr.Err
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error()
	}
	return err.Error()
}

// certVerdict judges a leaf certificate's expiry against warn and crit thresholds in days
// (zero disables one), recording the expiry in d.
func certVerdict(r *Result, notAfter time.Time, warnDays, critDays int) {
	left := notAfter.Sub(r.Time)
	r.Detail.CertExpiry = notAfter
	r.Detail.CertDays = int((left + 12*time.Hour) / (24 * time.Hour))
	if left < 0 {
		r.Detail.CertDays = -int((-left + 12*time.Hour) / (24 * time.Hour))
	}
	day := 24 * time.Hour
	switch {
	case left <= 0:
		r.judge(health.Crit, "certificate expired %s ago (%s)", humanDays(-left), notAfter.UTC().Format(time.DateOnly))
	case critDays > 0 && left < time.Duration(critDays)*day:
		r.judge(health.Crit, "certificate expires in %s (%s)", humanDays(left), notAfter.UTC().Format(time.DateOnly))
	case warnDays > 0 && left < time.Duration(warnDays)*day:
		r.judge(health.Warn, "certificate expires in %s (%s)", humanDays(left), notAfter.UTC().Format(time.DateOnly))
	}
}

// humanDays prints a span as whole days, rounded to the nearest, or hours under a day
// and a half so that "expires in 1 day" is never read for 13 hours.
func humanDays(d time.Duration) string {
	if d < 36*time.Hour {
		return fmt.Sprintf("%dh", int(d.Round(time.Hour)/time.Hour))
	}
	n := int((d + 12*time.Hour) / (24 * time.Hour))
	return fmt.Sprintf("%d days", n)
}

// oneLine trims s to its first non-empty line of at most n bytes, for reasons.
func oneLine(s string, n int) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > n {
				line = line[:n] + "…"
			}
			return line
		}
	}
	return ""
}
