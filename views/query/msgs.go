package query

import (
	"context"
	"errors"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/backends/prom"
)

// Querier answers PromQL: backends/prom.Client does, against Prometheus, Thanos, Mimir or
// VictoriaMetrics. The pane needs nothing else from the server.
type Querier interface {
	Query(ctx context.Context, expr string, at time.Time) (model.Value, prom.Warnings, error)
	QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, prom.Warnings, error)
}

// QueryAnsweredMsg carries the server's answer to one request. ID is the request it
// answers: the pane keeps only the answer to its latest request, so a slow query typed
// before a fast one can never overwrite the fast one's result.
type QueryAnsweredMsg struct {
	ID       int
	Value    model.Value
	Warnings []string
	// Err is the server's error as it is (an *prom.APIError reads "errorType: error"),
	// or why no answer came.
	Err  error
	Took time.Duration
}

// errSuperseded answers a request that a newer one replaced before it went out.
var errSuperseded = errors.New("superseded by a newer query")

// inflight holds the cancel function of the pane's latest request while it runs. A new
// request cancels the one before it, so a slow query the operator typed over stops
// costing the server (an expensive range query can take minutes of its CPU); the cancel
// key ends it the same way. Commands reach it through a pointer every copy of the model
// shares: Update never calls it itself.
type inflight struct {
	mu     sync.Mutex
	id     int
	cancel context.CancelFunc
}

// begin registers request id, cancelling the request before it. It reports false when a
// newer request has already begun: this one is stale and must not run at all.
func (f *inflight) begin(id int, cancel context.CancelFunc) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id < f.id {
		return false
	}
	if f.cancel != nil {
		f.cancel()
	}
	f.id, f.cancel = id, cancel
	return true
}

// end forgets request id once it has its answer.
func (f *inflight) end(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.id == id {
		f.cancel = nil
	}
}

// stop cancels request id if it is the one running.
func (f *inflight) stop(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.id == id && f.cancel != nil {
		f.cancel()
		f.cancel = nil
	}
}

// queryCmd runs one request. It captures values only (DESIGN.md §10.6): the client is
// safe for concurrent use, and req is a copy. A range ends at end, the time of the
// console's last clock tick, so that Update never reads the clock; a zero end (no tick
// yet) means now, read here, outside Update.
func queryCmd(parent context.Context, c Querier, f *inflight, req request, end time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithCancel(parent)
		defer cancel()
		if !f.begin(req.id, cancel) {
			return QueryAnsweredMsg{ID: req.id, Err: errSuperseded}
		}
		defer f.end(req.id)
		start := time.Now()
		if end.IsZero() {
			end = start
		}
		var v model.Value
		var w prom.Warnings
		var err error
		if req.rng > 0 {
			v, w, err = c.QueryRange(ctx, req.expr, end.Add(-req.rng), end, req.step)
		} else {
			v, w, err = c.Query(ctx, req.expr, time.Time{}) // the server's now
		}
		if err != nil && ctx.Err() != nil && parent.Err() == nil {
			// Cancelled by the operator or by a newer query, not failed: say so rather
			// than show the transport's "context canceled".
			err = ErrCancelled
		}
		return QueryAnsweredMsg{ID: req.id, Value: v, Warnings: w, Err: err, Took: time.Since(start)}
	}
}

// ErrCancelled answers a query the operator cancelled.
var ErrCancelled = errors.New("cancelled")

// cancelCmd cancels request id if it still runs; its answer then arrives as ErrCancelled.
func cancelCmd(f *inflight, id int) tea.Cmd {
	return func() tea.Msg {
		f.stop(id)
		return nil
	}
}
