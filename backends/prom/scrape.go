package prom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/ops/health"
)

// maxScrape bounds a /metrics body; node_exporter's is well under a megabyte, so anything
// near this is not a node_exporter.
const maxScrape = 32 << 20

var scrapeClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// Scrape fetches an exporter's /metrics (for example "http://10.0.0.11:9100/metrics") and
// parses the text exposition format. Credentials in the URL are sent as basic auth and
// never appear in an error. Without a deadline on ctx, DefaultTimeout applies.
func Scrape(ctx context.Context, rawURL string) (map[string]*dto.MetricFamily, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("scrape %s: not an http(s) URL", redactURL(rawURL))
	}
	user := u.User
	u.User = nil
	name := u.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, name, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", name, err)
	}
	if user != nil {
		pass, _ := user.Password()
		req.SetBasicAuth(user.Username(), pass)
	}
	// Ask for the text format only: it is the one the parser reads, and every exporter
	// version serves it.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := scrapeClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("scrape %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", name, resp.Status)
	}
	body := io.LimitReader(resp.Body, maxScrape)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(body)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("scrape %s: %w", name, ctx.Err())
		}
		return nil, fmt.Errorf("scrape %s: %w", name, err)
	}
	return families, nil
}

// Sample is what one scrape leaves for the next: the CPU counters a busy percentage is
// measured between.
type Sample struct {
	// Time is the exporter's node_time_seconds (the host's clock); zero when absent.
	Time time.Time
	// CPUIdle and CPUTotal are seconds summed over all cores and modes; idle includes
	// iowait, as the other readers count it.
	CPUIdle, CPUTotal float64
}

// SampleOf extracts the CPU counters from a scrape, or nil when it has none.
func SampleOf(families map[string]*dto.MetricFamily) *Sample {
	mf := families["node_cpu_seconds_total"]
	if mf == nil || len(mf.GetMetric()) == 0 {
		return nil
	}
	s := &Sample{}
	for _, m := range mf.GetMetric() {
		v := metricValue(m)
		if math.IsNaN(v) {
			continue
		}
		s.CPUTotal += v
		if mode := labelValue(m, "mode"); mode == "idle" || mode == "iowait" {
			s.CPUIdle += v
		}
	}
	if t, ok := gauge(families, "node_time_seconds"); ok {
		s.Time = floatTime(t)
	}
	return s
}

// MetricsFromNodeExporter turns one node_exporter scrape into health metrics. CPU busy %
// needs the previous scrape's counters (prev); without them, or when the counters went
// backwards (the exporter or the host restarted), CPU is named in Missing. Metrics.Time is
// the exporter's node_time_seconds. Listening ports are always missing: node_exporter
// does not export them.
func MetricsFromNodeExporter(families map[string]*dto.MetricFamily, prev *Sample) health.Metrics {
	d := &instanceData{has: map[string]bool{}, gauges: map[string]float64{}, disks: map[string]*diskSeries{}}
	cur := SampleOf(families)
	if cur != nil {
		d.m.Time = cur.Time
		if prev != nil {
			dTotal, dIdle := cur.CPUTotal-prev.CPUTotal, cur.CPUIdle-prev.CPUIdle
			if dTotal > 0 && dIdle >= 0 && dIdle <= dTotal {
				d.m.CPUPercent = (dTotal - dIdle) / dTotal * 100
				d.has[health.FieldCPU] = true
			}
		}
		cpus := map[string]bool{}
		for _, m := range families["node_cpu_seconds_total"].GetMetric() {
			if labelValue(m, "mode") == "idle" {
				cpus[labelValue(m, "cpu")] = true
			}
		}
		d.m.Cores = len(cpus)
		d.has[health.FieldCores] = d.m.Cores > 0
	}
	for _, name := range []string{"node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes",
		"node_memory_SwapTotal_bytes", "node_memory_SwapFree_bytes", "node_load1", "node_load5",
		"node_load15", "node_boot_time_seconds", "node_time_seconds"} {
		if v, ok := gauge(families, name); ok {
			d.gauges[name] = v
		}
	}
	for _, name := range []string{"node_filesystem_size_bytes", "node_filesystem_free_bytes", "node_filesystem_avail_bytes"} {
		for _, m := range families[name].GetMetric() {
			mount, fstype := labelValue(m, "mountpoint"), labelValue(m, "fstype")
			if !health.KeepDisk(fstype, mount) {
				continue
			}
			ds := d.disks[mount]
			if ds == nil {
				ds = &diskSeries{fs: labelValue(m, "device"), fstype: fstype}
				d.disks[mount] = ds
			}
			v := metricValue(m)
			switch name {
			case "node_filesystem_size_bytes":
				ds.size, ds.hasSize = v, true
			case "node_filesystem_free_bytes":
				ds.free, ds.hasFree = v, true
			case "node_filesystem_avail_bytes":
				ds.avail, ds.hasAv = v, true
			}
		}
	}
	return d.finish()
}

// metricValue reads a sample of any simple type; NaN when it has no value.
func metricValue(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return math.NaN()
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// gauge reads a single-sample family such as node_load1.
func gauge(families map[string]*dto.MetricFamily, name string) (float64, bool) {
	mf := families[name]
	if mf == nil || len(mf.GetMetric()) == 0 {
		return 0, false
	}
	v := metricValue(mf.GetMetric()[0])
	return v, !math.IsNaN(v)
}

func floatTime(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// NodeExporter reads one host's metrics by scraping its node_exporter directly, for hosts
// with `node_exporter = PORT` when no Prometheus is configured. It keeps the previous
// scrape's CPU counters, so each Collect measures CPU over the interval since the last
// one. Safe for concurrent use.
type NodeExporter struct {
	// URL is the exporter's metrics URL, e.g. http://10.0.0.11:9100/metrics.
	URL string

	mu   sync.Mutex
	prev *Sample
}

// cpuWindow is the gap between the two scrapes of a first Collect. node_exporter's CPU
// counters tick at 10 ms, so a shorter gap measures noise.
const cpuWindow = 250 * time.Millisecond

// Collect scrapes the exporter and returns its metrics stamped with the time of the
// scrape (our clock, like every other reader, not the host's). The first call scrapes
// twice, cpuWindow apart, so that CPU is measured from the start.
func (n *NodeExporter) Collect(ctx context.Context) (health.Metrics, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.prev == nil {
		fams, err := Scrape(ctx, n.URL)
		if err != nil {
			return health.Metrics{}, err
		}
		n.prev = SampleOf(fams)
		if err := sleep(ctx, cpuWindow); err != nil {
			return health.Metrics{}, err
		}
	}
	fams, err := Scrape(ctx, n.URL)
	if err != nil {
		return health.Metrics{}, err
	}
	m := MetricsFromNodeExporter(fams, n.prev)
	m.Time = time.Now()
	if s := SampleOf(fams); s != nil {
		n.prev = s
	}
	return m, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
