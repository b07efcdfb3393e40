package fleet_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/sessions"
)

// healthServer is a real HTTP target: /ok answers 200, /health answers 500 while broken.
func healthServer(t *testing.T, broken *atomic.Bool) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && broken.Load() {
			http.Error(w, "broken", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func jobs(t *testing.T, hosts []config.Host, specs ...probes.Spec) []probes.Job {
	t.Helper()
	js, err := probes.Expand(specs, hosts)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// The monitor runs the probes beside the polls and merges each host's latest results into
// its reports: a failing probe makes a reachable, healthy host crit with the probe's
// reason, and the host recovers when the probe does.
func TestMonitorMergesProbes(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 2})
	var broken atomic.Bool
	broken.Store(true)
	srv := healthServer(t, &broken)
	specs := []probes.Spec{
		{Name: "app", Hosts: "host-001", Type: probe.TypeHTTP, Target: srv.URL + "/health", Interval: 100 * time.Millisecond, Timeout: 90 * time.Millisecond},
		{Name: "alive", Hosts: "all", Type: probe.TypeHTTP, Target: srv.URL + "/ok", Interval: 100 * time.Millisecond, Timeout: 90 * time.Millisecond},
	}
	pool := sessions.NewPool(sessions.NewDialer(f.Hosts, config.Defaults{}))
	defer pool.Close()
	mon := fleet.NewMonitor(pool, f.Hosts, fleet.MonitorOptions{
		Check: fleet.CheckOptions{Thresholds: off}, Interval: 200 * time.Millisecond, Probes: jobs(t, f.Hosts, specs...),
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go mon.Run(ctx)

	r := nextUntil(t, mon, "host-001", 30*time.Second, func(r fleet.Report) bool { return len(r.Probes) == 2 && r.Metrics != nil })
	if r.Status != health.Crit || r.Err != nil || r.Source != fleet.SourceSSH {
		t.Fatalf("host-001 with a failing probe: %s %q %v", r.Status, r.Reasons, r.Err)
	}
	if r.Probes[0].Name != "alive" || r.Probes[1].Name != "app" || r.Probes[1].Status != health.Crit || r.Probes[1].Detail.StatusCode != 500 {
		t.Fatalf("probes sorted by name, app failing: %+v", r.Probes)
	}
	if !strings.HasPrefix(r.Reasons[0], "probe app "+srv.URL+"/health: status 500") {
		t.Errorf("the probe's reason leads: %q", r.Reasons)
	}
	r2 := nextUntil(t, mon, "host-002", 30*time.Second, func(r fleet.Report) bool { return len(r.Probes) == 1 && r.Metrics != nil })
	if r2.Status != health.OK || r2.Probes[0].Name != "alive" {
		t.Errorf("host-002 has only its passing probe: %s %q %+v", r2.Status, r2.Reasons, r2.Probes)
	}

	broken.Store(false)
	r = nextUntil(t, mon, "host-001", 30*time.Second, func(r fleet.Report) bool { return r.Status == health.OK })
	if len(r.Probes) != 2 || len(r.Reasons) != 0 || len(r.Probes[1].History) < 2 {
		t.Errorf("recovered: %q %+v", r.Reasons, r.Probes)
	}
}

// Batch check runs each host's probes once beside its metrics; a failing probe makes its
// host unhealthy.
func TestCheckRunsProbes(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	srv := healthServer(t, &broken)
	hosts := []config.Host{{Name: "web-1", Transport: config.TransportLocal}, {Name: "web-2", Transport: config.TransportLocal}}
	pool := sessions.NewPool(sessions.NewDialer(hosts, config.Defaults{}))
	defer pool.Close()
	js := jobs(t, hosts,
		probes.Spec{Name: "app", Hosts: "web-1", Type: probe.TypeHTTP, Target: srv.URL + "/health", Timeout: time.Second},
		probes.Spec{Name: "alive", Hosts: "all", Type: probe.TypeHTTP, Target: srv.URL + "/ok", Timeout: time.Second})
	got := map[string]fleet.Report{}
	for r := range fleet.Check(context.Background(), pool, hosts, fleet.CheckOptions{Thresholds: off, Probes: js}) {
		got[r.Host] = r
	}
	if r := got["web-1"]; r.Status != health.Crit || len(r.Probes) != 2 || r.Metrics == nil || r.Probes[1].Name != "app" {
		t.Errorf("web-1: %s %q %+v", r.Status, r.Reasons, r.Probes)
	}
	if r := got["web-2"]; r.Status != health.OK || len(r.Probes) != 1 {
		t.Errorf("web-2: %s %q %+v", r.Status, r.Reasons, r.Probes)
	}
	// CheckHost alone finds a host's jobs among all of them.
	if r := fleet.CheckHost(context.Background(), pool, hosts[1], fleet.CheckOptions{Thresholds: off, Probes: js}); len(r.Probes) != 1 {
		t.Errorf("CheckHost: %+v", r.Probes)
	}
}
