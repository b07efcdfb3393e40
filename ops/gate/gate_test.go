package gate

import (
	"strings"
	"testing"
)

func action(hosts ...string) Action {
	return Action{Kind: "exec", Name: "systemctl restart app", Steps: []Step{{Hosts: hosts, Command: "systemctl restart app"}}}
}

func TestDecide(t *testing.T) {
	a := action("web-1", "web-2")
	cases := []struct {
		mode Mode
		want Decision
	}{
		{Mode{}, RefusedNeedsConfirmation},
		{Mode{Yes: true}, Proceed},
		{Mode{DryRun: true}, DryRun},
		{Mode{ReadOnly: true, Yes: true}, RefusedReadOnly},
		// A dry run changes nothing, so read-only mode still shows the plan.
		{Mode{ReadOnly: true, DryRun: true}, DryRun},
	}
	for _, c := range cases {
		if got, why := Decide(a, c.mode); got != c.want {
			t.Errorf("Decide(%+v) = %v (%s), want %v", c.mode, got, why, c.want)
		}
	}
	if _, why := Decide(a, Mode{}); !strings.Contains(why, "--yes") || !strings.Contains(why, "2 host(s)") {
		t.Errorf("refusal does not say how to proceed: %q", why)
	}
}

func TestConfirmWordAboveThreshold(t *testing.T) {
	if w := ConfirmWord(action("a", "b", "c"), 5); w != "" {
		t.Errorf("3 hosts under threshold 5 asked for %q", w)
	}
	many := action("a", "b", "c", "d", "e", "f")
	if w := ConfirmWord(many, 5); w != "6" {
		t.Errorf("6 hosts: word %q, want the host count", w)
	}
	if w := ConfirmWord(many, 0); w != "6" {
		t.Errorf("default threshold: word %q", w)
	}
}

func TestPlanListsEveryHostAndStepOnce(t *testing.T) {
	a := Action{Kind: "runbook", Name: "restart-app", Steps: []Step{
		{Hosts: []string{"web-1", "web-2"}, Command: "systemctl restart app", Rollback: "systemctl start app-old"},
		{Hosts: []string{"web-2"}, Command: "systemctl is-active app"},
	}}
	if n := a.BlastRadius(); n != 2 {
		t.Fatalf("blast radius %d, want 2 distinct hosts", n)
	}
	p := a.Plan()
	for _, w := range []string{"runbook restart-app: 2 host(s)", "step 1 on 2 host(s): systemctl restart app",
		"hosts: web-1, web-2", "rollback: systemctl start app-old", "step 2 on 1 host(s): systemctl is-active app"} {
		if !strings.Contains(p, w) {
			t.Errorf("plan lacks %q:\n%s", w, p)
		}
	}
}
