package probe

import (
	"context"
	"net"

	"github.com/opsconsole/opsconsole/ops/health"
)

// dialer is shared so that ten thousand TCP probes allocate no dialer each. TCP
// keep-alive is off: the connection is closed at once, and setting it up costs three
// system calls per probe.
var dialer = net.Dialer{KeepAlive: -1}

// TCP connects to addr (host:port) and closes the connection at once: OK when the
// connection is accepted, Down when it is refused, unreachable, or times out. Latency is
// the connect time.
func TCP(ctx context.Context, addr string) Result {
	r := start(TypeTCP, addr)
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		r.fail(ctx, err)
		return r
	}
	r.done()
	conn.Close()
	r.Status = health.OK
	return r
}
