// Package heal is opsconsole's self-healing engine: rules from `[[heal]]` that say which
// runbook fixes which problem, the evaluation of those rules over the fleet's latest
// health reports (and probe, log-marker and alert signals), and the limiter that keeps
// automatic runs rare and small.
//
//	[[heal]]
//	name = "full-disk"                 # optional; default "<runbook>: <condition>"
//	hosts = "tag:web"                  # default: the runbook's hosts, else all
//	when = "disk_used > 90"            # or ["cpu_used > 95", "mem_used >= 90"], or 'status = "down"'
//	runbook = "clean-logs"
//	vars = { keep = "500M" }           # the runbook's variables, when it has any without a default
//	auto = true                        # propose it on its own (still through the gate)
//	max_per_host_per_hour = 1          # automatic runs on one host in any hour (default 1)
//	max_group_percent = 25             # never on more than this share of the rule's hosts at once (default 25)
//	cooldown = "30m"                   # after a run of this rule on a host, wait this long (default none)
//
//	[[heal]]
//	probe = "app-health"               # a probe failing 3 times in a row
//	failing = 3                        # (or flapping = true)
//	runbook = "restart-app"
//
//	[[heal]]
//	marker = "oom"                     # a log marker seen on the host
//	runbook = "restart-app"
//
// Everything here is pure: no I/O, no clock. Evaluate takes the reports and the time,
// the Limiter's methods take the time, and the state file (state.go) is the one piece of
// I/O, called by the batch command and by the console's commands, never by a view's
// Update.
//
// Nothing here runs a runbook. A Suggestion names a rule and its runbook; the face that
// shows it (the Incidents pane, `opsconsole heal`) builds the exact plan with
// runbook.NewPlan, passes it through the gate, and runs it with the audit log. Automatic
// self-heal is no exception: it only changes who proposes the run.
package heal

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/runbook"
)

// Defaults for the limits a rule leaves out.
const (
	DefaultMaxPerHostPerHour = 1
	DefaultMaxGroupPercent   = 25
)

// Metrics a `when` condition can test, each read from a host's latest health sample.
var metricNames = []string{"cpu_used", "disk_used", "load1", "load_per_core", "mem_used", "swap_used"}

// Rule is one `[[heal]]` entry, validated against the inventory and the runbooks.
type Rule struct {
	// Name identifies the rule in suggestions, the limiter's records and the audit
	// reason.
	Name string
	// Hosts is the rule's host pattern and Group the inventory hosts it selects, in
	// inventory order: the rule applies to them only, and max_group_percent is a share
	// of them.
	Hosts string
	Group []string
	// Trigger is the condition that makes the rule apply to a host.
	Trigger Trigger
	// Runbook is the runbook the rule suggests; Vars are given to it.
	Runbook string
	Vars    map[string]string
	// Auto lets the rule propose its runbook without being asked. Every run still
	// passes the gate.
	Auto              bool
	MaxPerHostPerHour int
	MaxGroupPercent   int
	Cooldown          time.Duration
	// Source is where the rule is defined, file:line:col.
	Source string

	members map[string]bool
}

// Covers reports whether host is one of the rule's hosts.
func (r Rule) Covers(host string) bool {
	if r.members != nil {
		return r.members[host]
	}
	return slices.Contains(r.Group, host)
}

// GroupCap is how many of the rule's hosts may run an automatic heal at once:
// max_group_percent of the group, rounded down. It can be 0 for a small group (25% of 3
// hosts is less than one host); then the rule never runs on its own there, which is what
// "never on more than M%" says. Raise max_group_percent for such groups.
func (r Rule) GroupCap() int {
	return len(r.Group) * r.MaxGroupPercent / 100
}

// Find returns the rule called name.
func Find(rules []Rule, name string) (Rule, bool) {
	for _, r := range rules {
		if r.Name == name {
			return r, true
		}
	}
	return Rule{}, false
}

// Trigger is what makes a rule apply: health conditions over the host's latest report
// (all must hold), or a probe, a log marker or an alert.
type Trigger struct {
	Conds []Cond
	// Probe names a probe; the trigger holds when it failed at least Failing times in a
	// row, or, with Flapping, when it flaps.
	Probe    string
	Failing  int
	Flapping bool
	// Marker names a log marker seen on the host.
	Marker string
	// Alert names an alert firing for the host.
	Alert string
}

// Kind is the kind of incident the trigger answers.
func (t Trigger) Kind() Kind {
	switch {
	case t.Probe != "" && t.Flapping:
		return KindFlapping
	case t.Probe != "":
		return KindProbe
	case t.Marker != "":
		return KindMarker
	case t.Alert != "":
		return KindAlert
	}
	for _, c := range t.Conds {
		if c.Field == "status" && c.Status == health.Down {
			return KindDown
		}
	}
	return KindUnhealthy
}

// String reads like the config: `disk_used > 90`, `probe app-health failing 3×`.
func (t Trigger) String() string {
	switch {
	case t.Probe != "" && t.Flapping:
		return "probe " + t.Probe + " flapping"
	case t.Probe != "":
		return fmt.Sprintf("probe %s failing %d×", t.Probe, t.Failing)
	case t.Marker != "":
		return "log marker " + t.Marker
	case t.Alert != "":
		return "alert " + t.Alert
	}
	parts := make([]string, len(t.Conds))
	for i, c := range t.Conds {
		parts[i] = c.String()
	}
	return strings.Join(parts, " and ")
}

// Cond is one health condition: a metric compared with a number, or the host's status.
type Cond struct {
	// Field is a metric name (disk_used, cpu_used, mem_used, swap_used, load1,
	// load_per_core) or "status".
	Field string
	// Op is one of > >= < <= for a metric, = for the status.
	Op     string
	Value  float64
	Status health.Status
}

func (c Cond) String() string {
	if c.Field == "status" {
		return "status = " + c.Status.String()
	}
	return c.Field + " " + c.Op + " " + strconv.FormatFloat(c.Value, 'g', -1, 64)
}

// holds judges the condition on a report; why says what was seen when it holds.
func (c Cond) holds(rep reportView) (ok bool, why string) {
	if c.Field == "status" {
		return rep.status == c.Status, "status " + rep.status.String()
	}
	v, measured := metricValue(rep.metrics, c.Field)
	if !measured {
		return false, ""
	}
	switch c.Op {
	case ">":
		ok = v > c.Value
	case ">=":
		ok = v >= c.Value
	case "<":
		ok = v < c.Value
	case "<=":
		ok = v <= c.Value
	}
	return ok, fmt.Sprintf("%s %s %s %s", c.Field, formatValue(c.Field, v), c.Op, strconv.FormatFloat(c.Value, 'g', -1, 64))
}

// formatValue shows a metric the way the fleet view does: percentages whole, loads with
// two decimals.
func formatValue(field string, v float64) string {
	if strings.HasPrefix(field, "load") {
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + "%"
}

// metricValue reads a metric from a sample; false when the sample lacks it.
func metricValue(m *health.Metrics, name string) (float64, bool) {
	if m == nil {
		return 0, false
	}
	switch name {
	case "disk_used":
		if !m.Has(health.FieldDisks) || len(m.Disks) == 0 {
			return 0, false
		}
		return m.WorstDisk().Percent, true
	case "cpu_used":
		return m.CPUPercent, m.Has(health.FieldCPU)
	case "mem_used":
		return m.MemPercent, m.Has(health.FieldMem)
	case "swap_used":
		if !m.Has(health.FieldMem) {
			return 0, false
		}
		if m.SwapTotal == 0 {
			return 0, true
		}
		return 100 * float64(m.SwapUsed) / float64(m.SwapTotal), true
	case "load1":
		return m.Load1, m.Has(health.FieldLoad)
	case "load_per_core":
		return m.Load1 / float64(max(m.Cores, 1)), m.Has(health.FieldLoad)
	}
	return 0, false
}

var ruleKeys = []string{"name", "hosts", "when", "probe", "failing", "flapping", "marker", "alert",
	"runbook", "vars", "auto", "max_per_host_per_hour", "max_group_percent", "cooldown"}

// Parse reads `[[heal]]` from cfg and checks every rule against the inventory and
// runbooks (as runbook.Parse returned them). Every problem is reported at once, as a
// config.ErrorList positioned at the offending key: an unknown key, a condition that does
// not parse, a runbook that does not exist, variables the runbook needs and the rule does
// not give, a host pattern that selects nothing. No rules is not an error.
func Parse(cfg *config.Config, runbooks []runbook.Runbook) ([]Rule, error) {
	raw, ok := cfg.Raw["heal"]
	if !ok {
		return nil, nil
	}
	p := &parser{config.Section{Cfg: cfg}}
	var out []Rule
	seen := map[string]string{}
	for i, t := range p.Tables(raw, "heal") {
		if t == nil {
			continue
		}
		key := fmt.Sprintf("heal[%d]", i)
		r, ok := p.rule(t, key, runbooks)
		if !ok {
			continue
		}
		if first, dup := seen[r.Name]; dup {
			p.Errorf(key+".name", "duplicate heal rule name %q (first defined at %s); give the rules names", r.Name, first)
			continue
		}
		seen[r.Name] = r.Source
		out = append(out, r)
	}
	if len(p.Errs) > 0 {
		return nil, p.Errs
	}
	return out, nil
}

// parser decodes the section with config's shared helpers.
type parser struct {
	config.Section
}

func (p *parser) rule(t map[string]any, key string, runbooks []runbook.Runbook) (Rule, bool) {
	nerr := len(p.Errs)
	for _, k := range slices.Sorted(maps.Keys(t)) {
		if !slices.Contains(ruleKeys, k) {
			p.Errorf(key+"."+k, "unknown key (known: %s)", strings.Join(ruleKeys, ", "))
		}
	}
	pos := p.Cfg.Errorf(key, "")
	r := Rule{Source: fmt.Sprintf("%s:%d:%d", pos.File, pos.Line, pos.Col),
		MaxPerHostPerHour: DefaultMaxPerHostPerHour, MaxGroupPercent: DefaultMaxGroupPercent}

	if p.Str(t, key, "name", &r.Name) && (strings.TrimSpace(r.Name) == "" || strings.ContainsAny(r.Name, "\n\t")) {
		p.Errorf(key+".name", "must be a non-empty line of text")
	}

	// The runbook comes first: the default host pattern is its.
	var rb runbook.Runbook
	haveRB := false
	if _, has := t["runbook"]; !has {
		p.Errorf(key, "heal rule has no runbook")
	} else if p.Str(t, key, "runbook", &r.Runbook) {
		if rb, haveRB = runbook.Find(runbooks, r.Runbook); !haveRB {
			avail := "the configuration defines no [[runbooks]]"
			if len(runbooks) > 0 {
				avail = "runbooks: " + strings.Join(runbook.Names(runbooks), ", ")
			}
			p.Errorf(key+".runbook", "no runbook %q (%s)", r.Runbook, avail)
		}
	}

	p.trigger(t, key, &r.Trigger)
	p.Bool(t, key, "auto", &r.Auto)
	if p.Int(t, key, "max_per_host_per_hour", &r.MaxPerHostPerHour) && r.MaxPerHostPerHour < 1 {
		p.Errorf(key+".max_per_host_per_hour", "must be at least 1 (set auto = false to stop automatic runs)")
	}
	if p.Int(t, key, "max_group_percent", &r.MaxGroupPercent) && (r.MaxGroupPercent < 1 || r.MaxGroupPercent > 100) {
		p.Errorf(key+".max_group_percent", "must be 1-100")
	}
	if v, ok := t["cooldown"]; ok {
		s, isStr := v.(string)
		d, err := time.ParseDuration(s)
		if !isStr || err != nil || d < 0 {
			p.Errorf(key+".cooldown", "must be a duration such as \"30m\" or \"2h\"")
		}
		r.Cooldown = d
	}
	if v, ok := t["vars"]; ok {
		vt, isTable := v.(map[string]any)
		if !isTable {
			p.Errorf(key+".vars", "must be a table of name = value")
		}
		r.Vars = map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(vt)) {
			switch x := vt[name].(type) {
			case string:
				r.Vars[name] = x
			case int64, float64, bool:
				r.Vars[name] = fmt.Sprint(x)
			default:
				p.Errorf(key+".vars."+name, "must be a string, number or boolean")
			}
		}
	}

	hostsKey := key + ".hosts"
	if !p.Str(t, key, "hosts", &r.Hosts) {
		r.Hosts, hostsKey = rb.Hosts, key+".runbook"
	}
	if strings.TrimSpace(r.Hosts) == "" {
		r.Hosts = "all"
	}
	hosts, err := config.Resolve(p.Cfg.Hosts, r.Hosts)
	if err != nil {
		p.Errorf(hostsKey, "hosts %q: %v", r.Hosts, err)
	}
	r.members = make(map[string]bool, len(hosts))
	for _, h := range hosts {
		r.Group = append(r.Group, h.Name)
		r.members[h.Name] = true
	}

	// Render the plan for every host of the group now: a variable the runbook needs and
	// the rule does not give would otherwise surface only when a host is already sick.
	if haveRB && err == nil && len(hosts) > 0 {
		_, perr := runbook.NewPlan(rb, hosts, r.Vars)
		var missing *runbook.MissingVarsError
		var unknown *runbook.UnknownVarError
		switch {
		case perr == nil:
		case errors.As(perr, &missing):
			give := make([]string, len(missing.Names))
			for i, n := range missing.Names {
				give[i] = n + ` = "…"`
			}
			p.Errorf(key+".runbook", "runbook %q needs %s: a heal rule gives them in vars = { %s }",
				r.Runbook, strings.Join(missing.Names, ", "), strings.Join(give, ", "))
		case errors.As(perr, &unknown):
			p.Errorf(key+".vars."+unknown.Name, "%v", perr)
		default:
			p.Errorf(key+".runbook", "%v", perr)
		}
	}

	if r.Name == "" && r.Runbook != "" {
		r.Name = r.Runbook + ": " + r.Trigger.String()
	}
	return r, len(p.Errs) == nerr
}

// condRE reads one `when` condition: a name, an operator and a value.
var condRE = regexp.MustCompile(`^\s*([a-z_0-9]+)\s*(>=|<=|==|=|>|<)\s*(.+?)\s*$`)

func (p *parser) trigger(t map[string]any, key string, tr *Trigger) {
	var kinds []string
	for _, k := range []string{"when", "probe", "marker", "alert"} {
		if _, ok := t[k]; ok {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		p.Errorf(key, "heal rule needs a condition: when, probe, marker or alert")
		return
	case 1:
	default:
		p.Errorf(key+"."+kinds[1], "a rule has exactly one of when, probe, marker or alert (a second rule can say the other)")
		return
	}
	if _, ok := t["failing"]; ok && kinds[0] != "probe" {
		p.Errorf(key+".failing", "applies to a probe rule only")
	}
	if _, ok := t["flapping"]; ok && kinds[0] != "probe" {
		p.Errorf(key+".flapping", "applies to a probe rule only")
	}
	switch kinds[0] {
	case "when":
		var exprs []string
		switch v := t["when"].(type) {
		case string:
			exprs = []string{v}
		case []any:
			for i, e := range v {
				s, ok := e.(string)
				if !ok {
					p.Errorf(fmt.Sprintf("%s.when[%d]", key, i), "must be a string such as \"disk_used > 90\"")
					continue
				}
				exprs = append(exprs, s)
			}
			if len(v) == 0 {
				p.Errorf(key+".when", "must hold at least one condition")
			}
		default:
			p.Errorf(key+".when", "must be a condition such as \"disk_used > 90\", or a list of them")
		}
		for _, s := range exprs {
			c, err := parseCond(s)
			if err != nil {
				p.Errorf(key+".when", "%q: %v", s, err)
				continue
			}
			tr.Conds = append(tr.Conds, c)
		}
	case "probe":
		if p.Str(t, key, "probe", &tr.Probe) && strings.TrimSpace(tr.Probe) == "" {
			p.Errorf(key+".probe", "must name a probe")
		}
		tr.Failing = 1
		p.Bool(t, key, "flapping", &tr.Flapping)
		if p.Int(t, key, "failing", &tr.Failing) {
			if tr.Failing < 1 {
				p.Errorf(key+".failing", "must be at least 1 (consecutive failures)")
			}
			if tr.Flapping {
				p.Errorf(key+".failing", "conflicts with flapping = true")
			}
		}
	case "marker":
		if p.Str(t, key, "marker", &tr.Marker) && strings.TrimSpace(tr.Marker) == "" {
			p.Errorf(key+".marker", "must name a log marker")
		}
	case "alert":
		if p.Str(t, key, "alert", &tr.Alert) && strings.TrimSpace(tr.Alert) == "" {
			p.Errorf(key+".alert", "must name an alert")
		}
	}
}

// parseCond reads `disk_used > 90`, `load_per_core >= 2.5` or `status = "down"`.
func parseCond(s string) (Cond, error) {
	m := condRE.FindStringSubmatch(s)
	if m == nil {
		return Cond{}, fmt.Errorf("want METRIC OP NUMBER (e.g. disk_used > 90) or status = \"down\"")
	}
	field, op, val := m[1], m[2], strings.Trim(m[3], `"'`)
	if field == "status" {
		if op != "=" && op != "==" {
			return Cond{}, fmt.Errorf("status is compared with =")
		}
		var st health.Status
		if err := st.UnmarshalText([]byte(val)); err != nil || st == health.OK {
			return Cond{}, fmt.Errorf("status must be down, crit, warn or unknown, not %q", val)
		}
		return Cond{Field: field, Op: "=", Status: st}, nil
	}
	if !slices.Contains(metricNames, field) {
		return Cond{}, fmt.Errorf("unknown metric %q (known: status, %s)", field, strings.Join(metricNames, ", "))
	}
	if op == "=" || op == "==" {
		return Cond{}, fmt.Errorf("compare a metric with >, >=, < or <=")
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Cond{}, fmt.Errorf("%q is not a number", val)
	}
	return Cond{Field: field, Op: op, Value: v}, nil
}
