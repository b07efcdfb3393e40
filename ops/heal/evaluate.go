package heal

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/gather"
	"github.com/opsconsole/opsconsole/ops/health"
)

// Kind says what an incident is about.
type Kind string

// Incident kinds, in the order a list of equally severe incidents shows them.
const (
	KindDown        Kind = "down"
	KindInterrupted Kind = "interrupted"
	KindUnhealthy   Kind = "unhealthy"
	KindProbe       Kind = "probe"
	KindAlert       Kind = "alert"
	KindFlapping    Kind = "flapping"
	KindMarker      Kind = "marker"
)

var kindOrder = []Kind{KindDown, KindInterrupted, KindUnhealthy, KindProbe, KindAlert, KindFlapping, KindMarker}

// Incident is one current problem and the runbooks that may fix it.
type Incident struct {
	// ID is stable while the problem lasts: the host, the kind, and for probes, markers
	// and alerts their name (for an interrupted run, the Action's id). A pane keeps its
	// selection, dismissals and countdowns by it.
	ID   string
	Host string
	Kind Kind
	// Subject is the probe, marker or alert name, or the interrupted Action's id.
	Subject string
	// Severity orders incidents, worst first: Down, Crit, Warn.
	Severity health.Status
	// Since is when the problem was first seen; Track carries it across evaluations.
	Since  time.Time
	Detail string
	// Suggestions are the runbooks the rules offer, in rule order.
	Suggestions []Suggestion
	// Run is the interrupted run, for KindInterrupted.
	Run *audit.Run
	// MaybeRunning marks an interrupted run whose process may still be alive (see
	// audit.Run.MaybeRunning).
	MaybeRunning bool
}

// Suggestion is a runbook a rule offers for an incident.
type Suggestion struct {
	Rule    string
	Runbook string
	Auto    bool
	// Why is what the rule saw: "disk_used 96% > 90".
	Why string
}

// ProbeState is a probe's latest judgement on one host, as a probe engine keeps it.
type ProbeState struct {
	Probe   string
	Failing bool
	// Consecutive counts the failures in a row up to now (0 when passing).
	Consecutive int
	Flapping    bool
	// Since is when the probe started failing (or flapping).
	Since  time.Time
	Detail string
}

// MarkerHit is a log marker (oom, panic, segfault…) seen on a host.
type MarkerHit struct {
	Marker string
	Count  int
	First  time.Time
	Line   string
}

// Alert is an alert firing for a host.
type Alert struct {
	Name string
	// Severity is the alert's own label ("critical", "warning"); warning and info count
	// as Warn, anything else as Crit.
	Severity string
	Since    time.Time
	Summary  string
}

// Evaluator holds the lookups for signals that are not in a health report. Each is
// called with a host name and returns that host's current state; nil means the signal
// has no source yet, and rules that need it never apply. Lookups must be pure reads of
// data the caller owns (a console passes maps built from its messages), so that
// Evaluate stays a function of its inputs.
type Evaluator struct {
	Probes  func(host string) []ProbeState
	Markers func(host string) []MarkerHit
	Alerts  func(host string) []Alert
}

// Evaluate is Evaluator{}.Evaluate: health reports alone.
func Evaluate(rules []Rule, reports []fleet.Report, now time.Time) []Incident {
	return Evaluator{}.Evaluate(rules, reports, now)
}

// reportView is the part of a report the conditions read.
type reportView struct {
	status  health.Status
	metrics *health.Metrics
}

// Evaluate turns the latest report of each host (the newest by Time when a host has
// several) and the evaluator's signals into incidents, worst first, each with the
// suggestions of the rules that apply. A host that is down or unhealthy is an incident
// whether or not a rule covers it: the operator sees every problem, and the missing
// suggestion says no rule applies. now stands in for a missing time. Evaluate is pure.
func (e Evaluator) Evaluate(rules []Rule, reports []fleet.Report, now time.Time) []Incident {
	latest := map[string]fleet.Report{}
	for _, r := range reports {
		if old, ok := latest[r.Host]; ok && r.Time.Before(old.Time) {
			continue
		}
		latest[r.Host] = r
	}
	names := make([]string, 0, len(latest))
	for h := range latest {
		names = append(names, h)
	}
	gather.SortHosts(names)

	var out []Incident
	for _, host := range names {
		out = append(out, e.host(rules, latest[host], now)...)
	}
	Sort(out)
	return out
}

// host evaluates one host.
func (e Evaluator) host(rules []Rule, r fleet.Report, now time.Time) []Incident {
	at := r.Time
	if at.IsZero() {
		at = now
	}
	var out []Incident
	index := map[string]int{}
	get := func(inc Incident) *Incident {
		if i, ok := index[inc.ID]; ok {
			return &out[i]
		}
		index[inc.ID] = len(out)
		out = append(out, inc)
		return &out[len(out)-1]
	}

	view := reportView{status: r.Status, metrics: r.Metrics}
	switch r.Status {
	case health.Down:
		get(Incident{ID: id(r.Host, KindDown, ""), Host: r.Host, Kind: KindDown, Severity: health.Down, Since: at,
			Detail: reportDetail(r)})
	case health.Crit, health.Warn:
		get(Incident{ID: id(r.Host, KindUnhealthy, ""), Host: r.Host, Kind: KindUnhealthy, Severity: r.Status, Since: at,
			Detail: reportDetail(r)})
	}
	for _, rule := range rules {
		if len(rule.Trigger.Conds) == 0 || !rule.Covers(r.Host) {
			continue
		}
		why, ok := condsHold(rule.Trigger.Conds, view)
		if !ok {
			continue
		}
		kind := rule.Trigger.Kind()
		inc := get(Incident{ID: id(r.Host, kind, ""), Host: r.Host, Kind: kind, Severity: health.Warn, Since: at, Detail: why})
		inc.Suggestions = append(inc.Suggestions, suggest(rule, why))
	}

	if e.Probes != nil {
		for _, ps := range e.Probes(r.Host) {
			kind := KindProbe
			switch {
			case ps.Failing:
			case ps.Flapping:
				kind = KindFlapping
			default:
				continue
			}
			since := ps.Since
			if since.IsZero() {
				since = at
			}
			detail := "failing " + strconv.Itoa(max(ps.Consecutive, 1)) + "× in a row"
			sev := health.Crit
			if kind == KindFlapping {
				detail, sev = "flapping between passing and failing", health.Warn
			}
			if ps.Detail != "" {
				detail += ": " + ps.Detail
			}
			inc := get(Incident{ID: id(r.Host, kind, ps.Probe), Host: r.Host, Kind: kind, Subject: ps.Probe, Severity: sev,
				Since: since, Detail: detail})
			for _, rule := range rules {
				t := rule.Trigger
				if t.Probe != ps.Probe || !rule.Covers(r.Host) {
					continue
				}
				switch {
				case t.Flapping && ps.Flapping:
					inc.Suggestions = append(inc.Suggestions, suggest(rule, "probe "+ps.Probe+" flapping"))
				case !t.Flapping && ps.Failing && ps.Consecutive >= t.Failing:
					inc.Suggestions = append(inc.Suggestions,
						suggest(rule, "probe "+ps.Probe+" failed "+strconv.Itoa(ps.Consecutive)+"× in a row"))
				}
			}
		}
	}
	if e.Markers != nil {
		for _, mh := range e.Markers(r.Host) {
			since := mh.First
			if since.IsZero() {
				since = at
			}
			detail := "log marker " + mh.Marker + " seen " + strconv.Itoa(max(mh.Count, 1)) + "×"
			if mh.Line != "" {
				detail += ": " + mh.Line
			}
			inc := get(Incident{ID: id(r.Host, KindMarker, mh.Marker), Host: r.Host, Kind: KindMarker, Subject: mh.Marker,
				Severity: health.Warn, Since: since, Detail: detail})
			for _, rule := range rules {
				if rule.Trigger.Marker == mh.Marker && rule.Covers(r.Host) {
					inc.Suggestions = append(inc.Suggestions, suggest(rule, "log marker "+mh.Marker))
				}
			}
		}
	}
	if e.Alerts != nil {
		for _, a := range e.Alerts(r.Host) {
			since := a.Since
			if since.IsZero() {
				since = at
			}
			sev := health.Crit
			switch strings.ToLower(a.Severity) {
			case "warning", "warn", "info", "none":
				sev = health.Warn
			}
			detail := "alert " + a.Name + " firing"
			if a.Summary != "" {
				detail += ": " + a.Summary
			}
			inc := get(Incident{ID: id(r.Host, KindAlert, a.Name), Host: r.Host, Kind: KindAlert, Subject: a.Name,
				Severity: sev, Since: since, Detail: detail})
			for _, rule := range rules {
				if rule.Trigger.Alert == a.Name && rule.Covers(r.Host) {
					inc.Suggestions = append(inc.Suggestions, suggest(rule, "alert "+a.Name))
				}
			}
		}
	}
	return out
}

func suggest(r Rule, why string) Suggestion {
	return Suggestion{Rule: r.Name, Runbook: r.Runbook, Auto: r.Auto, Why: why}
}

// condsHold reports whether every condition holds, and what was seen.
func condsHold(conds []Cond, v reportView) (string, bool) {
	whys := make([]string, 0, len(conds))
	for _, c := range conds {
		ok, why := c.holds(v)
		if !ok {
			return "", false
		}
		whys = append(whys, why)
	}
	return strings.Join(whys, ", "), true
}

// reportDetail is why a report is not healthy: its reasons, or its error.
func reportDetail(r fleet.Report) string {
	if len(r.Reasons) > 0 {
		return strings.Join(r.Reasons, "; ")
	}
	if r.Err != nil {
		return r.Err.Error()
	}
	return r.Status.String()
}

func id(host string, k Kind, subject string) string {
	s := host + "/" + string(k)
	if subject != "" {
		s += "/" + subject
	}
	return s
}

// Sort orders incidents worst first: by severity (down, crit, warn), then kind, then the
// oldest first, then host in natural order.
func Sort(incs []Incident) {
	slices.SortStableFunc(incs, func(a, b Incident) int {
		if c := cmp.Compare(sevRank(a.Severity), sevRank(b.Severity)); c != 0 {
			return c
		}
		if c := cmp.Compare(slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind)); c != 0 {
			return c
		}
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		switch {
		case gather.NaturalLess(a.Host, b.Host):
			return -1
		case gather.NaturalLess(b.Host, a.Host):
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

func sevRank(s health.Status) int {
	switch s {
	case health.Down:
		return 0
	case health.Crit:
		return 1
	case health.Warn:
		return 2
	}
	return 3
}

// Track carries what the previous evaluation knew into the current one: an incident
// still present keeps the time it was first seen, so "since" means since the problem
// began, not since the last report. The result is cur, changed in place.
func Track(prev, cur []Incident) []Incident {
	if len(prev) == 0 {
		return cur
	}
	first := make(map[string]time.Time, len(prev))
	for _, p := range prev {
		first[p.ID] = p.Since
	}
	for i := range cur {
		if t, ok := first[cur[i].ID]; ok && !t.IsZero() && t.Before(cur[i].Since) {
			cur[i].Since = t
		}
	}
	return cur
}

// FromInterrupted turns runs found without a done record (audit.Interrupted) into
// incidents that say what did and did not finish. maybeRunning names the runs whose
// process may still be alive (audit.Run.MaybeRunning, which the caller asks: it is a
// system call, and this package does no I/O).
func FromInterrupted(runs []audit.Run, maybeRunning map[audit.ActionID]bool) []Incident {
	out := make([]Incident, 0, len(runs))
	for i := range runs {
		run := runs[i]
		hosts := run.Intent.Hosts
		done, failed := 0, 0
		for _, p := range run.Started {
			if p.Failed() {
				failed++
			} else {
				done++
			}
		}
		var b strings.Builder
		b.WriteString(run.Intent.Kind + " " + run.Intent.Name + " stopped without finishing: ")
		b.WriteString(strconv.Itoa(len(run.Started)) + " of " + strconv.Itoa(len(hosts)) + " hosts reported")
		if failed > 0 {
			b.WriteString(" (" + strconv.Itoa(failed) + " failed)")
		}
		if n := len(run.NotStarted); n > 0 {
			b.WriteString(", " + strconv.Itoa(n) + " never did")
		}
		if maybeRunning[run.ID] {
			b.WriteString("; it may still be running (pid " + strconv.Itoa(run.Intent.Who.PID) + ")")
		}
		out = append(out, Incident{
			ID: "interrupted/" + string(run.ID), Host: gather.Fold(hosts), Kind: KindInterrupted, Subject: string(run.ID),
			Severity: health.Crit, Since: run.Time, Detail: b.String(), Run: &run, MaybeRunning: maybeRunning[run.ID],
		})
	}
	return out
}
