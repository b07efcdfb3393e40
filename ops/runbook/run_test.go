package runbook

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/sessions"
)

// fakeRunner runs nothing: a command fails when it is in fail, blocks until ctx ends
// when it is in block, and otherwise succeeds after delay. It keeps every call in order.
type fakeRunner struct {
	delay time.Duration
	fail  map[string]bool
	block map[string]bool
	// blocked is closed-over by tests waiting for a blocking command to begin.
	blocked chan string

	mu    sync.Mutex
	calls []string
	live  int
	peak  int
}

func (f *fakeRunner) Run(ctx context.Context, h config.Host, cmd string, opt sessions.FanOutOptions) sessions.Result {
	f.mu.Lock()
	f.calls = append(f.calls, cmd)
	f.live++
	f.peak = max(f.peak, f.live)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.live--
		f.mu.Unlock()
	}()
	r := sessions.Result{Host: h.Name, Start: time.Now(), Stdout: []byte(cmd + "\n")}
	if f.block[cmd] {
		if f.blocked != nil {
			f.blocked <- cmd
		}
		<-ctx.Done()
		r.End, r.ExitCode, r.Err = time.Now(), -1, ctx.Err()
		r.Outcome = sessions.OutcomeCancelled
		return r
	}
	time.Sleep(f.delay)
	r.End = time.Now()
	if f.fail[cmd] {
		r.Outcome, r.ExitCode = sessions.OutcomeFailed, 1
		return r
	}
	r.Outcome = sessions.OutcomeOK
	return r
}

func (f *fakeRunner) ran() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

const fiveHosts = `
[[hosts]]
name = "h1"
[[hosts]]
name = "h2"
[[hosts]]
name = "h3"
[[hosts]]
name = "h4"
[[hosts]]
name = "h5"
`

// planFor parses one runbook over the five fake hosts and plans it.
func planFor(t *testing.T, body string, vars map[string]string) Plan {
	t.Helper()
	cfg := loadConfig(t, fiveHosts+body)
	rbs, err := Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(rbs[0], cfg.Hosts, vars)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func openLog(t *testing.T) *audit.Log {
	t.Helper()
	l, err := audit.Open(filepath.Join(t.TempDir(), "audit.jsonl"), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func states(o Outcome) string {
	var parts []string
	for _, h := range o.Hosts {
		parts = append(parts, h.Host+"="+string(h.State))
	}
	return strings.Join(parts, " ")
}

// twoSteps is a runbook whose commands name their host, step and phase, so that the
// fake runner can fail exactly one of them.
func twoSteps(policy, batch string) string {
	return fmt.Sprintf(`
[[runbooks]]
name = "two"
on_failure = %q
%s
[[runbooks.steps]]
run = "a {{.Host}}"
rollback = "undo-a {{.Host}}"
[[runbooks.steps]]
run = "b {{.Host}}"
check = "check-b {{.Host}}"
rollback = "undo-b {{.Host}}"
`, policy, batch)
}

func TestPolicies(t *testing.T) {
	cases := []struct {
		policy, batch string
		fail          string
		states        string
		// want and notWant are commands that must and must not have run.
		want, notWant []string
	}{
		{"stop", "serial = true", "a h3",
			"h1=stopped h2=stopped h3=failed h4=not_run h5=not_run",
			[]string{"a h1", "a h2", "a h3"}, []string{"a h4", "b h1", "undo-a h3"}},
		{"continue", "serial = true", "check-b h2",
			"h1=ok h2=failed h3=ok h4=ok h5=ok",
			[]string{"b h5", "check-b h5", "b h2"}, []string{"undo-b h2", "undo-a h2"}},
		{"rollback", "serial = true", "check-b h2",
			"h1=ok h2=rolled_back h3=stopped h4=stopped h5=stopped",
			[]string{"undo-b h2", "undo-a h2"}, []string{"b h3", "undo-a h1", "undo-b h1"}},
		{"rollback-all", "serial = true", "a h3",
			"h1=rolled_back h2=rolled_back h3=rolled_back h4=not_run h5=not_run",
			[]string{"undo-a h1", "undo-a h2", "undo-a h3"}, []string{"a h4", "b h1", "undo-b h1"}},
		{"rollback-all", "", "check-b h4",
			"h1=rolled_back h2=rolled_back h3=rolled_back h4=rolled_back h5=rolled_back",
			// Hosts run in parallel here: whether step 2 had begun on another host when
			// h4's check failed is a race, so what must hold is checked below per host.
			[]string{"undo-a h1", "undo-b h4", "undo-a h4", "undo-a h5"}, nil},
	}
	for _, c := range cases {
		t.Run(c.policy+"/"+c.fail, func(t *testing.T) {
			p := planFor(t, twoSteps(c.policy, c.batch), nil)
			f := &fakeRunner{fail: map[string]bool{c.fail: true}}
			log := openLog(t)
			out := Run(context.Background(), p, f, log, nil, Options{})
			if got := states(out); got != c.states {
				t.Fatalf("states\n got %s\nwant %s\ncalls %q", got, c.states, f.ran())
			}
			if out.OK() || out.Err != nil || out.Cancelled {
				t.Fatalf("outcome %+v", out)
			}
			calls := f.ran()
			for _, w := range c.want {
				if !slices.Contains(calls, w) {
					t.Errorf("%q did not run: %q", w, calls)
				}
			}
			for _, w := range c.notWant {
				if slices.Contains(calls, w) {
					t.Errorf("%q ran: %q", w, calls)
				}
			}
			// A step is undone on a host exactly when it ran there (rollback-all undoes
			// every host's steps that ran).
			if c.policy == "rollback-all" {
				for _, h := range []string{"h1", "h2", "h3", "h4", "h5"} {
					for _, st := range []string{"a", "b"} {
						ran, undone := slices.Contains(calls, st+" "+h), slices.Contains(calls, "undo-"+st+" "+h)
						if ran != undone {
							t.Errorf("%s %s ran %v, undone %v: %q", st, h, ran, undone, calls)
						}
					}
				}
			}
			// Rollback goes newest step first on each host.
			for _, h := range []string{"h1", "h2", "h3", "h4", "h5"} {
				ib, ia := slices.Index(calls, "undo-b "+h), slices.Index(calls, "undo-a "+h)
				if ib >= 0 && ia >= 0 && ib > ia {
					t.Errorf("%s rolled back step 1 before step 2: %q", h, calls)
				}
			}
			recs, probs, err := audit.Read(log.Path())
			if err != nil || len(probs) > 0 {
				t.Fatal(err, probs)
			}
			if recs[0].Type != audit.TypeIntent || recs[len(recs)-1].Type != audit.TypeDone {
				t.Fatalf("log does not run intent … done: %v … %v", recs[0].Type, recs[len(recs)-1].Type)
			}
			if n := len(recs) - 2; n != len(calls) {
				t.Fatalf("%d results for %d commands", n, len(calls))
			}
			d := recs[len(recs)-1].Done
			if d.Outcome != "failed" || d.Hosts["h1"] != string(out.Hosts[0].State) {
				t.Fatalf("done %+v", d)
			}
		})
	}
}

func TestAllGood(t *testing.T) {
	p := planFor(t, twoSteps("stop", ""), nil)
	f := &fakeRunner{}
	var mu sync.Mutex
	var kinds []EventKind
	out := Run(context.Background(), p, f, openLog(t), func(ev Event) {
		mu.Lock()
		kinds = append(kinds, ev.Kind)
		mu.Unlock()
		if ev.ID == "" {
			t.Errorf("event without id: %+v", ev)
		}
	}, Options{})
	if !out.OK() || states(out) != "h1=ok h2=ok h3=ok h4=ok h5=ok" || len(f.ran()) != 15 {
		t.Fatalf("%s %+v %q", states(out), out.Err, f.ran())
	}
	if kinds[0] != EventStarted || kinds[len(kinds)-1] != EventDone {
		t.Fatalf("events %v", kinds)
	}
}

// TestSerialAndBatchOrder watches start and end times in the events: a batch starts only
// when the whole previous batch has ended, and no more hosts run at once than it holds.
func TestSerialAndBatchOrder(t *testing.T) {
	for _, c := range []struct {
		batch string
		waves [][]string // hosts that must all start before the next group starts
		peak  int
	}{
		{"serial = true", [][]string{{"h1"}, {"h2"}, {"h3"}, {"h4"}, {"h5"}}, 1},
		{"batch = 2", [][]string{{"h1", "h2"}, {"h3", "h4"}, {"h5"}}, 2},
		{"", [][]string{{"h1", "h2", "h3", "h4", "h5"}}, 5},
	} {
		t.Run(c.batch, func(t *testing.T) {
			p := planFor(t, fmt.Sprintf(`
[[runbooks]]
name = "order"
steps = [{ run = "r {{.Host}}", %s }]
`, strings.TrimSuffix(c.batch+",", ",")), nil)
			f := &fakeRunner{delay: 20 * time.Millisecond}
			type span struct{ start, end time.Time }
			spans := map[string]*span{}
			var mu sync.Mutex
			Run(context.Background(), p, f, openLog(t), func(ev Event) {
				mu.Lock()
				defer mu.Unlock()
				switch ev.Kind {
				case EventCommandStarted:
					spans[ev.Host] = &span{start: ev.Time}
				case EventCommandDone:
					spans[ev.Host].end = ev.Time
				}
			}, Options{})
			for i := 1; i < len(c.waves); i++ {
				for _, prev := range c.waves[i-1] {
					for _, next := range c.waves[i] {
						if spans[next].start.Before(spans[prev].end) {
							t.Errorf("%s started before %s (previous batch) ended", next, prev)
						}
					}
				}
			}
			if f.peak != c.peak {
				t.Errorf("peak concurrency %d, want %d", f.peak, c.peak)
			}
		})
	}
}

func TestPreconditions(t *testing.T) {
	p := planFor(t, `
[[runbooks]]
name = "pre"
when = [{ command = "enabled {{.Host}}" }, { metric = "disk_used", above = 90 }]
steps = [{ run = "clean {{.Host}}" }]
`, nil)
	log := openLog(t)
	// Without a metric source the run is refused before the intent: nothing recorded.
	if out := Run(context.Background(), p, &fakeRunner{}, log, nil, Options{}); out.Err == nil || out.ID != "" {
		t.Fatalf("want a refusal, got %+v", out)
	}
	f := &fakeRunner{fail: map[string]bool{"enabled h2": true}}
	disk := map[string]float64{"h1": 95, "h2": 99, "h3": 50, "h4": 91, "h5": 97}
	metric := func(ctx context.Context, h config.Host, name string) (float64, error) {
		if name != "disk_used" {
			return 0, fmt.Errorf("unknown metric %s", name)
		}
		if h.Name == "h5" {
			return 0, fmt.Errorf("unreachable")
		}
		return disk[h.Name], nil
	}
	out := Run(context.Background(), p, f, log, nil, Options{Metric: metric})
	if got := states(out); got != "h1=ok h2=skipped h3=skipped h4=ok h5=failed" {
		t.Fatalf("states %s", got)
	}
	if n := out.Hosts[1].Note; !strings.Contains(n, "precondition not met") || !strings.Contains(n, "exited 1") {
		t.Errorf("h2 note %q", n)
	}
	if n := out.Hosts[2].Note; !strings.Contains(n, "disk_used = 50") {
		t.Errorf("h3 note %q", n)
	}
	calls := f.ran()
	if slices.Contains(calls, "clean h2") || slices.Contains(calls, "clean h3") || slices.Contains(calls, "clean h5") {
		t.Fatalf("a skipped host ran: %q", calls)
	}
	recs, _, _ := audit.Read(log.Path())
	var skipped []string
	for _, r := range recs {
		if r.Result != nil && r.Result.Phase == audit.PhaseWhen && strings.Contains(r.Result.Note, "not met") {
			skipped = append(skipped, r.Result.Host)
		}
	}
	if strings.Join(skipped, ",") != "h2,h3" && strings.Join(skipped, ",") != "h3,h2" {
		t.Fatalf("audit notes the skipped hosts: %v", skipped)
	}
	if d := recs[len(recs)-1].Done; d.Hosts["h2"] != "skipped" || d.Outcome != "failed" {
		t.Fatalf("done %+v", d)
	}
}

func TestCancel(t *testing.T) {
	p := planFor(t, twoSteps("rollback-all", "batch = 2"), nil)
	f := &fakeRunner{block: map[string]bool{"a h2": true}, blocked: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	log := openLog(t)
	done := make(chan Outcome)
	go func() { done <- Run(ctx, p, f, log, nil, Options{}) }()
	<-f.blocked
	cancel()
	out := <-done
	if !out.Cancelled || out.OK() {
		t.Fatalf("outcome %+v", out)
	}
	if got := states(out); got != "h1=cancelled h2=cancelled h3=cancelled h4=cancelled h5=cancelled" {
		t.Fatalf("states %s", got)
	}
	for _, c := range f.ran() {
		if strings.HasPrefix(c, "undo") || c == "a h3" {
			t.Fatalf("cancel must not start or roll back anything: %q", f.ran())
		}
	}
	recs, _, _ := audit.Read(log.Path())
	if d := recs[len(recs)-1].Done; d == nil || d.Outcome != "cancelled" {
		t.Fatalf("last record %+v", recs[len(recs)-1])
	}
}

func TestRefusesWithoutAudit(t *testing.T) {
	p := planFor(t, twoSteps("stop", ""), nil)
	f := &fakeRunner{}
	if out := Run(context.Background(), p, f, nil, nil, Options{}); out.Err != ErrNoAuditLog {
		t.Fatalf("%+v", out)
	}
	log := openLog(t)
	log.Close() // the intent cannot be written
	out := Run(context.Background(), p, f, log, nil, Options{})
	if out.Err == nil || out.ID != "" || !strings.Contains(out.Err.Error(), "refusing to run") {
		t.Fatalf("%+v", out)
	}
	if len(f.ran()) != 0 {
		t.Fatalf("ran %q without an intent on disk", f.ran())
	}
}
