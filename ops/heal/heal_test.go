package heal

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/runbook"
)

const inventory = `
[[hosts]]
name = "web-1"
address = "10.0.0.1"
tags = ["web"]
[[hosts]]
name = "web-2"
address = "10.0.0.2"
tags = ["web"]
[[hosts]]
name = "web-3"
address = "10.0.0.3"
tags = ["web"]
[[hosts]]
name = "web-4"
address = "10.0.0.4"
tags = ["web"]
[[hosts]]
name = "db-1"
address = "10.0.1.1"
tags = ["db"]

[[runbooks]]
name = "clean-logs"
hosts = "tag:web"
steps = [{ run = "journalctl --vacuum-size={{.Vars.keep}}" }]
vars = { keep = "500M" }

[[runbooks]]
name = "restart-app"
steps = [{ run = "systemctl restart {{.Vars.service}}", check = "systemctl is-active {{.Vars.service}}" }]
`

func load(t *testing.T, body string) (*config.Config, []runbook.Runbook) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(inventory+body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{ConfigFile: p, Env: func(k string) string {
		if k == "HOME" {
			return dir
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	rbs, err := runbook.Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, rbs
}

func parseOK(t *testing.T, body string) []Rule {
	t.Helper()
	cfg, rbs := load(t, body)
	rules, err := Parse(cfg, rbs)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// lineOf is the 1-based line of the first occurrence of s in the config as written.
func lineOf(body, s string) int {
	all := inventory + body
	return strings.Count(all[:strings.Index(all, s)], "\n") + 1
}

func TestParse(t *testing.T) {
	rules := parseOK(t, `
[[heal]]
when = "disk_used > 90"
runbook = "clean-logs"
auto = true
cooldown = "30m"

[[heal]]
name = "app down"
hosts = "web-1,web-2"
probe = "app-health"
failing = 3
runbook = "restart-app"
vars = { service = "app" }
max_per_host_per_hour = 2
max_group_percent = 50

[[heal]]
hosts = "all"
when = ['status = "down"']
runbook = "restart-app"
vars = { service = "app" }

[[heal]]
hosts = "tag:web"
marker = "oom"
runbook = "restart-app"
vars = { service = "app" }

[[heal]]
hosts = "tag:db"
when = ["load_per_core >= 2.5", "mem_used > 80%"]
runbook = "restart-app"
vars = { service = "db" }
`)
	if len(rules) != 5 {
		t.Fatalf("%d rules", len(rules))
	}
	r := rules[0]
	if r.Name != "clean-logs: disk_used > 90" || r.Hosts != "tag:web" || strings.Join(r.Group, ",") != "web-1,web-2,web-3,web-4" ||
		!r.Auto || r.MaxPerHostPerHour != 1 || r.MaxGroupPercent != 25 || r.Cooldown != 30*time.Minute || r.GroupCap() != 1 {
		t.Fatalf("rule 0 takes the runbook's hosts and the defaults: %+v", r)
	}
	if r.Trigger.Kind() != KindUnhealthy || !r.Covers("web-3") || r.Covers("db-1") {
		t.Errorf("rule 0 trigger %+v", r.Trigger)
	}
	if !strings.HasSuffix(r.Source, "config.toml:"+strconv.Itoa(lineOf(`
[[heal]]`, "[[heal]]"))+":1") {
		t.Errorf("source %s", r.Source)
	}
	r = rules[1]
	if r.Name != "app down" || r.Trigger.Probe != "app-health" || r.Trigger.Failing != 3 || r.Trigger.Kind() != KindProbe ||
		r.Auto || r.MaxPerHostPerHour != 2 || r.GroupCap() != 1 || r.Vars["service"] != "app" {
		t.Errorf("rule 1 %+v", r)
	}
	if k := rules[2].Trigger.Kind(); k != KindDown || rules[2].Trigger.String() != "status = down" {
		t.Errorf("rule 2 %s %q", k, rules[2].Trigger)
	}
	if rules[3].Trigger.Kind() != KindMarker || rules[3].Trigger.Marker != "oom" {
		t.Errorf("rule 3 %+v", rules[3].Trigger)
	}
	if got := rules[4].Trigger.String(); got != "load_per_core >= 2.5 and mem_used > 80" {
		t.Errorf("rule 4 %q", got)
	}
}

func TestParseErrorsArePositioned(t *testing.T) {
	cases := []struct {
		name, body, at, want string
	}{
		{"unknown runbook", `
[[heal]]
when = "disk_used > 90"
runbook = "clean-disk"
`, `runbook = "clean-disk"`, `heal[0].runbook: no runbook "clean-disk" (runbooks: clean-logs, restart-app)`},
		{"unknown key", `
[[heal]]
when = "disk_used > 90"
runbook = "clean-logs"
retries = 2
`, `retries = 2`, `heal[0].retries: unknown key`},
		{"bad condition", `
[[heal]]
when = "disk_full"
runbook = "clean-logs"
`, `when = "disk_full"`, `heal[0].when: "disk_full": want METRIC OP NUMBER`},
		{"unknown metric", `
[[heal]]
when = "disk_usage > 90"
runbook = "clean-logs"
`, `when = "disk_usage`, `unknown metric "disk_usage"`},
		{"status compared with >", `
[[heal]]
when = "status > down"
runbook = "clean-logs"
`, `when = "status`, `status is compared with =`},
		{"status ok", `
[[heal]]
when = "status = ok"
runbook = "clean-logs"
`, `when = "status`, `status must be down, crit, warn or unknown`},
		{"two triggers", `
[[heal]]
when = "disk_used > 90"
marker = "oom"
runbook = "clean-logs"
`, `marker = "oom"`, `exactly one of when, probe, marker or alert`},
		{"no trigger", `
[[heal]]
runbook = "clean-logs"
`, `[[heal]]`, `needs a condition`},
		{"failing without probe", `
[[heal]]
marker = "oom"
failing = 2
runbook = "clean-logs"
`, `failing = 2`, `heal[0].failing: applies to a probe rule only`},
		{"failing zero", `
[[heal]]
probe = "app"
failing = 0
runbook = "clean-logs"
`, `failing = 0`, `must be at least 1`},
		{"percent", `
[[heal]]
when = "cpu_used > 90"
runbook = "clean-logs"
max_group_percent = 150
`, `max_group_percent = 150`, `heal[0].max_group_percent: must be 1-100`},
		{"per hour", `
[[heal]]
when = "cpu_used > 90"
runbook = "clean-logs"
max_per_host_per_hour = 0
`, `max_per_host_per_hour = 0`, `must be at least 1`},
		{"cooldown", `
[[heal]]
when = "cpu_used > 90"
runbook = "clean-logs"
cooldown = "a while"
`, `cooldown = "a while"`, `heal[0].cooldown: must be a duration`},
		{"hosts select nothing", `
[[heal]]
hosts = "tag:cache"
when = "cpu_used > 90"
runbook = "clean-logs"
`, `hosts = "tag:cache"`, `heal[0].hosts: hosts "tag:cache"`},
		{"missing var", `
[[heal]]
when = "cpu_used > 90"
runbook = "restart-app"
`, `runbook = "restart-app"`, `runbook "restart-app" needs service: a heal rule gives them in vars = { service = "…" }`},
		{"unknown var", `
[[heal]]
when = "cpu_used > 90"
runbook = "restart-app"
vars = { service = "app", sevrice = "x" }
`, `sevrice = "x"`, `heal[0].vars.sevrice: runbook "restart-app" has no variable "sevrice"`},
		{"auto not a boolean", `
[[heal]]
when = "cpu_used > 90"
runbook = "clean-logs"
auto = "yes"
`, `auto = "yes"`, `heal[0].auto: must be true or false`},
		{"duplicate name", `
[[heal]]
when = "cpu_used > 90"
runbook = "clean-logs"
[[heal]]
when = "cpu_used > 90"
runbook = "clean-logs"
`, "", `duplicate heal rule name "clean-logs: cpu_used > 90"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, rbs := load(t, c.body)
			_, err := Parse(cfg, rbs)
			if err == nil {
				t.Fatalf("no error for:\n%s", c.body)
			}
			var list config.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("not a config.ErrorList: %T %v", err, err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			if c.at != "" {
				line := lineOf(c.body, c.at)
				if !strings.Contains(err.Error(), "config.toml:"+strconv.Itoa(line)+":") {
					t.Fatalf("error %q is not at line %d", err, line)
				}
			}
		})
	}
}

func TestNoRules(t *testing.T) {
	if rules := parseOK(t, ""); rules != nil {
		t.Fatalf("%+v", rules)
	}
}

func TestPlanAndReason(t *testing.T) {
	cfg, rbs := load(t, `
[[heal]]
hosts = "tag:web"
probe = "app-health"
failing = 3
runbook = "restart-app"
vars = { service = "api" }
`)
	rules, err := Parse(cfg, rbs)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Plan(rules[0], rbs, cfg.Hosts[1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.HostNames, ",") != "web-2" || p.Steps[0].Hosts[0].Run != "systemctl restart api" {
		t.Fatalf("plan %+v", p)
	}
	inc := Incident{ID: "web-2/probe/app-health"}
	got := Reason(inc, Suggestion{Rule: rules[0].Name, Why: "probe app-health failed 3× in a row"}, true)
	if got != `automatic self-heal for incident web-2/probe/app-health: rule "restart-app: probe app-health failing 3×": probe app-health failed 3× in a row` {
		t.Fatalf("reason %q", got)
	}
}
