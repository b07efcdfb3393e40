package query

import (
	"context"
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

// queryCmd runs one request. It captures values only (DESIGN.md §10.6): the client is
// safe for concurrent use, and req is a copy. A range ends at end, the time of the
// console's last clock tick, so that Update never reads the clock; a zero end (no tick
// yet) means now, read here, outside Update.
func queryCmd(ctx context.Context, c Querier, req request, end time.Time) tea.Cmd {
	return func() tea.Msg {
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
		return QueryAnsweredMsg{ID: req.id, Value: v, Warnings: w, Err: err, Took: time.Since(start)}
	}
}
