package probes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/backends/local"
	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/sessions"
)

// server is a real HTTP target that remembers when each path was asked for.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	hits  map[string][]time.Time
	flips atomic.Int64
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{hits: map[string][]time.Time{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path] = append(s.hits[r.URL.Path], time.Now())
		s.mu.Unlock()
		switch r.URL.Path {
		case "/slow":
			select {
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
			}
		case "/fail":
			http.Error(w, "broken", http.StatusInternalServerError)
		case "/flap":
			if s.flips.Add(1)%2 == 0 {
				http.Error(w, "broken", http.StatusInternalServerError)
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) times(path string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hits[path])
}

func (s *server) url(path string) string { return s.URL + path }

var web1 = config.Host{Name: "web-1", Address: "127.0.0.1", Transport: config.TransportLocal}

func httpSpec(name, url string, interval, timeout time.Duration) probes.Spec {
	return probes.Spec{Name: name, Hosts: "all", Type: probe.TypeHTTP, Target: url, Interval: interval, Timeout: timeout}
}

func expand(t *testing.T, specs []probes.Spec, hosts ...config.Host) []probes.Job {
	t.Helper()
	if len(hosts) == 0 {
		hosts = []config.Host{web1}
	}
	jobs, err := probes.Expand(specs, hosts)
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

// start runs a scheduler until the test ends, and checks that it leaves nothing in
// flight behind it.
func start(t *testing.T, jobs []probes.Job, opt probes.Options) *probes.Scheduler {
	t.Helper()
	s := probes.NewScheduler(jobs, nil, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if n := s.InFlight(); n != 0 {
			t.Errorf("%d probes still in flight after Run returned", n)
		}
	})
	return s
}

// until reads results from s until ok says it has seen enough, or fails after a while.
func until(t *testing.T, s *probes.Scheduler, ok func(probes.Result) bool) probes.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		batch, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("waited in vain: %v (stats %+v)", err, s.Stats())
		}
		for _, r := range batch {
			if ok(r) {
				return r
			}
		}
	}
}

func TestSchedulerHonoursInterval(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const interval = 100 * time.Millisecond
	s := start(t, expand(t, []probes.Spec{httpSpec("fast", srv.url("/fast"), interval, time.Second)}), probes.Options{})
	until(t, s, func(probes.Result) bool { return len(srv.times("/fast")) >= 11 })
	hits := srv.times("/fast")[:11]
	missed := s.Stats().Missed
	// Ten gaps span ten ticks: never fewer (runs faster than the interval), and more
	// only by the ticks the scheduler counted as missed (a machine that stalls for longer
	// than an interval skips ticks rather than bunching runs up). One tick either way
	// allows for the first and last run starting late.
	ticks := float64(hits[10].Sub(hits[0])) / float64(interval)
	if ticks < 9 || ticks > float64(11+missed) {
		t.Errorf("10 gaps spanned %.1f intervals with %d ticks missed (hits %v)", ticks, missed, hits)
	}
	if st := s.Stats(); st.LagMax > interval && missed == 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSlowProbeDoesNotDelayFastOne(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const interval = 100 * time.Millisecond
	jobs := expand(t, []probes.Spec{
		httpSpec("slow", srv.url("/slow"), interval, time.Second), // hangs until its timeout
		httpSpec("fast", srv.url("/fast"), interval, time.Second),
	})
	// Two workers: the slow probe can hold one, and only one, because its own next ticks
	// are skipped while it runs instead of queueing behind it.
	s := start(t, jobs, probes.Options{Concurrency: 2})
	began := time.Now()
	slow := until(t, s, func(r probes.Result) bool { return r.Name == "slow" })
	elapsed := time.Since(began)

	if slow.Status != health.Down || slow.Reason != "timeout after 1s" {
		t.Errorf("slow probe: %s %q", slow.Status, slow.Reason)
	}
	if slow.Missed < 5 {
		t.Errorf("slow probe missed %d ticks while it ran for 1s at a 100ms interval", slow.Missed)
	}
	// The fast probe ran at its own pace all along.
	fast := srv.times("/fast")
	if want := int(elapsed/interval) * 7 / 10; len(fast) < want {
		t.Errorf("fast probe ran %d times in %v, want at least %d", len(fast), elapsed, want)
	}
	if n := len(srv.times("/slow")); n > 2 {
		t.Errorf("slow probe started %d times in %v: runs piled up", n, elapsed)
	}
}

func TestOverloadShedsStaleRuns(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const interval = 50 * time.Millisecond
	specs := []probes.Spec{httpSpec("slow", srv.url("/slow"), interval, 300*time.Millisecond)}
	for i := range 4 {
		specs = append(specs, httpSpec(fmt.Sprintf("fast%d", i), srv.url("/fast"), interval, time.Second))
	}
	// One worker and a probe that holds it for six intervals: the fast probes queued
	// behind it are stale when it comes free, and are shed rather than run late.
	s := start(t, expand(t, specs), probes.Options{Concurrency: 1})
	var slowRuns int
	until(t, s, func(r probes.Result) bool {
		if r.Lag > interval {
			t.Fatalf("%s ran %v late, more than its interval", r.Name, r.Lag)
		}
		if r.Name == "slow" {
			slowRuns++
		}
		return slowRuns >= 3
	})
	if st := s.Stats(); st.Missed == 0 || st.LagMax <= interval {
		t.Errorf("an overloaded pool neither shed nor saw lag: %+v", st)
	}
}

func TestFlappingDetection(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	flap := httpSpec("flap", srv.url("/flap"), 30*time.Millisecond, time.Second)
	flap.FlapChanges, flap.FlapWindow = 4, 5*time.Second
	steady := httpSpec("steady", srv.url("/fast"), 30*time.Millisecond, time.Second)
	steady.FlapChanges, steady.FlapWindow = 4, 5*time.Second
	s := start(t, expand(t, []probes.Spec{flap, steady}), probes.Options{HistoryLen: 8})

	r := until(t, s, func(r probes.Result) bool { return r.Name == "flap" && r.Flapping })
	if len(r.History) < 5 {
		t.Fatalf("flapping after %d results: %v", len(r.History), r.History)
	}
	for i := 1; i < len(r.History); i++ {
		if r.History[i] == r.History[i-1] {
			t.Fatalf("history %v does not alternate", r.History)
		}
	}
	for _, r := range s.Latest() {
		if r.Name == "steady" && (r.Flapping || r.Status != health.OK) {
			t.Errorf("steady probe: %+v", r)
		}
	}
	// A flapping probe that passes still makes its host Warn.
	if r.Status == health.OK {
		if st, why := probes.HostStatus([]probes.Result{r}); st != health.Warn || !strings.Contains(why[0], "flapping") {
			t.Errorf("host of a flapping probe: %s %v", st, why)
		}
	}
}

func TestNextBatchesLatestPerJob(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	var specs []probes.Spec
	for i := range 20 {
		specs = append(specs, httpSpec(fmt.Sprintf("p%02d", i), srv.url(fmt.Sprintf("/p%d", i)), 20*time.Millisecond, time.Second))
	}
	s := start(t, expand(t, specs), probes.Options{})
	// Let every job run several times before reading: Next must hand back one result per
	// job, the latest, not a backlog.
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Runs < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", s.Stats())
		}
		until(t, s, func(probes.Result) bool { return true })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	batch, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range batch {
		if seen[r.Name] {
			t.Fatalf("job %s twice in one batch", r.Name)
		}
		seen[r.Name] = true
		if r.Status != health.OK || len(r.History) == 0 || r.History[len(r.History)-1] != r.Status {
			t.Errorf("result %+v", r)
		}
	}
	if len(batch) > len(specs) {
		t.Fatalf("batch of %d for %d jobs", len(batch), len(specs))
	}
	if got := len(s.Latest()); got != len(specs) {
		t.Errorf("Latest has %d jobs, want %d", got, len(specs))
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	// Drain what is pending, then a cancelled wait returns at once.
	for {
		if _, err := s.Next(cancelled); err != nil {
			break
		}
	}
}

func TestRunOnceJudgesHosts(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	hosts := []config.Host{
		{Name: "web-1", Address: "127.0.0.1", Tags: []string{"web"}, Transport: config.TransportLocal},
		{Name: "db-1", Address: "127.0.0.1", Tags: []string{"db"}, Transport: config.TransportLocal},
	}
	specs := []probes.Spec{
		{Name: "health", Hosts: "tag:web", Type: probe.TypeHTTP, Target: "http://{{.Address}}:" + port + "/fast", Timeout: time.Second},
		{Name: "errors", Hosts: "tag:web", Type: probe.TypeHTTP, Target: "http://{{.Address}}:" + port + "/fail", Timeout: time.Second},
		{Name: "postgres", Hosts: "tag:db", Type: probe.TypeTCP, Target: fmt.Sprintf("{{.Address}}:%d", closed), Timeout: time.Second},
		{Name: "replication", Hosts: "tag:db", Type: probe.TypeExec, Command: "echo lag=0", ExpectExit: 0, Timeout: 5 * time.Second},
		{Name: "alive", Hosts: "all", Type: probe.TypeExec, Command: "exit 0", Timeout: 5 * time.Second},
	}
	jobs := expand(t, specs, hosts...)
	pool := sessions.NewPool(func(context.Context, config.Host) (sessions.Session, error) { return local.New(), nil })
	defer pool.Close()

	results := probes.RunOnce(context.Background(), jobs, pool, 4)
	if len(results) != len(jobs) {
		t.Fatalf("%d results for %d jobs", len(results), len(jobs))
	}
	for i, r := range results {
		if r.Name != jobs[i].Spec.Name || r.Host != jobs[i].Host.Name {
			t.Errorf("result %d is %s@%s, want job order", i, r.Name, r.Host)
		}
	}
	by := probes.ByHost(results)
	if names := []string{by["web-1"][0].Name, by["web-1"][1].Name, by["web-1"][2].Name}; !slices.Equal(names, []string{"alive", "errors", "health"}) {
		t.Errorf("web-1's probes in order %v", names)
	}

	st, why := probes.HostStatus(by["web-1"])
	if st != health.Crit || len(why) != 1 || why[0] != "probe errors "+srv.url("/fail")+": status 500, want 2xx/3xx" {
		t.Errorf("web-1: %s %q", st, why)
	}
	st, why = probes.HostStatus(by["db-1"])
	if st != health.Down || len(why) != 1 || !strings.Contains(why[0], "probe postgres") || !strings.HasSuffix(why[0], "connection refused") {
		t.Errorf("db-1: %s %q", st, why)
	}
	for _, r := range by["db-1"] {
		if r.Type == probe.TypeExec && (r.Status != health.OK || r.Detail.ExitCode != 0) {
			t.Errorf("exec probe over the pool: %+v", r)
		}
	}
	// check's JSON names every failing probe in one flat record each.
	js, err := json.Marshal(by["web-1"][1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"errors"`, `"host":"web-1"`, `"type":"http"`, `"status":"crit"`,
		`"reason":"status 500, want 2xx/3xx"`, `"detail":{"status_code":500}`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON %s lacks %s", js, want)
		}
	}
	if st, why := probes.HostStatus(nil); st != health.OK || why != nil {
		t.Errorf("no probes: %s %v", st, why)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range probes.RunOnce(ctx, jobs, pool, 1) {
		if r.Status != health.Unknown || r.Reason != "cancelled" {
			t.Errorf("cancelled round: %+v", r)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	t.Parallel()
	var h probes.Histogram
	if h.Quantile(0.99) != 0 || h.Max() != 0 {
		t.Fatal("empty histogram is not zero")
	}
	for i := 1; i <= 10000; i++ {
		h.Observe(time.Duration(i) * time.Microsecond)
	}
	h.Observe(-time.Second) // clock trouble counts as no lag
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.99, 9900 * time.Microsecond}, {0.999, 9990 * time.Microsecond}} {
		got := h.Quantile(c.q)
		if got < c.want || got > c.want+c.want/16 {
			t.Errorf("p%v = %v, want %v (+1/16 at most)", c.q*100, got, c.want)
		}
	}
	if h.Max() != 10*time.Millisecond || h.Quantile(1) != 10*time.Millisecond || h.Count() != 10001 {
		t.Errorf("max %v, p100 %v, count %d", h.Max(), h.Quantile(1), h.Count())
	}
	h.Observe(400 * 24 * time.Hour) // beyond the last bucket: counted, max exact
	if h.Max() != 400*24*time.Hour || h.Quantile(1) != h.Max() {
		t.Errorf("huge value: max %v p100 %v", h.Max(), h.Quantile(1))
	}
}
