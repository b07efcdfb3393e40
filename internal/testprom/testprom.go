// Package testprom starts a real prometheus-node-exporter and a real prometheus scraping
// it, both on free loopback ports, for integration tests, benchmarks and the README's
// try-it section. Prometheus scrapes every second and evaluates one rule group every
// second holding an alert that always fires, labelled with the exporter's instance, so
// tests see metrics, rates and alerts within seconds of start.
//
// Start returns only once `up{job="node"} == 1` is queryable: the server is ready, has
// scraped the exporter and stored the result. Everything waits by polling state, never by
// fixed sleeps.
package testprom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testfleet"
)

// The binaries, looked up in PATH (Debian installs both in /usr/bin).
const (
	Prometheus   = "prometheus"
	NodeExporter = "prometheus-node-exporter"
)

// AlertName is the alert that always fires, labelled instance=Env.NodeExporterAddr.
const AlertName = "OpsconsoleTestAlwaysFiring"

// Options shape an environment. The zero value is the usual one.
type Options struct {
	// ScrapeInterval is the scrape and rule evaluation interval (default 1s).
	ScrapeInterval time.Duration
	// NoPrometheus starts the exporter alone, for direct-scrape tests.
	NoPrometheus bool
	// StartTimeout bounds the whole start-up (default 60s: CI runs test packages in
	// parallel under the race detector, and the first scrape waits up to an interval).
	StartTimeout time.Duration
}

// Env is a running exporter and, unless Options.NoPrometheus, a Prometheus scraping it.
type Env struct {
	// Dir holds the generated configs, the TSDB and the opsconsole config.
	Dir string
	// URL is Prometheus' base URL, e.g. http://127.0.0.1:41234 ("" with NoPrometheus).
	URL string
	// NodeExporterAddr is the exporter's host:port, which is also the instance label of
	// its series: 127.0.0.1:PORT.
	NodeExporterAddr string
	// MetricsURL is the exporter's /metrics URL.
	MetricsURL string
	// ConfigPath is an opsconsole config file with [prometheus] pointing at URL and
	// Hosts as [[hosts]].
	ConfigPath string
	// Hosts are an inventory for mapping tests: "loopback" at 127.0.0.1, which the
	// exporter's series name, and "elsewhere" at 192.0.2.10 (TEST-NET-1), which nothing
	// names.
	Hosts []config.Host
	// Startup records how long each phase of Start took.
	Startup Timings

	prom, node *process
}

// Timings of a start-up, for the record (tests log them).
type Timings struct {
	NodeExporter time.Duration // exporter started until /metrics answered
	Prometheus   time.Duration // server started until /-/ready answered
	FirstScrape  time.Duration // ready until up{job="node"} == 1 was queryable
	Total        time.Duration
}

func (t Timings) String() string {
	return fmt.Sprintf("node_exporter %v, prometheus ready %v, first scrape %v, total %v",
		t.NodeExporter.Round(time.Millisecond), t.Prometheus.Round(time.Millisecond),
		t.FirstScrape.Round(time.Millisecond), t.Total.Round(time.Millisecond))
}

// Require fails the test in CI and skips it elsewhere when a binary is missing; see
// testfleet.Require.
func Require(tb testing.TB, opt Options) {
	tb.Helper()
	testfleet.Require(tb, NodeExporter)
	if !opt.NoPrometheus {
		testfleet.Require(tb, Prometheus)
	}
}

// Start starts an environment for a test; the processes are killed and the directory
// removed when the test ends.
func Start(tb testing.TB, opt Options) *Env {
	tb.Helper()
	Require(tb, opt)
	e, err := start(tb.TempDir(), opt)
	if e != nil {
		// Registered after TempDir, so it runs first: processes die before their files go.
		tb.Cleanup(e.stop)
	}
	if err != nil {
		tb.Fatalf("testprom: %v", err)
	}
	return e
}

// StartMain starts an environment outside a test (benchmarks, the README's try-it). The
// returned function kills the processes and removes the directory.
func StartMain(opt Options) (*Env, func(), error) {
	for _, b := range []string{NodeExporter, Prometheus} {
		if b == Prometheus && opt.NoPrometheus {
			continue
		}
		if _, err := exec.LookPath(b); err != nil {
			return nil, nil, fmt.Errorf("testprom: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "testprom-")
	if err != nil {
		return nil, nil, err
	}
	e, err := start(dir, opt)
	stop := func() {
		if e != nil {
			e.stop()
		}
		os.RemoveAll(dir)
	}
	if err != nil {
		stop()
		return nil, nil, err
	}
	return e, stop, nil
}

func start(dir string, opt Options) (*Env, error) {
	if opt.ScrapeInterval <= 0 {
		opt.ScrapeInterval = time.Second
	}
	if opt.StartTimeout <= 0 {
		opt.StartTimeout = 60 * time.Second
	}
	begin := time.Now()
	deadline := begin.Add(opt.StartTimeout)
	e := &Env{Dir: dir}

	node, port, err := startListening(dir, "node_exporter", deadline, func(port int) []string {
		return []string{NodeExporter,
			"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
			// Only what opsconsole reads, which keeps a 1s scrape cheap under -race on a
			// busy CI machine, and nothing that needs privileges.
			"--collector.disable-defaults",
			"--collector.cpu", "--collector.meminfo", "--collector.loadavg",
			"--collector.filesystem", "--collector.stat", "--collector.time", "--collector.uname",
			// The default list excludes overlay, the root of most containers CI runs in;
			// opsconsole keeps overlay at / (health.KeepDisk), so the exporter must too.
			"--collector.filesystem.fs-types-exclude=^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$",
		}
	}, func(addr string) error { return httpOK("http://" + addr + "/metrics") })
	if node != nil {
		e.node = node
	}
	if err != nil {
		return e, err
	}
	e.NodeExporterAddr = "127.0.0.1:" + strconv.Itoa(port)
	e.MetricsURL = "http://" + e.NodeExporterAddr + "/metrics"
	e.Startup.NodeExporter = time.Since(begin)
	e.Hosts = []config.Host{
		{Name: "loopback", Address: "127.0.0.1", Transport: config.TransportSSH},
		{Name: "elsewhere", Address: "192.0.2.10", Transport: config.TransportSSH},
	}
	if opt.NoPrometheus {
		e.Startup.Total = time.Since(begin)
		return e, e.writeOpsconsoleConfig()
	}

	if err := e.writePrometheusConfig(opt.ScrapeInterval); err != nil {
		return e, err
	}
	promBegin := time.Now()
	prom, port, err := startListening(dir, "prometheus", deadline, func(port int) []string {
		return []string{Prometheus,
			"--config.file=" + filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--storage.tsdb.retention.time=1h",
			"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
			"--log.level=warn",
		}
	}, func(addr string) error { return httpOK("http://" + addr + "/-/ready") })
	if prom != nil {
		e.prom = prom
	}
	if err != nil {
		return e, err
	}
	e.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	e.Startup.Prometheus = time.Since(promBegin)
	if err := e.writeOpsconsoleConfig(); err != nil {
		return e, err
	}

	scrapeBegin := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := e.WaitForQuery(ctx, `up{job="node"} == 1`); err != nil {
		return e, fmt.Errorf("prometheus never scraped node_exporter: %w\n%s", err, prom.log())
	}
	e.Startup.FirstScrape = time.Since(scrapeBegin)
	e.Startup.Total = time.Since(begin)
	return e, nil
}

func (e *Env) writePrometheusConfig(interval time.Duration) error {
	iv := fmt.Sprintf("%dms", interval.Milliseconds())
	cfg := fmt.Sprintf(`global:
  scrape_interval: %[1]s
  scrape_timeout: %[1]s
  evaluation_interval: %[1]s
rule_files:
  - %[2]q
scrape_configs:
  - job_name: node
    static_configs:
      - targets: [%[3]q]
`, iv, filepath.Join(e.Dir, "rules.yml"), e.NodeExporterAddr)
	rules := fmt.Sprintf(`groups:
  - name: opsconsole-test
    interval: %s
    rules:
      - alert: %s
        expr: vector(1) > 0
        labels:
          instance: %q
          severity: warning
        annotations:
          summary: always firing, for opsconsole's tests
`, iv, AlertName, e.NodeExporterAddr)
	if err := os.WriteFile(filepath.Join(e.Dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(e.Dir, "rules.yml"), []byte(rules), 0o644)
}

func (e *Env) writeOpsconsoleConfig() error {
	var b strings.Builder
	if e.URL != "" {
		fmt.Fprintf(&b, "[prometheus]\nurl = %q\ntimeout = \"5s\"\n\n", e.URL)
	}
	for _, h := range e.Hosts {
		fmt.Fprintf(&b, "[[hosts]]\nname = %q\naddress = %q\n\n", h.Name, h.Address)
	}
	e.ConfigPath = filepath.Join(e.Dir, "opsconsole.toml")
	return os.WriteFile(e.ConfigPath, []byte(b.String()), 0o644)
}

// WaitForQuery polls Prometheus until the instant query expr returns a non-empty result,
// for tests that need more than Start waits for (a rate needs two scrapes, an alert one
// evaluation).
func (e *Env) WaitForQuery(ctx context.Context, expr string) error {
	var last error
	ok := testfleet.WaitFor(ctx, time.Until(deadlineOf(ctx)), func() bool {
		n, err := e.count(ctx, expr)
		last = err
		return err == nil && n > 0
	})
	if ok {
		return nil
	}
	if last == nil {
		last = errors.New("empty result")
	}
	return fmt.Errorf("%s: %w", expr, last)
}

func deadlineOf(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(30 * time.Second)
}

// count runs an instant query with a plain HTTP call: the harness must not depend on the
// client it is used to test.
func (e *Env) count(ctx context.Context, expr string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	u := e.URL + "/api/v1/query?" + url.Values{"query": {expr}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, errors.New(r.Error)
	}
	return len(r.Data.Result), nil
}

// KillPrometheus kills the server (SIGKILL) and waits for it to exit; its port then
// refuses connections.
func (e *Env) KillPrometheus() error { return e.prom.kill() }

// FreezePrometheus stops the server (SIGSTOP): connections are accepted by the kernel
// but never answered, the way a wedged server behaves.
func (e *Env) FreezePrometheus() error { return e.prom.signal(syscall.SIGSTOP) }

// ThawPrometheus resumes a frozen server.
func (e *Env) ThawPrometheus() error { return e.prom.signal(syscall.SIGCONT) }

// KillNodeExporter kills the exporter and waits for it to exit.
func (e *Env) KillNodeExporter() error { return e.node.kill() }

// PrometheusLog is the tail of the server's stderr, for failure messages.
func (e *Env) PrometheusLog() string { return e.prom.log() }

func (e *Env) stop() {
	e.prom.kill()
	e.node.kill()
}

// process is one child, in its own process group so that a terminal's ^C to the test
// does not reach it first and cleanup stays in our hands.
type process struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *tailBuffer
}

// startListening starts a server on a free loopback port and waits until ready says it
// answers. Between picking the port and binding it another process may take it, so a
// child that exits complaining its address is in use is retried on a new port.
func startListening(dir, name string, deadline time.Time, argv func(port int) []string,
	ready func(addr string) error) (*process, int, error) {
	var lastErr error
	for attempt := 0; attempt < 5 && time.Now().Before(deadline); attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, 0, err
		}
		p, err := startProcess(dir, name, argv(port))
		if err != nil {
			return nil, 0, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		err = p.waitReady(deadline, func() error { return ready(addr) })
		if err == nil {
			return p, port, nil
		}
		p.kill()
		lastErr = fmt.Errorf("%s on %s: %w\n%s", name, addr, err, p.log())
		if !strings.Contains(p.log(), "address already in use") {
			return nil, 0, lastErr
		}
	}
	return nil, 0, lastErr
}

func startProcess(dir, name string, argv []string) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	// Pdeathsig kills the child when the test binary dies without running its cleanups
	// (a -timeout panic, a SIGKILL), which would otherwise leave servers running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir}
	p := &process{name: name, cmd: cmd, exited: make(chan struct{}), stderr: &tailBuffer{max: 64 << 10}}
	cmd.Stdout = p.stderr
	cmd.Stderr = p.stderr
	// The kernel sends Pdeathsig when the thread that forked the child exits, not the
	// process, and Go may retire idle threads: so the child is started and waited for on
	// one goroutine locked to its thread, which lives exactly as long as the child.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return // the locked thread exits with the goroutine; nothing depends on it
		}
		started <- nil
		cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// waitReady polls ready until it succeeds, the process exits or the deadline passes.
func (p *process) waitReady(deadline time.Time, ready func() error) error {
	backoff := 5 * time.Millisecond
	for {
		select {
		case <-p.exited:
			return errors.New("exited during start-up")
		default:
		}
		err := ready()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready in time: %w", err)
		}
		time.Sleep(backoff) // polling interval, not synchronisation: the loop checks state
		backoff = min(backoff*2, 50*time.Millisecond)
	}
}

func (p *process) kill() error {
	if p == nil {
		return nil
	}
	select {
	case <-p.exited:
		return nil
	default:
	}
	// A stopped process still dies on SIGKILL; the group catches anything it forked.
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
	return nil
}

func (p *process) signal(sig syscall.Signal) error {
	if p == nil {
		return errors.New("not started")
	}
	select {
	case <-p.exited:
		return errors.New(p.name + " is not running")
	default:
	}
	return syscall.Kill(p.cmd.Process.Pid, sig)
}

func (p *process) log() string {
	if p == nil {
		return ""
	}
	return p.stderr.String()
}

func httpOK(u string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// freePort asks the kernel for a free loopback port. It is free now, not promised:
// startListening retries when a race loses it.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
