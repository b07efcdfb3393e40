package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/ops/audit"
)

// auditEnv is a home whose audit log holds: an old finished exec, a finished runbook run
// with a reason, an interrupted run, and a torn last line.
type auditEnv struct {
	env  map[string]string
	path string
	ids  []audit.ActionID
}

func newAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	home := t.TempDir()
	e := &auditEnv{env: map[string]string{"HOME": home, "USER": "root", "XDG_STATE_HOME": filepath.Join(home, "state")}}
	e.path = filepath.Join(home, "state", "opsconsole", "audit.jsonl")
	now := time.Now()
	clock := now.Add(-72 * time.Hour)
	l, err := audit.Open(e.path, audit.Options{Now: func() time.Time { return clock },
		Env: func(k string) string { return map[string]string{"SSH_CLIENT": "198.51.100.9 50022 22"}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := l.Intent(audit.Intent{Kind: "exec", Name: "uptime", Steps: []audit.Step{{Step: 1, Hosts: []string{"web-1"}, Command: "uptime"}}})
	l.Result(id, audit.Result{Host: "web-1", Step: 1, Outcome: "ok", FirstLine: "up 3 days"})
	l.Done(id, audit.Done{Outcome: "ok", Hosts: map[string]string{"web-1": "ok"}})
	e.ids = append(e.ids, id)

	clock = now.Add(-time.Hour)
	id, _ = l.Intent(audit.Intent{Kind: "runbook", Name: "restart-app", Reason: "INC-9",
		Steps: []audit.Step{{Step: 1, Hosts: []string{"web-1", "web-2"}, Command: "systemctl restart app", Check: "systemctl is-active app"}}})
	l.Result(id, audit.Result{Host: "web-1", Step: 1, Phase: "run", Outcome: "ok"})
	l.Result(id, audit.Result{Host: "web-2", Step: 1, Phase: "run", Outcome: "failed", ExitCode: 3, FirstLine: "Job failed"})
	l.Done(id, audit.Done{Outcome: "failed", Hosts: map[string]string{"web-1": "ok", "web-2": "failed"}})
	e.ids = append(e.ids, id)

	clock = now.Add(-time.Minute)
	id, _ = l.Intent(audit.Intent{Kind: "runbook", Name: "clean-logs",
		Steps: []audit.Step{{Step: 1, Hosts: []string{"db-1", "db-2", "db-3"}, Command: "journalctl --vacuum-size=1G"}}})
	l.Result(id, audit.Result{Host: "db-2", Step: 1, Phase: "run", Outcome: "ok"})
	e.ids = append(e.ids, id)
	l.Close()
	f, _ := os.OpenFile(e.path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"type":"result","id":"` + string(id) + `","result":{"host":"db-1","out`)
	f.Close()
	return e
}

func (e *auditEnv) call(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	io := stdio{in: strings.NewReader(""), out: &out, err: &errb, env: func(k string) string { return e.env[k] }}
	ctx := context.Background()
	code := exitCode(ctx, runAudit(ctx, args, io), io)
	return code, out.String(), errb.String()
}

func TestAuditText(t *testing.T) {
	e := newAuditEnv(t)
	code, out, errs := e.call()
	if code != exitOK {
		t.Fatalf("exit %d %s", code, errs)
	}
	if !strings.Contains(errs, "line 10 (byte offset") || !strings.Contains(errs, "torn record") {
		t.Errorf("the torn line is reported on stderr with its offset: %q", errs)
	}
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], string(e.ids[0])) || !strings.Contains(lines[0], "exec uptime  1 host  ok (1 ok)") {
		t.Errorf("line 1: %q", lines[0])
	}
	if !strings.Contains(lines[1], "root from 198.51.100.9  runbook restart-app  2 hosts  failed (1 failed, 1 ok)  reason: INC-9") {
		t.Errorf("line 2: %q", lines[1])
	}
	for _, want := range []string{"1 interrupted run", string(e.ids[2]) + "  runbook clean-logs", "db-2: last reported step 1 run: ok",
		"no result from: db-1, db-3"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = e.call("--since", "2h")
	if code != exitOK || strings.Contains(out, string(e.ids[0])) || !strings.Contains(out, string(e.ids[1])) {
		t.Errorf("--since 2h:\n%s", out)
	}
	code, out, _ = e.call("--id", string(e.ids[1]))
	if code != exitOK || !strings.Contains(out, "run: systemctl restart app") || !strings.Contains(out, `web-2 step 1 run: failed exit 3`) ||
		!strings.Contains(out, `"Job failed"`) || strings.Contains(out, string(e.ids[0])) {
		t.Errorf("--id:\n%s", out)
	}
	if code, _, _ = e.call("--id", "nope"); code != exitUsage {
		t.Errorf("unknown id: exit %d", code)
	}
	if code, _, _ = e.call("--since", "yesterday-ish"); code != exitUsage {
		t.Errorf("bad --since: exit %d", code)
	}
}

func TestAuditJSON(t *testing.T) {
	e := newAuditEnv(t)
	code, out, _ := e.call("--format", "json", "--since", "2026-01-01")
	if code != exitOK {
		t.Fatal(code)
	}
	var doc struct {
		Log     string
		Actions []struct {
			ID          string
			Interrupted bool
			NotStarted  []string `json:"not_started"`
			Results     []audit.Result
		}
		Problems []struct {
			Line   int
			Offset int64
			Torn   bool
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Log != e.path || len(doc.Actions) != 3 || !doc.Actions[2].Interrupted || doc.Actions[1].Interrupted ||
		strings.Join(doc.Actions[2].NotStarted, ",") != "db-1,db-3" || len(doc.Actions[1].Results) != 2 {
		t.Fatalf("%+v", doc)
	}
	if len(doc.Problems) != 1 || !doc.Problems[0].Torn || doc.Problems[0].Line != 10 || doc.Problems[0].Offset <= 0 {
		t.Fatalf("problems %+v", doc.Problems)
	}

	code, out, _ = e.call("--format", "jsonl", "--since", "10m")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(lines) != 2 {
		t.Fatalf("jsonl since 10m: %d lines\n%s", len(lines), out)
	}
	var rec audit.Record
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec.Type != audit.TypeIntent || rec.ID != e.ids[2] {
		t.Fatalf("%v %+v", err, rec)
	}
}

func TestAuditNoLogYet(t *testing.T) {
	home := t.TempDir()
	var out, errb bytes.Buffer
	io := stdio{in: strings.NewReader(""), out: &out, err: &errb, env: func(k string) string {
		return map[string]string{"HOME": home}[k]
	}}
	ctx := context.Background()
	if code := exitCode(ctx, runAudit(ctx, nil, io), io); code != exitOK || !strings.Contains(errb.String(), "no audit log at") {
		t.Fatalf("exit %d %q", code, errb.String())
	}
}

func TestAuditParseSince(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"90m":                  now.Add(-90 * time.Minute),
		"7d":                   now.Add(-7 * 24 * time.Hour),
		"2026-11-20T08:00:00Z": time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
	} {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	if _, err := parseSince("-1h", now); err == nil {
		t.Error("negative duration accepted")
	}
}
