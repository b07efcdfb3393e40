package heal

import (
	"fmt"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/runbook"
)

// Plan renders the runbook a suggestion names for the one host of its incident, with the
// rule's variables: the exact plan the gate shows and Run executes. A heal always runs on
// the sick host alone; the rest of the group is another incident's business.
func Plan(rule Rule, runbooks []runbook.Runbook, host config.Host) (runbook.Plan, error) {
	rb, ok := runbook.Find(runbooks, rule.Runbook)
	if !ok {
		return runbook.Plan{}, fmt.Errorf("rule %q: no runbook %q", rule.Name, rule.Runbook)
	}
	return runbook.NewPlan(rb, []config.Host{host}, rule.Vars)
}

// Reason is what the audit intent records as the reason for a heal: who proposed it,
// the rule and what it saw, so the log answers "why did this run?" on its own.
func Reason(inc Incident, s Suggestion, auto bool) string {
	who := "self-heal"
	if auto {
		who = "automatic self-heal"
	}
	why := s.Why
	if why == "" {
		why = inc.Detail
	}
	return fmt.Sprintf("%s for incident %s: rule %q: %s", who, inc.ID, s.Rule, why)
}
