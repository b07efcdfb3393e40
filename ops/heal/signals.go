package heal

import (
	"slices"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/logs"
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

// AddMarkers folds log lines that matched a configured marker ([[logs]] markers, e.g.
// "oom") into per-host hits: a count, the first time and the latest line. It returns a
// new map (the old one may be shared by a model value) and leaves lines without a marker
// out.
func AddMarkers(hits map[string][]MarkerHit, lines []logs.Line) map[string][]MarkerHit {
	out := make(map[string][]MarkerHit, len(hits))
	for h, v := range hits {
		out[h] = slices.Clone(v)
	}
	for _, l := range lines {
		if l.Flag == "" {
			continue
		}
		at := l.Time
		if at.IsZero() {
			at = l.Received
		}
		hs := out[l.Host]
		i := slices.IndexFunc(hs, func(m MarkerHit) bool { return m.Marker == l.Flag })
		if i < 0 {
			hs = append(hs, MarkerHit{Marker: l.Flag, First: at})
			i = len(hs) - 1
		}
		hs[i].Count++
		hs[i].Line = l.Message
		if hs[i].Line == "" {
			hs[i].Line = l.Raw
		}
		out[l.Host] = hs
	}
	return out
}
