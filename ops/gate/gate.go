// Package gate is the one door every Action passes through: it turns an Action and the
// caller's mode (--yes, --dry-run, --read-only) into a decision, and renders the exact plan
// a person is asked to approve. Nothing in opsconsole changes a host except through here.
package gate

import (
	"fmt"
	"strconv"
	"strings"
)

// Step is one command of a plan, on the hosts it runs on, in order.
type Step struct {
	Hosts   []string
	Command string
	// Rollback, if set, is what undoes this step.
	Rollback string
}

// Action is an operation that may change hosts: what runs, where, and how to undo it.
type Action struct {
	// Kind names the source: "exec", "runbook", "rollout".
	Kind string
	// Name is the runbook or rollout name, or the command for an ad-hoc exec.
	Name  string
	Steps []Step
	// Reason is the operator's stated reason, when one was asked for.
	Reason string
	// RequireReason makes the confirmation ask for a reason (batch: --reason), which
	// goes into the audit log with the intent.
	RequireReason bool
}

// Hosts returns every host the action touches, each once, in plan order.
func (a Action) Hosts() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range a.Steps {
		for _, h := range s.Hosts {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	return out
}

// BlastRadius is the number of distinct hosts the action touches.
func (a Action) BlastRadius() int { return len(a.Hosts()) }

// Mode is how the caller asked: batch flags, or the TUI's state.
type Mode struct {
	Yes      bool
	DryRun   bool
	ReadOnly bool
}

// Decision is what the gate allows.
type Decision int

// Decisions. A dry run comes first: it shows the plan and changes nothing, so read-only mode
// allows it; then read-only refuses everything else.
const (
	Proceed Decision = iota
	DryRun
	RefusedReadOnly
	RefusedNeedsConfirmation
)

// Decide is the batch gate: --dry-run shows the plan, read-only refuses, --yes proceeds,
// anything else is refused until a person says yes.
func Decide(a Action, m Mode) (Decision, string) {
	switch {
	case m.DryRun:
		return DryRun, ""
	case m.ReadOnly:
		return RefusedReadOnly, fmt.Sprintf("read-only mode: refusing %s %q on %d host(s)", a.Kind, a.Name, a.BlastRadius())
	case m.Yes:
		return Proceed, ""
	}
	return RefusedNeedsConfirmation, fmt.Sprintf("%s %q would change %d host(s); review the plan with --dry-run, then confirm with --yes", a.Kind, a.Name, a.BlastRadius())
}

// DefaultTypedThreshold is the blast radius above which the TUI asks the user to type the
// host count instead of pressing a key.
const DefaultTypedThreshold = 5

// ConfirmWord is what the user must type to approve the action in the TUI, or "" when a
// keypress is enough.
func ConfirmWord(a Action, threshold int) string {
	if threshold <= 0 {
		threshold = DefaultTypedThreshold
	}
	if n := a.BlastRadius(); n > threshold {
		return strconv.Itoa(n)
	}
	return ""
}

// Plan renders the exact plan: every step, its command and the hosts it runs on.
func (a Action) Plan() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d host(s)\n", a.Kind, a.Name, a.BlastRadius())
	for i, s := range a.Steps {
		fmt.Fprintf(&b, "  step %d on %d host(s): %s\n", i+1, len(s.Hosts), s.Command)
		fmt.Fprintf(&b, "    hosts: %s\n", strings.Join(s.Hosts, ", "))
		if s.Rollback != "" {
			fmt.Fprintf(&b, "    rollback: %s\n", s.Rollback)
		}
	}
	return b.String()
}
