// Package fleet is the health model of the fleet: one check round per host (metrics read in
// a single round trip, judged against thresholds), the reports it yields, and the history
// the console draws from them.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
)

// MetricsSource is an optional power of a Session that reads its host's metrics natively
// (the local machine through gopsutil) instead of through the remote script.
type MetricsSource interface {
	Metrics(ctx context.Context) (health.Metrics, error)
}

// Report is one host's health at one moment.
type Report struct {
	Host      string
	Transport string
	Status    health.Status
	Reasons   []string
	Metrics   *health.Metrics
	// Outcome is how the read itself went (ok, error, timeout, cancelled).
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
}

// Check reads and judges every host once, streaming each Report as the host answers. A host
// that cannot be reached is Down with the reason; it never delays the others.
func Check(ctx context.Context, pool *sessions.Pool, hosts []config.Host, opt CheckOptions) <-chan Report {
	return sessions.Each(ctx, hosts, opt.Concurrency, opt.OnStart,
		func(ctx context.Context, h config.Host) Report { return CheckHost(ctx, pool, h, opt) },
		func(h config.Host) Report {
			r := sessions.Skipped(ctx, h.Name)
			return Report{Host: h.Name, Transport: h.Transport, Status: health.Unknown, Outcome: r.Outcome, Err: r.Err, Time: r.Start}
		})
}

// CheckHost reads and judges one host.
func CheckHost(ctx context.Context, pool *sessions.Pool, h config.Host, opt CheckOptions) Report {
	start := time.Now()
	rep := Report{Host: h.Name, Transport: h.Transport, Time: start}
	finish := func(m *health.Metrics, oc sessions.Outcome, err error) Report {
		rep.Duration = time.Since(start)
		rep.Outcome, rep.Err = oc, err
		if err != nil {
			rep.Status = health.Down
			if oc == sessions.OutcomeCancelled {
				rep.Status = health.Unknown
			}
			rep.Reasons = []string{err.Error()}
			return rep
		}
		rep.Metrics = m
		rep.Status, rep.Reasons = health.Judge(*m, opt.Thresholds)
		return rep
	}
	s, err := pool.Get(ctx, h)
	if err != nil {
		return finish(nil, sessions.Classify(ctx, nil, err), err)
	}
	cctx, cancel := sessions.CommandContext(ctx, h, opt.Timeout)
	defer cancel()
	if src, ok := s.(MetricsSource); ok {
		m, err := src.Metrics(cctx)
		if !usable(m, err) {
			return finish(nil, sessions.Classify(ctx, cctx, err), err)
		}
		return finish(&m, sessions.OutcomeOK, nil)
	}
	out := sessions.NewCappedBuffer(256 << 10)
	errOut := sessions.NewCappedBuffer(16 << 10)
	code, err := s.Exec(cctx, health.RemoteScript, out, errOut)
	if err != nil {
		oc := sessions.Classify(ctx, cctx, err)
		if oc == sessions.OutcomeError {
			pool.Invalidate(h.Name, s, err)
		}
		return finish(nil, oc, err)
	}
	m, perr := health.ParseRemote(out.Bytes(), time.Now())
	if !usable(m, perr) {
		if code != 0 {
			perr = fmt.Errorf("%w (exit %d: %s)", perr, code, strings.TrimSpace(string(errOut.Bytes())))
		}
		return finish(nil, sessions.OutcomeError, perr)
	}
	return finish(&m, sessions.OutcomeOK, nil)
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
