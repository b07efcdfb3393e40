package local

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shirou/gopsutil/v3/cpu"

	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/redact"
)

// The extras are what Collect measures beyond what Judge reads: each CPU's share, the
// network interfaces' rates and the busiest processes. They are measured over the same
// interval as the CPU figure, from the previous Collect, without a wait of their own.
// Any of them that fails is left empty: a host must not turn Unknown, nor a poll fail,
// because /proc/net/dev could not be read.

// topProcs is how many processes Collect lists.
const topProcs = 10

// maxCommand caps a process's command line, in bytes: a JVM's classpath runs to tens of
// kilobytes, and the list goes into every poll's journal entry.
const maxCommand = 512

// procsFloor is the shortest interval over which Collect ranks processes. Process times
// count in 10 ms ticks, so over a few milliseconds one tick reads as hundreds of
// percent; a Collect that follows another (or a TopProcesses call) that closely lists
// none and leaves the previous sample in place for the next.
const procsFloor = cpuWindow / 2

// commandRedactor masks secrets in command lines. The built-in rules only: the
// collector has no configuration, and the defaults are what catch the usual shapes
// (--password=…, mysql -p…, Authorization headers, URLs with a password).
var commandRedactor = redact.Default()

// cleanCommand makes a command line fit to leave the collector: secrets masked, then cut
// to maxCommand bytes on a character boundary, ending in "…" when cut. Masking comes
// first so that a cut cannot split a secret from the name that marks it as one.
func cleanCommand(s string) string {
	s = commandRedactor.Redact(s)
	if len(s) <= maxCommand {
		return s
	}
	const more = "…"
	cut := maxCommand - len(more)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + more
}

// coreTimes reads each logical CPU's times, in CPU order; nil when they cannot be read.
func coreTimes(ctx context.Context) []cpu.TimesStat {
	ts, err := cpu.TimesWithContext(ctx, true)
	if err != nil || len(ts) == 0 {
		return nil
	}
	return ts
}

// coresPercent is each CPU's busy share between two readings of coreTimes. It is nil
// when either reading is missing or the online CPUs changed between them (a CPU taken
// offline or brought back): the next sample has them again. A CPU whose counters did not
// advance reads 0%.
func coresPercent(prev, cur []cpu.TimesStat) []float64 {
	if len(prev) == 0 || len(prev) != len(cur) {
		return nil
	}
	out := make([]float64, len(cur))
	for i := range cur {
		if prev[i].CPU != cur[i].CPU {
			return nil
		}
		out[i], _ = busyPercent(prev[i], cur[i])
	}
	return out
}

// primeExtras takes the first reading of the extras that have none yet, so that the
// first Collect measures them over its CPU wait. Failures are left for the measuring
// step, which tries again.
func (c *Collector) primeExtras(ctx context.Context) {
	c.procMu.Lock()
	if c.prevProcs == nil {
		_ = c.primeProcsLocked(ctx)
	}
	c.procMu.Unlock()

	c.netMu.Lock()
	if c.prevNet == nil {
		_, _ = c.readNetLocked(ctx)
	}
	c.netMu.Unlock()
}

// busiest lists the n processes that used the most CPU since the previous sample,
// without waiting: nil when there is no previous sample yet (this call takes it), when
// it is too recent to measure against, or when the processes cannot be read.
func (c *Collector) busiest(ctx context.Context, n int) []health.Proc {
	c.procMu.Lock()
	defer c.procMu.Unlock()
	if c.prevProcs == nil {
		_ = c.primeProcsLocked(ctx)
		return nil
	}
	if time.Since(c.procsAt) < procsFloor {
		return nil
	}
	ps, err := c.topLocked(ctx, n)
	if err != nil {
		return nil
	}
	out := make([]health.Proc, 0, len(ps))
	for _, p := range ps {
		out = append(out, health.Proc{PID: p.PID, Name: p.Name, User: p.User,
			CPUPercent: p.CPUPercent, RSS: p.RSS, Command: p.Command})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// netRates reads the interface counters and returns the rates since the previous
// reading, which it replaces; nil on the first reading or when they cannot be read.
func (c *Collector) netRates(ctx context.Context) []health.NetRate {
	c.netMu.Lock()
	defer c.netMu.Unlock()
	prev, at := c.prevNet, c.netAt
	// Read under the lock: two Collects storing their readings out of order would make
	// the next delta run backwards.
	cur, err := c.readNetLocked(ctx)
	if err != nil || prev == nil {
		return nil
	}
	return netRates(prev, cur, c.netAt.Sub(at))
}

// readNetLocked reads the counters and keeps them as the previous reading.
// c.netMu is held.
func (c *Collector) readNetLocked(ctx context.Context) ([]InterfaceCounters, error) {
	cur, err := NetCounters(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]InterfaceCounters, len(cur))
	for _, n := range cur {
		byName[n.Name] = n
	}
	c.prevNet, c.netAt = byName, time.Now()
	return cur, nil
}

// netRates turns two readings elapsed apart into rates per second. An interface is left
// out when it never carried anything (every counter zero: a dummy or a tunnel never
// brought up, of which some hosts have dozens), when it is new since prev, and when any
// of its counters went backwards (a counter that wrapped, or an interface recreated
// under the same name), which tells nothing about this interval. The order is by name
// with loopback last: its traffic is the machine talking to itself.
func netRates(prev map[string]InterfaceCounters, cur []InterfaceCounters, elapsed time.Duration) []health.NetRate {
	secs := elapsed.Seconds()
	if !(secs > 0) {
		return nil
	}
	var out []health.NetRate
	for _, n := range cur {
		p, ok := prev[n.Name]
		if !ok || n == (InterfaceCounters{Name: n.Name}) {
			continue
		}
		pairs := [][2]uint64{
			{n.BytesRecv, p.BytesRecv}, {n.BytesSent, p.BytesSent},
			{n.PacketsRecv, p.PacketsRecv}, {n.PacketsSent, p.PacketsSent},
			{n.ErrorsIn, p.ErrorsIn}, {n.ErrorsOut, p.ErrorsOut},
			{n.DropsIn, p.DropsIn}, {n.DropsOut, p.DropsOut},
		}
		var r [8]float64
		back := false
		for i, pr := range pairs {
			if pr[0] < pr[1] {
				back = true
				break
			}
			r[i] = float64(pr[0]-pr[1]) / secs
		}
		if back {
			continue
		}
		out = append(out, health.NetRate{Name: n.Name,
			RxBytes: r[0], TxBytes: r[1], RxPackets: r[2], TxPackets: r[3],
			RxErrors: r[4], TxErrors: r[5], RxDrops: r[6], TxDrops: r[7]})
	}
	slices.SortFunc(out, func(a, b health.NetRate) int {
		la, lb := isLoopback(a.Name), isLoopback(b.Name)
		switch {
		case la && !lb:
			return 1
		case lb && !la:
			return -1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// isLoopback tells the loopback interface by name: lo on Linux, lo0 on the BSDs and
// macOS. The counters carry no flags, and asking for them costs a netlink round trip.
func isLoopback(name string) bool {
	rest, ok := strings.CutPrefix(name, "lo")
	if !ok {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
