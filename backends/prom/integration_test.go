package prom

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/internal/testprom"
	"github.com/opsconsole/opsconsole/ops/health"
)

// TestAgainstPrometheus talks to a real prometheus scraping a real
// prometheus-node-exporter (internal/testprom), whose inventory is "loopback" (127.0.0.1,
// the exporter's instance) and "elsewhere" (192.0.2.10, which no series names).
// Prometheus 2.42 applies new scrape targets on a fixed 5-second tick, so each start costs
// about 5 s: the subtests share one server, and the last one takes it down.
func TestAgainstPrometheus(t *testing.T) {
	env := testprom.Start(t, testprom.Options{})
	t.Logf("prometheus start-up: %v", env.Startup)
	for _, st := range []struct {
		name string
		f    func(*testing.T, *testprom.Env)
	}{
		{"up and a node metric map to hosts", testUpAndNodeMetricMapToHosts},
		{"fleet metrics from node_exporter", testFleetMetricsFromNodeExporter},
		{"bad PromQL returns the server's error", testBadPromQLReturnsServerError},
		{"range query returns a matrix", testRangeQueryReturnsMatrix},
		{"always-firing alert maps to its host", testAlwaysFiringAlertMapsToHost},
		{"server gone is unavailable", testServerGoneIsUnavailable}, // last: it kills the server
	} {
		t.Run(st.name, func(t *testing.T) { st.f(t, env) })
	}
}

func envClient(t *testing.T, env *testprom.Env, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(&Config{URL: env.URL, Timeout: timeout}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitFor(t *testing.T, env *testprom.Env, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.WaitForQuery(ctx, expr); err != nil {
		t.Fatalf("%v\n%s", err, env.PrometheusLog())
	}
}

func testUpAndNodeMetricMapToHosts(t *testing.T, env *testprom.Env) {
	c := envClient(t, env, 5*time.Second)
	ctx := context.Background()
	for _, expr := range []string{`up{job="node"}`, `node_memory_MemTotal_bytes`} {
		v, w, err := c.Query(ctx, expr, time.Time{})
		if err != nil || len(w) != 0 {
			t.Fatalf("%s: %v %v", expr, err, w)
		}
		vec, ok := v.(model.Vector)
		if !ok || len(vec) != 1 {
			t.Fatalf("%s: %v", expr, v)
		}
		if got := string(vec[0].Metric["instance"]); got != env.NodeExporterAddr {
			t.Fatalf("%s: instance %q, want %q", expr, got, env.NodeExporterAddr)
		}
		byHost := MapToHosts(vec, env.Hosts, "")
		if len(byHost) != 1 || len(byHost["loopback"]) != 1 || byHost["elsewhere"] != nil {
			t.Fatalf("%s mapped to %v, want loopback alone", expr, byHost)
		}
		if strings.HasPrefix(expr, "up") && vec[0].Value != 1 {
			t.Fatalf("up = %v", vec[0].Value)
		}
	}
	// Evaluated at a given time, the sample carries that timestamp.
	// (Now, not earlier: the first sample may be younger than a second.)
	at := time.Now().Truncate(time.Millisecond)
	v, _, err := c.Query(ctx, `up{job="node"}`, at)
	if vec, ok := v.(model.Vector); err != nil || !ok || len(vec) != 1 || !vec[0].Timestamp.Time().Equal(at) {
		t.Fatalf("at %v: %v %v", at, v, err)
	}
}

func testFleetMetricsFromNodeExporter(t *testing.T, env *testprom.Env) {
	c := envClient(t, env, 5*time.Second)
	// The CPU rate needs two scrapes after the first.
	waitFor(t, env, `rate(node_cpu_seconds_total[1m])`)
	start := time.Now()
	fleet, err := c.FleetMetrics(context.Background(), env.Hosts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("FleetMetrics took %v", time.Since(start))
	m, ok := fleet["loopback"]
	if len(fleet) != 1 || !ok {
		t.Fatalf("fleet %v, want loopback alone", fleet)
	}
	checkSensible(t, m)
	if d := time.Since(m.Time); d < -time.Minute || d > time.Minute {
		t.Errorf("metrics time %v is not the server's now", m.Time)
	}
	// The same machine read by scraping the exporter directly agrees on what cannot change.
	fams, err := Scrape(context.Background(), env.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	direct := MetricsFromNodeExporter(fams, nil)
	if direct.Cores != m.Cores || direct.MemTotal != m.MemTotal || len(direct.Disks) != len(m.Disks) {
		t.Errorf("direct scrape %+v disagrees with prometheus %+v", direct, m)
	}
	for i := range m.Disks {
		if m.Disks[i].Mount != direct.Disks[i].Mount || m.Disks[i].Total != direct.Disks[i].Total {
			t.Errorf("disk %d: %+v vs %+v", i, m.Disks[i], direct.Disks[i])
		}
	}
	// No inventory, no query.
	if f, err := c.FleetMetrics(context.Background(), nil); err != nil || len(f) != 0 {
		t.Fatalf("empty inventory: %v %v", f, err)
	}
}

func testBadPromQLReturnsServerError(t *testing.T, env *testprom.Env) {
	c := envClient(t, env, 5*time.Second)
	_, _, err := c.Query(context.Background(), "sum(rate(up[1m]) by", time.Time{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Type != "bad_data" || ae.Status != 400 || errors.Is(err, ErrUnavailable) {
		t.Fatalf("err %#v", err)
	}
	if !strings.Contains(ae.Msg, "parse error") || err.Error() != "bad_data: "+ae.Msg {
		t.Fatalf("message %q", err)
	}
	_, _, err = c.QueryRange(context.Background(), "up", time.Now().Add(-time.Hour), time.Now(), time.Millisecond)
	if !errors.As(err, &ae) || ae.Type != "bad_data" || !strings.Contains(ae.Msg, "11,000 points") {
		t.Fatalf("too many points: %v", err)
	}
}

func testRangeQueryReturnsMatrix(t *testing.T, env *testprom.Env) {
	c := envClient(t, env, 5*time.Second)
	waitFor(t, env, `count_over_time(up{job="node"}[1m]) >= 3`)
	end := time.Now()
	v, _, err := c.QueryRange(context.Background(), `up{job="node"}`, end.Add(-time.Minute), end, time.Second)
	m, ok := v.(model.Matrix)
	if err != nil || !ok || len(m) != 1 || len(m[0].Values) < 3 {
		t.Fatalf("matrix %v, %v", v, err)
	}
	for _, p := range m[0].Values {
		if p.Value != 1 {
			t.Fatalf("up point %v", p)
		}
	}
	// A constant expression over a fixed window is the same everywhere: the raw data is
	// what the CLI's JSON output passes on.
	data, _, err := c.QueryRangeData(context.Background(), "vector(2)", time.Unix(1700000000, 0), time.Unix(1700000002, 0), time.Second)
	want := `{"resultType":"matrix","result":[{"metric":{},"values":[[1700000000,"2"],[1700000001,"2"],[1700000002,"2"]]}]}`
	if err != nil || string(data) != want {
		t.Fatalf("data %s, %v", data, err)
	}
}

func testAlwaysFiringAlertMapsToHost(t *testing.T, env *testprom.Env) {
	c := envClient(t, env, 5*time.Second)
	waitFor(t, env, fmt.Sprintf(`ALERTS{alertname=%q,alertstate="firing"}`, testprom.AlertName))
	alerts, err := c.Alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Name() != testprom.AlertName || !alerts[0].Firing() || alerts[0].ActiveAt.IsZero() ||
		alerts[0].Annotations["summary"] == "" {
		t.Fatalf("alerts %+v", alerts)
	}
	byHost := FiringByHost(alerts, env.Hosts, "")
	if len(byHost) != 1 || len(byHost["loopback"]) != 1 {
		t.Fatalf("by host %v", byHost)
	}

	targets, err := c.Targets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(targets.Active) != 1 || targets.Active[0].ScrapeURL != env.MetricsURL || targets.Active[0].Health != "up" ||
		targets.Active[0].ScrapePool != "node" || targets.Active[0].LastScrape.IsZero() {
		t.Fatalf("targets %+v", targets)
	}
}

// testServerGoneIsUnavailable: a wedged server (stopped: connections are accepted and
// never answered) and then a dead one (killed: connections refused) both give
// ErrUnavailable within the timeout, which callers show as stale data, never as hosts
// down, and never as a hang.
func testServerGoneIsUnavailable(t *testing.T, env *testprom.Env) {
	const timeout = 700 * time.Millisecond
	c := envClient(t, env, timeout)
	ctx := context.Background()
	waitFor(t, env, `rate(node_cpu_seconds_total[1m])`)
	before, err := c.FleetMetrics(ctx, env.Hosts)
	if err != nil || !reflect.DeepEqual(keys(before), []string{"loopback"}) {
		t.Fatalf("before: %v %v", before, err)
	}

	check := func(what string, limit time.Duration) {
		t.Helper()
		start := time.Now()
		m, err := c.FleetMetrics(ctx, env.Hosts)
		took := time.Since(start)
		if !errors.Is(err, ErrUnavailable) || m != nil {
			t.Errorf("%s: FleetMetrics = %v, %v; want ErrUnavailable", what, m, err)
		}
		if took > limit {
			t.Errorf("%s: took %v, want under %v", what, took, limit)
		}
		start = time.Now()
		_, _, err = c.Query(ctx, "up", time.Time{})
		if !errors.Is(err, ErrUnavailable) || time.Since(start) > limit {
			t.Errorf("%s: Query = %v after %v", what, err, time.Since(start))
		}
		if _, err := c.Alerts(ctx); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: Alerts = %v", what, err)
		}
		t.Logf("%s: %v in %v", what, err, took)
	}
	if err := env.FreezePrometheus(); err != nil {
		t.Fatal(err)
	}
	check("frozen", timeout+2*time.Second)
	if err := env.KillPrometheus(); err != nil {
		t.Fatal(err)
	}
	check("killed", time.Second)
}

func keys(m map[string]health.Metrics) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
