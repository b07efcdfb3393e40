package heal

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func metrics(disk, cpu, mem, load float64, cores int) *health.Metrics {
	return &health.Metrics{Time: t0, CPUPercent: cpu, MemPercent: mem, Load1: load, Cores: cores,
		Disks: []health.Disk{{Mount: "/", Percent: 20}, {Mount: "/var", Percent: disk}}}
}

func report(host string, st health.Status, m *health.Metrics, reasons ...string) fleet.Report {
	return fleet.Report{Host: host, Status: st, Metrics: m, Reasons: reasons, Time: t0}
}

func rule(name, runbook string, t Trigger, group ...string) Rule {
	return Rule{Name: name, Runbook: runbook, Trigger: t, Group: group, Hosts: strings.Join(group, ","),
		MaxPerHostPerHour: 1, MaxGroupPercent: 25}
}

func cond(s string) []Cond {
	c, err := parseCond(s)
	if err != nil {
		panic(err)
	}
	return []Cond{c}
}

// summary is one incident per line: "id severity [runbook(why)…]".
func summary(incs []Incident) string {
	var lines []string
	for _, in := range incs {
		l := in.ID + " " + in.Severity.String()
		for _, s := range in.Suggestions {
			l += " " + s.Runbook + "(" + s.Why + ")"
			if s.Auto {
				l += "auto"
			}
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}

func TestEvaluateReportConditions(t *testing.T) {
	web := []string{"web-1", "web-2", "web-3", "web-4"}
	rules := []Rule{
		rule("full-disk", "clean-logs", Trigger{Conds: cond("disk_used > 90")}, web...),
		rule("hot", "renice", Trigger{Conds: cond("cpu_used >= 95")}, web...),
		rule("mem", "drop-caches", Trigger{Conds: cond("mem_used > 80")}, web...),
		rule("load", "shed", Trigger{Conds: cond("load_per_core > 2")}, web...),
		rule("down", "power-cycle", Trigger{Conds: cond(`status = "down"`)}, append(web, "db-1")...),
	}
	rules[0].Auto = true
	reports := []fleet.Report{
		report("web-1", health.Crit, metrics(96, 10, 10, 0.1, 4), "disk /var 96% ≥ 95%"),
		report("web-2", health.OK, metrics(91, 96, 85, 9, 4)),
		report("web-3", health.OK, metrics(50, 10, 10, 0.1, 4)),
		{Host: "web-4", Status: health.Down, Err: errors.New("dial tcp 10.0.0.4:22: connection refused"), Time: t0},
		report("db-1", health.Warn, metrics(70, 88, 10, 0.1, 4), "cpu 88% ≥ 85%"),
		report("db-2", health.Unknown, nil),
	}
	got := summary(Evaluate(rules, reports, t0))
	want := strings.Join([]string{
		"web-4/down down power-cycle(status down)",
		"web-1/unhealthy crit clean-logs(disk_used 96% > 90)auto",
		"db-1/unhealthy warn",
		"web-2/unhealthy warn clean-logs(disk_used 91% > 90)auto renice(cpu_used 96% >= 95) drop-caches(mem_used 85% > 80) shed(load_per_core 2.25 > 2)",
	}, "\n")
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	incs := Evaluate(rules, reports, t0)
	if incs[0].Detail != "dial tcp 10.0.0.4:22: connection refused" || incs[1].Detail != "disk /var 96% ≥ 95%" ||
		incs[3].Detail != "disk_used 91% > 90" {
		t.Errorf("details %q / %q / %q", incs[0].Detail, incs[1].Detail, incs[3].Detail)
	}
	// A sample that lacks the disk field cannot make a disk rule hold.
	m := metrics(99, 0, 0, 0, 1)
	m.Missing = []string{health.FieldDisks}
	if incs := Evaluate(rules[:1], []fleet.Report{report("web-1", health.OK, m)}, t0); len(incs) != 0 {
		t.Errorf("unmeasured disk: %s", summary(incs))
	}
}

func TestEvaluateKeepsTheNewestReport(t *testing.T) {
	old := report("web-1", health.Down, nil, "unreachable")
	newer := report("web-1", health.OK, metrics(10, 1, 1, 0, 1))
	newer.Time = t0.Add(time.Second)
	if incs := Evaluate(nil, []fleet.Report{newer, old}, t0); len(incs) != 0 {
		t.Fatalf("an older report won: %s", summary(incs))
	}
}

func TestEvaluateSignals(t *testing.T) {
	rules := []Rule{
		rule("restart", "restart-app", Trigger{Probe: "app-health", Failing: 3}, "web-1", "web-2"),
		rule("flaps", "reset-lb", Trigger{Probe: "app-health", Flapping: true}, "web-1", "web-2"),
		rule("oom", "restart-app", Trigger{Marker: "oom"}, "web-1", "web-2"),
		rule("err-rate", "rollback", Trigger{Alert: "HighErrorRate"}, "web-1"),
	}
	ev := Evaluator{
		Probes: func(h string) []ProbeState {
			switch h {
			case "web-1":
				return []ProbeState{{Probe: "app-health", Failing: true, Consecutive: 3, Since: t0.Add(-time.Minute), Detail: "HTTP 503"}}
			case "web-2":
				return []ProbeState{
					{Probe: "app-health", Failing: true, Consecutive: 2},
					{Probe: "tls", Flapping: true},
					{Probe: "db", Failing: false},
				}
			}
			return nil
		},
		Markers: func(h string) []MarkerHit {
			if h == "web-2" {
				return []MarkerHit{{Marker: "oom", Count: 2, First: t0.Add(-time.Hour), Line: "Out of memory: Killed process 42"}}
			}
			return nil
		},
		Alerts: func(h string) []Alert {
			if h == "web-1" {
				return []Alert{{Name: "HighErrorRate", Severity: "critical", Summary: "5xx above 1%"}, {Name: "DiskSoon", Severity: "warning"}}
			}
			return nil
		},
	}
	reports := []fleet.Report{report("web-1", health.OK, nil), report("web-2", health.OK, nil)}
	got := summary(ev.Evaluate(rules, reports, t0))
	want := strings.Join([]string{
		"web-1/probe/app-health crit restart-app(probe app-health failed 3× in a row)",
		"web-2/probe/app-health crit",
		"web-1/alert/HighErrorRate crit rollback(alert HighErrorRate)",
		"web-1/alert/DiskSoon warn",
		"web-2/flapping/tls warn",
		"web-2/marker/oom warn restart-app(log marker oom)",
	}, "\n")
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	incs := ev.Evaluate(rules, reports, t0)
	if incs[0].Detail != "failing 3× in a row: HTTP 503" || !incs[0].Since.Equal(t0.Add(-time.Minute)) {
		t.Errorf("probe incident %+v", incs[0])
	}
	if incs[5].Detail != "log marker oom seen 2×: Out of memory: Killed process 42" {
		t.Errorf("marker detail %q", incs[5].Detail)
	}
	// Flapping rules apply to flapping probes only.
	ev.Markers, ev.Alerts = nil, nil
	ev.Probes = func(h string) []ProbeState {
		return []ProbeState{{Probe: "app-health", Flapping: true}}
	}
	if got := summary(ev.Evaluate(rules[:2], reports[:1], t0)); got != "web-1/flapping/app-health warn reset-lb(probe app-health flapping)" {
		t.Errorf("flapping: %s", got)
	}
}

func TestTrackKeepsSince(t *testing.T) {
	rules := []Rule{rule("full", "clean-logs", Trigger{Conds: cond("disk_used > 90")}, "web-1")}
	first := Evaluate(rules, []fleet.Report{report("web-1", health.OK, metrics(95, 0, 0, 0, 1))}, t0)
	r := report("web-1", health.OK, metrics(96, 0, 0, 0, 1))
	r.Time = t0.Add(time.Minute)
	next := Track(first, Evaluate(rules, []fleet.Report{r}, t0))
	if len(next) != 1 || !next[0].Since.Equal(t0) {
		t.Fatalf("since %v", next[0].Since)
	}
}

func TestFromInterrupted(t *testing.T) {
	recs := []audit.Record{
		{Type: audit.TypeIntent, ID: "a1", Time: t0, Intent: &audit.Intent{Kind: "runbook", Name: "restart-app",
			Hosts: []string{"web-1", "web-2", "web-3"}, Who: audit.Who{PID: 4242}}},
		{Type: audit.TypeResult, ID: "a1", Time: t0, Result: &audit.Result{Host: "web-1", Step: 1, Phase: "run", Outcome: "ok"}},
		{Type: audit.TypeResult, ID: "a1", Time: t0, Result: &audit.Result{Host: "web-2", Step: 1, Phase: "check", Outcome: "failed", ExitCode: 1}},
	}
	runs := audit.Interrupted(recs)
	incs := FromInterrupted(runs, map[audit.ActionID]bool{"a1": true})
	if len(incs) != 1 {
		t.Fatalf("%d incidents", len(incs))
	}
	in := incs[0]
	if in.ID != "interrupted/a1" || in.Kind != KindInterrupted || in.Host != "web-[1-3]" || in.Run == nil || !in.MaybeRunning ||
		in.Detail != "runbook restart-app stopped without finishing: 2 of 3 hosts reported (1 failed), 1 never did; it may still be running (pid 4242)" {
		t.Fatalf("%+v", in)
	}
	// Interrupted runs sort right after down hosts.
	all := append(Evaluate(nil, []fleet.Report{report("web-9", health.Crit, nil, "disk")}, t0), incs...)
	all = append(all, Evaluate(nil, []fleet.Report{report("web-8", health.Down, nil, "unreachable")}, t0)...)
	Sort(all)
	if got := summary(all); got != "web-8/down down\ninterrupted/a1 crit\nweb-9/unhealthy crit" {
		t.Fatalf("order:\n%s", got)
	}
}
