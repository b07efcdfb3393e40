// Package fleet is the health model of the fleet: one check round per host (metrics read in
// a single round trip, or taken from a metrics server's round for the whole fleet, judged
// against thresholds together with the host's probes), the reports it yields, and the
// monitor that keeps them coming for the console.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/sessions"
)

// MetricsSource is an optional power of a Session that reads its host's metrics natively
// (the local machine through gopsutil) instead of through the remote script.
type MetricsSource interface {
	Metrics(ctx context.Context) (health.Metrics, error)
}

// Where a Report's metrics came from (Report.Source).
const (
	SourceSSH        = "ssh"           // the remote script over the host's session
	SourceLocal      = "local"         // gopsutil on the machine we run on
	SourcePrometheus = "prometheus"    // the fleet's Prometheus (node_exporter series)
	SourceExporter   = "node_exporter" // the host's own node_exporter, scraped directly
)

// Report is one host's health at one moment.
type Report struct {
	Host      string
	Transport string
	Status    health.Status
	Reasons   []string
	Metrics   *health.Metrics
	// Source says where Metrics came from: SourceSSH, SourceLocal (or the transport's
	// name for another one), SourcePrometheus. Empty without metrics.
	Source string
	// Stale is set when Metrics are older than they should be because their source did
	// not answer (a Prometheus that is down keeps its last metrics, marked so). Stale
	// metrics say nothing about whether the host is up.
	Stale bool
	// Probes are the host's latest probe results, sorted by probe name.
	Probes []probes.Result
	// Alerts are the alerts firing on the host, from the metrics server.
	Alerts []prom.Alert
	// Outcome is how the read itself went (ok, error, timeout, cancelled): the host's
	// reachability, whichever source its metrics came from.
	Outcome  sessions.Outcome
	Err      error
	Time     time.Time
	Duration time.Duration
}

// CheckOptions bound a check round.
type CheckOptions struct {
	Concurrency int
	Timeout     time.Duration
	Thresholds  config.Thresholds
	OnStart     func(host string)
	// Server is a round of metrics for the whole fleet from a metrics server (see
	// ReadServer). A host it has metrics for takes them from it, and its own session is
	// only asked to prove it answers; the other hosts read their own metrics.
	Server *ServerMetrics
	// Probes are run once per host, beside its metrics (batch check): each host runs the
	// jobs expanded for it. The console schedules probes instead (Monitor).
	Probes []probes.Job

	// byHost groups Probes by host name; Check fills it once for every host.
	byHost map[string][]probes.Job
}

func (o *CheckOptions) probesOf(host string) []probes.Job {
	if o.byHost != nil {
		return o.byHost[host]
	}
	var jobs []probes.Job
	for _, j := range o.Probes {
		if j.Host.Name == host {
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// Check reads and judges every host once, streaming each Report as the host answers. A host
// that cannot be reached is Down with the reason; it never delays the others.
func Check(ctx context.Context, pool *sessions.Pool, hosts []config.Host, opt CheckOptions) <-chan Report {
	if len(opt.Probes) > 0 {
		opt.byHost = map[string][]probes.Job{}
		for _, j := range opt.Probes {
			opt.byHost[j.Host.Name] = append(opt.byHost[j.Host.Name], j)
		}
	}
	return sessions.Each(ctx, hosts, opt.Concurrency, opt.OnStart,
		func(ctx context.Context, h config.Host) Report { return CheckHost(ctx, pool, h, opt) },
		func(h config.Host) Report {
			r := sessions.Skipped(ctx, h.Name)
			return Report{Host: h.Name, Transport: h.Transport, Status: health.Unknown, Outcome: r.Outcome, Err: r.Err, Time: r.Start}
		})
}

// CheckHost reads and judges one host: its metrics (from opt.Server when it has them,
// else from the host), its reachability, and its probes when opt has any.
func CheckHost(ctx context.Context, pool *sessions.Pool, h config.Host, opt CheckOptions) Report {
	start := time.Now()
	rep := Report{Host: h.Name, Transport: h.Transport, Time: start}

	// Probes run beside the read: a slow probe and a slow host cost their time once.
	var wg sync.WaitGroup
	var results []probes.Result
	if jobs := opt.probesOf(h.Name); len(jobs) > 0 {
		wg.Go(func() { results = probes.RunOnce(ctx, jobs, pool, len(jobs)) })
	}
	if m, ok := opt.Server.metricsOf(h.Name); ok {
		rep.Metrics, rep.Source, rep.Stale = m, opt.Server.Source, opt.Server.Stale
		rep.Outcome, rep.Err = alive(ctx, pool, h, opt.Timeout)
	} else if m, ok := scrapeExporter(ctx, h, opt.Timeout); ok {
		rep.Metrics, rep.Source = m, SourceExporter
		rep.Outcome, rep.Err = alive(ctx, pool, h, opt.Timeout)
	} else {
		rep.Metrics, rep.Source, rep.Outcome, rep.Err = readOwn(ctx, pool, h, opt.Timeout)
	}
	wg.Wait()
	rep.Probes = probes.ByHost(results)[h.Name] // sorted by name
	rep.Duration = time.Since(start)
	rep.judge(opt.Thresholds)
	return rep
}

// judge sets Status and Reasons from what the report holds: an unreachable host is Down
// (Unknown when the read was cancelled), a reachable one is judged by its metrics, and
// its probes count too (probes.HostStatus; the worst of both, the worse side's reasons
// first). Reasons are a fresh slice: reports share their parts with earlier ones.
func (r *Report) judge(th config.Thresholds) {
	switch {
	case r.Err != nil:
		r.Status = health.Down
		if r.Outcome == sessions.OutcomeCancelled {
			r.Status = health.Unknown
		}
		r.Reasons = []string{r.Err.Error()}
	case r.Metrics != nil:
		r.Status, r.Reasons = health.Judge(*r.Metrics, th)
	default:
		r.Status, r.Reasons = health.Unknown, []string{"no metrics"}
	}
	if len(r.Probes) == 0 {
		return
	}
	ps, pr := probes.HostStatus(r.Probes)
	if ps == health.Down {
		// A probe target that did not answer is a service down, not the host: the host
		// answered its own poll (or is Down already for not answering). Down keeps one
		// meaning across the console, unreachable, and the fleet's "down" count with it.
		ps = health.Crit
	}
	if ps.Worse(r.Status) {
		r.Reasons = slices.Concat(pr, r.Reasons)
	} else {
		r.Reasons = slices.Concat(r.Reasons, pr)
	}
	r.Status = health.Worst(r.Status, ps)
}

// readOwn reads the host's metrics through its own session: natively when the session
// can (the local machine), else with the remote script.
func readOwn(ctx context.Context, pool *sessions.Pool, h config.Host, timeout time.Duration) (*health.Metrics, string, sessions.Outcome, error) {
	s, err := pool.Get(ctx, h)
	if err != nil {
		return nil, "", sessions.Classify(ctx, nil, err), err
	}
	cctx, cancel := sessions.CommandContext(ctx, h, timeout)
	defer cancel()
	if src, ok := s.(MetricsSource); ok {
		m, err := src.Metrics(cctx)
		if !usable(m, err) {
			return nil, "", sessions.Classify(ctx, cctx, err), err
		}
		return &m, SourceLocal, sessions.OutcomeOK, nil
	}
	source := h.Transport
	if source == "" {
		source = SourceSSH
	}
	out := sessions.NewCappedBuffer(256 << 10)
	errOut := sessions.NewCappedBuffer(16 << 10)
	code, err := s.Exec(cctx, health.RemoteScript, out, errOut)
	if err != nil {
		oc := sessions.Classify(ctx, cctx, err)
		if oc == sessions.OutcomeError {
			pool.Invalidate(h.Name, s, err)
		}
		return nil, "", oc, err
	}
	m, perr := health.ParseRemote(out.Bytes(), time.Now())
	if !usable(m, perr) {
		if code != 0 {
			perr = fmt.Errorf("%w (exit %d: %s)", perr, code, strings.TrimSpace(string(errOut.Bytes())))
		}
		return nil, "", sessions.OutcomeError, perr
	}
	return &m, source, sessions.OutcomeOK, nil
}

// aliveCommand is what a host whose metrics come from elsewhere runs to prove it answers.
// An open connection is not enough: a host can hold its TCP session while it can no
// longer start a process (hung, out of memory, fork limit), and on-call wants to know.
const aliveCommand = "true"

// alive checks that the host answers a command within the timeout.
func alive(ctx context.Context, pool *sessions.Pool, h config.Host, timeout time.Duration) (sessions.Outcome, error) {
	s, err := pool.Get(ctx, h)
	if err != nil {
		return sessions.Classify(ctx, nil, err), err
	}
	if _, ok := s.(MetricsSource); ok {
		return sessions.OutcomeOK, nil // the machine we run on answers as long as we do
	}
	cctx, cancel := sessions.CommandContext(ctx, h, timeout)
	defer cancel()
	if _, err := s.Exec(cctx, aliveCommand, io.Discard, io.Discard); err != nil {
		oc := sessions.Classify(ctx, cctx, err)
		if oc == sessions.OutcomeError {
			pool.Invalidate(h.Name, s, err)
		}
		return oc, err
	}
	return sessions.OutcomeOK, nil
}

// usable says whether a metrics read is worth judging: complete, or missing only some
// fields (Judge reports those as not measured, so a gap never reads as healthy).
func usable(m health.Metrics, err error) bool {
	var me *health.MissingError
	if err == nil {
		return true
	}
	return errors.As(err, &me) && len(m.Missing) < len(allFields)
}

var allFields = []string{health.FieldCPU, health.FieldCores, health.FieldMem, health.FieldLoad,
	health.FieldUptime, health.FieldDisks, health.FieldPorts}

// exporters keeps one scraper per node_exporter URL for the life of the process, so each
// poll's CPU figure is the delta since the previous poll instead of a fresh sampling wait.
var exporters sync.Map // URL → *prom.NodeExporter

// scrapeExporter reads a host's metrics from its own node_exporter (config node_exporter
// = PORT) when no metrics server covers it. A host whose exporter does not answer falls
// back to reading itself, so a dead exporter never hides a live host's numbers.
func scrapeExporter(ctx context.Context, h config.Host, timeout time.Duration) (*health.Metrics, bool) {
	if h.NodeExporter <= 0 {
		return nil, false
	}
	addr := h.Address
	if addr == "" {
		addr = h.Name
	}
	url := "http://" + net.JoinHostPort(addr, strconv.Itoa(h.NodeExporter)) + "/metrics"
	v, _ := exporters.LoadOrStore(url, &prom.NodeExporter{URL: url})
	cctx, cancel := sessions.CommandContext(ctx, h, timeout)
	defer cancel()
	m, err := v.(*prom.NodeExporter).Collect(cctx)
	if !usable(m, err) {
		return nil, false
	}
	return &m, true
}
