package runbook

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/gate"
)

// Plan is a runbook rendered for its hosts: the exact command each host will run at each
// step, in order. It is what the gate shows, what the audit intent records, and all Run
// executes; nothing is rendered after approval.
type Plan struct {
	Runbook     string            `json:"runbook"`
	Description string            `json:"description,omitempty"`
	Vars        map[string]string `json:"vars,omitempty"`
	// Hosts are the targets, in inventory order.
	Hosts         []config.Host `json:"-"`
	HostNames     []string      `json:"hosts"`
	RequireReason bool          `json:"require_reason,omitempty"`
	When          []PlannedWhen `json:"when,omitempty"`
	Steps         []PlannedStep `json:"steps"`
}

// PlannedWhen is a precondition with its command rendered for each host.
type PlannedWhen struct {
	Condition Condition `json:"-"`
	// Text describes the condition, as Condition.String.
	Text string `json:"condition"`
	// Commands holds the rendered command per host, for a command precondition.
	Commands []HostCommand `json:"commands,omitempty"`
}

// HostCommand is a command rendered for one host.
type HostCommand struct {
	Host    string `json:"host"`
	Command string `json:"command"`
}

// PlannedStep is one step rendered for every host.
type PlannedStep struct {
	// Index numbers the step from 1.
	Index     int           `json:"step"`
	Name      string        `json:"name,omitempty"`
	Batch     int           `json:"batch"`
	OnFailure Policy        `json:"on_failure"`
	Timeout   time.Duration `json:"-"`
	TimeoutS  float64       `json:"timeout_seconds,omitempty"`
	Hosts     []HostStep    `json:"hosts"`
	step      Step
}

// HostStep is what one host runs for one step.
type HostStep struct {
	Host     string `json:"host"`
	Run      string `json:"run"`
	Check    string `json:"check,omitempty"`
	Rollback string `json:"rollback,omitempty"`
}

// UnknownVarError is a --var the runbook neither declares nor uses: most likely a typo,
// which would otherwise leave the default silently in force.
type UnknownVarError struct {
	Runbook string
	Name    string
	Known   []string
}

func (e *UnknownVarError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("runbook %q takes no variables (got %s)", e.Runbook, e.Name)
	}
	return fmt.Sprintf("runbook %q has no variable %q (it takes: %s)", e.Runbook, e.Name, strings.Join(e.Known, ", "))
}

// MissingVarsError lists the variables the templates need that have no default and were
// not given.
type MissingVarsError struct {
	Runbook string
	Names   []string
}

func (e *MissingVarsError) Error() string {
	give := make([]string, len(e.Names))
	for i, n := range e.Names {
		give[i] = "--var " + n + "=…"
	}
	return fmt.Sprintf("runbook %q needs %s: give %s", e.Runbook, plural(len(e.Names), "variable", "variables")+" "+strings.Join(e.Names, ", "), strings.Join(give, " "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// NewPlan renders rb for hosts with vars (which override the runbook's defaults). Every
// problem (a variable missing or unknown, a template that fails on a host) is an error
// here, before anything runs.
func NewPlan(rb Runbook, hosts []config.Host, vars map[string]string) (Plan, error) {
	if len(hosts) == 0 {
		return Plan{}, fmt.Errorf("runbook %q: no hosts", rb.Name)
	}
	merged := map[string]string{}
	var known []string
	for _, v := range rb.Vars {
		known = append(known, v.Name)
		if v.HasDefault {
			merged[v.Name] = v.Default
		}
	}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		if !slices.Contains(known, name) {
			return Plan{}, &UnknownVarError{Runbook: rb.Name, Name: name, Known: known}
		}
		merged[name] = vars[name]
	}
	var missing []string
	for _, v := range rb.Vars {
		if _, ok := merged[v.Name]; !ok {
			missing = append(missing, v.Name)
		}
	}
	if len(missing) > 0 {
		return Plan{}, &MissingVarsError{Runbook: rb.Name, Names: missing}
	}

	p := Plan{Runbook: rb.Name, Description: rb.Description, Vars: merged, RequireReason: rb.RequireReason,
		Hosts: slices.Clone(hosts)}
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h.Name] {
			return Plan{}, fmt.Errorf("runbook %q: host %q listed twice", rb.Name, h.Name)
		}
		seen[h.Name] = true
		p.HostNames = append(p.HostNames, h.Name)
	}
	var errs []error
	fail := func(where, host string, err error) {
		errs = append(errs, fmt.Errorf("runbook %q: %s on %s: %w", rb.Name, where, host, err))
	}
	for _, c := range rb.When {
		pw := PlannedWhen{Condition: c, Text: c.String()}
		if c.Kind == CondCommand {
			for _, h := range hosts {
				cmd, err := render(c.command, DataFor(h, merged))
				if err != nil {
					fail("precondition", h.Name, err)
					continue
				}
				pw.Commands = append(pw.Commands, HostCommand{Host: h.Name, Command: cmd})
			}
		}
		p.When = append(p.When, pw)
	}
	for i, s := range rb.Steps {
		ps := PlannedStep{Index: i + 1, Name: s.Name, Batch: s.Batch, OnFailure: s.OnFailure,
			Timeout: s.Timeout, TimeoutS: s.Timeout.Seconds(), step: s}
		where := fmt.Sprintf("step %d", i+1)
		for _, h := range hosts {
			d := DataFor(h, merged)
			hs := HostStep{Host: h.Name}
			var err error
			if hs.Run, err = render(s.run, d); err != nil {
				fail(where+" run", h.Name, err)
			}
			if hs.Check, err = render(s.check, d); err != nil {
				fail(where+" check", h.Name, err)
			}
			if hs.Rollback, err = render(s.rollback, d); err != nil {
				fail(where+" rollback", h.Name, err)
			}
			ps.Hosts = append(ps.Hosts, hs)
		}
		p.Steps = append(p.Steps, ps)
	}
	if len(errs) > 0 {
		// One error per template is enough to fix it; a 500-host fleet would otherwise
		// repeat it 500 times.
		return Plan{}, errors.Join(dedupe(errs)...)
	}
	return p, nil
}

func dedupe(errs []error) []error {
	seen := map[string]bool{}
	var out []error
	for _, e := range errs {
		// Keyed on the message without the host, so one broken template is one line.
		msg := e.Error()
		if i := strings.Index(msg, " on "); i >= 0 {
			if j := strings.Index(msg[i+4:], ":"); j >= 0 {
				msg = msg[:i] + msg[i+4+j:]
			}
		}
		if !seen[msg] {
			seen[msg] = true
			out = append(out, e)
		}
	}
	return out
}

type cmdKey struct{ run, check, rollback string }

// groups gathers the hosts that run the same commands, in first-appearance order, so
// that a plan over 500 identical hosts reads as one block while a templated one lists
// each host with its own commands.
func (s PlannedStep) groups() ([]cmdKey, [][]string) {
	var keys []cmdKey
	var hosts [][]string
	idx := map[cmdKey]int{}
	for _, h := range s.Hosts {
		k := cmdKey{h.Run, h.Check, h.Rollback}
		i, ok := idx[k]
		if !ok {
			i = len(keys)
			idx[k] = i
			keys = append(keys, k)
			hosts = append(hosts, nil)
		}
		hosts[i] = append(hosts[i], h.Host)
	}
	return keys, hosts
}

func (w PlannedWhen) groups() ([]string, [][]string) {
	var cmds []string
	var hosts [][]string
	idx := map[string]int{}
	for _, c := range w.Commands {
		i, ok := idx[c.Command]
		if !ok {
			i = len(cmds)
			idx[c.Command] = i
			cmds = append(cmds, c.Command)
			hosts = append(hosts, nil)
		}
		hosts[i] = append(hosts[i], c.Host)
	}
	return cmds, hosts
}

// Action is the plan as the gate sees it: the preconditions, then each step's command
// (with its rollback) and its check, each on the hosts that run exactly that command.
// Commands that are not a step's run are labelled ("when: …", "check: …").
func (p Plan) Action(reason string) gate.Action {
	a := gate.Action{Kind: "runbook", Name: p.Runbook, Reason: reason, RequireReason: p.RequireReason}
	for _, w := range p.When {
		if w.Condition.Kind != CondCommand {
			a.Steps = append(a.Steps, gate.Step{Hosts: slices.Clone(p.HostNames), Command: "when: " + w.Text})
			continue
		}
		cmds, hosts := w.groups()
		for i, c := range cmds {
			a.Steps = append(a.Steps, gate.Step{Hosts: hosts[i],
				Command: fmt.Sprintf("when: %s (skip the host unless it exits %d)", c, w.Condition.ExpectExit)})
		}
	}
	for _, s := range p.Steps {
		keys, hosts := s.groups()
		for i, k := range keys {
			a.Steps = append(a.Steps, gate.Step{Hosts: hosts[i], Command: k.run, Rollback: k.rollback})
			if k.check != "" {
				a.Steps = append(a.Steps, gate.Step{Hosts: hosts[i], Command: "check: " + k.check})
			}
		}
	}
	return a
}

// Intent is the audit intent of the plan.
func (p Plan) Intent(reason string) audit.Intent {
	in := audit.Intent{Kind: "runbook", Name: p.Runbook, Reason: reason, Hosts: slices.Clone(p.HostNames),
		Vars: maps.Clone(p.Vars)}
	for _, w := range p.When {
		if w.Condition.Kind != CondCommand {
			in.When = append(in.When, audit.Step{Name: w.Text, Hosts: slices.Clone(p.HostNames)})
			continue
		}
		cmds, hosts := w.groups()
		for i, c := range cmds {
			in.When = append(in.When, audit.Step{Name: fmt.Sprintf("expect exit %d", w.Condition.ExpectExit), Hosts: hosts[i], Command: c})
		}
	}
	for _, s := range p.Steps {
		keys, hosts := s.groups()
		for i, k := range keys {
			in.Steps = append(in.Steps, audit.Step{Step: s.Index, Name: s.Name, Hosts: hosts[i],
				Command: k.run, Check: k.check, Rollback: k.rollback, Policy: s.step.Describe()})
		}
	}
	return in
}

// Text is the plan for a person to read (the dry run, the confirm modal): every
// precondition and step with the exact commands and the hosts that run each.
func (p Plan) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "runbook %s: %d %s\n", p.Runbook, len(p.HostNames), plural(len(p.HostNames), "host", "hosts"))
	if p.Description != "" {
		fmt.Fprintf(&b, "  %s\n", p.Description)
	}
	fmt.Fprintf(&b, "  hosts: %s\n", strings.Join(p.HostNames, ", "))
	if len(p.Vars) > 0 {
		var vs []string
		for _, k := range slices.Sorted(maps.Keys(p.Vars)) {
			vs = append(vs, k+"="+p.Vars[k])
		}
		fmt.Fprintf(&b, "  vars: %s\n", strings.Join(vs, " "))
	}
	if p.RequireReason {
		b.WriteString("  a reason is required\n")
	}
	for _, w := range p.When {
		if w.Condition.Kind != CondCommand {
			fmt.Fprintf(&b, "  when %s (hosts where it does not hold are skipped)\n", w.Text)
			continue
		}
		fmt.Fprintf(&b, "  when the command exits %d (hosts where it does not are skipped):\n", w.Condition.ExpectExit)
		cmds, hosts := w.groups()
		for i, c := range cmds {
			fmt.Fprintf(&b, "    %s\n      on %s\n", c, hostList(hosts[i]))
		}
	}
	for _, s := range p.Steps {
		name := ""
		if s.Name != "" {
			name = " " + s.Name
		}
		fmt.Fprintf(&b, "  step %d/%d%s (%s):\n", s.Index, len(p.Steps), name, s.step.Describe())
		keys, hosts := s.groups()
		for i, k := range keys {
			fmt.Fprintf(&b, "    run:      %s\n", k.run)
			if k.check != "" {
				fmt.Fprintf(&b, "    check:    %s\n", k.check)
			}
			if k.rollback != "" {
				fmt.Fprintf(&b, "    rollback: %s\n", k.rollback)
			}
			fmt.Fprintf(&b, "      on %s\n", hostList(hosts[i]))
		}
	}
	return b.String()
}

func hostList(hs []string) string {
	return fmt.Sprintf("%s (%d)", strings.Join(hs, ", "), len(hs))
}
