// Command probes measures opsconsole's probe scheduler beside Prometheus'
// blackbox_exporter on loopback targets.
//
//	go run ./bench/probes -probes 10000 -interval 1s -duration 30s
//
// A child process serves the targets (an HTTP server and a TCP listener on each of
// -addrs loopback addresses 127.0.1.x), so that neither prober's CPU figure includes the
// targets'. Then:
//
//  1. opsconsole's Scheduler runs -probes jobs (half HTTP GETs of distinct paths, half
//     TCP connects) at -interval for -duration; the figures are this process's CPU
//     (getrusage) and peak RSS, probes completed per second, and schedule lag.
//  2. prometheus-blackbox-exporter probes the same targets at the same rate: this
//     process drives it with one GET of /probe?target=…&module=http_2xx|tcp_connect per
//     target per interval (through the same Scheduler, so both sides are paced alike),
//     and its CPU is read from /proc/<pid>/stat.
//
// Both CPU figures are divided by the probes completed. blackbox_exporter dials a fresh
// connection for every HTTP probe while opsconsole reuses keep-alive connections by
// default; -fresh-conns also times opsconsole with keep_alive = false, the like-for-like
// comparison. Between phases the bench waits for the previous phase's TIME_WAIT sockets
// to expire. Everything listens and connects on loopback only, and every loop ends with
// -duration.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
)

func main() {
	serve := flag.Int("serve", 0, "internal: serve targets on this many addresses and report the ports")
	nProbes := flag.Int("probes", 10000, "probes to schedule (half HTTP, half TCP)")
	interval := flag.Duration("interval", time.Second, "interval of every probe")
	duration := flag.Duration("duration", 30*time.Second, "how long each prober runs")
	timeout := flag.Duration("timeout", 0, "timeout of every probe (default: the interval)")
	addrs := flag.Int("addrs", 50, "loopback addresses serving targets (127.0.1.1…)")
	concurrency := flag.Int("concurrency", 0, "scheduler workers (default: the scheduler's default)")
	blackbox := flag.String("blackbox", "", "blackbox_exporter binary (default: found on PATH as prometheus-blackbox-exporter or blackbox_exporter)")
	skipBlackbox := flag.Bool("skip-blackbox", false, "time opsconsole only")
	fresh := flag.Bool("fresh-conns", false, "also time opsconsole with a fresh connection per HTTP probe")
	keepAlive := flag.Bool("keep-alive", true, "the first opsconsole run reuses HTTP connections (false: a fresh one per probe)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of opsconsole's run to this file")
	flag.Parse()

	if *serve > 0 {
		serveTargets(*serve)
		return
	}
	if *addrs < 1 || *addrs > 250 || *nProbes < 2 || *interval <= 0 || *duration <= 0 {
		fatalf("bad flags: need 1 ≤ -addrs ≤ 250, -probes ≥ 2, positive -interval and -duration")
	}
	if *timeout <= 0 {
		*timeout = *interval
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tg, err := startTargets(*addrs)
	if err != nil {
		fatalf("targets: %v", err)
	}
	defer tg.stop()

	fmt.Printf("%d probes (%d HTTP, %d TCP) at %v for %v against %d loopback addresses; %d CPUs, %s\n\n",
		*nProbes, *nProbes/2, *nProbes-*nProbes/2, *interval, *duration, *addrs, runtime.NumCPU(), runtime.Version())

	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			fatalf("%v", err)
		}
		pprof.StartCPUProfile(pf)
	}
	hosts, specs := workload(tg, *nProbes, *interval, *timeout, !*keepAlive)
	name := "opsconsole"
	if !*keepAlive {
		name += ", fresh conns"
	}
	own := runOpsconsole(ctx, name, hosts, specs, *duration, *concurrency, tg)
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	report(own)
	rows := []figures{own}
	if !*skipBlackbox && ctx.Err() == nil {
		bin := *blackbox
		if bin == "" {
			bin = findBlackbox()
		}
		if bin == "" {
			fmt.Println("blackbox_exporter not found (apt-get install prometheus-blackbox-exporter); skipped")
		} else {
			settle(ctx)
			f, err := runBlackbox(ctx, bin, tg, *nProbes, *interval, *timeout, *duration, *concurrency)
			if err != nil {
				fatalf("blackbox_exporter: %v", err)
			}
			report(f)
			rows = append(rows, f)
		}
	}
	if *fresh && *keepAlive && ctx.Err() == nil {
		settle(ctx)
		hosts, specs := workload(tg, *nProbes, *interval, *timeout, true)
		f := runOpsconsole(ctx, "opsconsole, fresh conns", hosts, specs, *duration, *concurrency, tg)
		report(f)
		rows = append(rows, f)
	}
	summary(rows)
}

// figures are one prober's results.
type figures struct {
	name                   string
	runs, failed, missed   int64
	elapsed                time.Duration
	lagP50, lagP99, lagMax time.Duration
	cpu                    time.Duration // the prober's own CPU
	rssKB                  int64
	targetsCPU             time.Duration // the target server's CPU meanwhile
	driverCPU              time.Duration // blackbox only: this process driving it
	note                   string
}

func (f figures) rate() float64 { return float64(f.runs) / f.elapsed.Seconds() }

func (f figures) perProbe() time.Duration {
	if f.runs == 0 {
		return 0
	}
	return f.cpu / time.Duration(f.runs)
}

func report(f figures) {
	fmt.Printf("%s\n", f.name)
	fmt.Printf("  probes/s         %10.0f   (%d completed, %d failed, %d ticks missed)\n", f.rate(), f.runs, f.failed, f.missed)
	fmt.Printf("  schedule lag     p50 %v  p99 %v  max %v\n", f.lagP50.Round(time.Microsecond), f.lagP99.Round(time.Microsecond), f.lagMax.Round(time.Microsecond))
	fmt.Printf("  CPU              %v (%.1f%% of one core), %v per probe\n", f.cpu.Round(time.Millisecond),
		100*f.cpu.Seconds()/f.elapsed.Seconds(), f.perProbe().Round(100*time.Nanosecond))
	fmt.Printf("  peak RSS         %d MiB\n", f.rssKB/1024)
	if f.driverCPU > 0 {
		fmt.Printf("  driver CPU       %v (this process sending /probe requests; not counted above)\n", f.driverCPU.Round(time.Millisecond))
	}
	fmt.Printf("  targets' CPU     %v\n", f.targetsCPU.Round(time.Millisecond))
	if f.note != "" {
		fmt.Printf("  note             %s\n", f.note)
	}
	fmt.Println()
}

func summary(rows []figures) {
	var bb *figures
	for i := range rows {
		if strings.HasPrefix(rows[i].name, "blackbox") {
			bb = &rows[i]
		}
	}
	if bb == nil {
		return
	}
	fmt.Println("CPU per probe")
	for _, f := range rows {
		fmt.Printf("  %-28s %8v", f.name, f.perProbe().Round(100*time.Nanosecond))
		if f.name != bb.name && f.perProbe() > 0 {
			fmt.Printf("   blackbox_exporter / this = %.1f×", float64(bb.perProbe())/float64(f.perProbe()))
		}
		fmt.Println()
	}
}

// settle waits (a minute at most) for the previous phase's TIME_WAIT sockets to expire:
// a new connection whose port collides with one can stall for a SYN retransmit (1 s),
// which would charge one prober for the other's leftovers.
func settle(ctx context.Context) {
	deadline := time.Now().Add(65 * time.Second)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for tw := timeWait(); tw > 2000 && time.Now().Before(deadline); tw = timeWait() {
		fmt.Fprintf(os.Stderr, "\rwaiting for %d TIME_WAIT sockets to expire…   ", tw)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
	fmt.Fprint(os.Stderr, "\r\033[K")
}

// timeWait is the system's count of TCP sockets in TIME_WAIT, from /proc/net/sockstat.
func timeWait() int {
	b, err := os.ReadFile("/proc/net/sockstat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "TCP: "); ok {
			f := strings.Fields(rest)
			for i := 0; i+1 < len(f); i += 2 {
				if f[i] == "tw" {
					n, _ := strconv.Atoi(f[i+1])
					return n
				}
			}
		}
	}
	return 0
}

// workload is n probes over the targets' hosts: per host, HTTP probes of distinct paths
// and TCP probes of its listener, each a probe of its own name.
func workload(tg *targets, n int, interval, timeout time.Duration, fresh bool) ([]config.Host, []probes.Spec) {
	hosts := make([]config.Host, len(tg.addrs))
	for i, a := range tg.addrs {
		hosts[i] = config.Host{Name: fmt.Sprintf("t%03d", i+1), Address: a}
	}
	perHost := n / len(hosts)
	var specs []probes.Spec
	for k := range perHost {
		s := probes.Spec{Name: fmt.Sprintf("p%05d", k), Hosts: "all", Interval: interval, Timeout: timeout}
		if k%2 == 0 {
			s.Type = probe.TypeHTTP
			s.Target = fmt.Sprintf("http://{{.Address}}:%d/p/%d", tg.httpPort, k)
			s.NoKeepAlive = fresh
		} else {
			s.Type = probe.TypeTCP
			s.Target = fmt.Sprintf("{{.Address}}:%d", tg.tcpPort)
		}
		specs = append(specs, s)
	}
	return hosts, specs
}

// runScheduler runs jobs for d, reading results as the console would (Next in a loop),
// and returns the scheduler's figures.
func runScheduler(ctx context.Context, jobs []probes.Job, d time.Duration, concurrency int) (figures, *probes.Scheduler) {
	s := probes.NewScheduler(jobs, nil, probes.Options{Concurrency: concurrency})
	// A cancel rather than a deadline ends the run, so that the probes in flight at the
	// end read as cancelled (and are not counted), not as timed out.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	time.AfterFunc(d, cancel)
	var failed int64
	var sample string
	read := make(chan struct{})
	go func() {
		defer close(read)
		for {
			batch, err := s.Next(runCtx)
			if err != nil {
				return
			}
			for _, r := range batch {
				if r.Status != health.OK {
					failed++
					if sample == "" {
						sample = r.Host + " " + r.Name + " " + r.Target + ": " + r.Reason
					}
				}
			}
		}
	}()
	start := time.Now()
	s.Run(runCtx)
	elapsed := min(time.Since(start), d)
	<-read
	st := s.Stats()
	f := figures{runs: st.Runs, failed: failed, missed: st.Missed, elapsed: elapsed,
		lagP50: st.LagP50, lagP99: st.LagP99, lagMax: st.LagMax}
	if sample != "" {
		f.note = "first failure: " + sample
	}
	return f, s
}

func runOpsconsole(ctx context.Context, name string, hosts []config.Host, specs []probes.Spec, d time.Duration, concurrency int, tg *targets) figures {
	jobs, err := probes.Expand(specs, hosts)
	if err != nil {
		fatalf("expand: %v", err)
	}
	runtime.GC()
	cpu0, tcpu0 := selfCPU(), procCPU(tg.cmd.Process.Pid)
	f, _ := runScheduler(ctx, jobs, d, concurrency)
	f.name = name
	f.cpu = selfCPU() - cpu0
	f.targetsCPU = procCPU(tg.cmd.Process.Pid) - tcpu0
	f.rssKB = selfMaxRSS()
	probe.CloseIdleConnections()
	return f
}

// runBlackbox starts blackbox_exporter with http_2xx and tcp_connect modules and drives
// it at the workload's rate.
func runBlackbox(ctx context.Context, bin string, tg *targets, n int, interval, timeout, d time.Duration, concurrency int) (figures, error) {
	dir, err := os.MkdirTemp("", "bench-blackbox-")
	if err != nil {
		return figures{}, err
	}
	defer os.RemoveAll(dir)
	conf := filepath.Join(dir, "blackbox.yml")
	secs := max(timeout.Seconds(), 0.1)
	yml := fmt.Sprintf(`modules:
  http_2xx:
    prober: http
    timeout: %.3fs
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
  tcp_connect:
    prober: tcp
    timeout: %.3fs
    tcp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
`, secs, secs)
	if err := os.WriteFile(conf, []byte(yml), 0o600); err != nil {
		return figures{}, err
	}
	port, err := freePort()
	if err != nil {
		return figures{}, err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--config.file="+conf, "--web.listen-address="+listen, "--log.level=warn")
	logFile, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return figures{}, err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return figures{}, err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	if err := waitHTTP(ctx, "http://"+listen+"/-/healthy", 20*time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return figures{}, fmt.Errorf("not ready: %v\n%s", err, log)
	}

	// The same targets, each asked of blackbox_exporter: a probe is a success when its
	// answer says probe_success 1.
	hosts, specs := workload(tg, n, interval, timeout, false)
	own, err := probes.Expand(specs, hosts)
	if err != nil {
		return figures{}, err
	}
	success := probeSuccess
	var driven []probes.Spec
	for i, j := range own {
		module := "tcp_connect"
		if j.Spec.Type == probe.TypeHTTP {
			module = "http_2xx"
		}
		u := fmt.Sprintf("http://%s/probe?module=%s&target=%s", listen, module, url.QueryEscape(j.Target))
		driven = append(driven, probes.Spec{Name: fmt.Sprintf("bb%05d", i), Hosts: "all", Type: probe.TypeHTTP,
			Target: u, Interval: interval, Timeout: timeout + time.Second, BodyMatch: success})
	}
	jobs, err := probes.Expand(driven, []config.Host{{Name: "blackbox", Address: "127.0.0.1"}})
	if err != nil {
		return figures{}, err
	}
	runtime.GC()
	pid := cmd.Process.Pid
	cpu0, self0, tcpu0 := procCPU(pid), selfCPU(), procCPU(tg.cmd.Process.Pid)
	f, _ := runScheduler(ctx, jobs, d, concurrency)
	f.name = "blackbox_exporter " + version(bin)
	f.cpu = procCPU(pid) - cpu0
	f.driverCPU = selfCPU() - self0
	f.targetsCPU = procCPU(tg.cmd.Process.Pid) - tcpu0
	f.rssKB = procHWM(pid)
	probe.CloseIdleConnections()
	return f, nil
}

var probeSuccess = regexp.MustCompile(`(?m)^probe_success 1$`)

func version(bin string) string {
	out, _ := exec.Command(bin, "--version").CombinedOutput()
	fields := strings.Fields(string(out))
	for i, w := range fields {
		if w == "version" && i+1 < len(fields) {
			return fields[i+1]
		}
	}
	return ""
}

func findBlackbox() string {
	for _, name := range []string{"prometheus-blackbox-exporter", "blackbox_exporter"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func waitHTTP(ctx context.Context, u string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond) // polling a child process we started; bounded by deadline
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// targets is the child process serving the probe targets.
type targets struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	addrs    []string
	httpPort int
	tcpPort  int
}

func startTargets(n int) (*targets, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve", strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &targets{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if _, serr := fmt.Sscanf(line, "ports %d %d", &t.httpPort, &t.tcpPort); err != nil || serr != nil {
		t.stop()
		return nil, fmt.Errorf("child said %q: %v %v", line, err, serr)
	}
	for i := 1; i <= n; i++ {
		t.addrs = append(t.addrs, fmt.Sprintf("127.0.1.%d", i))
	}
	return t, nil
}

func (t *targets) stop() {
	t.stdin.Close() // the child exits when its stdin closes
	done := make(chan struct{})
	go func() { t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.cmd.Process.Kill()
		<-done
	}
}

// serveTargets is the child: on each of n loopback addresses an HTTP server answering
// every path with 200 and a TCP listener that accepts and closes. It prints the two
// ports and serves until its standard input closes.
func serveTargets(n int) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	var httpPort, tcpPort int
	for i := 1; i <= n; i++ {
		ip := fmt.Sprintf("127.0.1.%d", i)
		hl, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, httpPort))
		if err != nil {
			fatalf("listen: %v", err)
		}
		tl, err := net.Listen("tcp", fmt.Sprintf("%s:%d", ip, tcpPort))
		if err != nil {
			fatalf("listen: %v", err)
		}
		httpPort, tcpPort = hl.Addr().(*net.TCPAddr).Port, tl.Addr().(*net.TCPAddr).Port
		go srv.Serve(hl)
		go acceptAndClose(tl)
	}
	fmt.Printf("ports %d %d\n", httpPort, tcpPort)
	io.Copy(io.Discard, os.Stdin)
}

func acceptAndClose(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: back off, as net/http does
			continue
		}
		c.Close()
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func selfMaxRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss // KiB on Linux
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux
// architecture Go supports.
const clockTick = 10 * time.Millisecond

// procCPU is a process's utime+stime from /proc/<pid>/stat.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; fields resume after its closing parenthesis.
	s := string(b)
	s = s[strings.LastIndexByte(s, ')')+2:]
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of the full line
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return time.Duration(ut+st) * clockTick
}

// procHWM is a process's peak RSS in KiB.
func procHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/probes: "+format+"\n", args...)
	os.Exit(1)
}
