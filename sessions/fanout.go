package sessions

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/config"
)

// Outcome classifies how a command ended on one host.
type Outcome string

// Outcomes, in the words the CLI prints.
const (
	OutcomeOK        Outcome = "ok"        // ran, exit 0
	OutcomeFailed    Outcome = "failed"    // ran, non-zero exit
	OutcomeTimedOut  Outcome = "timeout"   // the per-host timeout ended it
	OutcomeError     Outcome = "error"     // could not connect, or the connection broke
	OutcomeCancelled Outcome = "cancelled" // the caller cancelled
)

// Result is one host's outcome of a command.
type Result struct {
	Host     string
	Outcome  Outcome
	ExitCode int
	Stdout   []byte
	Stderr   []byte
	// Dropped counts output bytes past the limit (stdout and stderr together).
	Dropped int64
	Err     error
	Start   time.Time
	End     time.Time
}

// Duration is how long the host took, connect included.
func (r Result) Duration() time.Duration { return r.End.Sub(r.Start) }

// FanOutOptions bound a fan-out.
type FanOutOptions struct {
	// Concurrency is how many hosts run at once (default 256).
	Concurrency int
	// Timeout bounds each host's command, after it is connected. Zero: the host's
	// CommandTimeout; if that is zero too, no limit beyond ctx.
	Timeout time.Duration
	// OutputLimit caps kept output per stream per host (default 1 MiB).
	OutputLimit int64
	// OnStart, if set, is called as each host begins (for progress).
	OnStart func(host string)
}

// DefaultConcurrency is the fan-out width when none is configured.
const DefaultConcurrency = 256

// Each runs fn on every host with bounded concurrency and streams each host's value as soon
// as that host finishes; the channel closes when all are done. Hosts not started when ctx
// ends get skipped(h) instead. The channel is buffered for every host, so a caller that
// stops reading leaks nothing. It is the one fan-out every engine feature (exec, check,
// probes, runbooks) is built on.
func Each[T any](ctx context.Context, hosts []config.Host, concurrency int, onStart func(string),
	fn func(ctx context.Context, h config.Host) T, skipped func(h config.Host) T) <-chan T {
	out := make(chan T, len(hosts))
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	sem := make(chan struct{}, concurrency)
	go func() {
		var wg sync.WaitGroup
		defer close(out)
		for _, h := range hosts {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				out <- skipped(h)
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if onStart != nil {
					onStart(h.Name)
				}
				out <- fn(ctx, h)
			}()
		}
		wg.Wait()
	}()
	return out
}

// FanOut runs cmd on every host through the pool (see Each) and streams each Result.
// Cancelling ctx ends every command in flight within the transport's cancel latency.
func (p *Pool) FanOut(ctx context.Context, hosts []config.Host, cmd string, opt FanOutOptions) <-chan Result {
	return Each(ctx, hosts, opt.Concurrency, opt.OnStart,
		func(ctx context.Context, h config.Host) Result { return p.Run(ctx, h, cmd, opt) },
		func(h config.Host) Result { return Skipped(ctx, h.Name) })
}

// Skipped is the Result of a host that never started because ctx ended first.
func Skipped(ctx context.Context, host string) Result {
	now := time.Now()
	oc := OutcomeCancelled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		oc = OutcomeTimedOut
	}
	return Result{Host: host, Outcome: oc, Err: ctx.Err(), ExitCode: -1, Start: now, End: now}
}

// Run runs cmd on one host through the pool and captures its capped output.
func (p *Pool) Run(ctx context.Context, h config.Host, cmd string, opt FanOutOptions) Result {
	r := Result{Host: h.Name, Start: time.Now(), ExitCode: -1}
	s, err := p.Get(ctx, h)
	if err != nil {
		r.Err = err
		r.Outcome = Classify(ctx, nil, err)
		r.End = time.Now()
		return r
	}
	cctx, cancel := CommandContext(ctx, h, opt.Timeout)
	defer cancel()
	stdout, stderr := NewCappedBuffer(opt.OutputLimit), NewCappedBuffer(opt.OutputLimit)
	code, err := s.Exec(cctx, cmd, stdout, stderr)
	r.Stdout, r.Stderr = stdout.Bytes(), stderr.Bytes()
	r.Dropped = stdout.Dropped() + stderr.Dropped()
	r.Err = err
	r.End = time.Now()
	if err == nil {
		r.ExitCode = code
		r.Outcome = OutcomeOK
		if code != 0 {
			r.Outcome = OutcomeFailed
		}
		return r
	}
	r.Outcome = Classify(ctx, cctx, err)
	if r.Outcome == OutcomeError {
		// A broken transport: the next command must not reuse it.
		p.Invalidate(h.Name, s, err)
	}
	return r
}

// CommandContext bounds one command: timeout if set, else the host's CommandTimeout, else
// only ctx.
func CommandContext(ctx context.Context, h config.Host, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = h.CommandTimeout
	}
	if timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

// Classify names how a command that returned err ended: the caller's cancel, a timeout
// (the caller's deadline or the command's own), or a transport error.
func Classify(parent, cmdCtx context.Context, err error) Outcome {
	switch {
	case parent.Err() != nil:
		if errors.Is(parent.Err(), context.DeadlineExceeded) {
			return OutcomeTimedOut
		}
		return OutcomeCancelled
	case cmdCtx != nil && cmdCtx.Err() != nil:
		return OutcomeTimedOut
	case errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimedOut
	}
	return OutcomeError
}
