package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/internal/testprom"
)

// noThresholds turns metric judgement off, so that only the probes decide a host's health
// whatever load the test machine is under.
const noThresholds = `
[thresholds]
cpu_warn = 0
cpu_crit = 0
mem_warn = 0
mem_crit = 0
disk_warn = 0
disk_crit = 0
load_warn = 0
load_crit = 0
`

// probedFleet is a two-host sshd fleet with an HTTP probe on host-001 that fails while
// broken is set, and a TCP probe on every host against the same (listening) server.
func probedFleet(t *testing.T, broken *atomic.Bool) (cfgPath, target string) {
	t.Helper()
	f := testfleet.Start(t, testfleet.Options{Hosts: 2})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	src, err := os.ReadFile(f.InventoryPath)
	if err != nil {
		t.Fatal(err)
	}
	target = srv.URL + "/healthz"
	probes := fmt.Sprintf(`
[[probes]]
name = "app"
hosts = "host-001"
type = "http"
target = %q
timeout = "2s"

[[probes]]
name = "port"
hosts = "all"
type = "tcp"
target = %q
timeout = "2s"
`, target, strings.TrimPrefix(srv.URL, "http://"))
	cfgPath = filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfgPath, append(src, noThresholds+probes...), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, target
}

func TestCheckProbes(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	cfg, target := probedFleet(t, &broken)

	t.Run("failing probe json", func(t *testing.T) {
		code, out, errs := cli(t, "check", "--config", cfg, "--format", "json")
		if code != exitFailed {
			t.Fatalf("a failing probe must fail the check: exit %d\n%s\n%s", code, out, errs)
		}
		var reps []checkJSON
		if err := json.Unmarshal([]byte(out), &reps); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		by := map[string]checkJSON{}
		for _, r := range reps {
			by[r.Host] = r
		}
		h1, h2 := by["host-001"], by["host-002"]
		if h1.Status != "crit" || len(h1.FailingProbes) != 1 || h1.FailingProbes[0] != "app" || len(h1.Probes) != 2 {
			t.Fatalf("host-001: %+v", h1)
		}
		if p := h1.Probes[0]; p.Name != "app" || p.Target != target || p.Status.String() != "crit" ||
			!strings.Contains(p.Reason, "status 503") || p.Latency <= 0 || p.Detail.StatusCode != 503 {
			t.Errorf("app probe: %+v", p)
		}
		if h2.Status != "ok" || len(h2.FailingProbes) != 0 || len(h2.Probes) != 1 || h2.Probes[0].Name != "port" || h2.Metrics == nil {
			t.Errorf("host-002: %+v", h2)
		}
		if h1.Source != "ssh" || h1.Metrics == nil {
			t.Errorf("metrics beside the probes: source %q metrics %v", h1.Source, h1.Metrics)
		}
		if !strings.Contains(errs, "3 probes: 2 ok, 1 failing") {
			t.Errorf("summary: %q", errs)
		}
		// The raw json names the failing probe and carries every result's fields.
		for _, want := range []string{`"failing_probes":["app"]`, `"name":"port"`, `"latency_ns":`, `"status":"crit"`} {
			if !strings.Contains(strings.Join(strings.Fields(out), ""), want) {
				t.Errorf("json lacks %s", want)
			}
		}
	})
	t.Run("failing probe text", func(t *testing.T) {
		code, out, _ := cli(t, "check", "--config", cfg)
		if code != exitFailed {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if !regexp.MustCompile(`(?m)^host-001 +✗ crit .* 1/2 `).MatchString(out) ||
			!regexp.MustCompile(`(?m)^host-002 +✓ ok .* 1/1 `).MatchString(out) {
			t.Errorf("PROBES column:\n%s", out)
		}
		line := regexp.MustCompile(`(?m)^host-001 +app +` + regexp.QuoteMeta(target) + ` +✗ crit +[0-9.]+(µs|ms|s) +status 503, want 2xx/3xx$`)
		if !strings.Contains(out, "failing probes (1):") || !line.MatchString(out) {
			t.Errorf("failing probe line:\n%s", out)
		}
	})
	t.Run("passing probes", func(t *testing.T) {
		broken.Store(false)
		code, out, errs := cli(t, "check", "--config", cfg)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, out, errs)
		}
		if !strings.Contains(out, "PROBES") || !regexp.MustCompile(`(?m)^host-001 +✓ ok .* 2/2 `).MatchString(out) ||
			!regexp.MustCompile(`(?m)^host-002 +✓ ok .* 1/1 `).MatchString(out) || strings.Contains(out, "failing probes") {
			t.Errorf("table:\n%s", out)
		}
		// -H narrows the probes with the hosts.
		code, out, _ = cli(t, "check", "--config", cfg, "-H", "host-002", "--format", "jsonl")
		var r checkJSON
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Host != "host-002" || len(r.Probes) != 1 {
			t.Errorf("-H host-002: exit %d %s", code, out)
		}
	})
}

func TestCheckBadProbeIsAConfigError(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte(`[[hosts]]
name = "web-1"
transport = "local"

[[probes]]
name = "app"
hosts = "tag:nope"
type = "http"
target = "http://{{.Address}}/"
`), 0o600)
	code, _, errs := cli(t, "check", "--config", cfg)
	if code != exitUsage || !strings.Contains(errs, "config.toml:7:1") || !strings.Contains(errs, "tag:nope") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// With [prometheus] configured, a host its node_exporter series name takes its metrics
// from the server; the check says so.
func TestCheckTakesMetricsFromPrometheus(t *testing.T) {
	env := testprom.Start(t, testprom.Options{})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`[prometheus]
url = %q

[[hosts]]
name = "loopback"
address = "127.0.0.1"
transport = "local"
`, env.URL)+noThresholds), 0o600)
	code, out, errs := cli(t, "check", "--config", cfg, "--format", "json")
	var reps []checkJSON
	if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 1 {
		t.Fatalf("exit %d %v: %s %s", code, err, out, errs)
	}
	r := reps[0]
	if r.Source != "prometheus" || r.Metrics == nil || r.Metrics.MemTotal == 0 || r.Status == "down" {
		t.Fatalf("%+v\n%s", r, errs)
	}
	if !strings.Contains(errs, "metrics from prometheus "+env.URL+" for 1 of 1 hosts") {
		t.Errorf("stderr: %s", errs)
	}
	// The server gone, the hosts read their own metrics and the check says why.
	if err := env.KillPrometheus(); err != nil {
		t.Fatal(err)
	}
	code, out, errs = cli(t, "check", "--config", cfg, "--format", "json")
	reps = nil
	if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 1 || reps[0].Source != "local" || code != 0 {
		t.Fatalf("exit %d %v: %s", code, err, out)
	}
	if !strings.Contains(errs, "prometheus unavailable") || !strings.Contains(errs, "metrics read from the hosts themselves") {
		t.Errorf("stderr: %s", errs)
	}
}
