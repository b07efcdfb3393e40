// Package proc holds what the benchmark commands measure of processes from Linux's
// /proc: a process's descendants, its CPU time and its resident memory, and a sampler
// that takes such readings at a fixed interval while a benchmark runs.
package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userHZ is USER_HZ, the unit of the times in /proc/PID/stat: 100 on every Linux
// architecture Go supports.
const userHZ = 100

// Descendants lists the processes under pid (its children, their children, and so on),
// from the parent pid in each /proc/PID/stat, nearest first. Processes that end while
// /proc is read are left out.
func Descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if pp, ok := parentOf(stat); ok {
			children[pp] = append(children[pp], p)
		}
	}
	return below(children, pid)
}

// below walks children (a pid's child pids, by pid) breadth first from pid and returns
// every pid reached, pid itself excluded.
func below(children map[int][]int, pid int) []int {
	var out []int
	for q := []int{pid}; len(q) > 0; q = q[1:] {
		for _, c := range children[q[0]] {
			out = append(out, c)
			q = append(q, c)
		}
	}
	return out
}

// CPUTime is a process's user and system time so far (utime and stime of
// /proc/PID/stat), to the clock tick; 0 when the file cannot be read.
func CPUTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return statCPU(b)
}

// statFields splits a /proc/PID/stat line after the command name, which stands in
// parentheses and may itself hold spaces and parentheses: [0] is the state (the line's
// third field), [1] the parent's pid, [11] utime and [12] stime. It is nil for a line
// without the command name's closing parenthesis.
func statFields(stat []byte) []string {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(stat[i+1:]))
}

// parentOf is the parent pid in a /proc/PID/stat line; false for a malformed line.
func parentOf(stat []byte) (int, bool) {
	f := statFields(stat)
	if len(f) < 2 {
		return 0, false
	}
	pp, _ := strconv.Atoi(f[1])
	return pp, true
}

// statCPU is utime+stime of a /proc/PID/stat line; 0 for a malformed line.
func statCPU(stat []byte) time.Duration {
	f := statFields(stat)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / userHZ
}

// Memory is a process's resident set, in bytes: its peak (VmHWM) and its current size
// (VmRSS).
type Memory struct {
	HWM, RSS int64
}

// ReadMemory reads a process's Memory from /proc/PID/status. A line the file lacks
// (a kernel thread's or a zombie's has neither) reads as 0.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	return parseMemory(b), nil
}

// parseMemory reads the VmHWM and VmRSS lines ("VmRSS:  1234 kB") of a
// /proc/PID/status file.
func parseMemory(status []byte) Memory {
	var m Memory
	for _, l := range strings.Split(string(status), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			m.HWM = kb << 10
		case "VmRSS:":
			m.RSS = kb << 10
		}
	}
	return m
}

// Poll calls f at once and then every interval, from a goroutine of its own, until the
// function it returns is called. See Every.
func Poll(interval time.Duration, f func(now time.Time)) (stop func()) {
	return sample(interval, true, f)
}

// Every calls f every interval, the first time one interval from now, from a goroutine
// of its own, until the function it returns is called. f gets the tick's time. The stop
// function returns once f has returned for the last time, so what f gathered can be
// read after it without a lock; a call in progress is let finish, and no call follows.
func Every(interval time.Duration, f func(now time.Time)) (stop func()) {
	return sample(interval, false, f)
}

func sample(interval time.Duration, atOnce bool, f func(now time.Time)) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tk := time.NewTicker(interval)
		defer tk.Stop()
		if atOnce {
			f(time.Now())
		}
		for {
			select {
			case <-done:
				return
			case now := <-tk.C:
				f(now)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-stopped
	}
}
