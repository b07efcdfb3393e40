package fleet

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/themes"
)

// Metrics from a server: the same sample reported again (because a probe or the server's
// state changed) is charted once; a stale one is kept and dimmed; metrics that come with
// an SSH error are still taken, and the error recorded.
func TestMergeServerMetrics(t *testing.T) {
	m := New([]config.Host{{Name: "a", Transport: "ssh"}}, keymap.Default().Fleet, styles(t, themes.NoColor)).SetSize(120, 10)
	at := t0.Add(-time.Minute)
	sample1 := metricsAt(at, sample{cpu: 40, mem: 50, disks: rootDisk(10), load: 1})
	r := report("a", at, health.OK, sample1)
	r.Source = fleet.SourcePrometheus
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{r}})
	r.Time = at.Add(time.Second)
	r.Probes = []probes.Result{probeResult("api", "http", "http://a/", health.OK, time.Millisecond, "", false)}
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{r}})
	h := m.hosts[0]
	if h.cpu.Len() != 1 || h.source != fleet.SourcePrometheus || h.stale || h.probes == nil || h.probes.Total != 1 {
		t.Fatalf("same sample twice: %d points, source %q, stale %v, probes %v", h.cpu.Len(), h.source, h.stale, h.probes)
	}

	r.Stale, r.Time = true, at.Add(10*time.Second)
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{r}})
	if h := m.hosts[0]; !h.stale || h.status != health.OK || h.cpu.Len() != 1 {
		t.Fatalf("stale: %+v", h)
	}

	sample2 := metricsAt(at.Add(20*time.Second), sample{cpu: 60, mem: 50, disks: rootDisk(10), load: 1})
	down := report("a", at.Add(20*time.Second), health.Down, sample2, "connection refused")
	down.Err, down.Source = errors.New("connection refused"), fleet.SourcePrometheus
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{down}})
	h = m.hosts[0]
	if h.stale || h.metrics != sample2 || h.cpu.Len() != 2 || h.lastErr != "connection refused" || h.status != health.Down {
		t.Fatalf("metrics with an error: stale %v, points %d, err %q, %s", h.stale, h.cpu.Len(), h.lastErr, h.status)
	}
	// A report without probes keeps the last ones; alerts are replaced by every report.
	if h.probes == nil || len(h.probeRes) != 1 || h.alerts != nil {
		t.Errorf("probes %v alerts %v", h.probes, h.alerts)
	}
}

// The PROBES column counts passing probes of those that ran, "–" where none did; its ink
// follows the worst probe, flapping counting as a warning.
func TestProbesColumn(t *testing.T) {
	m := fixture(t, 160, 48)
	frame := m.View()
	for host, want := range map[string]string{"web-1": " 2/2 ", "web-9": " 1/1 ", "db-1": " 1/2 ", "db-2": " 0/1 ", "web-2": "  – "} {
		if row := lineWith(t, frame, host); !strings.Contains(row, want) {
			t.Errorf("%s: want %q in\n%s", host, want, row)
		}
	}
	worst := map[string]health.Status{"web-1": health.OK, "web-9": health.Warn, "db-1": health.Crit, "db-2": health.Down}
	for name, want := range worst {
		if got := m.hosts[m.byName[name]].probeWorst; got != want {
			t.Errorf("%s: worst probe %s, want %s", name, got, want)
		}
	}
	if pc, ok := probesOf(&fleet.Report{}); ok || pc != (ProbeCounts{}) {
		t.Error("no probes must read as unknown, not 0/0")
	}
}

// The detail view lists each probe with its status in words, target, latency, reason
// and flapping, the host's firing alerts, and where its metrics came from and how stale.
func TestDetailProbesAlertsAndSource(t *testing.T) {
	m := selectHost(t, fixture(t, 160, 60), "web-9")
	m, _ = press(t, m, "d")
	v := m.View()
	for _, want := range []string{"Probes  1 of 1 ok", "✓ ok  web-health  http://10.0.0.19:8080/healthz   870ms  ! flapping",
		"Alerts  0 firing", "Metrics  from ssh · sampled 11:59:55 (5s ago)"} {
		if !strings.Contains(v, want) {
			t.Errorf("web-9's detail lacks %q:\n%s", want, v)
		}
	}
	m, _ = press(t, m, "esc")
	m = selectHost(t, m, "db-1")
	m, _ = press(t, m, "d")
	v = m.View()
	for _, want := range []string{"✗ crit  pg-ready  pg_isready -q     31ms  exit 2, want 0",
		"! PostgresDiskFilling  severity critical  since 11:35:00 (25m ago)",
		"Metrics  from prometheus, stale 40s · prometheus unavailable"} {
		if !strings.Contains(v, want) {
			t.Errorf("db-1's detail lacks %q:\n%s", want, v)
		}
	}
}

// The top line says where metrics come from when a server is configured, and that they
// are stale when it stopped answering; without a server it says nothing of it.
func TestServerNote(t *testing.T) {
	s := styles(t, themes.NoColor)
	now := t0
	cases := []struct {
		st   fleet.ServerStatus
		want string
	}{
		{fleet.ServerStatus{}, ""},
		{fleet.ServerStatus{Source: "prometheus"}, "metrics from prometheus …"},
		{fleet.ServerStatus{Source: "prometheus", Rounds: 3, Fresh: now}, "metrics from prometheus"},
		{fleet.ServerStatus{Source: "prometheus", Rounds: 3, Stale: true, Fresh: now.Add(-90 * time.Second)}, "! metrics from prometheus: stale 1m"},
		{fleet.ServerStatus{Source: "prometheus", Rounds: 1, Stale: true}, "! metrics from prometheus: no answer yet"},
	}
	for _, c := range cases {
		if got := serverNote(c.st, now, s); got != c.want {
			t.Errorf("%+v: %q, want %q", c.st, got, c.want)
		}
	}
	m := fixture(t, 160, 48)
	if st := m.Server(); !st.Stale || st.Alerts != 3 || !st.AlertsKnown {
		t.Errorf("Server(): %+v", st)
	}
}
