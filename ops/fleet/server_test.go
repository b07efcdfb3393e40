package fleet_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/internal/testprom"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
)

// off turns judgement by thresholds off, so a busy test machine cannot make a host warn:
// where metrics come from is under test, not what they say.
var off = config.Thresholds{}

// loopbackSSH starts a real sshd that also answers on 127.0.0.1, the address testprom's
// node_exporter series name (instance="127.0.0.1:PORT"), and returns an inventory host
// for it: so one host is reached over SSH and mapped from Prometheus by its address.
func loopbackSSH(t *testing.T) config.Host {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	f := testfleet.Start(t, testfleet.Options{Hosts: 1, ExtraSSHDConfig: "ListenAddress " + addr})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{addr}, f.HostKey(0))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := f.Hosts[0]
	h.Name, h.Address, h.Port, h.KnownHosts = "loopback", "127.0.0.1", port, []string{kh}
	return h
}

// nextUntil reads the monitor's reports until one of host satisfies ok, or fails after d.
func nextUntil(t *testing.T, mon *fleet.Monitor, host string, d time.Duration, ok func(fleet.Report) bool) fleet.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var last fleet.Report
	for {
		reps, err := mon.Next(ctx)
		if err != nil {
			t.Fatalf("%s: no such report within %v; last: %s %q source %q stale %v err %v", host, d,
				last.Status, last.Reasons, last.Source, last.Stale, last.Err)
		}
		for _, r := range reps {
			if r.Host != host {
				continue
			}
			last = r
			if ok(r) {
				return r
			}
		}
	}
}

// With a Prometheus configured, a host its node_exporter series name takes its metrics from
// the server, alerts attach to it, and a host without series reads its own. When the server
// is killed, the last metrics stay, marked stale, and the host is not marked down: it still
// answers over SSH.
func TestMonitorTakesMetricsFromPrometheus(t *testing.T) {
	env := testprom.Start(t, testprom.Options{})
	loop := loopbackSSH(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// CPU is a rate: it needs two scrapes, and the alert one evaluation.
	for _, q := range []string{`rate(node_cpu_seconds_total[1m])`, `ALERTS{alertstate="firing"}`} {
		if err := env.WaitForQuery(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, env.PrometheusLog())
		}
	}
	client, err := prom.New(&prom.Config{URL: env.URL, Timeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	local := config.Host{Name: "local", Transport: config.TransportLocal}
	hosts := []config.Host{loop, local}
	pool := sessions.NewPool(sessions.NewDialer(hosts, config.Defaults{}))
	defer pool.Close()
	mon := fleet.NewMonitor(pool, hosts, fleet.MonitorOptions{
		Check: fleet.CheckOptions{Thresholds: off}, Interval: 300 * time.Millisecond, Server: client,
	})
	go mon.Run(ctx)

	r := nextUntil(t, mon, "loopback", time.Minute, func(r fleet.Report) bool {
		return r.Source == fleet.SourcePrometheus && !r.Stale && len(r.Alerts) > 0
	})
	if r.Status != health.OK || r.Err != nil || r.Outcome != sessions.OutcomeOK {
		t.Fatalf("loopback: %s %q %v", r.Status, r.Reasons, r.Err)
	}
	m := r.Metrics
	if m.Cores < 1 || m.MemTotal == 0 || len(m.Disks) == 0 || !m.Has(health.FieldCPU) || !m.Has(health.FieldLoad) {
		t.Fatalf("prometheus metrics incomplete: %+v", m)
	}
	if r.Alerts[0].Name() != testprom.AlertName {
		t.Errorf("alerts on loopback: %+v", r.Alerts)
	}
	if st := mon.Server(); st.Source != fleet.SourcePrometheus || st.Stale || !st.AlertsKnown || st.Alerts != 1 || st.URL != env.URL {
		t.Errorf("server status: %+v", st)
	}
	lr := nextUntil(t, mon, "local", 30*time.Second, func(r fleet.Report) bool { return r.Metrics != nil })
	if lr.Source != fleet.SourceLocal || lr.Stale || len(lr.Alerts) != 0 {
		t.Errorf("a host without series reads its own metrics: source %q stale %v alerts %v", lr.Source, lr.Stale, lr.Alerts)
	}

	sampled := m.Time
	if err := env.KillPrometheus(); err != nil {
		t.Fatal(err)
	}
	r = nextUntil(t, mon, "loopback", 30*time.Second, func(r fleet.Report) bool { return r.Stale })
	if r.Status == health.Down || r.Err != nil || r.Source != fleet.SourcePrometheus || r.Metrics == nil || r.Metrics.Time.Before(sampled) {
		t.Fatalf("after the kill: %s %q err %v source %q metrics %v", r.Status, r.Reasons, r.Err, r.Source, r.Metrics)
	}
	st := mon.Server()
	if !st.Stale || !strings.Contains(st.Err, "unavailable") || st.Fresh.IsZero() || !st.AlertsKnown {
		t.Errorf("server status after the kill: %+v", st)
	}
	// The host is still polled over SSH, round after round, and stays up with stale metrics.
	for range 3 {
		r = nextUntil(t, mon, "loopback", 10*time.Second, func(fleet.Report) bool { return true })
		if r.Status == health.Down || !r.Stale || r.Metrics == nil {
			t.Fatalf("later round: %s stale %v %v", r.Status, r.Stale, r.Err)
		}
	}
}

// fakeServer is a metrics server whose answers the test sets: the unit tests of staleness
// and alert counting need no binaries.
type fakeServer struct {
	metrics map[string]health.Metrics
	alerts  []prom.Alert
	err     error
	calls   int
}

func (f *fakeServer) FleetMetrics(ctx context.Context, hosts []config.Host) (map[string]health.Metrics, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.metrics, nil
}

func (f *fakeServer) Alerts(context.Context) ([]prom.Alert, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.alerts, nil
}
func (f *fakeServer) HostLabel() string { return "instance" }
func (f *fakeServer) URL() string       { return "http://prom.example:9090" }

func alert(name, state string, labels ...string) prom.Alert {
	a := prom.Alert{State: state, Labels: map[model.LabelName]model.LabelValue{"alertname": model.LabelValue(name)}}
	for i := 0; i+1 < len(labels); i += 2 {
		a.Labels[model.LabelName(labels[i])] = model.LabelValue(labels[i+1])
	}
	return a
}

// Check reads the server once for the whole fleet: a host it has metrics for takes them
// (and only proves it answers), a host it lacks reads its own, and a server that failed
// leaves every host to its own read.
func TestCheckTakesServerMetrics(t *testing.T) {
	hosts := []config.Host{
		{Name: "web-1", Address: "127.0.0.1", Transport: config.TransportLocal},
		{Name: "web-2", Address: "127.0.0.2", Transport: config.TransportLocal},
	}
	pool := sessions.NewPool(sessions.NewDialer(hosts, config.Defaults{}))
	defer pool.Close()
	at := time.Now().Add(-time.Second)
	srv := &fakeServer{metrics: map[string]health.Metrics{
		"web-1": {Time: at, CPUPercent: 97, Cores: 2, MemTotal: 1 << 30, MemUsed: 1 << 29, MemPercent: 50, Missing: []string{health.FieldPorts}},
	}}
	ctx := context.Background()
	round := fleet.ReadServer(ctx, srv, hosts, nil)
	th := config.Thresholds{CPUWarn: 80, CPUCrit: 95}
	got := map[string]fleet.Report{}
	for r := range fleet.Check(ctx, pool, hosts, fleet.CheckOptions{Thresholds: th, Server: round}) {
		got[r.Host] = r
	}
	if r := got["web-1"]; r.Source != fleet.SourcePrometheus || r.Metrics.CPUPercent != 97 || r.Status != health.Crit || r.Stale {
		t.Errorf("web-1: %+v", r)
	}
	if r := got["web-2"]; r.Source != fleet.SourceLocal || r.Metrics == nil {
		t.Errorf("web-2 reads its own: %+v", r)
	}
	if srv.calls != 1 {
		t.Errorf("%d FleetMetrics calls for one round, want 1", srv.calls)
	}

	srv.err = errors.New("prometheus unavailable: connection refused")
	failed := fleet.ReadServer(ctx, srv, hosts, round)
	if !failed.Stale || failed.Err == nil || failed.Metrics["web-1"] == nil || !failed.Fresh.Equal(round.Fresh) {
		t.Fatalf("failed round keeps the last metrics, stale: %+v", failed)
	}
	if first := fleet.ReadServer(ctx, srv, hosts, nil); !first.Stale || len(first.Metrics) != 0 {
		t.Fatalf("a server that never answered has no metrics: %+v", first)
	}
}

// The monitor keeps the server's last metrics when it stops answering, marks them stale and
// never marks the host down for it; alerts count only when they concern the fleet.
func TestMonitorServerGoesAway(t *testing.T) {
	hosts := []config.Host{{Name: "web-1", Address: "10.0.0.11", Transport: config.TransportLocal}}
	pool := sessions.NewPool(sessions.NewDialer(hosts, config.Defaults{}))
	defer pool.Close()
	srv := newSwitchable(&fakeServer{
		metrics: map[string]health.Metrics{"web-1": {Time: time.Now(), CPUPercent: 12, Cores: 2, MemTotal: 1 << 30, Missing: []string{health.FieldPorts}}},
		alerts: []prom.Alert{
			alert("HostHot", "firing", "instance", "10.0.0.11:9100"),
			alert("Slow", "pending", "instance", "10.0.0.11:9100"),
			alert("Watchdog", "firing"),
			alert("Elsewhere", "firing", "instance", "10.9.9.9:9100"),
		},
	})
	mon := fleet.NewMonitor(pool, hosts, fleet.MonitorOptions{Check: fleet.CheckOptions{Thresholds: off},
		Interval: 50 * time.Millisecond, Server: srv})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go mon.Run(ctx)

	r := nextUntil(t, mon, "web-1", 10*time.Second, func(r fleet.Report) bool { return r.Source == fleet.SourcePrometheus })
	if r.Metrics.CPUPercent != 12 || r.Stale || len(r.Alerts) != 1 || r.Alerts[0].Name() != "HostHot" {
		t.Fatalf("%+v", r)
	}
	if st := mon.Server(); st.Alerts != 2 || !st.AlertsKnown || st.Stale {
		t.Errorf("fleet alerts: HostHot and Watchdog concern the fleet: %+v", st)
	}

	srv.fail(errors.Join(prom.ErrUnavailable, errors.New("connection refused")))
	r = nextUntil(t, mon, "web-1", 10*time.Second, func(r fleet.Report) bool { return r.Stale })
	if r.Status == health.Down || r.Metrics == nil || r.Metrics.CPUPercent != 12 || len(r.Alerts) != 1 {
		t.Fatalf("stale: %s %v %+v", r.Status, r.Err, r)
	}
	if st := mon.Server(); !st.Stale || !strings.Contains(st.Err, "connection refused") || st.Alerts != 2 {
		t.Errorf("status: %+v", st)
	}

	srv.fail(nil)
	r = nextUntil(t, mon, "web-1", 10*time.Second, func(r fleet.Report) bool { return !r.Stale })
	if st := mon.Server(); st.Stale || st.Err != "" || r.Source != fleet.SourcePrometheus {
		t.Errorf("after recovery: %+v %+v", st, r)
	}
}

// switchable is a fake server that starts failing (or recovers) when the test says, while
// the monitor reads it from other goroutines.
type switchable struct {
	inner *fakeServer
	mu    sync.Mutex
	err   error
}

func newSwitchable(f *fakeServer) *switchable { return &switchable{inner: f} }

func (s *switchable) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

func (s *switchable) FleetMetrics(ctx context.Context, hosts []config.Host) (map[string]health.Metrics, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return s.inner.metrics, nil
}

func (s *switchable) Alerts(context.Context) ([]prom.Alert, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return s.inner.alerts, nil
}
func (s *switchable) HostLabel() string { return "instance" }
func (s *switchable) URL() string       { return "http://prom.example:9090" }
