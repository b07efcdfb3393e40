package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsconsole/opsconsole/internal/testprom"
)

var updateQueryGolden = flag.Bool("update-query", false, "rewrite testdata/prom golden files")

// queryCLI runs `opsconsole query ARGS` in-process and returns its exit code and output.
// It calls runQuery directly, so it does not depend on main's subcommand switch.
func queryCLI(t *testing.T, env map[string]string, tty bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	e := map[string]string{"HOME": t.TempDir(), "USER": "root", "TZ": "UTC"}
	for k, v := range env {
		e[k] = v
	}
	var out, errb bytes.Buffer
	io := stdio{in: strings.NewReader(""), out: &out, err: &errb, outTTY: tty,
		env: func(k string) string { return e[k] }}
	ctx := context.Background()
	code = exitCode(ctx, runQuery(ctx, args, io), io)
	return code, out.String(), errb.String()
}

func TestQueryAgainstPrometheus(t *testing.T) {
	env := testprom.Start(t, testprom.Options{})
	t.Logf("prometheus start-up: %v", env.Startup)
	cfg := env.ConfigPath

	t.Run("instant text", func(t *testing.T) {
		code, out, errs := queryCLI(t, nil, false, "--config", cfg, `up{job="node"}`)
		want := "SERIES VALUE\n" + `up{instance="` + env.NodeExporterAddr + `", job="node"} 1` + "\n"
		if code != 0 || squeeze(out) != want {
			t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %s", code, out, want, errs)
		}
	})
	t.Run("instant json is the API's data", func(t *testing.T) {
		code, out, errs := queryCLI(t, nil, false, "--format", "json", "--config", cfg, `up{job="node"}`)
		var data struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &data) != nil || data.ResultType != "vector" ||
			len(data.Result) != 1 || data.Result[0].Metric["instance"] != env.NodeExporterAddr || data.Result[0].Value[1] != "1" {
			t.Fatalf("exit %d %q %s", code, out, errs)
		}
	})
	t.Run("scalar and string", func(t *testing.T) {
		if code, out, _ := queryCLI(t, nil, false, "--config", cfg, "1 + 1.5"); code != 0 || out != "2.5\n" {
			t.Fatalf("scalar: %d %q", code, out)
		}
		if code, out, _ := queryCLI(t, nil, false, "--config", cfg, `"on call"`); code != 0 || out != "on call\n" {
			t.Fatalf("string: %d %q", code, out)
		}
	})
	t.Run("empty result", func(t *testing.T) {
		code, out, errs := queryCLI(t, nil, false, "--config", cfg, `up{job="nope"}`)
		if code != 0 || out != "" || !strings.Contains(errs, "no series") {
			t.Fatalf("exit %d %q %q", code, out, errs)
		}
	})
	t.Run("sort_desc keeps the server's order", func(t *testing.T) {
		code, out, _ := queryCLI(t, nil, false, "--config", cfg,
			`sort_desc(label_replace(vector(1), "k", "a", "", "") or label_replace(vector(2), "k", "b", "", ""))`)
		if code != 0 || strings.Index(out, `k="b"`) > strings.Index(out, `k="a"`) {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})
	t.Run("range text golden at 80 columns", func(t *testing.T) {
		// Constant expressions over a fixed window: the same output on every run.
		expr := `label_replace(sin(vector(time()) / 600) * 40 + 50, "series", "wave", "", "")` +
			` or label_replace(vector(time() % 1200 / 12), "series", "saw", "", "")`
		code, out, errs := queryCLI(t, nil, false, "--config", cfg, "--range", "1h", "--step", "30s",
			"--time", "2026-11-22T15:00:00Z", expr)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		queryGolden(t, "query_range.golden", out)
		for _, line := range strings.Split(out, "\n") {
			if n := len([]rune(line)); n > 80 {
				t.Errorf("line of %d columns: %q", n, line)
			}
		}
	})
	t.Run("range json", func(t *testing.T) {
		code, out, _ := queryCLI(t, nil, false, "--format", "json", "--config", cfg, "--range", "10s", "--step", "5s",
			"--time", "1700000000", "vector(3)")
		var data map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &data) != nil || data["resultType"] != "matrix" ||
			!strings.Contains(out, `1700000000,`) || !strings.Contains(out, `"3"`) {
			t.Fatalf("exit %d %s", code, out)
		}
	})
	t.Run("range on a terminal is as wide as it and coloured", func(t *testing.T) {
		code, out, _ := queryCLI(t, map[string]string{"COLUMNS": "100"}, true, "--config", cfg, "--range", "1h",
			"--time", "2026-11-22T15:00:00Z", `vector(1) or label_replace(vector(2), "a", "b", "", "")`)
		if code != 0 || !strings.Contains(out, "\x1b[32m") || !strings.ContainsRune(out, '⣀') {
			t.Fatalf("exit %d\n%s", code, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "└") && len([]rune(line)) != 100 {
				t.Fatalf("axis is %d columns, want the terminal's 100: %q", len([]rune(line)), line)
			}
		}
		code, out, _ = queryCLI(t, map[string]string{"COLUMNS": "100", "NO_COLOR": "1"}, true, "--config", cfg,
			"--range", "1h", "--time", "2026-11-22T15:00:00Z", "vector(1)")
		if code != 0 || strings.Contains(out, "\x1b[") {
			t.Fatalf("NO_COLOR: exit %d\n%s", code, out)
		}
	})
	t.Run("bad PromQL exits 2 with the server's error", func(t *testing.T) {
		code, out, errs := queryCLI(t, nil, false, "--config", cfg, "sum(rate(up[1m]) by")
		if code != exitUsage || out != "" ||
			!strings.HasPrefix(errs, `opsconsole: query: bad_data: invalid parameter "query": 1:`) ||
			!strings.Contains(errs, "parse error") {
			t.Fatalf("exit %d out %q err %q", code, out, errs)
		}
		code, _, errs = queryCLI(t, nil, false, "--config", cfg, `{job="node"} + on(job) group_left {job="node", __name__=~".+"}`)
		if code != exitUsage || !strings.Contains(errs, "execution") && !strings.Contains(errs, "bad_data") {
			t.Fatalf("execution error: exit %d %q", code, errs)
		}
	})
	t.Run("server gone exits 1", func(t *testing.T) {
		if err := env.KillPrometheus(); err != nil {
			t.Fatal(err)
		}
		code, out, errs := queryCLI(t, nil, false, "--config", cfg, "up")
		if code != exitFailed || out != "" || !strings.Contains(errs, "prometheus unavailable") ||
			!strings.Contains(errs, "connection refused") {
			t.Fatalf("exit %d out %q err %q", code, out, errs)
		}
	})
}

func TestQueryUsageAndConfigErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	none := write("none.toml", "[[hosts]]\nname = \"a\"\n")
	bad := write("bad.toml", "[prometheus]\nurl = \"http://127.0.0.1:9090\"\ntimout = \"5s\"\n")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	down := write("down.toml", "[prometheus]\nurl = \"http://user:s3cret-pw@"+closed+"\"\ntimeout = \"2s\"\n")

	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no expression", []string{"--config", none}, exitUsage, "missing expression"},
		{"two words", []string{"--config", none, "up", "down"}, exitUsage, "one expression only"},
		{"step without range", []string{"--config", none, "--step", "5s", "up"}, exitUsage, "--step needs --range"},
		{"bad format", []string{"--config", none, "--format", "jsonl", "up"}, exitUsage, "--format"},
		{"bad time", []string{"--config", none, "--time", "yesterday", "up"}, exitUsage, "--time"},
		{"no prometheus", []string{"--config", none, "up"}, exitUsage, "no Prometheus configured: add [prometheus] url"},
		{"unknown key", []string{"--config", bad, "up"}, exitUsage, "bad.toml:3:1: prometheus.timout: unknown key"},
		{"unreachable", []string{"--config", down, "up"}, exitFailed, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := queryCLI(t, nil, false, tc.args...)
			if code != tc.code || out != "" || !strings.Contains(errs, tc.err) {
				t.Fatalf("exit %d (want %d) out %q err %q (want %q)", code, tc.code, out, errs, tc.err)
			}
			if strings.Contains(errs, "s3cret-pw") || strings.Contains(errs, "user@") {
				t.Fatalf("credentials in %q", errs)
			}
		})
	}
}

// squeeze collapses runs of spaces, so table checks do not depend on column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func queryGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "prom", name)
	if *updateQueryGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Query ./cmd/opsconsole/ -update-query to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (check, then rerun with -update-query):\n%s", path, got)
	}
}
