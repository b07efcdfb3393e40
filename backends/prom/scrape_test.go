package prom

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/internal/testprom"
	"github.com/opsconsole/opsconsole/ops/health"
)

func parseFixture(t *testing.T, name string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func TestMetricsFromNodeExporterFixture(t *testing.T) {
	first, second := parseFixture(t, "node_exporter_1.txt"), parseFixture(t, "node_exporter_2.txt")
	m := MetricsFromNodeExporter(first, nil)
	if m.Has(health.FieldCPU) || !m.Has(health.FieldMem) {
		t.Fatalf("without a previous scrape CPU must be missing and the rest there: %v", m.Missing)
	}
	m = MetricsFromNodeExporter(second, SampleOf(first))
	// Δtotal 20 s, Δidle (idle+iowait) 14 s: 30% busy.
	want := health.Metrics{
		Time:       time.Unix(1700086410, 0).UTC(),
		CPUPercent: 30,
		Cores:      2,
		MemTotal:   8e9, MemUsed: 6e9, MemPercent: 75,
		SwapTotal: 1e9, SwapUsed: 2.5e8,
		Load1: 0.5, Load5: 0.75, Load15: 1.25,
		Uptime: 86410 * time.Second,
		Disks: []health.Disk{
			{Mount: "/", FS: "/dev/vda1", Total: 1e11, Used: 7e10, Percent: 70.0 / 95 * 100},
			{Mount: "/boot", FS: "/dev/vda2", Total: 1e9, Used: 5e8, Percent: 0.5 / 0.95 * 100},
		},
		Missing: []string{health.FieldPorts},
	}
	if math.Abs(m.CPUPercent-30) < 1e-9 {
		m.CPUPercent = 30
	}
	for i := range m.Disks {
		if i < len(want.Disks) && math.Abs(m.Disks[i].Percent-want.Disks[i].Percent) < 1e-9 {
			m.Disks[i].Percent = want.Disks[i].Percent
		}
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("metrics\n got %+v\nwant %+v", m, want)
	}
	// Counters going backwards (the exporter restarted) leave CPU unmeasured, not negative.
	if m := MetricsFromNodeExporter(first, SampleOf(second)); m.Has(health.FieldCPU) {
		t.Fatalf("CPU from a counter reset: %v", m.CPUPercent)
	}
	if m := MetricsFromNodeExporter(map[string]*dto.MetricFamily{}, nil); len(m.Missing) != 7 {
		t.Fatalf("empty scrape: missing %v", m.Missing)
	}
}

func TestScrapeRejectsWhatIsNotTheTextFormat(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gone" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("<html>not metrics</html>"))
	}))
	defer srv.Close()
	if _, err := Scrape(context.Background(), srv.URL+"/gone"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	if _, err := Scrape(context.Background(), srv.URL+"/html"); err == nil {
		t.Error("HTML parsed as metrics")
	}
	if _, err := Scrape(context.Background(), "ftp://x/metrics"); err == nil {
		t.Error("ftp URL accepted")
	}
}

// TestScrapeRealNodeExporter reads a real prometheus-node-exporter with no server: one
// scrape parses, and two scrapes give a CPU percentage.
func TestScrapeRealNodeExporter(t *testing.T) {
	t.Parallel()
	env := testprom.Start(t, testprom.Options{NoPrometheus: true})
	ctx := context.Background()
	fams, err := Scrape(ctx, env.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"node_cpu_seconds_total", "node_memory_MemTotal_bytes", "node_load1", "node_filesystem_size_bytes"} {
		if fams[name] == nil {
			t.Errorf("scrape lacks %s", name)
		}
	}
	first := SampleOf(fams)
	// Wait for the CPU counters to move (they tick at 10 ms) rather than sleeping a guess.
	var m health.Metrics
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams, err = Scrape(ctx, env.MetricsURL)
		if err != nil {
			t.Fatal(err)
		}
		if SampleOf(fams).CPUTotal > first.CPUTotal {
			m = MetricsFromNodeExporter(fams, first)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("CPU counters never advanced")
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	checkSensible(t, m)

	n := &NodeExporter{URL: env.MetricsURL}
	m, err = n.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkSensible(t, m)
	if time.Since(m.Time) > time.Minute {
		t.Errorf("Collect time %v is not now", m.Time)
	}
	env.KillNodeExporter()
	if _, err := n.Collect(ctx); err == nil {
		t.Error("Collect from a dead exporter succeeded")
	}
}

// checkSensible checks a real machine's metrics against what the kernel says.
func checkSensible(t *testing.T, m health.Metrics) {
	t.Helper()
	if !reflect.DeepEqual(m.Missing, []string{health.FieldPorts}) {
		t.Errorf("missing %v, want only ports", m.Missing)
	}
	if m.CPUPercent < 0 || m.CPUPercent > 100 {
		t.Errorf("cpu %v%%", m.CPUPercent)
	}
	if m.Cores < 1 || m.Cores > 1<<16 {
		t.Errorf("cores %d", m.Cores)
	}
	if want := memTotal(t); m.MemTotal != want {
		t.Errorf("MemTotal %d, /proc/meminfo says %d", m.MemTotal, want)
	}
	if m.MemPercent <= 0 || m.MemPercent > 100 || m.MemUsed > m.MemTotal {
		t.Errorf("mem %d/%d %v%%", m.MemUsed, m.MemTotal, m.MemPercent)
	}
	if m.Load1 < 0 || m.Load5 < 0 || m.Load15 < 0 {
		t.Errorf("load %v %v %v", m.Load1, m.Load5, m.Load15)
	}
	if m.Uptime <= 0 {
		t.Errorf("uptime %v", m.Uptime)
	}
	if len(m.Disks) == 0 {
		t.Error("no disks")
	}
	for _, d := range m.Disks {
		if d.Total == 0 || d.Used > d.Total || d.Percent < 0 || d.Percent > 100 || !health.KeepDisk("ext4", d.Mount) {
			t.Errorf("disk %+v", d)
		}
	}
}

func memTotal(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			var kb uint64
			for _, c := range f[1] {
				kb = kb*10 + uint64(c-'0')
			}
			return kb * 1024
		}
	}
	t.Fatal("no MemTotal in /proc/meminfo")
	return 0
}
