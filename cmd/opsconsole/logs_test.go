package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/internal/testfleet"
)

// logsEnv is a loopback fleet whose hosts log to dir/<host>.log, with a config holding
// its inventory and [[logs]] sources over those files.
type logsEnv struct {
	fleet  *testfleet.Fleet
	dir    string
	config string
	home   string
}

const logsSources = `
[[logs]]
name = "app"
hosts = "group:fleet"
path = "DIR/{{.Name}}.log"
markers = [{ pattern = "Out of memory|oom-killer", name = "oom" }]

[[logs]]
name = "json"
hosts = "host-001"
path = "DIR/{{.Name}}.json"
format = "json"
`

func newLogsEnv(t *testing.T, hosts int) *logsEnv {
	t.Helper()
	f := testfleet.Start(t, testfleet.Options{Hosts: hosts})
	e := &logsEnv{fleet: f, dir: t.TempDir(), home: t.TempDir()}
	inv, err := os.ReadFile(f.InventoryPath)
	if err != nil {
		t.Fatal(err)
	}
	e.config = filepath.Join(e.home, "config.toml")
	os.WriteFile(e.config, append(inv, strings.ReplaceAll(logsSources, "DIR", e.dir)...), 0o600)
	return e
}

func (e *logsEnv) write(t *testing.T, name, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(e.dir, name), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(text)
}

func (e *logsEnv) call(ctx context.Context, tty bool, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	env := map[string]string{"HOME": e.home, "USER": "root"}
	io := stdio{in: strings.NewReader(""), out: &out, err: &errb, env: func(k string) string { return env[k] }, outTTY: tty}
	code := exitCode(ctx, runLogs(ctx, append([]string{"--config", e.config}, args...), io), io)
	return code, out.String(), errb.String()
}

type logJSON struct {
	Host     string            `json:"host"`
	Source   string            `json:"source"`
	Time     *time.Time        `json:"time"`
	Received time.Time         `json:"received"`
	Level    string            `json:"level"`
	Message  string            `json:"message"`
	Fields   map[string]string `json:"fields"`
	Raw      string            `json:"raw"`
	Marker   string            `json:"marker"`
	Flag     string            `json:"flag"`
}

func parseJSONL(t *testing.T, out string) []logJSON {
	t.Helper()
	var recs []logJSON
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r logJSON
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("bad jsonl line %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestLogsPrintsLastLinesAsOneTimeline(t *testing.T) {
	e := newLogsEnv(t, 3)
	for i, h := range []string{"host-001", "host-002", "host-003"} {
		var b strings.Builder
		for s := 0; s < 5; s++ {
			// Host i's stamps interleave with the others': the output must too.
			fmt.Fprintf(&b, "2026-11-22T04:00:%02dZ INFO %s line %d\n", s*3+i, h, s)
		}
		e.write(t, h+".log", b.String())
	}
	e.write(t, "host-001.json", `{"time":"2026-11-22T04:00:00.5Z","level":"error","msg":"kaput","code":7}`+"\n")

	code, out, errs := e.call(context.Background(), false, "--source", "app", "--lines", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "host-001 | 2026-11-22T04:00:09Z INFO host-001 line 3\n" +
		"host-002 | 2026-11-22T04:00:10Z INFO host-002 line 3\n" +
		"host-003 | 2026-11-22T04:00:11Z INFO host-003 line 3\n" +
		"host-001 | 2026-11-22T04:00:12Z INFO host-001 line 4\n" +
		"host-002 | 2026-11-22T04:00:13Z INFO host-002 line 4\n" +
		"host-003 | 2026-11-22T04:00:14Z INFO host-003 line 4\n"
	if out != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}
	if !strings.Contains(errs, "3 streams on 3 hosts: 6 lines read, 6 shown") {
		t.Errorf("summary: %q", errs)
	}

	// Both sources, as JSON lines; the prefix would name the source in text.
	code, out, errs = e.call(context.Background(), false, "-H", "host-001", "--format", "jsonl", "--lines", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs := parseJSONL(t, out)
	if len(recs) != 2 {
		t.Fatalf("records %+v", recs)
	}
	j := recs[0]
	if j.Source != "json" || j.Message != "kaput" || j.Level != "error" || j.Fields["code"] != "7" ||
		j.Time == nil || !j.Time.Equal(time.Date(2026, 11, 22, 4, 0, 0, 500e6, time.UTC)) || j.Received.IsZero() {
		t.Errorf("json record %+v", j)
	}
	if recs[1].Source != "app" || recs[1].Level != "info" || !strings.HasSuffix(recs[1].Raw, "line 4") {
		t.Errorf("text record %+v", recs[1])
	}

	// Colour per host only on a terminal.
	_, out, _ = e.call(context.Background(), true, "--source", "app", "--lines", "1", "-H", "host-002")
	if !strings.HasPrefix(out, "\x1b[") || !strings.Contains(out, "host-002\x1b[0m | ") {
		t.Errorf("no colour on a terminal: %q", out)
	}
	_, out, _ = e.call(context.Background(), true, "--source", "app", "--lines", "1", "--no-color")
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour despite --no-color: %q", out)
	}
}

func TestLogsGrepLevelAndMarkers(t *testing.T) {
	e := newLogsEnv(t, 2)
	e.write(t, "host-001.log", "a INFO ok\nb ERROR disk full\nc kernel: Out of memory: Killed process 3\n")
	e.write(t, "host-002.log", "d WARN DISK slow\n")
	code, out, errs := e.call(context.Background(), false, "--source", "app", "--grep", "disk", "-i")
	if code != 0 || out != "host-001 | b ERROR disk full\nhost-002 | d WARN DISK slow\n" {
		t.Fatalf("--grep -i: exit %d %q %s", code, out, errs)
	}
	_, out, _ = e.call(context.Background(), false, "--source", "app", "--grep", "disk", "--invert")
	if out != "host-001 | a INFO ok\nhost-001 | c kernel: Out of memory: Killed process 3\nhost-002 | d WARN DISK slow\n" {
		t.Fatalf("--invert: %q", out)
	}
	_, out, _ = e.call(context.Background(), false, "--source", "app", "--level", "warn")
	if out != "host-001 | b ERROR disk full\nhost-002 | d WARN DISK slow\n" {
		t.Fatalf("--level: %q", out)
	}
	_, out, _ = e.call(context.Background(), false, "--source", "app", "--format", "jsonl", "--grep", "memory")
	if recs := parseJSONL(t, out); len(recs) != 1 || recs[0].Flag != "oom" {
		t.Fatalf("marker flag: %q", out)
	}
	// --since by the lines' own stamps; an unstamped line goes with the stamped one
	// before it, and one before any stamp (its age unknown) is kept.
	old, recent := time.Now().Add(-2*time.Hour).UTC().Format(time.RFC3339), time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	e.write(t, "host-002.log", old+" ERROR stale\n  stale trace\n"+recent+" ERROR fresh\n  fresh trace\n")
	_, out, _ = e.call(context.Background(), false, "--source", "app", "-H", "host-002", "--since", "1h")
	if want := "host-002 | d WARN DISK slow\nhost-002 | " + recent + " ERROR fresh\nhost-002 |   fresh trace\n"; out != want {
		t.Fatalf("--since: %q, want %q", out, want)
	}
}

func TestLogsFollowStreamsUntilDuration(t *testing.T) {
	e := newLogsEnv(t, 4)
	for _, h := range []string{"host-001", "host-002", "host-003", "host-004"} {
		e.write(t, h+".log", "old line\n")
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	written := 0
	wg.Go(func() {
		// Start after the streams are up: --lines 0 shows only new lines.
		time.Sleep(700 * time.Millisecond)
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			for _, h := range []string{"host-001", "host-002", "host-003", "host-004"} {
				e.write(t, h+".log", fmt.Sprintf("%s new %d\n", h, n))
			}
			written = n * 4
			time.Sleep(20 * time.Millisecond)
		}
	})
	go func() { time.Sleep(1500 * time.Millisecond); close(stop) }()
	start := time.Now()
	code, out, errs := e.call(context.Background(), false, "--source", "app", "--follow", "--lines", "0",
		"--duration", "3s", "--format", "jsonl")
	wg.Wait()
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if d := time.Since(start); d < 3*time.Second || d > 6*time.Second {
		t.Errorf("ran %v for --duration 3s", d)
	}
	recs := parseJSONL(t, out)
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Marker != "" {
			continue
		}
		if r.Raw == "old line" || seen[r.Host+r.Raw] {
			t.Fatalf("old or repeated line %+v", r)
		}
		seen[r.Host+r.Raw] = true
	}
	if len(seen) != written || written == 0 {
		t.Fatalf("%d lines delivered, %d written", len(seen), written)
	}
}

func TestLogsExitCodes(t *testing.T) {
	e := newLogsEnv(t, 2)
	e.write(t, "host-001.log", "x\n")
	// host-002.log does not exist: its stream fails, the other prints.
	code, out, errs := e.call(context.Background(), false, "--source", "app")
	if code != exitFailed || out != "host-001 | x\n" || !strings.Contains(errs, "host-002 app: failed: exited with status 1: tail: cannot open") {
		t.Fatalf("missing file: exit %d out %q err %q", code, out, errs)
	}
	usage := [][]string{
		{"--grep", "(unclosed"},
		{"--source", "nope"},
		{"--format", "json"},
		{"--duration", "1s"},
		{"--level", "loud"},
		{"--lines", "-3"},
		{"-H", "tag:nope"},
		{"--path", "/x", "--command", "y"},
		{"stray"},
	}
	for _, args := range usage {
		code, out, errs := e.call(context.Background(), false, args...)
		if code != exitUsage || out != "" {
			t.Errorf("%q: exit %d out %q err %q, want 2", args, code, out, errs)
		}
	}
	_, _, errs = e.call(context.Background(), false, "--grep", "(unclosed")
	if !strings.Contains(errs, "bad regular expression: missing closing )") {
		t.Errorf("bad --grep message: %q", errs)
	}
	// A positioned config error.
	bad := filepath.Join(e.home, "bad.toml")
	inv, _ := os.ReadFile(e.fleet.InventoryPath)
	os.WriteFile(bad, append(inv, "\n[[logs]]\nname = \"a\"\nhosts = \"all\"\npath = \"/x\"\nformat = \"yaml\"\n"...), 0o600)
	code, _, errs = e.call(context.Background(), false, "--config", bad)
	if code != exitUsage || !strings.Contains(errs, "bad.toml:") || !strings.Contains(errs, "want text, json or logfmt") {
		t.Errorf("config error: exit %d %q", code, errs)
	}
	// A host whose daemon is dead: exit 1 once --duration ends.
	e.fleet.KillDaemonOf(0)
	code, _, errs = e.call(context.Background(), false, "--source", "app", "--follow", "--duration", "1500ms")
	if code != exitFailed || !strings.Contains(errs, "connecting: ") {
		t.Errorf("dead hosts: exit %d %q", code, errs)
	}
	// Ad hoc command sources need no config section; ctrl-C is exit 130.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(time.Second); cancel() }()
	e.fleet.RestartDaemonOf(0)
	code, out, _ = e.call(ctx, false, "-H", "host-001", "--command", "echo hi; sleep 30", "--follow")
	if code != exitInterrupted || out != "host-001 | hi\n" {
		t.Errorf("ctrl-C: exit %d out %q", code, out)
	}
}
