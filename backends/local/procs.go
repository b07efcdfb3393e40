package local

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/shirou/gopsutil/v3/net"
	"github.com/shirou/gopsutil/v3/process"
)

// Process is one entry of TopProcesses.
type Process struct {
	PID  int32
	Name string
	User string
	// CPUPercent is the CPU used since the previous TopProcesses call (at least
	// cpuWindow), where 100 is one core busy: a process busy on four cores reads 400, as
	// in top.
	CPUPercent float64
	RSS        uint64 // bytes
	Command    string // the full command line; empty for kernel threads
}

// TopProcesses returns the n busiest processes using the package's shared Collector.
func TopProcesses(ctx context.Context, n int) ([]Process, error) {
	return defaultCollector.TopProcesses(ctx, n)
}

// TopProcesses returns the n processes that used the most CPU since the previous call,
// busiest first. The first call measures over cpuWindow. Only the n winners have their
// name, owner and memory read: on a host with thousands of processes that is most of
// the cost. A process that exits while we look is left out.
func (c *Collector) TopProcesses(ctx context.Context, n int) ([]Process, error) {
	if n <= 0 {
		return nil, nil
	}
	c.procMu.Lock()
	defer c.procMu.Unlock()
	if c.prevProcs == nil {
		times, err := procTimes(ctx)
		if err != nil {
			return nil, err
		}
		c.prevProcs, c.procsAt = times, time.Now()
	}
	if err := c.waitWindow(ctx, c.procsAt); err != nil {
		return nil, err
	}
	times, err := procTimes(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	elapsed := now.Sub(c.procsAt).Seconds()
	prev := c.prevProcs
	c.prevProcs, c.procsAt = times, now

	type busy struct {
		pid int32
		pct float64
	}
	var ranked []busy
	for pid, t := range times {
		p0, ok := prev[pid]
		if !ok || t < p0 {
			// New since the last call, or a reused pid: its lifetime's CPU is not this
			// interval's, so it is measured from the next call on.
			continue
		}
		ranked = append(ranked, busy{pid, (t - p0) / elapsed * 100})
	}
	slices.SortFunc(ranked, func(a, b busy) int {
		return cmp.Or(cmp.Compare(b.pct, a.pct), cmp.Compare(a.pid, b.pid))
	})

	var out []Process
	for _, r := range ranked {
		if len(out) == n {
			break
		}
		p, err := process.NewProcessWithContext(ctx, r.pid)
		if err != nil {
			continue
		}
		name, err := p.NameWithContext(ctx)
		if err != nil {
			continue
		}
		pr := Process{PID: r.pid, Name: name, CPUPercent: r.pct}
		pr.User, _ = p.UsernameWithContext(ctx)
		if mi, err := p.MemoryInfoWithContext(ctx); err == nil {
			pr.RSS = mi.RSS
		}
		pr.Command, _ = p.CmdlineWithContext(ctx)
		out = append(out, pr)
	}
	return out, ctx.Err()
}

// procTimes returns each process's user+system CPU seconds.
func procTimes(ctx context.Context) (map[int32]float64, error) {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return nil, err
	}
	times := make(map[int32]float64, len(procs))
	for _, p := range procs {
		t, err := p.TimesWithContext(ctx)
		if err != nil {
			continue // exited, or not ours to read
		}
		times[p.Pid] = t.User + t.System
	}
	return times, ctx.Err()
}

// InterfaceCounters are one network interface's totals since boot. Rates are the
// difference between two readings over the time between them.
type InterfaceCounters struct {
	Name                     string
	BytesSent, BytesRecv     uint64
	PacketsSent, PacketsRecv uint64
	ErrorsIn, ErrorsOut      uint64
	DropsIn, DropsOut        uint64
}

// NetCounters returns the counters of every network interface, sorted by name.
func NetCounters(ctx context.Context) ([]InterfaceCounters, error) {
	stats, err := net.IOCountersWithContext(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]InterfaceCounters, 0, len(stats))
	for _, s := range stats {
		out = append(out, InterfaceCounters{
			Name:      s.Name,
			BytesSent: s.BytesSent, BytesRecv: s.BytesRecv,
			PacketsSent: s.PacketsSent, PacketsRecv: s.PacketsRecv,
			ErrorsIn: s.Errin, ErrorsOut: s.Errout,
			DropsIn: s.Dropin, DropsOut: s.Dropout,
		})
	}
	slices.SortFunc(out, func(a, b InterfaceCounters) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}
