package runbook

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
)

// metricValues are the metrics RemoteMetrics knows, read from one health sample.
var metricValues = map[string]struct {
	field string
	value func(health.Metrics) float64
}{
	"disk_used":     {health.FieldDisks, func(m health.Metrics) float64 { return m.WorstDisk().Percent }},
	"cpu_used":      {health.FieldCPU, func(m health.Metrics) float64 { return m.CPUPercent }},
	"mem_used":      {health.FieldMem, func(m health.Metrics) float64 { return m.MemPercent }},
	"load1":         {health.FieldLoad, func(m health.Metrics) float64 { return m.Load1 }},
	"load_per_core": {health.FieldLoad, func(m health.Metrics) float64 { return m.Load1 / float64(max(m.Cores, 1)) }},
	"swap_used": {health.FieldMem, func(m health.Metrics) float64 {
		if m.SwapTotal == 0 {
			return 0
		}
		return 100 * float64(m.SwapUsed) / float64(m.SwapTotal)
	}},
}

// RemoteMetricNames lists the metrics RemoteMetrics knows.
func RemoteMetricNames() []string {
	names := make([]string, 0, len(metricValues))
	for n := range metricValues {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RemoteMetrics is a MetricFunc that asks each host for one health sample (the same
// one-round-trip script the fleet view polls with) and reads the named metric from it:
// disk_used (percent, fullest filesystem), cpu_used, mem_used and swap_used (percent),
// load1 and load_per_core. A host is sampled once per MetricFunc however many
// metric preconditions ask, so a runbook sees one consistent picture of each host.
func RemoteMetrics(pool Runner, timeout time.Duration) MetricFunc {
	var mu sync.Mutex
	samples := map[string]*sample{}
	return func(ctx context.Context, h config.Host, metric string) (float64, error) {
		mv, ok := metricValues[metric]
		if !ok {
			return 0, fmt.Errorf("unknown metric %q (known: %s)", metric, strings.Join(RemoteMetricNames(), ", "))
		}
		mu.Lock()
		s := samples[h.Name]
		if s == nil {
			s = &sample{}
			samples[h.Name] = s
		}
		mu.Unlock()
		s.once.Do(func() {
			r := pool.Run(ctx, h, health.RemoteCommand, sessions.FanOutOptions{Timeout: timeout})
			if r.Outcome != sessions.OutcomeOK {
				s.err = fmt.Errorf("health sample: %s", describe(r))
				return
			}
			s.m, _ = health.ParseRemote(r.Stdout, r.End)
		})
		if s.err != nil {
			return 0, s.err
		}
		if !s.m.Has(mv.field) {
			return 0, fmt.Errorf("%s could not be measured on %s", metric, h.Name)
		}
		return mv.value(s.m), nil
	}
}

type sample struct {
	once sync.Once
	m    health.Metrics
	err  error
}
