package heal

import (
	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
)

// SignalsFromReports reads the probe results and firing alerts the fleet monitor attaches
// to each host's report into the evaluator's terms, so the console's incidents follow the
// same signals the fleet view shows. Hosts without probes or alerts are absent.
func SignalsFromReports(reports map[string]fleet.Report) (map[string][]ProbeState, map[string][]Alert) {
	probes := map[string][]ProbeState{}
	alerts := map[string][]Alert{}
	for host, r := range reports {
		for _, p := range r.Probes {
			st := ProbeState{Probe: p.Name, Failing: !p.OK(), Flapping: p.Flapping, Since: p.Time, Detail: p.Reason}
			if st.Failing {
				st.Consecutive = consecutiveFailures(p.History)
			}
			probes[host] = append(probes[host], st)
		}
		for _, a := range r.Alerts {
			if !a.Firing() {
				continue
			}
			alerts[host] = append(alerts[host], Alert{Name: a.Name(), Severity: string(a.Labels["severity"]),
				Since: a.ActiveAt, Summary: string(a.Annotations[model.LabelName("summary")])})
		}
	}
	return probes, alerts
}

// consecutiveFailures counts the failing statuses at the end of a probe's history; a
// failing result with no history (a one-off run) counts once.
func consecutiveFailures(history []health.Status) int {
	n := 0
	for i := len(history) - 1; i >= 0 && history[i] != health.OK; i-- {
		n++
	}
	return max(n, 1)
}
