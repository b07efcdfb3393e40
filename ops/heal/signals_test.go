package heal

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
)

func TestSignalsFromReports(t *testing.T) {
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	reports := map[string]fleet.Report{
		"web-1": {Host: "web-1", Probes: []probes.Result{
			{Result: probe.Result{Name: "app-health", Status: health.Crit, Reason: "status 500", Time: at},
				History: []health.Status{health.OK, health.Crit, health.Down, health.Crit}},
			{Result: probe.Result{Name: "tcp", Status: health.OK, Time: at}, Flapping: true},
		}, Alerts: []prom.Alert{
			{Labels: model.LabelSet{"alertname": "HighErrors", "severity": "critical"}, State: "firing", ActiveAt: at,
				Annotations: model.LabelSet{"summary": "errors above 1/s"}},
			{Labels: model.LabelSet{"alertname": "Soon"}, State: "pending"},
		}},
		"web-2": {Host: "web-2"},
	}
	ps, as := SignalsFromReports(reports)
	got := ps["web-1"]
	if len(got) != 2 || !got[0].Failing || got[0].Consecutive != 3 || got[0].Detail != "status 500" ||
		got[1].Failing || !got[1].Flapping {
		t.Fatalf("probe states %+v", got)
	}
	if a := as["web-1"]; len(a) != 1 || a[0].Name != "HighErrors" || a[0].Severity != "critical" || a[0].Summary != "errors above 1/s" {
		t.Fatalf("alerts %+v (pending ones must not count)", a)
	}
	if _, ok := ps["web-2"]; ok {
		t.Fatal("a host without probes has probe states")
	}
	// A failing one-off result (batch check: no history) counts as one failure.
	one := map[string]fleet.Report{"db-1": {Probes: []probes.Result{{Result: probe.Result{Name: "pg", Status: health.Down}}}}}
	if ps, _ := SignalsFromReports(one); ps["db-1"][0].Consecutive != 1 {
		t.Fatalf("one-off failure: %+v", ps["db-1"])
	}
}
