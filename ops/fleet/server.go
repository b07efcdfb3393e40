package fleet

import (
	"cmp"
	"context"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
)

// MetricsServer reads metrics and alerts for the whole fleet at once: a Prometheus
// (backends/prom.Client), or anything that speaks its API.
type MetricsServer interface {
	// FleetMetrics returns the metrics of every host it has series for, by host name. An
	// error wrapping prom.ErrUnavailable means the server did not answer.
	FleetMetrics(ctx context.Context, hosts []config.Host) (map[string]health.Metrics, error)
	// Alerts lists the active (firing and pending) alerts.
	Alerts(ctx context.Context) ([]prom.Alert, error)
	// HostLabel is the label that maps series and alerts to hosts.
	HostLabel() string
	// URL names the server, without credentials.
	URL() string
}

// ServerMetrics is what a metrics server said about the fleet in one round. After a
// round that failed it holds the last metrics the server gave, marked Stale, so that a
// server going away dims the numbers rather than emptying them.
type ServerMetrics struct {
	Source  string // SourcePrometheus
	Metrics map[string]*health.Metrics
	// Stale is set when this round failed; Err says why and Fresh is when the server
	// last answered (zero if it never did).
	Stale bool
	Err   error
	Fresh time.Time
}

func (s *ServerMetrics) metricsOf(host string) (*health.Metrics, bool) {
	if s == nil {
		return nil, false
	}
	m, ok := s.Metrics[host]
	return m, ok
}

// ReadServer reads one round of metrics for hosts from srv, with one FleetMetrics call for
// the whole fleet. When the server fails, the result carries the last round's metrics
// (prev, may be nil) marked stale, and the error.
func ReadServer(ctx context.Context, srv MetricsServer, hosts []config.Host, prev *ServerMetrics) *ServerMetrics {
	ms, err := srv.FleetMetrics(ctx, hosts)
	now := time.Now()
	out := &ServerMetrics{Source: SourcePrometheus}
	if err != nil {
		out.Stale, out.Err = true, err
		if prev != nil {
			out.Metrics, out.Fresh = prev.Metrics, prev.Fresh
		}
		return out
	}
	out.Fresh = now
	out.Metrics = make(map[string]*health.Metrics, len(ms))
	for name, m := range ms {
		out.Metrics[name] = &m
	}
	return out
}

// ServerStatus is the fleet-wide state of the metrics server, for the console's header
// and the fleet pane: where metrics come from, whether the server answered its last
// round, and how many alerts fire. The zero value means no server is configured.
type ServerStatus struct {
	Source string // SourcePrometheus; "" when no metrics server is configured
	URL    string
	// Rounds counts the rounds done, answered or not; nothing is known before the first.
	Rounds int
	// Stale is set when the last round failed (metrics or alerts); Err says why, and
	// Fresh is when the server last answered (zero if it never did).
	Stale bool
	Err   string
	Fresh time.Time
	// Alerts counts the firing alerts that concern the fleet: those on inventory hosts
	// and those naming no host at all. AlertsKnown is false until alerts were read once.
	Alerts      int
	AlertsKnown bool
}

// fleetAlerts groups the firing alerts by inventory host (prom.FiringByHost) and counts
// those that concern the fleet: on its hosts, or naming no host at all (a fleet-wide
// alert, for the header only). Alerts about hosts outside the inventory are left out: a
// shared server knows many machines that are not this console's business.
func fleetAlerts(alerts []prom.Alert, hosts []config.Host, label string) (map[string][]prom.Alert, int) {
	byHost := prom.FiringByHost(alerts, hosts, label)
	n := 0
	for _, as := range byHost {
		n += len(as)
	}
	ln := model.LabelName(cmp.Or(label, prom.DefaultHostLabel))
	for _, a := range alerts {
		if a.Firing() && a.Labels[ln] == "" {
			n++
		}
	}
	return byHost, n
}
