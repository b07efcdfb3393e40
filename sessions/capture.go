package sessions

import (
	"fmt"
	"sync"
)

// DefaultOutputLimit caps what one command may keep per stream per host, so a runaway
// command (a `cat` of a 100 MB log, `yes`) cannot exhaust the console's memory.
const DefaultOutputLimit = 1 << 20

// CappedBuffer keeps the first Limit bytes written to it and counts the rest. Writes never
// fail: the transport keeps draining the remote output (so the command finishes normally
// and the channel's flow control never stalls), it is only not kept.
type CappedBuffer struct {
	mu      sync.Mutex
	limit   int64
	buf     []byte
	dropped int64
}

// NewCappedBuffer returns a buffer that keeps at most limit bytes (limit <= 0: the default).
func NewCappedBuffer(limit int64) *CappedBuffer {
	if limit <= 0 {
		limit = DefaultOutputLimit
	}
	return &CappedBuffer{limit: limit}
}

// Write implements io.Writer.
func (c *CappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.limit - int64(len(c.buf))
	switch {
	case room <= 0:
		c.dropped += int64(len(p))
	case int64(len(p)) > room:
		c.buf = append(c.buf, p[:room]...)
		c.dropped += int64(len(p)) - room
	default:
		c.buf = append(c.buf, p...)
	}
	return len(p), nil
}

// Bytes returns what was kept, followed by a visible truncation marker when anything was
// dropped, so a reader can never mistake a capped output for a complete one.
func (c *CappedBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]byte, len(c.buf), len(c.buf)+80)
	copy(out, c.buf)
	if c.dropped > 0 {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, TruncationMarker(c.dropped)...)
	}
	return out
}

// Dropped reports how many bytes were discarded past the limit.
func (c *CappedBuffer) Dropped() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// TruncationMarker is the line appended to a capped output.
func TruncationMarker(dropped int64) string {
	return fmt.Sprintf("[opsconsole: output truncated, %s more not shown]\n", HumanBytes(dropped))
}

// HumanBytes formats n in binary units (1.5 MiB).
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
