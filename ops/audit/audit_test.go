package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/ops/redact"
	"github.com/opsconsole/opsconsole/sessions"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func openTemp(t testing.TB, opt Options) *Log {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "opsconsole", FileName)
	l, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestOpenPermissionsAndRoundTrip(t *testing.T) {
	l := openTemp(t, Options{Env: env(map[string]string{
		"SSH_CLIENT": "203.0.113.7 50022 22", "SSH_CONNECTION": "203.0.113.7 50022 10.0.0.1 22", "SUDO_USER": "alice",
	})})
	st, err := os.Stat(filepath.Dir(l.Path()))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v, err %v: want 0700", st.Mode().Perm(), err)
	}
	if st, err = os.Stat(l.Path()); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, err %v: want 0600", st.Mode().Perm(), err)
	}

	id, err := l.Intent(Intent{Kind: "runbook", Name: "restart-app", Reason: "INC-42",
		Steps: []Step{{Step: 1, Hosts: []string{"web-1", "web-2"}, Command: "systemctl restart app", Check: "systemctl is-active app"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := FromSession(sessions.Result{Host: "web-1", Outcome: sessions.OutcomeOK, Stdout: []byte("\n  restarted\nmore\n"),
		Start: time.Now(), End: time.Now().Add(1500 * time.Microsecond)}, 1, PhaseRun, "systemctl restart app")
	if err := l.Result(id, r); err != nil {
		t.Fatal(err)
	}
	if err := l.Done(id, Done{Outcome: "ok", Hosts: map[string]string{"web-1": "ok", "web-2": "ok"}}); err != nil {
		t.Fatal(err)
	}
	recs, probs, err := Read(l.Path())
	if err != nil || len(probs) != 0 || len(recs) != 3 {
		t.Fatalf("recs %d probs %v err %v", len(recs), probs, err)
	}
	in := recs[0].Intent
	if recs[0].Type != TypeIntent || recs[0].ID != id || in.Reason != "INC-42" || in.Version == "" {
		t.Fatalf("intent %+v", recs[0])
	}
	if strings.Join(in.Hosts, ",") != "web-1,web-2" {
		t.Fatalf("hosts derived from steps: %v", in.Hosts)
	}
	if in.Who.User == "" || in.Who.SSHClient != "203.0.113.7 50022 22" || in.Who.SudoUser != "alice" ||
		in.Who.SSHConnection == "" || in.Who.PID != os.Getpid() {
		t.Fatalf("who %+v", in.Who)
	}
	res := recs[1].Result
	if res.FirstLine != "restarted" || res.OutputBytes != 18 || len(res.OutputSHA256) != 64 || res.DurationMS != 1.5 {
		t.Fatalf("result %+v", res)
	}
	if d := recs[2].Done; d.Counts["ok"] != 2 {
		t.Fatalf("done counts %+v", d)
	}
	if recs[1].Offset <= 0 || recs[2].Offset <= recs[1].Offset {
		t.Fatalf("offsets %d %d", recs[1].Offset, recs[2].Offset)
	}
	if len(Interrupted(recs)) != 0 {
		t.Fatal("a finished run is not interrupted")
	}
}

func TestRedactsEverythingWritten(t *testing.T) {
	red, err := redact.New(`INC-SECRET-\d+`)
	if err != nil {
		t.Fatal(err)
	}
	l := openTemp(t, Options{Redactor: red})
	cmds := []string{`mysql -p'hunter2' -e 'flush logs'`, `curl -H 'Authorization: Bearer abc' https://x`, `PASSWORD=x ./deploy`}
	id, err := l.Intent(Intent{Kind: "runbook", Name: "db", Reason: "see INC-SECRET-77",
		Vars:  map[string]string{"db_password": "hunter2", "service": "app"},
		Steps: []Step{{Step: 1, Hosts: []string{"db-1"}, Command: cmds[0], Check: cmds[1], Rollback: cmds[2]}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		l.Result(id, Result{Host: "db-1", Step: 1, Phase: PhaseRun, Command: c, Outcome: "failed",
			FirstLine: "login with password=hunter2 failed", Error: "token=abc rejected"})
	}
	l.Done(id, Done{Outcome: "failed", Error: "PASSWORD=x"})
	b, err := os.ReadFile(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "Bearer abc", "PASSWORD=x", "INC-SECRET-77", "token=abc"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("log holds %q:\n%s", secret, b)
		}
	}
	recs, _, _ := Read(l.Path())
	if got := recs[0].Intent.Vars["service"]; got != "app" {
		t.Errorf("ordinary var redacted: %q", got)
	}
	if got := recs[0].Intent.Vars["db_password"]; got != redact.Mask {
		t.Errorf("db_password = %q", got)
	}
}

func TestConcurrentResultsNeverInterleave(t *testing.T) {
	l := openTemp(t, Options{})
	id, err := l.Intent(Intent{Kind: "exec", Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	long := strings.Repeat("x", 8000) // larger than a pipe buffer's atomic write
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := l.Result(id, Result{Host: fmt.Sprintf("h-%03d", i), Outcome: "ok", FirstLine: long}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	recs, probs, err := Read(l.Path())
	if err != nil || len(probs) != 0 || len(recs) != n+1 {
		t.Fatalf("recs %d probs %v err %v", len(recs), probs, err)
	}
}

func TestTornLastLine(t *testing.T) {
	l := openTemp(t, Options{})
	id, _ := l.Intent(Intent{Kind: "runbook", Name: "r", Steps: []Step{{Step: 1, Hosts: []string{"a", "b"}, Command: "true"}}})
	l.Result(id, Result{Host: "a", Step: 1, Phase: PhaseRun, Outcome: "ok"})
	l.Close()
	st, _ := os.Stat(l.Path())
	// A crash in the middle of the next write leaves half a record and no newline.
	f, _ := os.OpenFile(l.Path(), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"type":"result","id":"` + string(id) + `","time":"2026-11-22T10:00:00Z","result":{"host":"b","ste`)
	f.Close()

	recs, probs, err := Read(l.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || len(probs) != 1 || !probs[0].Torn || probs[0].Offset != st.Size() || probs[0].Line != 3 {
		t.Fatalf("recs %d probs %+v (file was %d bytes before the torn write)", len(recs), probs, st.Size())
	}
	if !strings.Contains(probs[0].String(), "torn") {
		t.Errorf("problem text %q", probs[0])
	}
	runs := Interrupted(recs)
	if len(runs) != 1 || len(runs[0].Started) != 1 || runs[0].Started[0].Host != "a" ||
		strings.Join(runs[0].NotStarted, ",") != "b" {
		t.Fatalf("interrupted %+v", runs)
	}

	// The next opsconsole appends after the fragment, on a line of its own.
	l2, err := Open(l.Path(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if err := l2.Abandon(runs[0], "found after a crash"); err != nil {
		t.Fatal(err)
	}
	recs, probs, _ = Read(l.Path())
	if len(recs) != 3 || len(probs) != 1 || probs[0].Line != 3 || !probs[0].Torn {
		t.Fatalf("after reopen: recs %d probs %+v", len(recs), probs)
	}
	if d := recs[2].Done; d == nil || d.Outcome != "interrupted" || d.Hosts["b"] != "unknown" || d.Hosts["a"] != "ok" {
		t.Fatalf("abandon record %+v", recs[2])
	}
	if len(Interrupted(recs)) != 0 {
		t.Fatal("an abandoned run is closed")
	}
}

func TestGarbageLineInTheMiddle(t *testing.T) {
	recs, probs, err := Parse(strings.NewReader(
		`{"type":"intent","id":"x","time":"2026-11-22T10:00:00Z","intent":{"kind":"exec","name":"n","hosts":["a"],"steps":[]}}` + "\n" +
			"not json\n" +
			`{"type":"done","id":"x","time":"2026-11-22T10:00:01Z"}` + "\n" +
			`{"type":"done","id":"x","time":"2026-11-22T10:00:01Z","done":{"outcome":"ok"}}` + "\n"))
	if err != nil || len(recs) != 2 || len(probs) != 2 || probs[0].Torn || probs[0].Line != 2 || probs[1].Line != 3 {
		t.Fatalf("recs %d probs %+v err %v", len(recs), probs, err)
	}
}

func TestMaybeRunning(t *testing.T) {
	host, _ := os.Hostname()
	run := Run{Action: Action{Intent: Intent{Who: Who{PID: os.Getpid(), Machine: host}}}}
	if !run.MaybeRunning() {
		t.Error("this process is running")
	}
	run.Intent.Who.PID = 1 << 22 // above the kernel's pid_max
	if run.MaybeRunning() {
		t.Error("a pid that cannot exist is not running")
	}
}

func TestActionIntent(t *testing.T) {
	a := gate.Action{Kind: "exec", Name: "uptime", Reason: "r", Steps: []gate.Step{{Hosts: []string{"a", "b"}, Command: "uptime"}}}
	in := ActionIntent(a)
	if in.Kind != "exec" || len(in.Steps) != 1 || in.Steps[0].Step != 1 || strings.Join(in.Hosts, ",") != "a,b" {
		t.Fatalf("%+v", in)
	}
}

func TestFromConfig(t *testing.T) {
	dir := t.TempDir()
	load := func(body string) (*config.Config, config.Env) {
		t.Helper()
		p := filepath.Join(dir, "config.toml")
		os.WriteFile(p, []byte(body), 0o600)
		e := config.Env(env(map[string]string{"HOME": dir, "XDG_STATE_HOME": filepath.Join(dir, "st")}))
		cfg, err := config.Load(config.LoadOptions{ConfigFile: p, Env: e})
		if err != nil {
			t.Fatal(err)
		}
		return cfg, e
	}
	cfg, e := load("")
	s, err := FromConfig(cfg, e)
	if err != nil || s.Path != filepath.Join(dir, "st", "opsconsole", "audit.jsonl") || s.Redactor == nil {
		t.Fatalf("default %+v %v", s, err)
	}
	cfg, e = load("[audit]\npath = \"logs/a.jsonl\"\n")
	if s, err = FromConfig(cfg, e); err != nil || s.Path != filepath.Join(dir, "logs", "a.jsonl") {
		t.Fatalf("relative path %+v %v", s, err)
	}
	cfg, e = load("[audit]\npath = \"~/a.jsonl\"\n")
	if s, err = FromConfig(cfg, e); err != nil || s.Path != filepath.Join(dir, "a.jsonl") {
		t.Fatalf("home path %+v %v", s, err)
	}
	cfg, e = load("[audit]\npath = \"/x\"\nrotate = true\nredact = [\"(\"]\n")
	_, err = FromConfig(cfg, e)
	var list config.ErrorList
	if !errors.As(err, &list) || len(list) != 2 || !strings.Contains(err.Error(), "config.toml:3:1: audit.rotate: unknown key") ||
		!strings.Contains(err.Error(), "audit.redact[0]") {
		t.Fatalf("want unknown key and bad pattern, positioned: %v", err)
	}
}

// BenchmarkAction is the audit log's cost per Action: an intent, one host's result and
// the done record, each fsync'd, as a one-host runbook or exec pays it.
func BenchmarkAction(b *testing.B) {
	l := openTemp(b, Options{})
	steps := []Step{{Step: 1, Hosts: []string{"web-1"}, Command: "systemctl restart app", Check: "systemctl is-active app"}}
	res := Result{Host: "web-1", Step: 1, Phase: PhaseRun, Command: "systemctl restart app", Outcome: "ok",
		OutputSHA256: strings.Repeat("ab", 32), OutputBytes: 12, FirstLine: "ok"}
	for b.Loop() {
		id, err := l.Intent(Intent{Kind: "runbook", Name: "restart-app", Steps: steps})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Result(id, res); err != nil {
			b.Fatal(err)
		}
		if err := l.Done(id, Done{Outcome: "ok", Hosts: map[string]string{"web-1": "ok"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResultsParallel is the cost per host result when many hosts report at once:
// group commit lets them share fsyncs.
func BenchmarkResultsParallel(b *testing.B) {
	l := openTemp(b, Options{})
	id, _ := l.Intent(Intent{Kind: "exec", Name: "uptime"})
	res := Result{Host: "web-1", Outcome: "ok", OutputBytes: 12, FirstLine: "ok"}
	b.SetParallelism(64)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Result(id, res); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// FuzzParse checks that no input makes Parse panic or lose track of a line: every
// non-blank line is either a record or a problem.
func FuzzParse(f *testing.F) {
	f.Add(`{"type":"intent","id":"x","time":"2026-11-22T10:00:00Z","intent":{"kind":"exec","name":"n","hosts":["a"],"steps":[]}}` + "\n")
	f.Add(`{"type":"result","id":"x","time":"2026-11-22T10:00:00Z","result":{"host":"a","ste`)
	f.Add("\n\n{}\nnot json\n")
	f.Fuzz(func(t *testing.T, s string) {
		recs, probs, err := Parse(strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		lines := 0
		for _, l := range strings.SplitAfter(s, "\n") {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		kept := 0
		for _, p := range probs {
			if strings.Contains(p.Msg, "record kept") {
				kept++
			}
		}
		if len(recs)+len(probs)-kept != lines {
			t.Fatalf("%d records + %d problems (%d kept) for %d lines", len(recs), len(probs), kept, lines)
		}
	})
}
