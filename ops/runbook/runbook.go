// Package runbook is the engine behind `[[runbooks]]`: named, ordered steps an on-call
// engineer runs across hosts with one command, the same from the batch CLI and the
// console.
//
// The life of a run has three stages, each its own function so that a face (the CLI, the
// Incidents pane) can put the confirm gate between them:
//
//   - Parse reads and validates the runbooks of a configuration, with file:line:col
//     errors, and parses every template once.
//   - NewPlan renders the exact commands for each host and step (text/template over
//     {{.Host}}, {{.Address}}, {{.Vars.x}}…; a missing variable is an error here, before
//     anything runs). A Plan converts to the gate.Action a person approves and to the
//     audit intent that is written before anything runs.
//   - Run executes an approved Plan step by step (all hosts, or in batches, or one host
//     at a time), runs each step's check after its command, applies the failure policy
//     (stop, continue, roll back the failed host, roll back every host already changed),
//     records every command in the audit log and reports progress to an observer.
//
// Preconditions (`when`) decide per host whether the runbook applies. A command
// precondition (`when = { command = "test -f /x", expect_exit = 0 }`) is evaluated here,
// on the host, at the start of the run. Metric and probe preconditions
// (`when = { metric = "disk_used", above = 90 }`, `when = { probe = "app-health" }`)
// are evaluated through functions the caller supplies (MetricFunc, ProbeFunc):
// RemoteMetrics is one, reading the host's health over its session; probes have no
// engine yet, so a run that needs one without a ProbeFunc is refused before it starts.
package runbook

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/opsconsole/opsconsole/config"
)

// Policy is what a step does when it fails on a host.
type Policy string

// Failure policies.
const (
	// Stop (the default): hosts that have not started the step are not run, later steps
	// do not run; hosts already running finish. Nothing is rolled back.
	Stop Policy = "stop"
	// Continue: the failed host stops where it is; every other host goes on.
	Continue Policy = "continue"
	// Rollback: the failed host is rolled back (the rollback commands of the failed step
	// and every step before it, newest first), then the run stops as with Stop.
	Rollback Policy = "rollback"
	// RollbackAll: like Rollback, and every other host that already ran any step is
	// rolled back too, so the fleet ends where it began.
	RollbackAll Policy = "rollback-all"
)

var policies = []Policy{Stop, Continue, Rollback, RollbackAll}

// Runbook is one `[[runbooks]]` entry, validated.
type Runbook struct {
	Name        string
	Description string
	// Hosts is the default host pattern (config.Resolve syntax); -H replaces it.
	Hosts string
	// Vars are the variables the templates use, declared ones first (in name order),
	// then those only referenced. A variable without a default must be given (--var).
	Vars []Var
	// RequireReason makes the operator state why; the reason goes into the audit log.
	RequireReason bool
	// When holds the preconditions; a host runs the runbook only if all hold.
	When  []Condition
	Steps []Step
	// Source is where the runbook is defined, file:line:col.
	Source string
}

// Var is a template variable.
type Var struct {
	Name    string
	Default string
	// HasDefault is false for a variable the templates use but `vars` does not declare:
	// the operator must give it.
	HasDefault bool
}

// Step is one step of a runbook, with its templates parsed.
type Step struct {
	Name     string
	Run      string
	Check    string
	Rollback string
	// Timeout bounds each of the step's commands on a host; 0 is the host's
	// command_timeout.
	Timeout time.Duration
	// Batch is how many hosts run the step at once, the next batch starting when the
	// whole previous batch has finished; 0 is every host at once (within the run's
	// concurrency) and 1 is serial.
	Batch     int
	OnFailure Policy

	run, check, rollback *template.Template
}

// Label is the step's name, or its run command when it has none.
func (s Step) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Run
}

// Describe is how the step runs, e.g. "serial, on failure rollback, timeout 30s".
func (s Step) Describe() string {
	var parts []string
	switch s.Batch {
	case 0:
		parts = append(parts, "all hosts at once")
	case 1:
		parts = append(parts, "serial")
	default:
		parts = append(parts, fmt.Sprintf("batches of %d", s.Batch))
	}
	parts = append(parts, "on failure "+string(s.OnFailure))
	if s.Timeout > 0 {
		parts = append(parts, "timeout "+s.Timeout.String())
	}
	return strings.Join(parts, ", ")
}

// ConditionKind says what a precondition looks at.
type ConditionKind string

// Condition kinds.
const (
	CondCommand ConditionKind = "command"
	CondMetric  ConditionKind = "metric"
	CondProbe   ConditionKind = "probe"
)

// Condition is one precondition.
type Condition struct {
	Kind ConditionKind
	// Command is run on the host (a template); the condition holds when it exits
	// ExpectExit.
	Command    string
	ExpectExit int
	// Metric names a value MetricFunc returns for the host; the condition holds when it
	// is above Above and/or below Below (NaN: no bound).
	Metric       string
	Above, Below float64
	// Probe names a probe; the condition holds when the probe's failing state equals
	// Failing (true unless `failing = false`).
	Probe   string
	Failing bool

	command *template.Template
	key     string // where it is in the config, for errors
}

// String reads like the config: `command "test -f /x" exits 0`, `metric disk_used above
// 90`, `probe app-health failing`.
func (c Condition) String() string {
	switch c.Kind {
	case CondCommand:
		return fmt.Sprintf("command %q exits %d", c.Command, c.ExpectExit)
	case CondMetric:
		s := "metric " + c.Metric
		if !math.IsNaN(c.Above) {
			s += fmt.Sprintf(" above %g", c.Above)
		}
		if !math.IsNaN(c.Below) {
			if !math.IsNaN(c.Above) {
				s += " and"
			}
			s += fmt.Sprintf(" below %g", c.Below)
		}
		return s
	case CondProbe:
		if c.Failing {
			return "probe " + c.Probe + " failing"
		}
		return "probe " + c.Probe + " passing"
	}
	return string(c.Kind)
}

// holds judges a metric value.
func (c Condition) holds(v float64) bool {
	return (math.IsNaN(c.Above) || v > c.Above) && (math.IsNaN(c.Below) || v < c.Below)
}

// Find returns the runbook called name.
func Find(rbs []Runbook, name string) (Runbook, bool) {
	for _, rb := range rbs {
		if rb.Name == name {
			return rb, true
		}
	}
	return Runbook{}, false
}

// Names lists the runbooks' names, in config order.
func Names(rbs []Runbook) []string {
	out := make([]string, len(rbs))
	for i, rb := range rbs {
		out[i] = rb.Name
	}
	return out
}

var (
	runbookKeys = []string{"name", "description", "hosts", "vars", "steps", "when", "require_reason",
		"on_failure", "timeout", "serial", "batch"}
	stepKeys = []string{"name", "run", "check", "rollback", "timeout", "serial", "batch", "on_failure"}
	whenKeys = []string{"command", "expect_exit", "metric", "above", "below", "probe", "failing"}
)

// Parse reads `[[runbooks]]` from cfg. Every problem is reported at once, as a
// config.ErrorList positioned at the offending key, e.g.
// "config.toml:14:5: runbooks[0].steps[1].timeout: …". No runbooks is not an error.
func Parse(cfg *config.Config) ([]Runbook, error) {
	raw, ok := cfg.Raw["runbooks"]
	if !ok {
		return nil, nil
	}
	p := &parser{config.Section{Cfg: cfg}}
	var out []Runbook
	seen := map[string]string{}
	for i, t := range p.Tables(raw, "runbooks") {
		if t == nil {
			continue
		}
		key := fmt.Sprintf("runbooks[%d]", i)
		rb, ok := p.runbook(t, key)
		if !ok {
			continue
		}
		if first, dup := seen[rb.Name]; dup {
			p.Errorf(key+".name", "duplicate runbook name %q (first defined at %s)", rb.Name, first)
			continue
		}
		seen[rb.Name] = rb.Source
		out = append(out, rb)
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

func (p *parser) policy(t map[string]any, key string, dst *Policy) bool {
	var s string
	if !p.Str(t, key, "on_failure", &s) {
		return false
	}
	if !slices.Contains(policies, Policy(s)) {
		p.Errorf(key+".on_failure", "must be one of stop, continue, rollback, rollback-all, not %q", s)
		return false
	}
	*dst = Policy(s)
	return true
}

// batch reads serial and batch together: serial = true is batch = 1.
func (p *parser) batch(t map[string]any, key string, dst *int) {
	var serial bool
	hasSerial := p.Bool(t, key, "serial", &serial)
	var n int
	if p.Int(t, key, "batch", &n) {
		if n < 1 {
			p.Errorf(key+".batch", "must be at least 1 (1 is serial)")
			return
		}
		if hasSerial && serial && n != 1 {
			p.Errorf(key+".batch", "conflicts with serial = true (serial is batch = 1)")
			return
		}
		*dst = n
		return
	}
	if hasSerial {
		*dst = 0
		if serial {
			*dst = 1
		}
	}
}

func (p *parser) runbook(t map[string]any, key string) (Runbook, bool) {
	nerr := len(p.Errs)
	p.Known(t, key, runbookKeys)
	pos := p.Cfg.Errorf(key, "")
	rb := Runbook{Source: fmt.Sprintf("%s:%d:%d", pos.File, pos.Line, pos.Col)}
	if _, has := t["name"]; !has {
		p.Errorf(key, "runbook has no name")
	} else if p.Str(t, key, "name", &rb.Name) {
		switch {
		case strings.TrimSpace(rb.Name) == "":
			p.Errorf(key+".name", "must not be empty")
		case strings.ContainsAny(rb.Name, " \t\n"):
			p.Errorf(key+".name", "must be one word (it is typed on the command line), not %q", rb.Name)
		}
	}
	p.Str(t, key, "description", &rb.Description)
	if p.Str(t, key, "hosts", &rb.Hosts) && strings.TrimSpace(rb.Hosts) == "" {
		p.Errorf(key+".hosts", "must not be empty (leave it out to require -H)")
	}
	p.Bool(t, key, "require_reason", &rb.RequireReason)

	// Runbook-level timeout, batch/serial and on_failure are defaults for its steps.
	def := Step{OnFailure: Stop}
	p.Duration(t, key, "timeout", &def.Timeout)
	p.batch(t, key, &def.Batch)
	p.policy(t, key, &def.OnFailure)

	declared := map[string]string{}
	if v, ok := t["vars"]; ok {
		vt, ok := v.(map[string]any)
		if !ok {
			p.Errorf(key+".vars", "must be a table of name = value, not %s", config.TOMLType(v))
		}
		for _, name := range slices.Sorted(maps.Keys(vt)) {
			vkey := key + ".vars." + name
			if !isIdent(name) {
				p.Errorf(vkey, "variable name must be a letter or _ followed by letters, digits or _ (it is written {{.Vars.%s}})", name)
				continue
			}
			switch x := vt[name].(type) {
			case string:
				declared[name] = x
			case int64, float64, bool:
				declared[name] = fmt.Sprint(x)
			default:
				p.Errorf(vkey, "must be a string, number or boolean, not %s", config.TOMLType(x))
			}
		}
	}

	referenced := map[string]bool{}
	parse := func(k, src string) *template.Template {
		tm, err := parseTemplate(k, src)
		if err != nil {
			p.Errorf(k, "%v", err)
			return nil
		}
		for _, v := range varsOf(tm) {
			referenced[v] = true
		}
		return tm
	}

	if v, ok := t["when"]; ok {
		var conds []map[string]any
		switch x := v.(type) {
		case map[string]any:
			conds = []map[string]any{x}
			rb.When = make([]Condition, 0, 1)
		default:
			conds = p.Tables(v, key+".when")
		}
		for i, ct := range conds {
			if ct == nil {
				continue
			}
			ckey := key + ".when"
			if _, single := v.(map[string]any); !single {
				ckey = fmt.Sprintf("%s.when[%d]", key, i)
			}
			if c, ok := p.condition(ct, ckey, parse); ok {
				rb.When = append(rb.When, c)
			}
		}
	}

	if v, ok := t["steps"]; !ok {
		p.Errorf(key, "runbook %q has no steps", rb.Name)
	} else {
		steps := p.Tables(v, key+".steps")
		if steps != nil && len(steps) == 0 {
			p.Errorf(key+".steps", "must hold at least one step")
		}
		for i, st := range steps {
			if st == nil {
				continue
			}
			skey := fmt.Sprintf("%s.steps[%d]", key, i)
			s := def
			p.Known(st, skey, stepKeys)
			p.Str(st, skey, "name", &s.Name)
			if _, has := st["run"]; !has {
				p.Errorf(skey, "step has no run command")
			} else if p.Str(st, skey, "run", &s.Run) {
				if strings.TrimSpace(s.Run) == "" {
					p.Errorf(skey+".run", "must not be empty")
				} else {
					s.run = parse(skey+".run", s.Run)
				}
			}
			if p.Str(st, skey, "check", &s.Check) && s.Check != "" {
				s.check = parse(skey+".check", s.Check)
			}
			if p.Str(st, skey, "rollback", &s.Rollback) && s.Rollback != "" {
				s.rollback = parse(skey+".rollback", s.Rollback)
			}
			p.Duration(st, skey, "timeout", &s.Timeout)
			p.batch(st, skey, &s.Batch)
			p.policy(st, skey, &s.OnFailure)
			rb.Steps = append(rb.Steps, s)
		}
		// A rollback policy with nothing to roll back is a runbook that promises more
		// than it does; say so now rather than during an incident.
		for i, s := range rb.Steps {
			if s.OnFailure != Rollback && s.OnFailure != RollbackAll {
				continue
			}
			if !slices.ContainsFunc(rb.Steps[:i+1], func(s Step) bool { return s.Rollback != "" }) {
				k := fmt.Sprintf("%s.steps[%d].on_failure", key, i)
				if _, own := steps[i]["on_failure"]; !own {
					k = key + ".on_failure"
				}
				p.Errorf(k, "on_failure = %q but neither this step nor any before it has a rollback command", s.OnFailure)
			}
		}
	}

	for _, name := range slices.Sorted(maps.Keys(declared)) {
		rb.Vars = append(rb.Vars, Var{Name: name, Default: declared[name], HasDefault: true})
	}
	for _, name := range slices.Sorted(maps.Keys(referenced)) {
		if _, ok := declared[name]; !ok {
			rb.Vars = append(rb.Vars, Var{Name: name})
		}
	}
	if len(p.Errs) == nerr {
		// Execute every template once against a made-up host with every variable set,
		// so that a misspelt field ({{.Hots}}) is a config error, not a failure in the
		// middle of a run.
		p.tryRender(rb, key)
	}
	return rb, len(p.Errs) == nerr
}

func (p *parser) condition(t map[string]any, key string, parse func(k, src string) *template.Template) (Condition, bool) {
	nerr := len(p.Errs)
	p.Known(t, key, whenKeys)
	c := Condition{Above: math.NaN(), Below: math.NaN(), Failing: true, key: key}
	kinds := 0
	if p.Str(t, key, "command", &c.Command) {
		kinds++
		c.Kind = CondCommand
		if strings.TrimSpace(c.Command) == "" {
			p.Errorf(key+".command", "must not be empty")
		} else {
			c.command = parse(key+".command", c.Command)
		}
	}
	if p.Str(t, key, "metric", &c.Metric) {
		kinds++
		c.Kind = CondMetric
		if c.Metric == "" {
			p.Errorf(key+".metric", "must not be empty")
		}
	}
	if p.Str(t, key, "probe", &c.Probe) {
		kinds++
		c.Kind = CondProbe
		if c.Probe == "" {
			p.Errorf(key+".probe", "must not be empty")
		}
	}
	if kinds != 1 {
		p.Errorf(key, "a precondition needs exactly one of command, metric or probe")
		return c, false
	}
	if p.Int(t, key, "expect_exit", &c.ExpectExit) {
		if c.Kind != CondCommand {
			p.Errorf(key+".expect_exit", "applies to a command precondition only")
		} else if c.ExpectExit < 0 || c.ExpectExit > 255 {
			p.Errorf(key+".expect_exit", "must be 0-255")
		}
	}
	hasAbove := p.Number(t, key, "above", &c.Above)
	hasBelow := p.Number(t, key, "below", &c.Below)
	if (hasAbove || hasBelow) && c.Kind != CondMetric {
		p.Errorf(key, "above and below apply to a metric precondition only")
	}
	if c.Kind == CondMetric && !hasAbove && !hasBelow {
		p.Errorf(key, "a metric precondition needs above, below or both")
	}
	if p.Bool(t, key, "failing", &c.Failing) && c.Kind != CondProbe {
		p.Errorf(key+".failing", "applies to a probe precondition only")
	}
	return c, len(p.Errs) == nerr
}

func (p *parser) tryRender(rb Runbook, key string) {
	vars := map[string]string{}
	for _, v := range rb.Vars {
		vars[v.Name] = "x"
	}
	d := Data{Host: "host", Address: "192.0.2.1", User: "ops", Port: 22, Tags: []string{"t"}, Groups: []string{"g"}, Vars: vars}
	try := func(k string, tm *template.Template) {
		if tm == nil {
			return
		}
		if _, err := render(tm, d); err != nil {
			p.Errorf(k, "%v", err)
		}
	}
	for _, c := range rb.When {
		try(c.key+".command", c.command)
	}
	for i, s := range rb.Steps {
		skey := fmt.Sprintf("%s.steps[%d]", key, i)
		try(skey+".run", s.run)
		try(skey+".check", s.check)
		try(skey+".rollback", s.rollback)
	}
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return true
}
