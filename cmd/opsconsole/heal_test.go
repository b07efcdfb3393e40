package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/heal"
)

// newHealEnv is the runbook test fleet (rbEnv) with testdata/heal/heal.toml added to its
// config: a rule that applies to every host (disk_used > 0), automatic, at most 40% of
// the fleet at once, and a runbook that appends to ROOT/<host>/healed.
func newHealEnv(t *testing.T, hosts int) *rbEnv {
	t.Helper()
	e := newRBEnv(t, hosts)
	rules, err := os.ReadFile(filepath.Join("..", "..", "testdata", "heal", "heal.toml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(e.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n" + strings.ReplaceAll(string(rules), "ROOT", e.root)); err != nil {
		t.Fatal(err)
	}
	return e
}

// healed counts the heals each host received.
func (e *rbEnv) healed() map[string]int {
	out := map[string]int{}
	for _, h := range e.fleet.Hosts {
		if s := e.file(h.Name, "healed"); s != "" {
			out[h.Name] = strings.Count(s, "healed")
		}
	}
	return out
}

func (e *rbEnv) statePath() string {
	return filepath.Join(e.env["XDG_STATE_HOME"], "opsconsole", heal.StateFile)
}

func TestHealGateAndDryRun(t *testing.T) {
	e := newHealEnv(t, 5)
	ctx := context.Background()

	code, out, errs := e.call(ctx, runHeal, "--dry-run")
	if code != exitOK {
		t.Fatalf("--dry-run: exit %d\n%s\n%s", code, out, errs)
	}
	// 40% of 5 hosts is 2 at once: two plans, three held back by the group's share.
	if n := strings.Count(out, "runbook mark-healed: 1 host"); n != 2 {
		t.Fatalf("dry run shows %d plans, want 2:\n%s", n, out)
	}
	if n := strings.Count(out, "held back now: 2 of the rule's 5 hosts already in flight (max_group_percent 40% allows 2 at once)"); n != 3 {
		t.Fatalf("dry run shows %d held, want 3:\n%s", n, out)
	}
	dir := filepath.Join(e.root, "host-001")
	for _, want := range []string{"# host-001: disk_used", "> 0 → mark-healed (rule any-disk)",
		"run:      echo healed >> " + dir + "/healed", "check:    test -s " + dir + "/healed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, `rule "app-health" needs probe results, which only the console has; skipped`) ||
		!strings.Contains(errs, "heal: 5 hosts checked, 5 incidents; 2 automatic heals allowed now, 3 held back") {
		t.Errorf("stderr:\n%s", errs)
	}

	code, out, errs = e.call(ctx, runHeal)
	if code != exitRefused || out != "" || !strings.Contains(errs, "confirm with --yes") {
		t.Fatalf("no --yes: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs = e.call(ctx, runHeal, "--yes", "--read-only"); code != exitRefused || !strings.Contains(errs, "read-only") {
		t.Fatalf("--read-only: exit %d %s", code, errs)
	}
	if code, _, errs = e.call(ctx, runHeal, "--format", "jsonl"); code != exitUsage {
		t.Fatalf("jsonl: exit %d %s", code, errs)
	}

	if h := e.healed(); len(h) != 0 {
		t.Fatalf("refused or dry runs healed %v", h)
	}
	for _, p := range []string{e.auditPath(), e.statePath()} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a run that did nothing wrote %s", p)
		}
	}
}

func TestHealRunsWithinLimitsAndRemembersThem(t *testing.T) {
	e := newHealEnv(t, 5)
	ctx := context.Background()

	code, out, errs := e.call(ctx, runHeal, "--yes")
	if code != exitOK {
		t.Fatalf("heal --yes: exit %d\n%s\n%s", code, out, errs)
	}
	first := e.healed()
	if len(first) != 2 || first["host-001"] != 1 || first["host-002"] != 1 {
		t.Fatalf("first heal: %v, want host-001 and host-002 once (40%% of 5)\n%s", first, errs)
	}
	if !strings.Contains(out, "host-001: ok") || !strings.Contains(out, "host-002: ok") {
		t.Errorf("stdout:\n%s", out)
	}
	if !strings.Contains(errs, "heal: host-001: running mark-healed (rule any-disk: disk_used") ||
		strings.Count(errs, "held back: 2 of the rule's 5 hosts already in flight") != 3 {
		t.Errorf("stderr:\n%s", errs)
	}

	// Every heal is an audited Action, with the rule as its reason.
	recs, probs, err := audit.Read(e.auditPath())
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	actions := audit.Group(recs)
	if len(actions) != 2 {
		t.Fatalf("%d audited actions, want 2", len(actions))
	}
	for _, a := range actions {
		if a.Done == nil || a.Done.Outcome != "ok" || len(a.Intent.Hosts) != 1 || a.Intent.Name != "mark-healed" ||
			!strings.HasPrefix(a.Intent.Reason, "automatic self-heal for incident "+a.Intent.Hosts[0]+"/unhealthy: rule \"any-disk\": disk_used") {
			t.Errorf("action %+v %+v", a.Intent, a.Done)
		}
	}
	st, err := heal.LoadState(e.statePath())
	if err != nil || len(st.Runs) != 2 || st.Runs[0].End.IsZero() || st.Runs[1].End.IsZero() {
		t.Fatalf("state %+v %v", st, err)
	}

	// Within the hour the hosts already healed are held back by the persisted hourly
	// limit; the group's share, free again, goes to the next two.
	code, out, errs = e.call(ctx, runHeal, "--yes", "--format", "json")
	if code != exitOK {
		t.Fatalf("second heal: exit %d\n%s\n%s", code, out, errs)
	}
	second := e.healed()
	if second["host-001"] != 1 || second["host-002"] != 1 || second["host-003"] != 1 || second["host-004"] != 1 || second["host-005"] != 0 {
		t.Fatalf("second heal: %v", second)
	}
	var doc struct {
		Incidents []struct{ ID string }
		Heals     []struct {
			Host, Status string
			Held         string `json:"held_because"`
			Result       *struct {
				ID string
				OK bool
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var statuses []string
	for _, h := range doc.Heals {
		statuses = append(statuses, h.Host+"="+h.Status)
		if h.Status == "ran" && (h.Result == nil || !h.Result.OK || h.Result.ID == "") {
			t.Errorf("ran without a result: %+v", h)
		}
	}
	if got := strings.Join(statuses, " "); got != "host-001=held host-002=held host-003=ran host-004=ran host-005=held" {
		t.Fatalf("heals %s\n%s", got, out)
	}
	if !strings.Contains(doc.Heals[0].Held, "1 automatic run on host-001 in the last hour (max_per_host_per_hour 1)") {
		t.Errorf("held because %q", doc.Heals[0].Held)
	}
	if len(doc.Incidents) != 5 {
		t.Errorf("%d incidents", len(doc.Incidents))
	}

	// A third run heals the last host; a fourth finds nothing allowed and runs nothing.
	e.call(ctx, runHeal, "--yes")
	code, _, errs = e.call(ctx, runHeal, "--yes")
	if code != exitOK || !strings.Contains(errs, "0 automatic heals allowed now, 5 held back") {
		t.Fatalf("fourth heal: exit %d\n%s", code, errs)
	}
	final := e.healed()
	for _, h := range e.fleet.Hosts {
		if final[h.Name] != 1 {
			t.Fatalf("after four rounds: %v, want every host healed once", final)
		}
	}
	recs, _, _ = audit.Read(e.auditPath())
	if n := len(audit.Group(recs)); n != 5 {
		t.Fatalf("%d audited actions, want 5", n)
	}
}

func TestHealUsageErrors(t *testing.T) {
	e := newRBEnv(t, 1)
	ctx := context.Background()
	if code, _, errs := e.call(ctx, runHeal, "--yes"); code != exitUsage || !strings.Contains(errs, "no [[heal]] rules") {
		t.Fatalf("no rules: exit %d %s", code, errs)
	}
	if code, _, errs := e.call(ctx, runHeal, "now"); code != exitUsage || !strings.Contains(errs, `unexpected argument "now"`) {
		t.Fatalf("argument: exit %d %s", code, errs)
	}
	bad := filepath.Join(filepath.Dir(e.config), "bad.toml")
	b, _ := os.ReadFile(e.config)
	os.WriteFile(bad, append(b, "\n[[heal]]\nwhen = \"disk_used > 90\"\nrunbook = \"clean\"\n"...), 0o600)
	var o, eb bytes.Buffer
	io := stdio{in: strings.NewReader(""), out: &o, err: &eb, env: func(k string) string { return e.env[k] }}
	code := exitCode(ctx, runHeal(ctx, []string{"--config", bad, "--yes"}, io), io)
	line := strings.Count(string(b), "\n") + 4 // the runbook line of the rule appended
	if code != exitUsage || !strings.Contains(eb.String(), "bad.toml:"+strconv.Itoa(line)+":") ||
		!strings.Contains(eb.String(), `heal[0].runbook: no runbook "clean"`) {
		t.Fatalf("bad rule: exit %d %s (want line %d)", code, eb.String(), line)
	}
	e.untouched(t)
}
