package probe

import (
	"context"
	"io"
	"regexp"
	"sync"

	"github.com/opsconsole/opsconsole/ops/health"
)

// Runner runs a command on a host. It is the one power of a session that a command probe
// needs; backends do not import sessions, so it is declared here, and every
// sessions.Session satisfies it.
type Runner interface {
	Exec(ctx context.Context, cmd string, stdout, stderr io.Writer) (exitCode int, err error)
}

// execOutputLimit caps the output kept from a command probe; a health command that
// prints more is matched on its start.
const execOutputLimit = 64 << 10

// Exec runs cmd through r and judges it: Crit when the exit code is not expectExit or
// the standard output does not match match (nil matches anything), Down when the
// command could not complete (the transport failed, or the timeout ended it).
func Exec(ctx context.Context, r Runner, cmd string, expectExit int, match *regexp.Regexp) Result {
	res := start(TypeExec, cmd)
	res.Detail.ExitCode = -1
	if r == nil {
		res.done()
		res.Status, res.Reason = health.Unknown, "no session to the host"
		return res
	}
	var stdout, stderr capped
	code, err := r.Exec(ctx, cmd, &stdout, &stderr)
	if err != nil {
		res.fail(ctx, err)
		return res
	}
	res.done()
	res.Status = health.OK
	res.Detail.ExitCode = code
	out := stdout.String()
	res.Detail.Output = oneLine(out, 200)
	if code != expectExit {
		why := oneLine(stderr.String(), 120)
		if why == "" {
			why = oneLine(out, 120)
		}
		if why != "" {
			why = ": " + why
		}
		res.judge(health.Crit, "exit %d, want %d%s", code, expectExit, why)
	}
	if match != nil && !match.MatchString(out) {
		res.judge(health.Crit, "output does not match /%s/", match)
	}
	return res
}

// capped keeps the first execOutputLimit bytes written and accepts the rest without
// keeping it: a failing write would cut the command off from its output mid-run.
// Sessions may write stdout and stderr from different goroutines, hence the lock.
type capped struct {
	mu  sync.Mutex
	buf []byte
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := execOutputLimit - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}
