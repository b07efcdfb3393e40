package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/disk"
	"github.com/shirou/gopsutil/v3/host"
	"github.com/shirou/gopsutil/v3/load"
	"github.com/shirou/gopsutil/v3/mem"
	"github.com/shirou/gopsutil/v3/net"

	"github.com/opsconsole/opsconsole/ops/health"
)

// cpuWindow is the shortest interval a CPU percentage is measured over. Shorter deltas
// are mostly noise at 100 ticks a second; longer ones would make the first poll slow.
const cpuWindow = 200 * time.Millisecond

// Collector samples this machine's metrics. It remembers the previous CPU (and process
// and network) counters, so a poll measures CPU over the interval since the one before
// and does not sleep: only the first call, or one following the previous within
// cpuWindow, waits. A Collector is safe for concurrent use.
type Collector struct {
	cpuMu     sync.Mutex
	prevCPU   cpu.TimesStat
	prevCores []cpu.TimesStat // per logical CPU, read with prevCPU; nil when not read
	prevAt    time.Time       // zero until the first sample

	procMu    sync.Mutex
	prevProcs map[int32]float64 // pid → user+system seconds
	procsAt   time.Time

	netMu   sync.Mutex
	prevNet map[string]InterfaceCounters // nil until the first reading
	netAt   time.Time

	// noExtras leaves out what Judge never reads (per-core CPU, network rates, the
	// busiest processes), for measuring what the extras cost.
	noExtras bool

	// wait, when set, replaces sleep for waiting out the CPU window: tests use it to
	// see whether a call waited, which wall-clock timing on a loaded machine cannot tell.
	wait func(ctx context.Context, d time.Duration) error
}

func (c *Collector) waitWindow(ctx context.Context, since time.Time) error {
	if c.wait != nil {
		return c.wait(ctx, cpuWindow-time.Since(since))
	}
	return sleep(ctx, cpuWindow-time.Since(since))
}

// NewCollector returns a Collector with no history. The zero Collector is ready to use
// too.
func NewCollector() *Collector { return &Collector{} }

var defaultCollector = NewCollector()

// Collect samples this machine with a Collector shared by the package.
func Collect(ctx context.Context) (health.Metrics, error) {
	return defaultCollector.Collect(ctx)
}

// Collect samples this machine. Like health.ParseRemote it returns whatever it could
// measure: fields it could not are named in Metrics.Missing, and the error (non-nil
// exactly then) wraps a *health.MissingError with the causes.
//
// It also fills the extras (PerCore, Net, Procs) over the same interval as the CPU
// figure; see extras.go. An extra that cannot be measured is left empty and never named
// in Missing or the error: it is detail for the operator, and must not change how the
// host is judged.
func (c *Collector) Collect(ctx context.Context) (health.Metrics, error) {
	m := health.Metrics{Time: time.Now()}
	var errs []error
	var missing []string
	fail := func(field string, err error) {
		missing = append(missing, field)
		errs = append(errs, fmt.Errorf("%s: %w", field, err))
	}

	extras := !c.noExtras
	if extras {
		// Before the CPU wait, so that a first call measures the extras over it too.
		c.primeExtras(ctx)
	}
	if pct, perCore, err := c.cpuSample(ctx, extras); err != nil {
		fail(health.FieldCPU, err)
	} else {
		m.CPUPercent, m.PerCore = pct, perCore
	}
	if extras && ctx.Err() == nil {
		m.Procs = c.busiest(ctx, topProcs)
		m.Net = c.netRates(ctx)
	}
	if n, err := cpu.CountsWithContext(ctx, true); err != nil || n < 1 {
		fail(health.FieldCores, cmp.Or(err, errors.New("no CPU counted")))
	} else {
		m.Cores = n
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err != nil || vm.Total == 0 {
		fail(health.FieldMem, cmp.Or(err, errors.New("total memory is zero")))
	} else {
		// Used is what the kernel could not give back, as ParseRemote computes it, so a
		// local host and a remote one read alike.
		m.MemTotal = vm.Total
		m.MemUsed = vm.Total - min(vm.Available, vm.Total)
		m.MemPercent = float64(m.MemUsed) / float64(m.MemTotal) * 100
		if sw, err := mem.SwapMemoryWithContext(ctx); err == nil {
			m.SwapTotal, m.SwapUsed = sw.Total, min(sw.Used, sw.Total)
		}
	}
	if avg, err := load.AvgWithContext(ctx); err != nil {
		fail(health.FieldLoad, err)
	} else {
		m.Load1, m.Load5, m.Load15 = avg.Load1, avg.Load5, avg.Load15
	}
	if up, err := host.UptimeWithContext(ctx); err != nil {
		fail(health.FieldUptime, err)
	} else {
		m.Uptime = time.Duration(up) * time.Second
	}
	if disks, err := disks(ctx); err != nil {
		fail(health.FieldDisks, err)
	} else {
		m.Disks = disks
	}
	if ports, err := listeningPorts(ctx); err != nil {
		fail(health.FieldPorts, err)
	} else {
		m.Ports = ports
	}

	if len(missing) == 0 {
		return m, nil
	}
	m.Missing = missing
	return m, errors.Join(append([]error{&health.MissingError{Fields: slices.Clone(missing)}}, errs...)...)
}

// cpuSample returns the busy share of all CPUs since the previous call, first waiting
// until at least cpuWindow has passed since it. With perCore set it also returns each
// logical CPU's share over the same interval (nil when that could not be measured).
func (c *Collector) cpuSample(ctx context.Context, perCore bool) (float64, []float64, error) {
	c.cpuMu.Lock()
	defer c.cpuMu.Unlock()
	if c.prevAt.IsZero() {
		t, err := cpuTotal(ctx)
		if err != nil {
			return 0, nil, err
		}
		c.prevCPU, c.prevAt, c.prevCores = t, time.Now(), nil
		if perCore {
			c.prevCores = coreTimes(ctx)
		}
	}
	if err := c.waitWindow(ctx, c.prevAt); err != nil {
		return 0, nil, err
	}
	cur, err := cpuTotal(ctx)
	if err != nil {
		return 0, nil, err
	}
	var curCores []cpu.TimesStat
	if perCore {
		curCores = coreTimes(ctx)
	}
	now := time.Now()
	prev, prevCores := c.prevCPU, c.prevCores
	c.prevCPU, c.prevCores, c.prevAt = cur, curCores, now

	pct, ok := busyPercent(prev, cur)
	if !ok {
		idle0, total0 := idleTotal(prev)
		idle1, total1 := idleTotal(cur)
		return 0, nil, fmt.Errorf("CPU counters did not advance (%.2f s of %.2f s idle)", idle1-idle0, total1-total0)
	}
	return pct, coresPercent(prevCores, curCores), nil
}

// idleTotal returns the idle and the total seconds of a CPU times sample.
func idleTotal(t cpu.TimesStat) (idle, total float64) {
	// Guest time is already inside user and nice, so it is not added again.
	idle = t.Idle + t.Iowait
	return idle, idle + t.User + t.Nice + t.System + t.Irq + t.Softirq + t.Steal
}

// busyPercent is the busy share between two samples of the same CPU (or of all), false
// when the counters did not advance.
func busyPercent(prev, cur cpu.TimesStat) (float64, bool) {
	idle0, total0 := idleTotal(prev)
	idle1, total1 := idleTotal(cur)
	dTotal, dIdle := total1-total0, idle1-idle0
	if !(dTotal > 0) {
		return 0, false
	}
	// The kernel's iowait counter may step backwards and the counters are summed as
	// floats, so an idle machine can show idle a hair above total: that is 0% busy, not
	// an error.
	dIdle = min(max(dIdle, 0), dTotal)
	return (dTotal - dIdle) / dTotal * 100, true
}

func cpuTotal(ctx context.Context) (cpu.TimesStat, error) {
	ts, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return cpu.TimesStat{}, err
	}
	if len(ts) == 0 {
		return cpu.TimesStat{}, errors.New("no CPU times")
	}
	return ts[0], nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// disks measures every filesystem health.KeepDisk accepts, one per device (the shortest
// mount point of a device stands for its bind mounts). A mount that cannot be measured
// (another user's FUSE mount, one unmounted while we listed) is left out rather than
// failing the field: otherwise it would keep the host Unknown on every poll.
func disks(ctx context.Context) ([]health.Disk, error) {
	parts, err := disk.PartitionsWithContext(ctx, true)
	if err != nil && len(parts) == 0 {
		return nil, err
	}
	slices.SortStableFunc(parts, func(a, b disk.PartitionStat) int {
		return cmp.Compare(len(a.Mountpoint), len(b.Mountpoint))
	})
	seenDev := make(map[string]bool)
	seenMount := make(map[string]bool)
	var out []health.Disk
	var lastErr error
	for _, p := range parts {
		if !health.KeepDisk(p.Fstype, p.Mountpoint) || seenDev[p.Device] || seenMount[p.Mountpoint] {
			continue
		}
		u, err := disk.UsageWithContext(ctx, p.Mountpoint)
		if err != nil {
			lastErr = err
			continue
		}
		if u.Total == 0 {
			continue
		}
		seenDev[p.Device], seenMount[p.Mountpoint] = true, true
		out = append(out, health.Disk{
			Mount:   p.Mountpoint,
			FS:      p.Device,
			Total:   u.Total,
			Used:    u.Used,
			Percent: u.UsedPercent,
		})
	}
	if len(out) == 0 && lastErr != nil {
		return nil, lastErr
	}
	slices.SortFunc(out, func(a, b health.Disk) int { return cmp.Compare(a.Mount, b.Mount) })
	return out, nil
}

// listeningPorts reads the LISTEN sockets from /proc/net/tcp{,6} with the parser the
// remote path uses. gopsutil's net.Connections is the fallback only (a system without
// /proc): it also maps every socket to its process by walking /proc/*/fd, which costs
// far more, needs root to see other users' processes, and tells us nothing we show.
func listeningPorts(ctx context.Context) ([]int, error) {
	var text []byte
	var firstErr error
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			// tcp6 is absent when IPv6 is disabled; only both missing is a failure.
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		text = append(text, b...)
	}
	if text != nil {
		return health.ParseListeningPorts(text), nil
	}
	conns, err := net.ConnectionsWithContext(ctx, "tcp")
	if err != nil {
		return nil, errors.Join(firstErr, err)
	}
	var ports []int
	for _, c := range conns {
		if c.Status == "LISTEN" && c.Laddr.Port > 0 {
			ports = append(ports, int(c.Laddr.Port))
		}
	}
	slices.Sort(ports)
	return slices.Compact(ports), nil
}

// Metrics reads this machine's metrics natively (gopsutil) rather than through the remote
// script, using the process-wide Collector so CPU percentages come from the delta since
// the previous poll instead of a fresh sampling wait.
func (s *Session) Metrics(ctx context.Context) (health.Metrics, error) {
	return defaultCollector.Collect(ctx)
}
