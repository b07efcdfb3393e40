package tui

import (
	"strings"
	"testing"
	"time"

	opslogs "github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/views"
	logsview "github.com/opsconsole/opsconsole/views/logs"
)

// A log line that matched a configured marker reaches the fleet pane as well as the logs
// and incidents panes: its host's row shows the badge.
func TestFlaggedLineReachesFleet(t *testing.T) {
	m := newTest(t, 100, 24)
	if m.Focused() != views.PaneFleet {
		t.Fatalf("focus %v, want the fleet pane", m.Focused())
	}
	at := testNow.Add(-time.Minute)
	m, _ = send(t, m, logsview.LinesMsg{Lines: []opslogs.Line{
		{Host: "web-2", Source: "syslog", Received: at, Message: "GET / 200"},
		{Host: "web-2", Source: "syslog", Received: at, Message: "Out of memory: Killed process 4242 (java)", Flag: "oom"},
	}})
	var row string
	for _, l := range strings.Split(m.View(), "\n") {
		if strings.Contains(l, " web-2 ") {
			row = l
		}
	}
	if !strings.Contains(row, "⚑ oom×1") {
		t.Errorf("web-2's row has no marker badge: %q\n%s", row, m.View())
	}
	for _, l := range strings.Split(m.View(), "\n") {
		if strings.Contains(l, " web-1 ") && strings.Contains(l, "⚑") {
			t.Errorf("web-1 had no flagged line but shows a badge: %q", l)
		}
	}
}
