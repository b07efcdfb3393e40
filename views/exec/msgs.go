package exec

import (
	"context"
	"slices"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/views"
)

// maxBatch bounds how many results one ResultsMsg carries, so a fleet finishing all at
// once still redraws a few times instead of once at the very end.
const maxBatch = 256

// RunStartedMsg says a fan-out began: the pane keeps the channel to read its results from
// and the cancel func that stops it. ID is the request it answers; a started run that is
// no longer the latest request is cancelled at once.
type RunStartedMsg struct {
	ID     int
	ch     <-chan sessions.Result
	cancel context.CancelFunc
}

// ResultsMsg carries the hosts that finished since the last one, in the order they
// finished. Done is set on the last message of a run. A ResultsMsg whose ID is not the
// current run's is dropped: a newer run replaced it.
type ResultsMsg struct {
	ID      int
	Results []sessions.Result
	Done    bool
}

// runCmd starts the fan-out. It captures only values (DESIGN.md §10.6): the pool pointer
// is the engine's, safe for concurrent use, and hosts is copied so a later change to the
// caller's slice cannot reach the goroutine. The context is the run's own, so cancelling
// one run leaves every other user of the pool alone; pool.Close on quit ends it too.
func runCmd(id int, pool *sessions.Pool, hosts []config.Host, command string, opt sessions.FanOutOptions) tea.Cmd {
	hosts = slices.Clone(hosts)
	return func() tea.Msg {
		ctx, cancel := context.WithCancel(context.Background())
		ch := pool.FanOut(ctx, hosts, command, opt)
		return RunStartedMsg{ID: id, ch: ch, cancel: cancel}
	}
}

// auditedRunCmd starts a confirmed Action's fan-out through the audit log. If the intent
// cannot be written, nothing runs and the pane hears why as a cancellation.
func auditedRunCmd(id int, log *audit.Log, a gate.Action, pool *sessions.Pool, hosts []config.Host, command string, opt sessions.FanOutOptions) tea.Cmd {
	hosts = slices.Clone(hosts)
	return func() tea.Msg {
		if log == nil {
			return views.ActionCancelledMsg{Pane: views.PaneExec, RequestID: id, Reason: "no audit log: refusing to run an action that is not recorded"}
		}
		ctx, cancel := context.WithCancel(context.Background())
		ch, err := audit.FanOut(ctx, log, a, pool, hosts, command, opt)
		if err != nil {
			cancel()
			return views.ActionCancelledMsg{Pane: views.PaneExec, RequestID: id, Reason: "audit log: " + err.Error() + "; nothing was run"}
		}
		return RunStartedMsg{ID: id, ch: ch, cancel: cancel}
	}
}

// waitForResults blocks for the next host to finish, then drains whatever else is ready
// without blocking, so a burst of hosts becomes one message and one redraw (DESIGN.md
// §10.8). Update re-arms it after each batch until Done.
func waitForResults(id int, ch <-chan sessions.Result) tea.Cmd {
	return func() tea.Msg {
		r, ok := <-ch
		if !ok {
			return ResultsMsg{ID: id, Done: true}
		}
		batch := []sessions.Result{r}
		for len(batch) < maxBatch {
			select {
			case r, ok := <-ch:
				if !ok {
					return ResultsMsg{ID: id, Results: batch, Done: true}
				}
				batch = append(batch, r)
			default:
				return ResultsMsg{ID: id, Results: batch}
			}
		}
		return ResultsMsg{ID: id, Results: batch}
	}
}

// emit wraps a message in a Cmd.
func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// flash asks the root for a status-bar line.
func flash(text string, isErr bool) tea.Cmd {
	return emit(views.FlashMsg{Text: text, Err: isErr})
}
