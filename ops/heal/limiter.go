package heal

import (
	"fmt"
	"slices"
	"time"
)

// Window is the period max_per_host_per_hour counts runs in.
const Window = time.Hour

// StaleAfter is how long a run without an end counts as in flight. A run that never
// recorded its end (the process died) stops holding its group's share after this, and
// still counts against its host's hourly limit until it leaves the window.
const StaleAfter = time.Hour

// RunRecord is one automatic run the limiter knows of.
type RunRecord struct {
	Rule  string    `json:"rule"`
	Host  string    `json:"host"`
	Start time.Time `json:"start"`
	// End is zero while the run is in flight.
	End time.Time `json:"end,omitzero"`
}

func (r RunRecord) inFlight(now time.Time) bool {
	return r.End.IsZero() && now.Sub(r.Start) < StaleAfter
}

// Limiter keeps automatic self-heal rare and small: at most max_per_host_per_hour
// automatic runs on a host in any hour (counting every rule's runs on that host: the
// limit protects the host from a heal loop, whichever rules take part), no run of a rule
// on a host within its cooldown of the previous one, never more than max_group_percent
// of the rule's hosts in flight at once, and never two runs on one host at once.
//
// A Limiter is a value: plain data with methods that take the time, so the console and
// the batch command judge the same way, tests state the time, and the state file holds
// it as it is. Started, Finished and Prune return a new Limiter and never change the
// one they are called on, so a copy kept by an older Bubble Tea model stays as it was.
type Limiter struct {
	Runs []RunRecord `json:"runs"`
}

// Allow reports whether rule may run on its own on host now, and when it may not, why,
// in words for the operator.
func (l Limiter) Allow(rule Rule, host string, now time.Time) (bool, string) {
	if !rule.Auto {
		return false, "the rule is not automatic"
	}
	if !rule.Covers(host) {
		return false, fmt.Sprintf("%s is not one of the rule's hosts (%s)", host, rule.Hosts)
	}
	var inHour []RunRecord
	var last *RunRecord
	for i := range l.Runs {
		r := l.Runs[i]
		if r.Host != host {
			continue
		}
		if r.inFlight(now) {
			return false, fmt.Sprintf("a run (%s) is in flight on %s", r.Rule, host)
		}
		if now.Sub(r.Start) < Window {
			inHour = append(inHour, r)
		}
		if r.Rule == rule.Name && (last == nil || r.Start.After(last.Start)) {
			last = &l.Runs[i]
		}
	}
	if limit := max(rule.MaxPerHostPerHour, 1); len(inHour) >= limit {
		oldest := inHour[0].Start
		for _, r := range inHour {
			if r.Start.Before(oldest) {
				oldest = r.Start
			}
		}
		return false, fmt.Sprintf("%d automatic %s on %s in the last hour (max_per_host_per_hour %d); next at %s",
			len(inHour), plural(len(inHour), "run", "runs"), host, limit, oldest.Add(Window).Format("15:04:05"))
	}
	if last != nil && rule.Cooldown > 0 {
		end := last.End
		if end.IsZero() {
			end = last.Start
		}
		if until := end.Add(rule.Cooldown); now.Before(until) {
			return false, fmt.Sprintf("cooling down after the last run on %s until %s (cooldown %s)",
				host, until.Format("15:04:05"), rule.Cooldown)
		}
	}
	capacity := rule.GroupCap()
	if capacity < 1 {
		return false, fmt.Sprintf("max_group_percent %d%% of %d %s is less than one host",
			rule.MaxGroupPercent, len(rule.Group), plural(len(rule.Group), "host", "hosts"))
	}
	busy := map[string]bool{}
	for _, r := range l.Runs {
		if r.inFlight(now) && rule.Covers(r.Host) {
			busy[r.Host] = true
		}
	}
	if len(busy) >= capacity {
		return false, fmt.Sprintf("%d of the rule's %d hosts already in flight (max_group_percent %d%% allows %d at once)",
			len(busy), len(rule.Group), rule.MaxGroupPercent, capacity)
	}
	return true, ""
}

// Started records that rule began an automatic run on host at now.
func (l Limiter) Started(rule Rule, host string, now time.Time) Limiter {
	runs := append(slices.Clip(l.Runs), RunRecord{Rule: rule.Name, Host: host, Start: now})
	return Limiter{Runs: runs}
}

// Finished records the end of rule's run on host that is in flight (the newest, if
// there are several); without one it changes nothing.
func (l Limiter) Finished(rule Rule, host string, now time.Time) Limiter {
	i := -1
	for j, r := range l.Runs {
		if r.Rule == rule.Name && r.Host == host && r.End.IsZero() && (i < 0 || r.Start.After(l.Runs[i].Start)) {
			i = j
		}
	}
	if i < 0 {
		return l
	}
	runs := slices.Clone(l.Runs)
	runs[i].End = now
	return Limiter{Runs: runs}
}

// InFlight lists the runs in flight at now.
func (l Limiter) InFlight(now time.Time) []RunRecord {
	var out []RunRecord
	for _, r := range l.Runs {
		if r.inFlight(now) {
			out = append(out, r)
		}
	}
	return out
}

// Prune drops the runs that can no longer limit anything at now: older than the hourly
// window and than keep (the longest cooldown, see Retention), and not in flight.
func (l Limiter) Prune(now time.Time, keep time.Duration) Limiter {
	keep = max(keep, Window, StaleAfter)
	var runs []RunRecord
	for _, r := range l.Runs {
		last := r.End
		if last.IsZero() {
			last = r.Start
		}
		if now.Sub(last) < keep || r.inFlight(now) {
			runs = append(runs, r)
		}
	}
	return Limiter{Runs: runs}
}

// Merge is the union of two limiters' records (the same run recorded in both counts
// once, with its end when either knows it): how a console folds in the runs a batch
// `heal` recorded, and the state file folds in a concurrent writer's.
func (l Limiter) Merge(o Limiter) Limiter {
	runs := slices.Clone(l.Runs)
	for _, r := range o.Runs {
		i := slices.IndexFunc(runs, func(x RunRecord) bool {
			return x.Rule == r.Rule && x.Host == r.Host && x.Start.Equal(r.Start)
		})
		switch {
		case i < 0:
			runs = append(runs, r)
		case runs[i].End.IsZero():
			runs[i].End = r.End
		}
	}
	slices.SortStableFunc(runs, func(a, b RunRecord) int { return a.Start.Compare(b.Start) })
	return Limiter{Runs: runs}
}

// Retention is how long records must be kept for rules: the hourly window, or the
// longest cooldown.
func Retention(rules []Rule) time.Duration {
	keep := Window
	for _, r := range rules {
		keep = max(keep, r.Cooldown)
	}
	return keep
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
