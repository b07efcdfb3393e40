// Command connmem measures what one open connection costs the console: it opens the
// pool's connection to every host of a loopback fleet, runs the monitor's health read
// once on each, and reports the Go heap and the process's resident memory per host, with
// a heap profile for a closer look.
//
//	go run ./bench/connmem -hosts 300 -profile /tmp/heap.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
)

func main() {
	n := flag.Int("hosts", 300, "fleet size")
	profile := flag.String("profile", "", "write a heap profile here")
	flag.Parse()
	fl, stop, err := testfleet.StartMain(testfleet.Options{Hosts: *n, StartTimeout: 3 * time.Minute})
	if err != nil {
		fatalf("fleet: %v", err)
	}
	defer stop()
	cfg, err := config.Load(config.LoadOptions{ConfigFile: fl.InventoryPath})
	if err != nil {
		fatalf("%v", err)
	}
	base := measure()
	pool := sessions.NewPool(sessions.NewDialer(cfg.Hosts, cfg.Defaults))
	defer pool.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	sem := make(chan struct{}, 32)
	for _, h := range cfg.Hosts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r := pool.Run(ctx, h, health.RemoteCommand, sessions.FanOutOptions{Timeout: time.Minute})
			if err := r.Err; err != nil {
				mu.Lock()
				failed = append(failed, h.Name+": "+err.Error())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		fatalf("%d hosts failed: %s", len(failed), strings.Join(failed[:min(3, len(failed))], "; "))
	}
	open := measure()
	fmt.Printf("%d connections open, one health read each (%s, %d CPUs)\n", len(cfg.Hosts), runtime.Version(), runtime.NumCPU())
	per := func(a, b uint64) string { return fmt.Sprintf("%.1f KiB", float64(b-a)/float64(len(cfg.Hosts))/1024) }
	fmt.Printf("  Go heap in use   %7.1f MiB → %7.1f MiB   %s per host\n", mib(base.heap), mib(open.heap), per(base.heap, open.heap))
	fmt.Printf("  goroutine stacks %7.1f MiB → %7.1f MiB   %s per host (%d goroutines)\n", mib(base.stack), mib(open.stack), per(base.stack, open.stack), runtime.NumGoroutine())
	fmt.Printf("  resident (RSS)   %7.1f MiB → %7.1f MiB   %s per host\n", mib(base.rss), mib(open.rss), per(base.rss, open.rss))
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fatalf("%v", err)
		}
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
}

type mem struct{ heap, stack, rss uint64 }

func measure() mem {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return mem{heap: ms.HeapInuse, stack: ms.StackInuse, rss: rss()}
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			var kb uint64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:")), "%d", &kb)
			return kb * 1024
		}
	}
	return 0
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "connmem: "+format+"\n", a...)
	os.Exit(1)
}
