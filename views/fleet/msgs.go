package fleet

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/ops/fleet"
)

// HostsPolledMsg carries the reports of the hosts polled since the previous one, each
// stamped with the time it was taken, and the metrics server's state as it was then. One
// message holds a whole batch so that a fleet answering at once costs one Update and one
// frame.
type HostsPolledMsg struct {
	Reports []fleet.Report
	// Server is the metrics server's state; the zero value means none is configured.
	Server fleet.ServerStatus
}

// WaitForReports waits for the monitor's next batch and delivers it as a HostsPolledMsg.
// The root runs it again after each message, so exactly one wait is pending at a time;
// when ctx ends it delivers nothing (a nil message), which ends the chain. The command
// captures the monitor and ctx only, never the model (DESIGN.md §10.6).
func WaitForReports(ctx context.Context, mon *fleet.Monitor) tea.Cmd {
	return func() tea.Msg {
		reps, err := mon.Next(ctx)
		if err != nil {
			return nil
		}
		return HostsPolledMsg{Reports: reps, Server: mon.Server()}
	}
}
