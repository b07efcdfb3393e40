package runbook

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
)

// inventory is five plain hosts, enough for plans; the engine's fleet tests use real ones.
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
name = "db-1"
address = "10.0.1.1"
tags = ["db"]
`

func loadConfig(t *testing.T, body string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
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
	return cfg
}

func parseOK(t *testing.T, body string) []Runbook {
	t.Helper()
	rbs, err := Parse(loadConfig(t, inventory+body))
	if err != nil {
		t.Fatal(err)
	}
	return rbs
}

func parseErr(t *testing.T, body string) string {
	t.Helper()
	_, err := Parse(loadConfig(t, inventory+body))
	if err == nil {
		t.Fatalf("no error for:\n%s", body)
	}
	return err.Error()
}

// lineOf is the 1-based line of the first occurrence of s in the config as written.
func lineOf(body, s string) int {
	i := strings.Index(inventory+body, s)
	return strings.Count((inventory + body)[:i], "\n") + 1
}

func TestParse(t *testing.T) {
	body := `
[[runbooks]]
name = "restart-app"
description = "restart the app and check it answers"
hosts = "tag:web"
require_reason = true
vars = { service = "app", retries = 3 }
on_failure = "rollback"
timeout = "20s"
when = { command = "test -f /etc/{{.Vars.service}}.conf", expect_exit = 0 }

[[runbooks.steps]]
name = "drain"
run = "lb drain {{.Host}}"
rollback = "lb undrain {{.Host}}"
serial = true

[[runbooks.steps]]
run = "systemctl restart {{.Vars.service}} --version {{.Vars.version}}"
check = "systemctl is-active {{.Vars.service}}"
batch = 2
timeout = "1m"
on_failure = "rollback-all"

[[runbooks]]
name = "clean-logs"
hosts = "all"
when = [{ metric = "disk_used", above = 90 }, { probe = "app-health", failing = false }]
steps = [{ run = "journalctl --vacuum-size=500M", on_failure = "continue" }]
`
	rbs := parseOK(t, body)
	if len(rbs) != 2 {
		t.Fatalf("%d runbooks", len(rbs))
	}
	rb := rbs[0]
	if rb.Name != "restart-app" || rb.Hosts != "tag:web" || !rb.RequireReason || len(rb.Steps) != 2 || len(rb.When) != 1 {
		t.Fatalf("%+v", rb)
	}
	if !strings.HasSuffix(rb.Source, "config.toml:"+strconv.Itoa(lineOf(body, "[[runbooks]]"))+":1") {
		t.Errorf("source %q", rb.Source)
	}
	wantVars := []Var{{"retries", "3", true}, {"service", "app", true}, {"version", "", false}}
	if len(rb.Vars) != 3 || rb.Vars[0] != wantVars[0] || rb.Vars[1] != wantVars[1] || rb.Vars[2] != wantVars[2] {
		t.Errorf("vars %+v", rb.Vars)
	}
	s0, s1 := rb.Steps[0], rb.Steps[1]
	if s0.Batch != 1 || s0.OnFailure != Rollback || s0.Timeout != 20*time.Second || s0.Name != "drain" {
		t.Errorf("step 0 inherits the runbook's defaults: %+v", s0)
	}
	if s1.Batch != 2 || s1.OnFailure != RollbackAll || s1.Timeout != time.Minute || s1.Label() != s1.Run {
		t.Errorf("step 1 %+v", s1)
	}
	if c := rb.When[0]; c.Kind != CondCommand || c.ExpectExit != 0 || c.String() != `command "test -f /etc/{{.Vars.service}}.conf" exits 0` {
		t.Errorf("when %+v %q", c, c.String())
	}
	cl := rbs[1]
	if len(cl.When) != 2 || cl.When[0].Kind != CondMetric || cl.When[0].Above != 90 || !math.IsNaN(cl.When[0].Below) ||
		cl.When[1].Kind != CondProbe || cl.When[1].Failing {
		t.Errorf("clean-logs when %+v", cl.When)
	}
	if cl.When[0].String() != "metric disk_used above 90" || cl.When[1].String() != "probe app-health passing" {
		t.Errorf("%q %q", cl.When[0], cl.When[1])
	}
	if cl.Steps[0].OnFailure != Continue || cl.Steps[0].Batch != 0 || cl.Steps[0].Describe() != "all hosts at once, on failure continue" {
		t.Errorf("clean-logs step %+v %q", cl.Steps[0], cl.Steps[0].Describe())
	}
}

func TestParseErrorsArePositioned(t *testing.T) {
	cases := []struct {
		name, body, at, want string
	}{
		{"bad step timeout", `
[[runbooks]]
name = "r"
steps = [
  { run = "true" },
  { run = "true", timeout = "soon" },
]`, `timeout = "soon"`, `runbooks[0].steps[1].timeout: must be a positive duration`},
		{"unknown step key", `
[[runbooks]]
name = "r"
[[runbooks.steps]]
run = "true"
retries = 3
`, `retries = 3`, `runbooks[0].steps[0].retries: unknown key`},
		{"unknown runbook key", `
[[runbooks]]
name = "r"
steps = [{ run = "true" }]
owner = "me"
`, `owner = "me"`, `runbooks[0].owner: unknown key`},
		{"bad policy", `
[[runbooks]]
name = "r"
steps = [{ run = "true", on_failure = "retry" }]
`, `on_failure = "retry"`, `must be one of stop, continue, rollback, rollback-all`},
		{"template syntax", `
[[runbooks]]
name = "r"
steps = [{ run = "echo {{.Host" }]
`, `run = "echo`, `runbooks[0].steps[0].run: bad template`},
		{"misspelt field", `
[[runbooks]]
name = "r"
steps = [{ run = "true", check = "ping {{.Hots}}" }]
`, `check = "ping`, `can't evaluate field Hots`},
		{"rollback with nothing to roll back", `
[[runbooks]]
name = "r"
steps = [{ run = "true", on_failure = "rollback" }]
`, `on_failure = "rollback"`, `has a rollback command`},
		{"serial and batch", `
[[runbooks]]
name = "r"
steps = [{ run = "true", serial = true, batch = 3 }]
`, `batch = 3`, `conflicts with serial`},
		{"two kinds of precondition", `
[[runbooks]]
name = "r"
when = { command = "true", metric = "disk_used", above = 1 }
steps = [{ run = "true" }]
`, `when = {`, `exactly one of command, metric or probe`},
		{"metric without bound", `
[[runbooks]]
name = "r"
when = { metric = "disk_used" }
steps = [{ run = "true" }]
`, `when = {`, `needs above, below or both`},
		{"no steps", `
[[runbooks]]
name = "r"
`, `[[runbooks]]`, `has no steps`},
		{"duplicate", `
[[runbooks]]
name = "r"
steps = [{ run = "true" }]
[[runbooks]]
name = "r"
steps = [{ run = "true" }]
`, "", `duplicate runbook name "r"`},
		{"bad var name", `
[[runbooks]]
name = "r"
vars = { "my-var" = "x" }
steps = [{ run = "true" }]
`, `"my-var"`, `variable name must be`},
		{"name with a space", `
[[runbooks]]
name = "restart app"
steps = [{ run = "true" }]
`, `name = "restart app"`, `must be one word`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := parseErr(t, c.body)
			if !strings.Contains(err, c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			if c.at != "" {
				line := lineOf(c.body, c.at)
				if !strings.Contains(err, "config.toml:"+strconv.Itoa(line)+":") {
					t.Fatalf("error %q is not at line %d", err, line)
				}
			}
		})
	}
}

func hostsOf(t *testing.T, cfg *config.Config, pattern string) []config.Host {
	t.Helper()
	hs, err := config.Resolve(cfg.Hosts, pattern)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func TestNewPlan(t *testing.T) {
	body := `
[[runbooks]]
name = "deploy"
hosts = "tag:web"
vars = { service = "app" }
when = { command = "test -d /srv/{{.Host}}" }
[[runbooks.steps]]
name = "install"
run = "install {{.Vars.service}} {{.Vars.version}} on {{.Address}}"
check = "verify {{.Vars.service}}"
rollback = "uninstall {{.Vars.service}}"
on_failure = "rollback"
[[runbooks.steps]]
run = "systemctl restart {{.Vars.service}}"
serial = true
`
	cfg := loadConfig(t, inventory+body)
	rbs, err := Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rb := rbs[0]
	hosts := hostsOf(t, cfg, rb.Hosts)

	_, err = NewPlan(rb, hosts, nil)
	var missing *MissingVarsError
	if !errors.As(err, &missing) || len(missing.Names) != 1 || missing.Names[0] != "version" || !strings.Contains(err.Error(), "--var version=") {
		t.Fatalf("missing var: %v", err)
	}
	_, err = NewPlan(rb, hosts, map[string]string{"version": "2", "verison": "2"})
	var unknown *UnknownVarError
	if !errors.As(err, &unknown) || unknown.Name != "verison" {
		t.Fatalf("unknown var: %v", err)
	}

	p, err := NewPlan(rb, hosts, map[string]string{"version": "v2", "service": "api"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Steps[0].Hosts[1]; got != (HostStep{Host: "web-2", Run: "install api v2 on 10.0.0.2", Check: "verify api", Rollback: "uninstall api"}) {
		t.Fatalf("web-2 step 1: %+v", got)
	}
	if p.When[0].Commands[0].Command != "test -d /srv/web-1" {
		t.Fatalf("when %+v", p.When[0])
	}

	a := p.Action("INC-7")
	want := []string{
		"when: test -d /srv/web-1 (skip the host unless it exits 0)",
		"when: test -d /srv/web-2 (skip the host unless it exits 0)",
		"install api v2 on 10.0.0.1", "check: verify api",
		"install api v2 on 10.0.0.2", "check: verify api",
		"systemctl restart api",
	}
	var got []string
	for _, s := range a.Steps {
		got = append(got, s.Command)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("gate steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if a.BlastRadius() != 2 || a.Reason != "INC-7" || a.Kind != "runbook" || a.Steps[2].Rollback != "uninstall api" {
		t.Fatalf("action %+v", a)
	}
	last := a.Steps[len(a.Steps)-1]
	if strings.Join(last.Hosts, ",") != "web-1,web-2" {
		t.Fatalf("identical commands share one gate step: %+v", last)
	}

	in := p.Intent("INC-7")
	if len(in.Steps) != 3 || in.Steps[2].Step != 2 || in.Steps[0].Policy != "all hosts at once, on failure rollback" ||
		in.Steps[2].Policy != "serial, on failure stop" || in.Vars["version"] != "v2" || len(in.When) != 2 {
		t.Fatalf("intent %+v", in)
	}

	text := p.Text()
	for _, s := range []string{"runbook deploy: 2 hosts", "step 1/2 install (all hosts at once, on failure rollback)",
		"run:      install api v2 on 10.0.0.1", "check:    verify api", "rollback: uninstall api",
		"on web-1 (1)", "step 2/2 (serial, on failure stop)", "on web-1, web-2 (2)", "test -d /srv/web-2"} {
		if !strings.Contains(text, s) {
			t.Errorf("plan text lacks %q:\n%s", s, text)
		}
	}
}

func TestQuote(t *testing.T) {
	rbs := parseOK(t, `
[[runbooks]]
name = "say"
vars = { msg = "it's; rm -rf /" }
steps = [{ run = "echo {{quote .Vars.msg}} {{quote .Host}}" }]
`)
	cfg := loadConfig(t, inventory)
	p, err := NewPlan(rbs[0], hostsOf(t, cfg, "web-1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Steps[0].Hosts[0].Run; got != `echo 'it'\''s; rm -rf /' web-1` {
		t.Fatalf("got %s", got)
	}
}
