package fleet

import (
	"errors"
	"reflect"
	"testing"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/sessions"
)

func result(name string, st health.Status, reason string, flapping bool) probes.Result {
	return probes.Result{Result: probe.Result{Name: name, Target: "t", Status: st, Reason: reason}, Flapping: flapping}
}

// A host is the worst of what its metrics and its probes say, with the worse side's
// reasons first; being unreachable outranks both.
func TestJudge(t *testing.T) {
	th := config.Thresholds{CPUWarn: 80, CPUCrit: 95}
	busy := &health.Metrics{CPUPercent: 85, Cores: 1}
	calm := &health.Metrics{CPUPercent: 5, Cores: 1}
	cases := []struct {
		name    string
		r       Report
		status  health.Status
		reasons []string
	}{
		{"metrics only", Report{Metrics: busy}, health.Warn, []string{"cpu 85% ≥ 80%"}},
		{"probe worse", Report{Metrics: busy, Probes: []probes.Result{result("api", health.Crit, "status 500", false)}},
			health.Crit, []string{"probe api t: status 500", "cpu 85% ≥ 80%"}},
		{"metrics worse", Report{Metrics: busy, Probes: []probes.Result{result("api", health.OK, "", true)}},
			health.Warn, []string{"cpu 85% ≥ 80%", "probe api t: flapping"}},
		{"probe target down, host up", Report{Metrics: calm, Probes: []probes.Result{result("db", health.Down, "connection refused", false)}},
			health.Crit, []string{"probe db t: connection refused"}},
		{"all passing", Report{Metrics: calm, Probes: []probes.Result{result("api", health.OK, "", false)}}, health.OK, nil},
		{"unreachable", Report{Metrics: calm, Err: errors.New("connection refused"), Outcome: sessions.OutcomeError,
			Probes: []probes.Result{result("api", health.Down, "connection refused", false)}},
			health.Down, []string{"connection refused", "probe api t: connection refused"}},
		{"cancelled", Report{Err: errors.New("context canceled"), Outcome: sessions.OutcomeCancelled}, health.Unknown, []string{"context canceled"}},
		{"no metrics", Report{}, health.Unknown, []string{"no metrics"}},
	}
	for _, c := range cases {
		r := c.r
		r.judge(th)
		if r.Status != c.status || !reflect.DeepEqual(r.Reasons, c.reasons) {
			t.Errorf("%s: %s %q, want %s %q", c.name, r.Status, r.Reasons, c.status, c.reasons)
		}
	}
}

// withResult keeps a host's results sorted by probe name and never writes into the slice
// an earlier report holds.
func TestWithResult(t *testing.T) {
	var rs []probes.Result
	for _, n := range []string{"b", "a", "c", "b"} {
		rs = withResult(rs, result(n, health.OK, "", false))
	}
	held := rs
	rs = withResult(rs, result("a", health.Crit, "x", false))
	names := []string{rs[0].Name, rs[1].Name, rs[2].Name}
	if !reflect.DeepEqual(names, []string{"a", "b", "c"}) || rs[0].Status != health.Crit || held[0].Status != health.OK {
		t.Fatalf("%v %v %v", names, rs[0].Status, held[0].Status)
	}
}
