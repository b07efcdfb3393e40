package audit

import (
	"context"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/sessions"
)

// FanOut runs an ad-hoc command Action on hosts with the audit trail around it: the intent
// is written and fsync'd before anything starts (an error here means nothing ran), each
// host's result is recorded as it arrives, and the done record is written when the last
// host has finished. The returned channel carries the results on unchanged, for the batch
// printer or the exec pane. Both faces of exec go through here, so neither can forget the
// log.
func FanOut(ctx context.Context, log *Log, a gate.Action, pool *sessions.Pool, hosts []config.Host,
	cmd string, opt sessions.FanOutOptions) (<-chan sessions.Result, error) {
	id, err := log.Intent(ActionIntent(a))
	if err != nil {
		return nil, err
	}
	start := time.Now()
	in := pool.FanOut(ctx, hosts, cmd, opt)
	out := make(chan sessions.Result, len(hosts))
	go func() {
		defer close(out)
		counts := map[string]int{}
		states := make(map[string]string, len(hosts))
		var firstErr error
		for r := range in {
			if err := log.Result(id, FromSession(r, 1, "", cmd)); err != nil && firstErr == nil {
				firstErr = err
			}
			counts[string(r.Outcome)]++
			states[r.Host] = string(r.Outcome)
			out <- r
		}
		d := Done{Outcome: "ok", Counts: counts, Hosts: states, DurationMS: Millis(time.Since(start))}
		switch {
		case ctx.Err() != nil:
			d.Outcome = "cancelled"
		case counts[string(sessions.OutcomeOK)] != len(hosts):
			d.Outcome = "failed"
		}
		if firstErr != nil {
			d.Error = "some results could not be recorded: " + firstErr.Error()
		}
		log.Done(id, d)
	}()
	return out, nil
}
