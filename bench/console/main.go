// Command console measures the console as a person meets it: the time from launch to the
// first full frame with a large inventory (in a real terminal, tmux), and the peak memory
// of the console once every host of a large loopback fleet is connected and polled.
//
//	go run ./bench/console -hosts 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/bench/internal/proc"
	"github.com/opsconsole/opsconsole/internal/testfleet"
)

func main() {
	n := flag.Int("hosts", 1000, "fleet size")
	runs := flag.Int("runs", 5, "launches timed for the first frame")
	flag.Parse()

	fmt.Fprintf(os.Stderr, "starting a loopback fleet of %d sshd hosts...\n", *n)
	fl, stop, err := testfleet.StartMain(testfleet.Options{Hosts: *n, StartTimeout: 3 * time.Minute})
	if err != nil {
		fatalf("fleet: %v", err)
	}
	defer stop()
	bin := filepath.Join(fl.Dir, "bin", "opsconsole")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/opsconsole").CombinedOutput(); err != nil {
		fatalf("build: %v\n%s", err, out)
	}
	cfg := filepath.Join(fl.Dir, "bench.toml")
	src, err := os.ReadFile(fl.InventoryPath)
	if err != nil {
		fatalf("%v", err)
	}
	// A large fleet on two cores needs more than the inventory's 5 s to finish every
	// handshake; thresholds off so the header counts reachability only.
	src = []byte(strings.Replace(string(src), `connect_timeout = "5s"`, `connect_timeout = "120s"`, 1))
	src = append(src, "\n[thresholds]\ncpu_warn = 0\ncpu_crit = 0\nmem_warn = 0\nmem_crit = 0\ndisk_warn = 0\ndisk_crit = 0\nload_warn = 0\nload_crit = 0\n"...)
	if err := os.WriteFile(cfg, src, 0o600); err != nil {
		fatalf("%v", err)
	}
	sock := filepath.Join(fl.Dir, "tmux.sock")
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		return string(out), err
	}
	defer tmux("kill-server")

	// First frame: launch, poll the screen until the header and the last host row of the
	// first page are drawn.
	var firsts []time.Duration
	for i := 0; i < *runs; i++ {
		name := fmt.Sprintf("ff%d", i)
		start := time.Now()
		if out, err := tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "48",
			fmt.Sprintf("HOME=%s %s --config %s --no-record --read-only", fl.Dir, bin, cfg)); err != nil {
			fatalf("tmux: %v %s", err, out)
		}
		ok := testfleet.WaitFor(context.Background(), 30*time.Second, func() bool {
			scr, _ := tmux("capture-pane", "-p", "-t", name)
			return strings.Contains(scr, "opsconsole") && strings.Contains(scr, "host-")
		})
		d := time.Since(start)
		tmux("kill-session", "-t", name)
		if !ok {
			fatalf("no first frame within 30s")
		}
		firsts = append(firsts, d)
		// Let the killed console's sshd sessions wind down, so the next launch does not
		// share the CPU with a thousand exiting processes.
		time.Sleep(8 * time.Second)
	}

	// Peak memory: one console polls every host every 2 s until all are up, then keeps
	// polling for a while; VmHWM is the peak resident set.
	start := time.Now()
	if out, err := tmux("new-session", "-d", "-s", "mem", "-x", "160", "-y", "48",
		fmt.Sprintf("HOME=%s exec %s --config %s --no-record --read-only --interval 2s", fl.Dir, bin, cfg)); err != nil {
		fatalf("tmux: %v %s", err, out)
	}
	want := fmt.Sprintf("▲ %d up", *n)
	var scr string
	ok := testfleet.WaitFor(context.Background(), 10*time.Minute, func() bool {
		scr, _ = tmux("capture-pane", "-p", "-t", "mem")
		return strings.Contains(scr, want)
	})
	if !ok {
		fatalf("not every host came up; screen:\n%s", scr)
	}
	allUp := time.Since(start)
	time.Sleep(10 * time.Second) // five more polling rounds at steady state
	pidOut, _ := tmux("display-message", "-p", "-t", "mem", "#{pane_pid}")
	pid, _ := strconv.Atoi(strings.TrimSpace(pidOut))
	hwm, rss := "?", "?"
	if m, err := proc.ReadMemory(pid); err == nil {
		hwm, rss = kB(m.HWM), kB(m.RSS)
	}
	cpu := proc.CPUTime(pid)

	fmt.Printf("console with %d loopback sshd hosts (%d cores)\n", *n, numCPU())
	fmt.Printf("  first frame (launch → header and rows drawn, tmux 160x48): median %s, runs %v\n",
		median(firsts).Round(time.Millisecond), roundAll(firsts))
	fmt.Printf("  all %d hosts connected and polled:  %s after launch\n", *n, allUp.Round(time.Millisecond))
	fmt.Printf("  peak RSS (VmHWM): %s; RSS now: %s; CPU used so far: %s\n", hwm, rss, cpu)
}

// kB formats bytes as /proc/PID/status does: "1234 kB".
func kB(b int64) string { return strconv.FormatInt(b>>10, 10) + " kB" }

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

func roundAll(ds []time.Duration) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Round(time.Millisecond).String())
	}
	return out
}

func numCPU() int {
	out, _ := exec.Command("nproc").Output()
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "console: "+format+"\n", a...)
	os.Exit(1)
}
