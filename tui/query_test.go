package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/backends/prom"
	opsfleet "github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/fleet"
	"github.com/opsconsole/opsconsole/views/query"
)

// fakeProm answers every query with one series, and remembers the last expression.
type fakeProm struct{ last *string }

func (f fakeProm) Query(_ context.Context, expr string, _ time.Time) (model.Value, prom.Warnings, error) {
	*f.last = expr
	return model.Vector{{Metric: model.Metric{"__name__": "up", "instance": "10.0.0.11:9100"}, Value: 1}}, nil, nil
}

func (f fakeProm) QueryRange(_ context.Context, expr string, _, _ time.Time, _ time.Duration) (model.Value, prom.Warnings, error) {
	*f.last = expr
	return model.Matrix{}, nil, nil
}

func withProm(last *string) testOpt {
	return func(o *Options) {
		o.QueryDeps = query.Deps{Client: fakeProm{last: last}, Server: "http://prom.example:9090"}
	}
}

// 6 focuses the query pane, whose input then takes every key (digits and q included)
// until esc; enter runs the line and the answer, addressed to the pane, is shown.
func TestQueryPane(t *testing.T) {
	var last string
	m := newTest(t, 100, 30, withProm(&last))
	m, _ = keysThen(t, m, "6")
	if m.Focused() != views.PaneQuery || !m.paneInputFocused() {
		t.Fatalf("focus %v, input %v", m.Focused(), m.paneInputFocused())
	}
	m, cmd := keysThen(t, m, "u", "p", "1", "q", "backspace", "backspace", "enter")
	if m.Focused() != views.PaneQuery || quits(cmd) {
		t.Fatal("keys typed into the query reached the global keys")
	}
	for _, msg := range drain(cmd) {
		m, _ = send(t, m, msg)
	}
	v := m.View()
	if last != "up" || !strings.Contains(v, `up{instance="10.0.0.11:9100"}`) || !strings.Contains(v, "[6 Query]") ||
		!strings.Contains(v, "Query · http://prom.example:9090") {
		t.Fatalf("ran %q:\n%s", last, v)
	}
	m, _ = keysThen(t, m, "esc", "1")
	if m.Focused() != views.PaneFleet {
		t.Errorf("after esc the digits switch panes again: %v", m.Focused())
	}
}

// ":query EXPR" focuses the query pane and runs EXPR as typed, spaces and all.
func TestPaletteQuery(t *testing.T) {
	var last string
	m := newTest(t, 100, 30, withProm(&last))
	expr := `count by (job) (up{job=~"a  b|node"})`
	m, cmd := keysThen(t, m, ":", "query "+expr, "enter")
	for _, msg := range drain(cmd) {
		m, cmd = send(t, m, msg)
		for _, msg := range drain(cmd) {
			m, _ = send(t, m, msg)
		}
	}
	if m.Focused() != views.PaneQuery || last != expr || m.paneInputFocused() {
		t.Fatalf("focus %v, ran %q, input focused %v", m.Focused(), last, m.paneInputFocused())
	}
	// Without an expression it only focuses the pane.
	m, _ = keysThen(t, newTest(t, 100, 30), ":", "query", "enter")
	if m.Focused() != views.PaneQuery {
		t.Errorf("focus %v", m.Focused())
	}
}

// The header's alert count: a dash with no metrics server, "…" before it answered, the
// count once it did, and "(stale)" when it stopped answering.
func TestHeaderAlerts(t *testing.T) {
	m := newTest(t, 160, 48)
	head := func(st opsfleet.ServerStatus) string {
		m, _ := send(t, m, fleet.HostsPolledMsg{Server: st})
		return strings.Split(m.View(), "\n")[0]
	}
	cases := []struct {
		st   opsfleet.ServerStatus
		want string
	}{
		{opsfleet.ServerStatus{}, "alerts –"},
		{opsfleet.ServerStatus{Source: "prometheus"}, "alerts …"},
		{opsfleet.ServerStatus{Source: "prometheus", Rounds: 1, AlertsKnown: true}, "alerts 0"},
		{opsfleet.ServerStatus{Source: "prometheus", Rounds: 2, AlertsKnown: true, Alerts: 3}, "! alerts 3"},
		{opsfleet.ServerStatus{Source: "prometheus", Rounds: 3, AlertsKnown: true, Alerts: 3, Stale: true}, "! alerts 3 (stale)"},
	}
	for _, c := range cases {
		if h := head(c.st); !strings.Contains(h, c.want) {
			t.Errorf("%+v: header %q lacks %q", c.st, h, c.want)
		}
	}
}

// At the narrowest width the tab bar keeps the focused tab whole: the others shrink to
// their numbers.
func TestTabsShrink(t *testing.T) {
	m := newTest(t, MinWidth, MinHeight)
	m, _ = keysThen(t, m, "6")
	tabs := strings.Split(m.View(), "\n")[1]
	if !strings.Contains(tabs, "[6 Query]") || !strings.Contains(tabs, "1 2 3 4 5") {
		t.Errorf("tabs at %d columns: %q", MinWidth, tabs)
	}
	m = newTest(t, 100, 30)
	if tabs := strings.Split(m.View(), "\n")[1]; !strings.Contains(tabs, "5 Incidents") || !strings.Contains(tabs, "6 Query") {
		t.Errorf("tabs at 100 columns: %q", tabs)
	}
}
