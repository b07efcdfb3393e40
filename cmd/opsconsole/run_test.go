package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/ops/audit"
)

// rbEnv is a loopback fleet with testdata/runbook/fakesvc.sh installed for every host in
// root/<host>/ (on loopback every host is this machine), a config holding the fleet's
// inventory and some runbooks, and a throwaway home and state directory.
type rbEnv struct {
	fleet  *testfleet.Fleet
	root   string
	config string
	env    map[string]string
}

const rbRunbooks = `
[[runbooks]]
name = "restart-fake"
description = "restart the fake service into a version, check it, roll back on failure"
hosts = "group:fleet"
vars = { root = "ROOT", version = "v2" }
on_failure = "rollback"
[[runbooks.steps]]
name = "restart"
run = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} restart {{.Vars.version}}"
check = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} check"
rollback = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} rollback"

[[runbooks]]
name = "needs-reason"
hosts = "group:fleet"
require_reason = true
vars = { root = "ROOT" }
steps = [{ run = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} restart v9" }]

[[runbooks]]
name = "needs-var"
hosts = "group:fleet"
vars = { root = "ROOT" }
steps = [{ run = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} restart {{.Vars.version}}" }]

[[runbooks]]
name = "secrets"
hosts = "host-001"
vars = { password = "" }
steps = [{ run = ": mysql -p'hunter2' -e 'flush logs'; echo PASSWORD={{.Vars.password}}", check = ": curl -H 'Authorization: Bearer abc123' https://api; echo 'Authorization: Bearer abc123'" }]

[[runbooks]]
name = "blocker"
hosts = "group:fleet"
vars = { root = "ROOT" }
steps = [{ run = "sh {{.Vars.root}}/{{.Host}}/fakesvc.sh {{.Vars.root}}/{{.Host}} block" }]
`

func newRBEnv(t *testing.T, hosts int) *rbEnv {
	t.Helper()
	f := testfleet.Start(t, testfleet.Options{Hosts: hosts})
	e := &rbEnv{fleet: f, root: t.TempDir()}
	script, err := os.ReadFile(filepath.Join("..", "..", "testdata", "runbook", "fakesvc.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range f.Hosts {
		dir := filepath.Join(e.root, h.Name)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "fakesvc.sh"), script, 0o755)
		os.WriteFile(filepath.Join(dir, "version"), []byte("v1\n"), 0o644)
	}
	inv, err := os.ReadFile(f.InventoryPath)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	e.config = filepath.Join(home, "config.toml")
	os.WriteFile(e.config, append(inv, strings.ReplaceAll(rbRunbooks, "ROOT", e.root)...), 0o600)
	e.env = map[string]string{"HOME": home, "USER": "root", "XDG_STATE_HOME": filepath.Join(home, "state"),
		"SSH_CLIENT": "198.51.100.9 50022 22"}
	return e
}

func (e *rbEnv) auditPath() string {
	return filepath.Join(e.env["XDG_STATE_HOME"], "opsconsole", "audit.jsonl")
}

// call runs a subcommand in-process the way main does, with --config added.
func (e *rbEnv) call(ctx context.Context, fn func(context.Context, []string, stdio) error, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	io := stdio{in: strings.NewReader(""), out: &out, err: &errb, env: func(k string) string { return e.env[k] }}
	args = append([]string{"--config", e.config}, args...)
	code := exitCode(ctx, fn(ctx, args, io), io)
	return code, out.String(), errb.String()
}

func (e *rbEnv) file(host, name string) string {
	b, _ := os.ReadFile(filepath.Join(e.root, host, name))
	return strings.TrimSpace(string(b))
}

// untouched fails the test unless no host's fake service did anything.
func (e *rbEnv) untouched(t *testing.T) {
	t.Helper()
	for _, h := range e.fleet.Hosts {
		if v, log := e.file(h.Name, "version"), e.file(h.Name, "actions.log"); v != "v1" || log != "" {
			t.Fatalf("%s was touched: version %q, actions %q", h.Name, v, log)
		}
	}
}

func TestRunRestartOnFleet(t *testing.T) {
	e := newRBEnv(t, 5)
	os.WriteFile(filepath.Join(e.root, "host-003", "fail-check"), nil, 0o644)
	code, out, errs := e.call(context.Background(), runRun, "restart-fake", "--yes", "--reason", "INC-1")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1 (one host failed)\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, h := range e.fleet.Hosts {
		want := "v2"
		if h.Name == "host-003" {
			want = "v1"
		}
		if got := e.file(h.Name, "version"); got != want {
			t.Errorf("%s: %s, want %s", h.Name, got, want)
		}
	}
	if !strings.Contains(out, "host-003: rolled_back (step 1 check failed: exit 1") || !strings.Contains(out, "host-001: ok") {
		t.Errorf("stdout:\n%s", out)
	}
	if !strings.Contains(errs, "host-003: health check failed") || !strings.Contains(errs, "4 ok, 1 rolled_back") {
		t.Errorf("stderr:\n%s", errs)
	}
	recs, probs, err := audit.Read(e.auditPath())
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	in := recs[0].Intent
	if in == nil || in.Reason != "INC-1" || in.Who.SSHClient != "198.51.100.9 50022 22" || len(in.Hosts) != 5 {
		t.Fatalf("intent %+v", recs[0])
	}
	if st, _ := os.Stat(e.auditPath()); st.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v", st.Mode().Perm())
	}
}

func TestRunGateRefusals(t *testing.T) {
	e := newRBEnv(t, 5)
	ctx := context.Background()

	code, out, errs := e.call(ctx, runRun, "restart-fake")
	if code != exitRefused || out != "" || !strings.Contains(errs, "--yes") {
		t.Fatalf("no --yes: exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs = e.call(ctx, runRun, "restart-fake", "--yes", "--read-only"); code != exitRefused || !strings.Contains(errs, "read-only") {
		t.Fatalf("--read-only: exit %d %s", code, errs)
	}
	ro := filepath.Join(filepath.Dir(e.config), "ro.toml")
	b, _ := os.ReadFile(e.config)
	os.WriteFile(ro, append([]byte("read_only = true\n"), b...), 0o600)
	var o, eb bytes.Buffer
	io := stdio{in: strings.NewReader(""), out: &o, err: &eb, env: func(k string) string { return e.env[k] }}
	if code = exitCode(ctx, runRun(ctx, []string{"--config", ro, "restart-fake", "--yes"}, io), io); code != exitRefused {
		t.Fatalf("read_only in config: exit %d %s", code, eb.String())
	}
	code, _, errs = e.call(ctx, runRun, "needs-reason", "--yes")
	if code != exitUsage || !strings.Contains(errs, "--reason") {
		t.Fatalf("require_reason without --reason: exit %d %s", code, errs)
	}
	if code, _, errs = e.call(ctx, runRun, "needs-reason"); code != exitUsage {
		t.Fatalf("a missing reason is reported before a missing --yes: exit %d %s", code, errs)
	}
	e.untouched(t)
	if _, err := os.Stat(e.auditPath()); err == nil {
		t.Error("a refused run wrote to the audit log")
	}

	code, out, errs = e.call(ctx, runRun, "restart-fake", "--dry-run", "--var", "version=v7")
	if code != exitOK {
		t.Fatalf("--dry-run: exit %d %s", code, errs)
	}
	for _, h := range e.fleet.Hosts {
		dir := filepath.Join(e.root, h.Name)
		for _, want := range []string{
			"run:      sh " + dir + "/fakesvc.sh " + dir + " restart v7",
			"check:    sh " + dir + "/fakesvc.sh " + dir + " check",
			"rollback: sh " + dir + "/fakesvc.sh " + dir + " rollback",
			"on " + h.Name + " (1)",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("dry run lacks %q:\n%s", want, out)
			}
		}
	}
	code, out, _ = e.call(ctx, runRun, "restart-fake", "--dry-run", "--format", "json")
	var plan struct {
		Hosts []string
		Steps []struct {
			Hosts []struct{ Host, Run, Check, Rollback string }
		}
	}
	if err := json.Unmarshal([]byte(out), &plan); code != 0 || err != nil || len(plan.Hosts) != 5 || len(plan.Steps[0].Hosts) != 5 ||
		!strings.Contains(plan.Steps[0].Hosts[4].Run, "host-005 restart v2") {
		t.Fatalf("json plan: exit %d %v\n%s", code, err, out)
	}
	if code, _, _ = e.call(ctx, runRun, "needs-reason", "--dry-run"); code != exitOK {
		t.Fatalf("a dry run needs no reason: exit %d", code)
	}
	e.untouched(t)
	if _, err := os.Stat(e.auditPath()); err == nil {
		t.Error("a dry run wrote to the audit log")
	}
}

func TestRunUsageErrors(t *testing.T) {
	e := newRBEnv(t, 1)
	ctx := context.Background()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nope", "--yes"}, `no runbook "nope"; runbooks: restart-fake, needs-reason`},
		{nil, "name one runbook"},
		{[]string{"needs-var", "--yes"}, "needs variable version: give --var version="},
		{[]string{"needs-var", "--yes", "--var", "verison=v2"}, `has no variable "verison"`},
		{[]string{"needs-var", "--yes", "--var", "novalue"}, "want name=value"},
		{[]string{"restart-fake", "--yes", "-H", "tag:nope"}, "tag:nope"},
		{[]string{"restart-fake", "--format", "yaml"}, "--format"},
	} {
		code, _, errs := e.call(ctx, runRun, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	bad := filepath.Join(filepath.Dir(e.config), "bad.toml")
	os.WriteFile(bad, []byte("[[runbooks]]\nname = \"x\"\nsteps = [{ run = \"true\", timeout = \"never\" }]\n"), 0o600)
	var o, eb bytes.Buffer
	io := stdio{in: strings.NewReader(""), out: &o, err: &eb, env: func(k string) string { return e.env[k] }}
	code := exitCode(ctx, runRun(ctx, []string{"--config", bad, "x", "--yes"}, io), io)
	if code != exitUsage || !strings.Contains(eb.String(), "bad.toml:3:26: runbooks[0].steps[0].timeout") {
		t.Fatalf("config error: exit %d %q", code, eb.String())
	}
	e.untouched(t)
}

func TestRunRedactsSecrets(t *testing.T) {
	e := newRBEnv(t, 1)
	code, _, errs := e.call(context.Background(), runRun, "secrets", "--yes", "--var", "password=hunter2",
		"--reason", "rotate PASSWORD=x for db")
	if code != exitOK {
		t.Fatalf("exit %d %s", code, errs)
	}
	b, err := os.ReadFile(e.auditPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "abc123", "PASSWORD=x"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("audit log holds %q:\n%s", secret, b)
		}
	}
	recs, _, _ := audit.Read(e.auditPath())
	if got := recs[0].Intent.Steps[0].Command; got != ": mysql -p'***' -e 'flush logs'; echo PASSWORD=***" {
		t.Errorf("intent command %q", got)
	}
	var firsts []string
	for _, r := range recs {
		if r.Result != nil {
			firsts = append(firsts, r.Result.FirstLine)
		}
	}
	if strings.Join(firsts, "|") != "PASSWORD=***|Authorization: Bearer ***" {
		t.Errorf("result first lines %q", firsts)
	}
}

func TestRunJSONLStreamsEvents(t *testing.T) {
	e := newRBEnv(t, 2)
	code, out, errs := e.call(context.Background(), runRun, "restart-fake", "--yes", "--format", "jsonl")
	if code != exitOK {
		t.Fatalf("exit %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var kinds []string
	var last map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		kinds = append(kinds, m["kind"].(string))
		last = m
	}
	if kinds[0] != "started" || last["kind"] != "summary" || last["ok"] != true ||
		slices.Index(kinds, "command_started") < 0 || slices.Index(kinds, "command_done") < 0 {
		t.Fatalf("kinds %v last %v", kinds, last)
	}
}

// TestRunCrashLeavesIntent runs opsconsole as its own process with a step that blocks,
// waits until the intent is in the log and every host has changed, kill -9s it, and
// checks what the next reader finds: the intent, no done, and an interrupted run.
func TestRunCrashLeavesIntent(t *testing.T) {
	e := newRBEnv(t, 5)
	cmd := opsconsoleCommand(t, "run", "blocker", "--config", e.config, "--yes")
	for k, v := range e.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer os.WriteFile(filepath.Join(e.root, "release"), nil, 0o644) // end the remote loops
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ready := func() bool {
		recs, _, _ := audit.Read(e.auditPath())
		if len(recs) == 0 {
			return false
		}
		for _, h := range e.fleet.Hosts {
			if _, err := os.Stat(filepath.Join(e.root, h.Name, "started")); err != nil {
				return false
			}
		}
		return true
	}
	if !testfleet.WaitFor(context.Background(), 30*time.Second, ready) {
		cmd.Process.Kill()
		<-exited
		t.Fatalf("the run never reached every host:\n%s", stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no handler runs, nothing is flushed
		t.Fatal(err)
	}
	<-exited

	recs, probs, err := audit.Read(e.auditPath())
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if len(recs) != 1 || recs[0].Type != audit.TypeIntent || recs[0].Intent.Name != "blocker" {
		t.Fatalf("after kill -9 the log holds %+v", recs)
	}
	runs := audit.Interrupted(recs)
	if len(runs) != 1 || len(runs[0].NotStarted) != 5 || len(runs[0].Started) != 0 || runs[0].MaybeRunning() {
		t.Fatalf("interrupted %+v", runs)
	}
	code, out, errs := e.call(context.Background(), runAudit)
	if code != exitOK || !strings.Contains(out, "1 interrupted run") ||
		!strings.Contains(out, "no result from: host-001, host-002, host-003, host-004, host-005") {
		t.Fatalf("audit after the crash: exit %d\n%s\n%s", code, out, errs)
	}
}

// opsconsoleCommand is the opsconsole binary, built with go build, running args. Until
// main.go dispatches "run", the binary cannot run a runbook; then the command is this
// test binary re-executed as opsconsole (TestRunHelperProcess), which runs the same
// runRun in its own process, so the crash is just as real.
func opsconsoleCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "opsconsole")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	probe, _ := exec.Command(bin, args[0], "--help").CombinedOutput()
	if !strings.Contains(string(probe), "unknown command") {
		return exec.Command(bin, args...)
	}
	t.Logf("the built binary does not dispatch %q yet; running this test binary as opsconsole", args[0])
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestRunHelperProcess$", "--"}, args...)...)
	cmd.Env = []string{"OPSCONSOLE_RUN_HELPER=1"}
	return cmd
}

// TestRunHelperProcess is opsconsole's main for opsconsoleCommand; it does nothing in a
// normal test run.
func TestRunHelperProcess(t *testing.T) {
	if os.Getenv("OPSCONSOLE_RUN_HELPER") != "1" {
		return
	}
	args := os.Args[slices.Index(os.Args, "--")+1:]
	io := stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, env: os.Getenv}
	ctx := context.Background()
	var err error
	switch args[0] {
	case "run":
		err = runRun(ctx, args[1:], io)
	case "audit":
		err = runAudit(ctx, args[1:], io)
	default:
		err = usagef("unknown command %q", args[0])
	}
	os.Exit(exitCode(ctx, err, io))
}
