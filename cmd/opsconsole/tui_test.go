package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/internal/testprom"
)

// A bad [[probes]] or [prometheus] stops the console before it takes the terminal, with
// the problem placed in the file (exit 2), as any config error does.
func TestConsoleConfigErrorsBeforeStart(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ src, want string }{
		"probe pattern": {`
[[probes]]
name = "app"
hosts = "tag:nope"
type = "tcp"
target = "{{.Address}}:80"
`, `config.toml:7:1: probes[0].hosts: pattern "tag:nope" matches no host`},
		"probe target": {`
[[probes]]
name = "app"
hosts = "all"
type = "http"
target = "http://{{.Nope}}/"
`, "probes[0].target"},
		"prometheus url": {`
[prometheus]
url = "ftp://prom"
`, "prometheus.url: must start with http:// or https://"},
		"prometheus token": {`
[prometheus]
url = "http://127.0.0.1:9"
bearer_token_env = "OPSCONSOLE_TEST_UNSET_TOKEN"
`, "OPSCONSOLE_TEST_UNSET_TOKEN (bearer_token_env) is not set"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"), "config.toml")
			os.MkdirAll(filepath.Dir(cfg), 0o700)
			os.WriteFile(cfg, []byte("[[hosts]]\nname = \"web-1\"\ntransport = \"local\"\n"+c.src), 0o600)
			var out, errb bytes.Buffer
			env := map[string]string{"HOME": dir}
			// A terminal as far as runTUI can tell: the error must come before the program
			// would take it.
			code := run(context.Background(), []string{"--config", cfg, "--no-record", "--read-only"},
				stdio{in: strings.NewReader(""), out: &out, err: &errb, outTTY: true, env: func(k string) string { return env[k] }})
			if code != exitUsage || !strings.Contains(errb.String(), c.want) || out.Len() != 0 {
				t.Fatalf("exit %d, stderr %q (want %q), stdout %q", code, errb.String(), c.want, out.String())
			}
		})
	}
}

// The console against real servers: an sshd fleet with a probe failing on one host, and a
// Prometheus scraping a node_exporter that names an inventory host. The fleet shows the
// probes and where metrics come from, the header counts the firing alert, and the query
// pane (6) runs PromQL against the server.
func TestConsoleProbesAlertsAndQueryInTmux(t *testing.T) {
	testfleet.Require(t, "tmux")
	env := testprom.Start(t, testprom.Options{})
	f := testfleet.Start(t, testfleet.Options{Hosts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := env.WaitForQuery(ctx, `ALERTS{alertstate="firing"}`); err != nil {
		t.Fatal(err)
	}
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer failing.Close()

	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "opsconsole")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	inv, err := os.ReadFile(f.InventoryPath)
	if err != nil {
		t.Fatal(err)
	}
	extra := fmt.Sprintf(`
[[hosts]]
name = "loopback"
address = "127.0.0.1"
transport = "local"

[prometheus]
url = %q
timeout = "2s"

[[probes]]
name = "ssh"
hosts = "tag:odd,tag:even"
type = "tcp"
target = "{{.Address}}:{{.Port}}"
interval = "1s"

[[probes]]
name = "app"
hosts = "host-001"
type = "http"
target = %q
interval = "1s"
`, env.URL, failing.URL+"/health")
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, append(inv, (noThresholds+extra)...), 0o600); err != nil {
		t.Fatal(err)
	}
	s := tmuxSession{t: t, name: "e2e", sock: filepath.Join(dir, "tmux.sock")}
	script := fmt.Sprintf("HOME=%s XDG_STATE_HOME=%s %s --config %s --interval 1s --read-only; echo \"EXITED rc=$?\"; sleep 60",
		dir, dir, bin, cfgPath)
	if out, err := s.tmux("new-session", "-d", "-s", s.name, "-x", "160", "-y", "40", script); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { s.tmux("kill-server") })

	// Both of host-001's probes have run once "1/2" shows: only it has two.
	scr := s.waitFor(45*time.Second, "! alerts 1", "metrics from prometheus", "✗ crit", "host-001", "loopback",
		"probe app "+failing.URL+"/health: status 5", " 1/2 ", " 1/1 ")
	for _, row := range strings.Split(scr, "\n") {
		switch {
		case strings.Contains(row, " host-001 ") && !strings.Contains(row, "1/2"),
			strings.Contains(row, " host-002 ") && !strings.Contains(row, "1/1"):
			t.Errorf("PROBES column: %q", row)
		}
	}

	s.send("6")
	s.waitFor(5*time.Second, "[6 Query]", "promql ›", "Query · "+env.URL)
	s.typeText(`up{job="node"}`)
	s.send("Enter")
	s.waitFor(15*time.Second, `up{instance="`+env.NodeExporterAddr+`", job="node"}`, "1 series")
	s.typeText(`[`)
	s.send("Enter")
	s.waitFor(15*time.Second, "✗ error", "bad_data: ")

	s.send("Escape")
	s.send("q")
	s.waitFor(10*time.Second, "EXITED rc=0")
}
