package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	stdnet "net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/net"

	"github.com/opsconsole/opsconsole/ops/health"
)

func TestCollect(t *testing.T) {
	c := NewCollector()
	var waits []time.Duration
	c.wait = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return sleep(ctx, d)
	}
	start := time.Now()
	m, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	t.Logf("first Collect %v: %+v", first.Round(time.Millisecond), m)
	if first < cpuWindow {
		t.Errorf("first Collect took %v: CPU was not measured over a window", first)
	}
	if m.Cores < 1 {
		t.Errorf("Cores = %d", m.Cores)
	}
	if m.MemTotal == 0 || m.MemUsed > m.MemTotal || m.MemPercent < 0 || m.MemPercent > 100 {
		t.Errorf("mem = %d/%d (%v%%)", m.MemUsed, m.MemTotal, m.MemPercent)
	}
	if m.SwapUsed > m.SwapTotal {
		t.Errorf("swap = %d/%d", m.SwapUsed, m.SwapTotal)
	}
	if m.CPUPercent < 0 || m.CPUPercent > 100 {
		t.Errorf("CPUPercent = %v", m.CPUPercent)
	}
	if m.Load1 < 0 || m.Load5 < 0 || m.Load15 < 0 {
		t.Errorf("load = %v %v %v", m.Load1, m.Load5, m.Load15)
	}
	if m.Uptime <= 0 {
		t.Errorf("Uptime = %v", m.Uptime)
	}
	if len(m.Disks) == 0 {
		t.Fatal("no disks")
	}
	for _, d := range m.Disks {
		if d.Total == 0 || d.Used > d.Total || d.Percent < 0 || d.Percent > 100 || d.Mount == "" {
			t.Errorf("disk %+v", d)
		}
	}
	if !slices.ContainsFunc(m.Disks, func(d health.Disk) bool { return d.Mount == "/" }) {
		t.Errorf("no disk mounted at /: %+v", m.Disks)
	}
	if !slices.IsSorted(m.Ports) {
		t.Errorf("Ports not sorted: %v", m.Ports)
	}
	if m.Missing != nil {
		t.Errorf("Missing = %q", m.Missing)
	}

	// Polling again once the window has passed measures from the previous sample
	// without waiting.
	time.Sleep(cpuWindow)
	m, err = c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(waits) != 2 || waits[0] <= 0 || waits[1] > 0 {
		t.Errorf("waits = %v, want about %v then none", waits, cpuWindow)
	}
	if m.CPUPercent < 0 || m.CPUPercent > 100 {
		t.Errorf("second CPUPercent = %v", m.CPUPercent)
	}
}

// Collect's view of this machine agrees with RemoteScript's: the fleet shows a local
// and a remote host on the same terms.
func TestCollectMatchesRemoteScript(t *testing.T) {
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ownPort := ln.Addr().(*stdnet.TCPAddr).Port
	out, err := New().execOutput(health.RemoteScript)
	if err != nil {
		t.Fatal(err)
	}
	remote, err := health.ParseRemote(out, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	local, err := NewCollector().Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if local.Cores != remote.Cores {
		t.Errorf("cores: local %d, remote %d", local.Cores, remote.Cores)
	}
	if local.MemTotal != remote.MemTotal {
		t.Errorf("mem total: local %d, remote %d", local.MemTotal, remote.MemTotal)
	}
	// Other tests open and close listeners while this one runs, so the two samples may
	// differ; the listener this test holds open must be in both.
	if !slices.Contains(local.Ports, ownPort) || !slices.Contains(remote.Ports, ownPort) {
		t.Errorf("own listener %d missing: local %v, remote %v", ownPort, local.Ports, remote.Ports)
	}
	mounts := func(ds []health.Disk) []string {
		var s []string
		for _, d := range ds {
			s = append(s, d.Mount)
		}
		return s
	}
	if !slices.Equal(mounts(local.Disks), mounts(remote.Disks)) {
		t.Errorf("disks: local %q, remote %q", mounts(local.Disks), mounts(remote.Disks))
	}
}

func (s *Session) execOutput(cmd string) ([]byte, error) {
	var out bytes.Buffer
	code, err := s.Exec(context.Background(), cmd, &out, nil)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit status %d", code)
	}
	return out.Bytes(), err
}

func TestCollectCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m, err := NewCollector().Collect(ctx)
	if err == nil {
		t.Fatal("no error from a cancelled Collect")
	}
	var me *health.MissingError
	if !errors.As(err, &me) || !slices.Contains(me.Fields, health.FieldCPU) || !slices.Equal(me.Fields, m.Missing) {
		t.Errorf("err = %v, Missing = %q", err, m.Missing)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v does not wrap context.Canceled", err)
	}
}

func TestTopProcesses(t *testing.T) {
	// Something busy to find.
	s := New()
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	spun := make(chan struct{})
	pidFile := t.TempDir() + "/pid"
	go func() {
		defer close(spun)
		s.Exec(ctx, "echo $$ >"+pidFile+"; exec sh -c 'while :; do :; done'", nil, nil)
	}()
	defer func() { cancel(); <-spun }()
	spinner := int32(waitPID(t, pidFile))

	c := NewCollector()
	procs, err := c.TopProcesses(context.Background(), 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) == 0 || len(procs) > 16 {
		t.Fatalf("got %d processes", len(procs))
	}
	for i, p := range procs {
		if p.PID <= 0 || p.Name == "" || p.CPUPercent < 0 {
			t.Errorf("process %+v", p)
		}
		if i > 0 && p.CPUPercent > procs[i-1].CPUPercent {
			t.Errorf("not sorted: %v then %v", procs[i-1].CPUPercent, p.CPUPercent)
		}
	}
	// Other work on a shared 2-core machine may outrank it and squeeze its share, but a
	// spinning shell is among the top 16.
	i := slices.IndexFunc(procs, func(p Process) bool { return p.PID == spinner })
	if i < 0 || procs[i].Name != "sh" || procs[i].CPUPercent <= 0 || procs[i].Command != "sh -c while :; do :; done" {
		t.Errorf("spinning sh (pid %d) not found in %+v", spinner, procs)
	}
	t.Logf("top: %+v", procs)
	if p, err := c.TopProcesses(context.Background(), 0); p != nil || err != nil {
		t.Errorf("n=0: %v %v", p, err)
	}
}

func TestNetCounters(t *testing.T) {
	ifs, err := NetCounters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ifs, func(i InterfaceCounters) bool { return i.Name == "lo" }) {
		t.Errorf("no loopback in %+v", ifs)
	}
	if !slices.IsSortedFunc(ifs, func(a, b InterfaceCounters) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("not sorted: %+v", ifs)
	}
}

// BenchmarkListeningPorts compares reading /proc/net/tcp{,6} with gopsutil's
// net.Connections, which also walks every process's fds.
func BenchmarkListeningPorts(b *testing.B) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		b.Skip("no /proc/net/tcp")
	}
	ctx := context.Background()
	b.Run("proc", func(b *testing.B) {
		for b.Loop() {
			if _, err := listeningPorts(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gopsutil", func(b *testing.B) {
		for b.Loop() {
			if _, err := net.ConnectionsWithContext(ctx, "tcp"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCollect measures a poll's own cost, without the extras (base) and with them
// (extras), then each extra alone. The previous CPU sample is replaced by one from boot,
// aged past the window, so no call waits, as for a poller that runs every second or so;
// the previous process sample is aged likewise, so the processes are ranked every time.
func BenchmarkCollect(b *testing.B) {
	ctx := context.Background()
	age := func(c *Collector) {
		c.prevCPU, c.prevAt = cpu.TimesStat{}, time.Now().Add(-cpuWindow)
		c.procsAt = time.Now().Add(-cpuWindow)
	}
	for _, bc := range []struct {
		name     string
		noExtras bool
	}{{"base", true}, {"extras", false}} {
		b.Run(bc.name, func(b *testing.B) {
			c := &Collector{noExtras: bc.noExtras}
			if _, err := c.Collect(ctx); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				age(c)
				if _, err := c.Collect(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("percore", func(b *testing.B) {
		prev := coreTimes(ctx)
		for b.Loop() {
			cur := coreTimes(ctx)
			if coresPercent(prev, cur) == nil {
				b.Fatal("no per-core figures")
			}
		}
	})
	b.Run("net", func(b *testing.B) {
		c := NewCollector()
		c.primeExtras(ctx)
		for b.Loop() {
			c.netRates(ctx)
		}
	})
	b.Run("procs", func(b *testing.B) {
		c := NewCollector()
		c.primeExtras(ctx)
		for b.Loop() {
			age(c)
			if c.busiest(ctx, topProcs) == nil {
				b.Fatal("no processes")
			}
		}
	})
}

// BenchmarkProcTimes compares reading /proc/PID/stat directly with gopsutil's process
// walk, which opens each stat file three times and re-reads the boot time per process.
func BenchmarkProcTimes(b *testing.B) {
	ctx := context.Background()
	if _, err := procTimesLinux(ctx); err != nil {
		b.Skip(err)
	}
	b.Run("proc", func(b *testing.B) {
		for b.Loop() {
			if _, err := procTimesLinux(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gopsutil", func(b *testing.B) {
		for b.Loop() {
			if _, err := procTimesGopsutil(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
