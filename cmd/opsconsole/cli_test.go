package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsconsole/opsconsole/internal/testfleet"
)

// cli runs the program in-process with a throwaway home, so no user config leaks in.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{"HOME": home, "USER": "root"}
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb,
		env: func(k string) string { return env[k] }})
	return code, out.String(), errb.String()
}

func TestNoConfigIsALocalFleetOfOne(t *testing.T) {
	code, out, errs := cli(t, "hosts", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var hs []hostJSON
	if err := json.Unmarshal([]byte(out), &hs); err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].Name != "local" || hs[0].Transport != "local" {
		t.Fatalf("hosts = %+v, want the local machine alone", hs)
	}
	code, out, errs = cli(t, "exec", "--", "echo", "hello")
	if code != exitRefused || out != "" || !strings.Contains(errs, "--yes") {
		t.Fatalf("echo is not on the read-only list: exit %d out %q err %q", code, out, errs)
	}
	code, out, errs = cli(t, "exec", "--yes", "--", "echo", "hello")
	if code != 0 || out != "local: hello\n" {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
}

func TestExitCodesForUsageAndConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[defaults]\nuser = \"ops\"\nbogus = 1\n"), 0o600)
	code, _, errs := cli(t, "hosts", "--config", bad)
	if code != exitUsage || !strings.Contains(errs, "bad.toml:3:1") {
		t.Fatalf("unknown key: exit %d, stderr %q: want 2 and file:line:col", code, errs)
	}
	if code, _, errs = cli(t, "hosts", "-H", "tag:nope"); code != exitUsage || !strings.Contains(errs, "tag:nope") {
		t.Fatalf("no-match pattern: exit %d %q", code, errs)
	}
	if code, _, _ = cli(t, "frobnicate"); code != exitUsage {
		t.Fatalf("unknown command: exit %d", code)
	}
	if code, _, _ = cli(t, "exec", "--format", "yaml", "--", "uptime"); code != exitUsage {
		t.Fatalf("bad format: exit %d", code)
	}
}

// Common flags typed before the subcommand count as if typed after it; anything else
// before it is the console's and is refused by its parser, naming the flag once.
func TestCommonFlagsBeforeTheSubcommand(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.toml")
	os.WriteFile(inv, []byte("[[hosts]]\nname = \"web-1\"\naddress = \"10.0.0.1\"\n\n[[hosts]]\nname = \"db-1\"\naddress = \"10.0.0.2\"\n"), 0o600)
	for _, args := range [][]string{
		{"--config", inv, "hosts", "-H", "web-*", "--format", "json"},
		{"--config=" + inv, "--format", "json", "hosts", "-H", "web-*"},
		{"--read-only", "--config", inv, "--format=json", "hosts", "-H", "web-*"},
		{"hosts", "--config", inv, "-H", "web-*", "--format", "json"},
	} {
		code, out, errs := cli(t, args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errs)
		}
		var hs []hostJSON
		if err := json.Unmarshal([]byte(out), &hs); err != nil {
			t.Fatalf("%q: %v in %q", args, err, out)
		}
		if len(hs) != 1 || hs[0].Name != "web-1" {
			t.Fatalf("%q: hosts = %+v, want web-1 alone", args, hs)
		}
	}
	code, _, errs := cli(t, "--bogus", "hosts")
	if code != exitUsage || !strings.Contains(errs, "-bogus") || strings.Count(errs, "opsconsole:") != 1 {
		t.Fatalf("unknown flag before the subcommand: exit %d, stderr %q", code, errs)
	}
	// A value that happens to be a subcommand's name is still the flag's value.
	code, _, errs = cli(t, "--config", filepath.Join(dir, "logs"), "hosts")
	if code != exitUsage || !strings.Contains(errs, filepath.Join(dir, "logs")) {
		t.Fatalf("--config DIR/logs hosts: exit %d, stderr %q", code, errs)
	}
	code, _, errs = cli(t, "--config", "logs", "hosts")
	if code != exitUsage || !strings.Contains(errs, "logs") {
		t.Fatalf("--config logs hosts: exit %d, stderr %q", code, errs)
	}
}

func TestExecOnFleet(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 6})
	inv := f.InventoryPath

	t.Run("prefixed", func(t *testing.T) {
		code, out, errs := cli(t, "exec", "--config", inv, "-H", "host-00[12]", "--yes", "--", "printf 'a\\nb\\n'")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		want := map[string]int{"host-001: a": 1, "host-001: b": 1, "host-002: a": 1, "host-002: b": 1}
		for _, l := range lines {
			want[l]--
		}
		for l, n := range want {
			if n != 0 {
				t.Fatalf("line %q count off by %d in %q", l, n, out)
			}
		}
		if !strings.Contains(errs, "2 hosts: 2 ok") {
			t.Fatalf("summary: %q", errs)
		}
	})
	t.Run("grouped", func(t *testing.T) {
		code, out, _ := cli(t, "exec", "--config", inv, "--group", "--yes", "--",
			`case $SSH_CONNECTION in *127.0.1.6\ *) echo odd-one; exit 2;; *) echo same;; esac`)
		if code != exitFailed {
			t.Fatalf("exit %d, want 1 for one failed host", code)
		}
		if !strings.Contains(out, "host-[001-005] (5)\n") || !strings.Contains(out, "host-006 (1) [exit 2]") {
			t.Fatalf("grouped output:\n%s", out)
		}
	})
	t.Run("jsonl", func(t *testing.T) {
		code, out, _ := cli(t, "exec", "--config", inv, "--format", "jsonl", "--", "uptime")
		if code != 0 {
			t.Fatalf("uptime is read-only and needs no --yes: exit %d", code)
		}
		n := 0
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var r resultJSON
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.Outcome != "ok" || !strings.Contains(r.Stdout, "load average") {
				t.Fatalf("line %q: %v", l, err)
			}
			n++
		}
		if n != 6 {
			t.Fatalf("%d lines, want 6", n)
		}
	})
	t.Run("gate", func(t *testing.T) {
		dir := t.TempDir()
		marker := filepath.Join(dir, "touched")
		auditPath := filepath.Join(dir, "audit.jsonl")
		src, _ := os.ReadFile(f.InventoryPath)
		inv := filepath.Join(dir, "config.toml")
		os.WriteFile(inv, append(src, fmt.Sprintf("\n[audit]\npath = %q\n", auditPath)...), 0o600)
		cmd := "touch " + marker
		if code, out, _ := cli(t, "exec", "--config", inv, "-H", "host-001", "--dry-run", "--", cmd); code != 0 || !strings.Contains(out, "hosts: host-001") {
			t.Fatalf("dry-run: exit %d out %q", code, out)
		}
		if code, _, _ := cli(t, "exec", "--config", inv, "-H", "host-001", "--", cmd); code != exitRefused {
			t.Fatalf("without --yes: exit %d", code)
		}
		if code, _, _ := cli(t, "exec", "--config", inv, "-H", "host-001", "--read-only", "--yes", "--", cmd); code != exitRefused {
			t.Fatalf("read-only with --yes: exit %d", code)
		}
		if _, err := os.Stat(marker); !os.IsNotExist(err) {
			t.Fatalf("a refused command ran: %v", err)
		}
		if code, _, errs := cli(t, "exec", "--config", inv, "-H", "host-001", "--yes", "--", cmd); code != 0 {
			t.Fatalf("with --yes: exit %d %s", code, errs)
		}
		if _, err := os.Stat(marker); err != nil {
			t.Fatalf("confirmed command did not run: %v", err)
		}
		// Only the confirmed run reached the audit log: intent, one result, done.
		code, out, errs := cli(t, "audit", "--config", inv, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("audit: exit %d %s", code, errs)
		}
		if n := strings.Count(out, `"type":"intent"`); n != 1 || !strings.Contains(out, "touch "+marker) ||
			strings.Count(out, `"type":"result"`) != 1 || strings.Count(out, `"type":"done"`) != 1 {
			t.Fatalf("audit log:\n%s", out)
		}
	})
	t.Run("check", func(t *testing.T) {
		code, out, errs := cli(t, "check", "--config", inv, "--format", "json")
		var reps []checkJSON
		if err := json.Unmarshal([]byte(out), &reps); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if len(reps) != 6 {
			t.Fatalf("%d reports", len(reps))
		}
		for _, r := range reps {
			if r.Metrics == nil || r.Metrics.Cores < 1 || r.Metrics.MemTotal == 0 || len(r.Metrics.Disks) == 0 {
				t.Fatalf("%s: metrics %+v err %q", r.Host, r.Metrics, r.Error)
			}
			if r.Status == "down" || r.Status == "unknown" {
				t.Fatalf("%s: %s", r.Host, r.Status)
			}
		}
		// The exit code follows the judgement: 0 only if every host is ok.
		allOK := true
		for _, r := range reps {
			allOK = allOK && r.Status == "ok"
		}
		if (code == 0) != allOK {
			t.Fatalf("exit %d with all-ok=%v: %s", code, allOK, errs)
		}
	})
}
