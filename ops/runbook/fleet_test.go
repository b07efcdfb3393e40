package runbook

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/sessions"
)

// fakeService is testdata/runbook/fakesvc.sh.
var fakeService = filepath.Join("..", "..", "testdata", "runbook", "fakesvc.sh")

// fleetEnv is a loopback fleet with the fake service installed for every host: on
// loopback all hosts are this machine, so each gets its own directory root/<host>/ with
// a copy of the script and its state (version v1, running).
type fleetEnv struct {
	fleet *testfleet.Fleet
	root  string
	cfg   *config.Config
	pool  *sessions.Pool
	log   *audit.Log
}

func startFleet(t testing.TB, n int, runbooks string) *fleetEnv {
	t.Helper()
	f := testfleet.Start(t, testfleet.Options{Hosts: n})
	root := t.TempDir()
	script, err := os.ReadFile(fakeService)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range f.Hosts {
		dir := filepath.Join(root, h.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "fakesvc.sh"), script, 0o755)
		os.WriteFile(filepath.Join(dir, "version"), []byte("v1\n"), 0o644)
	}
	inv, err := os.ReadFile(f.InventoryPath)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.toml")
	body := string(inv) + strings.ReplaceAll(runbooks, "ROOT", root)
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{ConfigFile: cfgPath, Env: func(k string) string {
		if k == "HOME" {
			return root
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	pool := sessions.NewPool(sessions.NewDialer(cfg.Hosts, cfg.Defaults))
	t.Cleanup(func() { pool.Close() })
	log, err := audit.Open(filepath.Join(t.TempDir(), "audit.jsonl"), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return &fleetEnv{fleet: f, root: root, cfg: cfg, pool: pool, log: log}
}

func (e *fleetEnv) plan(t testing.TB, name string, vars map[string]string) Plan {
	t.Helper()
	rbs, err := Parse(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	rb, ok := Find(rbs, name)
	if !ok {
		t.Fatalf("no runbook %s", name)
	}
	hosts, err := config.Resolve(e.cfg.Hosts, rb.Hosts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(rb, hosts, vars)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *fleetEnv) file(host, name string) string {
	b, _ := os.ReadFile(filepath.Join(e.root, host, name))
	return strings.TrimSpace(string(b))
}

const restartRunbook = `
[[runbooks]]
name = "restart-fake"
description = "restart the fake service into a version, check it, roll back on failure"
hosts = "group:fleet"
vars = { root = "ROOT", version = "v2" }
on_failure = "rollback"
[[runbooks.steps]]
name = "restart"
run = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} restart {{.Vars.version}}"
check = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} check"
rollback = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} rollback"
timeout = "20s"

[[runbooks]]
name = "enabled-only"
hosts = "group:fleet"
vars = { root = "ROOT" }
when = { command = "test -f {{.Vars.root}}/{{.Host}}/enabled" }
steps = [{ run = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} restart v3" }]

[[runbooks]]
name = "disk-full"
hosts = "group:fleet"
vars = { root = "ROOT" }
when = { metric = "disk_used", below = 101 }
steps = [{ run = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} restart v4" }]

[[runbooks]]
name = "blocker"
hosts = "group:fleet"
vars = { root = "ROOT" }
steps = [{ run = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} block" }]
`

func TestFakeServiceRestartWithRollback(t *testing.T) {
	e := startFleet(t, 5, restartRunbook)
	os.WriteFile(filepath.Join(e.root, "host-003", "fail-check"), nil, 0o644)
	p := e.plan(t, "restart-fake", nil)
	out := Run(context.Background(), p, e.pool, e.log, nil, Options{Reason: "INC-1"})
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	if got := states(out); got != "host-001=ok host-002=ok host-003=rolled_back host-004=ok host-005=ok" {
		t.Fatalf("states %s\n%+v", got, out.Hosts[2])
	}
	for _, h := range e.fleet.Hosts {
		want, log := "v2", "restart v2\ncheck"
		if h.Name == "host-003" {
			want, log = "v1", "restart v2\ncheck\nrollback v1"
		}
		if got := e.file(h.Name, "version"); got != want {
			t.Errorf("%s runs %s, want %s", h.Name, got, want)
		}
		if got := e.file(h.Name, "actions.log"); got != log {
			t.Errorf("%s did:\n%s\nwant:\n%s", h.Name, got, log)
		}
	}
	recs, probs, err := audit.Read(e.log.Path())
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	// intent, 5 run + 5 check results, 1 rollback, done.
	if len(recs) != 1+10+1+1 {
		t.Fatalf("%d records", len(recs))
	}
	var rb *audit.Result
	for _, r := range recs {
		if r.Result != nil && r.Result.Phase == audit.PhaseRollback {
			rb = r.Result
		}
	}
	if rb == nil || rb.Host != "host-003" || rb.Outcome != "ok" {
		t.Fatalf("rollback record %+v", rb)
	}
	for _, r := range recs {
		if r.Result != nil && r.Result.Host == "host-003" && r.Result.Phase == audit.PhaseCheck &&
			(r.Result.ExitCode != 1 || !strings.Contains(r.Result.FirstLine, "health check failed")) {
			t.Fatalf("failed check record %+v", r.Result)
		}
	}
}

func TestRollbackAllSerial(t *testing.T) {
	e := startFleet(t, 5, strings.Replace(restartRunbook, `on_failure = "rollback"`, `on_failure = "rollback-all"
serial = true`, 1))
	os.WriteFile(filepath.Join(e.root, "host-003", "fail-check"), nil, 0o644)
	out := Run(context.Background(), e.plan(t, "restart-fake", nil), e.pool, e.log, nil, Options{})
	if got := states(out); got != "host-001=rolled_back host-002=rolled_back host-003=rolled_back host-004=not_run host-005=not_run" {
		t.Fatalf("states %s", got)
	}
	for _, h := range e.fleet.Hosts {
		if got := e.file(h.Name, "version"); got != "v1" {
			t.Errorf("%s runs %s after rollback-all", h.Name, got)
		}
	}
	if e.file("host-004", "actions.log") != "" || e.file("host-005", "actions.log") != "" {
		t.Error("hosts after the failure were touched")
	}
}

func TestPreconditionFilteringOnFleet(t *testing.T) {
	e := startFleet(t, 5, restartRunbook)
	for _, h := range []string{"host-002", "host-004"} {
		os.WriteFile(filepath.Join(e.root, h, "enabled"), nil, 0o644)
	}
	out := Run(context.Background(), e.plan(t, "enabled-only", nil), e.pool, e.log, nil, Options{})
	if got := states(out); got != "host-001=skipped host-002=ok host-003=skipped host-004=ok host-005=skipped" {
		t.Fatalf("states %s", got)
	}
	if !out.OK() {
		t.Fatal("skipped hosts are not failures")
	}
	for _, h := range e.fleet.Hosts {
		want := "v1"
		if h.Name == "host-002" || h.Name == "host-004" {
			want = "v3"
		}
		if got := e.file(h.Name, "version"); got != want {
			t.Errorf("%s: %s, want %s", h.Name, got, want)
		}
	}
	if n := out.Hosts[0].Note; !strings.Contains(n, "precondition not met") {
		t.Errorf("note %q", n)
	}

	// A metric precondition through RemoteMetrics: every real disk is below 101%.
	out = Run(context.Background(), e.plan(t, "disk-full", nil), e.pool, e.log, nil,
		Options{Metric: RemoteMetrics(e.pool, 10*time.Second)})
	if !out.OK() || out.Counts()[StateOK] != 5 {
		t.Fatalf("disk-full: %s %v", states(out), out.Hosts[0].Note)
	}
}

// TestIntentBeforeAnyHostChanges runs a step that blocks after changing its host, and
// reads the log while every host is changed and blocked: the intent is there, fsync'd,
// and no result yet.
func TestIntentBeforeAnyHostChanges(t *testing.T) {
	e := startFleet(t, 5, restartRunbook)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan Outcome, 1)
	go func() { done <- Run(ctx, e.plan(t, "blocker", nil), e.pool, e.log, nil, Options{}) }()
	all := func() bool {
		for _, h := range e.fleet.Hosts {
			if _, err := os.Stat(filepath.Join(e.root, h.Name, "started")); err != nil {
				return false
			}
		}
		return true
	}
	if !testfleet.WaitFor(ctx, 20*time.Second, all) {
		t.Fatal("the blocking step never started on every host")
	}
	recs, probs, err := audit.Read(e.log.Path())
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if len(recs) != 1 || recs[0].Type != audit.TypeIntent || len(recs[0].Intent.Hosts) != 5 {
		t.Fatalf("while blocked the log holds %d records: %+v", len(recs), recs)
	}
	runs := audit.Interrupted(recs)
	if len(runs) != 1 || len(runs[0].NotStarted) != 5 || !runs[0].MaybeRunning() {
		t.Fatalf("interrupted %+v", runs)
	}
	cancel()
	out := <-done
	os.WriteFile(filepath.Join(e.root, "release"), nil, 0o644) // let the remote loops end
	if !out.Cancelled || out.Counts()[StateCancelled] != 5 {
		t.Fatalf("%s", states(out))
	}
	recs, _, _ = audit.Read(e.log.Path())
	if d := recs[len(recs)-1]; d.Type != audit.TypeDone || d.Done.Outcome != "cancelled" {
		t.Fatalf("last %+v", d)
	}
}

// BenchmarkConfirmToFirstCommand measures, on a fresh pool (no connection yet), the time
// from Run (the moment the gate said yes) to the first command executing on a host, and to
// the last host's command starting. Hosts: $OPSCONSOLE_BENCH_HOSTS (default 50);
// concurrency: $OPSCONSOLE_BENCH_CONCURRENCY (default sessions.DefaultConcurrency).
func BenchmarkConfirmToFirstCommand(b *testing.B) {
	n, conc := 50, 0
	if s := os.Getenv("OPSCONSOLE_BENCH_HOSTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("OPSCONSOLE_BENCH_CONCURRENCY"); s != "" {
		conc, _ = strconv.Atoi(s)
	}
	e := startFleet(b, n, `
[[runbooks]]
name = "stamp"
hosts = "group:fleet"
vars = { root = "ROOT" }
steps = [{ run = "date +%s%N > {{.Vars.root}}/{{.Host}}/t" }]
`)
	p := e.plan(b, "stamp", nil)
	var first, last time.Duration
	for b.Loop() {
		pool := sessions.NewPool(sessions.NewDialer(e.cfg.Hosts, e.cfg.Defaults))
		start := time.Now()
		out := Run(context.Background(), p, pool, e.log, nil, Options{Concurrency: conc})
		pool.Close()
		if !out.OK() {
			b.Fatalf("%s", states(out))
		}
		var stamps []time.Time
		for _, h := range e.fleet.Hosts {
			ns, err := strconv.ParseInt(e.file(h.Name, "t"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			stamps = append(stamps, time.Unix(0, ns))
		}
		slices.SortFunc(stamps, func(a, b time.Time) int { return a.Compare(b) })
		first += stamps[0].Sub(start)
		last += stamps[len(stamps)-1].Sub(start)
	}
	b.ReportMetric(float64(first.Microseconds())/float64(b.N)/1000, "ms-first-cmd")
	b.ReportMetric(float64(last.Microseconds())/float64(b.N)/1000, "ms-last-cmd")
	b.ReportMetric(float64(n), "hosts")
}
