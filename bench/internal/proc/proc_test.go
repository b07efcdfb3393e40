package proc

import (
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A stat line whose command name holds spaces and parentheses, as a process may name
// itself: the fields are found after the last ')'.
const statLine = "4242 (a b) (c) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 1 0 1234 5678 90 18446744073709551615\n"

func TestParentOf(t *testing.T) {
	for _, c := range []struct {
		stat string
		pp   int
		ok   bool
	}{
		{statLine, 17, true},
		{"1 (systemd) S 0 1 1 0 -1", 0, true},
		{"no command name here", 0, false},
		{"5 (truncated) S", 0, false},
	} {
		pp, ok := parentOf([]byte(c.stat))
		if pp != c.pp || ok != c.ok {
			t.Errorf("parentOf(%q) = %d, %v; want %d, %v", c.stat, pp, ok, c.pp, c.ok)
		}
	}
}

func TestStatCPU(t *testing.T) {
	// utime 250 and stime 37 ticks of USER_HZ (100): 2.87 s.
	if got, want := statCPU([]byte(statLine)), 2870*time.Millisecond; got != want {
		t.Errorf("statCPU = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "4242 (x) S 1 2 3", "garbage without parentheses 1 2 3 4 5 6 7 8 9 10 11 12 13 14"} {
		if got := statCPU([]byte(bad)); got != 0 {
			t.Errorf("statCPU(%q) = %v, want 0", bad, got)
		}
	}
}

func TestParseMemory(t *testing.T) {
	status := "Name:\tbench\nVmPeak:\t  900000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nRssAnon:\t    8000 kB\nThreads:\t4\n"
	want := Memory{HWM: 20480 << 10, RSS: 10240 << 10}
	if got := parseMemory([]byte(status)); got != want {
		t.Errorf("parseMemory = %+v, want %+v", got, want)
	}
	// A zombie's status has neither line.
	if got := parseMemory([]byte("Name:\tgone\nState:\tZ (zombie)\n")); got != (Memory{}) {
		t.Errorf("parseMemory of a status without memory lines = %+v, want zero", got)
	}
}

func TestBelow(t *testing.T) {
	children := map[int][]int{1: {10, 11}, 10: {100}, 11: {110, 111}, 100: {1000}, 2: {20}}
	if got, want := below(children, 1), []int{10, 11, 100, 110, 111, 1000}; !slices.Equal(got, want) {
		t.Errorf("below(1) = %v, want %v", got, want)
	}
	if got, want := below(children, 11), []int{110, 111}; !slices.Equal(got, want) {
		t.Errorf("below(11) = %v, want %v", got, want)
	}
	if got := below(children, 1000); len(got) != 0 {
		t.Errorf("below(1000) = %v, want none", got)
	}
}

func TestDescendants(t *testing.T) {
	// A child, and a grandchild under it (sh waits for sleep, rather than exec it, as
	// the second command follows).
	cmd := exec.Command("sh", "-c", "sleep 60; true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a group of their own, killed whole
	if err := cmd.Start(); err != nil {
		t.Skipf("no sh: %v", err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}()
	child := cmd.Process.Pid
	var grandchildren []int
	for i := 0; i < 500 && len(grandchildren) == 0; i++ { // sh forks sleep soon after it starts
		grandchildren = Descendants(child)
		if len(grandchildren) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(grandchildren) != 1 {
		t.Fatalf("Descendants(sh) = %v, want sleep's pid alone", grandchildren)
	}
	got := Descendants(os.Getpid())
	if !slices.Contains(got, child) || !slices.Contains(got, grandchildren[0]) {
		t.Errorf("Descendants(self) = %v, want %d and %d among them", got, child, grandchildren[0])
	}
	if slices.Contains(got, os.Getpid()) {
		t.Errorf("Descendants(self) = %v lists the process itself", got)
	}
	if i, j := slices.Index(got, child), slices.Index(got, grandchildren[0]); i > j {
		t.Errorf("Descendants(self) = %v lists the grandchild before the child", got)
	}
}

func TestCPUTimeOfSelf(t *testing.T) {
	// Burn CPU until the kernel has counted a few ticks of it.
	for selfRusage() < 50*time.Millisecond {
		for i := 0; i < 1e6; i++ {
			sink.Add(1)
		}
	}
	before := selfRusage()
	got := CPUTime(os.Getpid())
	after := selfRusage()
	// stat truncates utime and stime to the tick each: up to two ticks below.
	if got > after || got < before-2*time.Second/userHZ {
		t.Errorf("CPUTime(self) = %v; rusage says between %v and %v", got, before, after)
	}
	if got := CPUTime(-1); got != 0 {
		t.Errorf("CPUTime(-1) = %v, want 0", got)
	}
}

var sink atomic.Int64

func selfRusage() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestReadMemoryOfSelf(t *testing.T) {
	ballast := make([]byte, 32<<20)
	for i := range ballast {
		ballast[i] = 1 // touched, so resident
	}
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS < int64(len(ballast)) || m.HWM < m.RSS || m.RSS%1024 != 0 {
		t.Errorf("ReadMemory(self) = %+v; want RSS at least the %d bytes touched, HWM at least RSS, whole kB", m, len(ballast))
	}
	if _, err := ReadMemory(-1); err == nil {
		t.Error("ReadMemory(-1): no error")
	}
	runtime.KeepAlive(ballast)
}

func TestPoll(t *testing.T) {
	// With an interval that never comes, Poll calls f once at the start and Every not
	// at all.
	var polls, ticks atomic.Int32
	first := make(chan struct{})
	stop := Poll(time.Hour, func(time.Time) {
		polls.Add(1)
		close(first)
	})
	select {
	case <-first:
	case <-time.After(time.Minute):
		t.Fatal("Poll did not call f at the start")
	}
	stop()
	stop() // a second stop is harmless
	Every(time.Hour, func(time.Time) { ticks.Add(1) })()
	if polls.Load() != 1 || ticks.Load() != 0 {
		t.Errorf("calls with an hour's interval: Poll %d, Every %d; want 1, 0", polls.Load(), ticks.Load())
	}
}

func TestEveryStops(t *testing.T) {
	// The first call blocks until released, a little after stop is called: stop must
	// wait for it to return, and no call may follow.
	var calls atomic.Int32
	var finished atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	stop := Every(time.Millisecond, func(now time.Time) {
		if now.IsZero() {
			t.Error("f got no tick time")
		}
		if calls.Add(1) == 1 {
			close(entered)
			<-release
			finished.Store(true)
		}
	})
	select {
	case <-entered:
	case <-time.After(time.Minute):
		t.Fatal("Every did not call f in a minute of 1 ms ticks")
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		close(release)
	}()
	stop()
	if !finished.Load() {
		t.Error("stop returned while f was running")
	}
	n := calls.Load()
	time.Sleep(20 * time.Millisecond) // twenty intervals
	if m := calls.Load(); m != n {
		t.Errorf("f called %d more times after stop returned", m-n)
	}
}
