package local

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"syscall"
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
	// Command is the command line with secrets masked and cut to maxCommand bytes (see
	// cleanCommand); empty for kernel threads.
	Command string
}

// TopProcesses returns the n busiest processes using the package's shared Collector.
func TopProcesses(ctx context.Context, n int) ([]Process, error) {
	return defaultCollector.TopProcesses(ctx, n)
}

// TopProcesses returns the n processes that used the most CPU since the previous call,
// busiest first. The first call measures over cpuWindow. Only the n winners have their
// name, owner and memory read: on a host with thousands of processes that is most of
// the cost. A process that exits while we look is left out. Command lines come redacted
// and capped (see cleanCommand): they are bound for screens, recordings and JSON.
func (c *Collector) TopProcesses(ctx context.Context, n int) ([]Process, error) {
	if n <= 0 {
		return nil, nil
	}
	c.procMu.Lock()
	defer c.procMu.Unlock()
	if c.prevProcs == nil {
		if err := c.primeProcsLocked(ctx); err != nil {
			return nil, err
		}
	}
	if err := c.waitWindow(ctx, c.procsAt); err != nil {
		return nil, err
	}
	return c.topLocked(ctx, n)
}

// primeProcsLocked takes the first sample of process times. c.procMu is held.
func (c *Collector) primeProcsLocked(ctx context.Context) error {
	times, err := procTimes(ctx)
	if err != nil {
		return err
	}
	c.prevProcs, c.procsAt = times, time.Now()
	return nil
}

// topLocked ranks the processes by the CPU they used since the previous sample, which
// it replaces, and describes the n busiest. c.procMu is held and c.prevProcs is set.
func (c *Collector) topLocked(ctx context.Context, n int) ([]Process, error) {
	times, err := procTimes(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	elapsed := now.Sub(c.procsAt).Seconds()
	prev := c.prevProcs
	c.prevProcs, c.procsAt = times, now
	if !(elapsed > 0) {
		// A clock that did not move gives no rate (and a division by zero would put
		// NaN into JSON, which cannot encode it).
		return nil, ctx.Err()
	}

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
		cmdline, _ := p.CmdlineWithContext(ctx)
		pr.Command = cleanCommand(cmdline)
		out = append(out, pr)
	}
	return out, ctx.Err()
}

// procTimes returns each process's user+system CPU seconds: from /proc directly where
// there is one, else through gopsutil.
func procTimes(ctx context.Context) (map[int32]float64, error) {
	if times, err := procTimesLinux(ctx); err == nil {
		return times, nil
	}
	return procTimesGopsutil(ctx)
}

func procTimesGopsutil(ctx context.Context) (map[int32]float64, error) {
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

// userHZ is the unit of the times in /proc/PID/stat. The kernel fixes it at 100 for
// user space on every architecture Go runs Linux on, whatever its internal tick.
const userHZ = 100

// procTimesLinux reads every /proc/PID/stat with one open, read and close each. It is
// what gopsutil's walk does, less the work this ranking does not need: gopsutil opens
// each stat file twice more (once for the start time, once for the times) and re-reads
// /proc/stat for the boot time per process, and its files go through the runtime's
// poller. That was two thirds of a poll's cost on a host with a few hundred processes.
func procTimesLinux(ctx context.Context) (map[int32]float64, error) {
	dir, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return nil, err
	}
	times := make(map[int32]float64, len(names))
	buf := make([]byte, 2048) // a stat line is a few hundred bytes: comm is at most 64
	for k, name := range names {
		if k%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		pid, err := strconv.ParseInt(name, 10, 32)
		if err != nil || pid <= 0 {
			continue
		}
		fd, err := syscall.Open("/proc/"+name+"/stat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue // exited since the listing
		}
		// procfs hands over the whole line in the first read.
		n, err := syscall.Read(fd, buf)
		syscall.Close(fd)
		if err != nil || n <= 0 {
			continue
		}
		if ticks, ok := statTicks(buf[:n]); ok {
			times[int32(pid)] = float64(ticks) / userHZ
		}
	}
	if len(times) == 0 {
		return nil, errors.New("no process times in /proc")
	}
	return times, nil
}

// statTicks returns utime+stime (fields 14 and 15, in clock ticks) of a /proc/PID/stat
// line. The command name (field 2) is in parentheses and may itself hold spaces and
// parentheses, so the fields are counted from the last ')'.
func statTicks(line []byte) (uint64, bool) {
	i := bytes.LastIndexByte(line, ')')
	if i < 0 {
		return 0, false
	}
	// After ") " come field 3 (state) onwards: utime is the 12th of them, stime the 13th.
	fields := bytes.Fields(line[i+1:])
	if len(fields) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseUint(string(fields[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(fields[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return ut + st, true
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
