// Package views holds what the panes share: the pane identities and the messages that
// cross from one pane to the root or to another pane. Each pane lives in its own package
// below (views/fleet, views/exec, …) as a concrete type; none of them does I/O or reads the
// clock — time arrives in messages.
package views

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/ops/gate"
)

// PaneID names a pane; the order is the order of the 1–6 keys and of the tab bar.
type PaneID int

// The panes, in tab order.
const (
	PaneFleet PaneID = iota
	PaneExec
	PaneLogs
	PaneRollouts
	PaneIncidents
	PaneQuery
	NumPanes
)

func (p PaneID) String() string {
	switch p {
	case PaneFleet:
		return "Fleet"
	case PaneExec:
		return "Exec"
	case PaneLogs:
		return "Logs"
	case PaneRollouts:
		return "Rollouts"
	case PaneIncidents:
		return "Incidents"
	case PaneQuery:
		return "Query"
	}
	return "?"
}

// ClockMsg carries the time into the model; nothing below the root reads the clock, so a
// recorded session replays with the times it had.
type ClockMsg struct{ Now time.Time }

// FlashMsg asks the root to show a line in the status bar until it clears.
type FlashMsg struct {
	Text string
	Err  bool
}

// FocusPaneMsg asks the root to focus a pane.
type FocusPaneMsg struct{ Pane PaneID }

// OpenExecMsg asks the root to focus the exec pane with a host pattern filled in (from the
// fleet pane's marked or selected hosts).
type OpenExecMsg struct{ Pattern string }

// RunQueryMsg asks the root to focus the query pane and run Expr there (the palette's
// ":query EXPR"). An empty Expr only focuses the pane.
type RunQueryMsg struct{ Expr string }

// ConfirmActionMsg asks the root to show the gate for an Action. Run is called with the
// operator's reason when the operator confirms; its Cmd starts the work. Run must capture
// values only, never a model pointer (DESIGN.md §10.6).
type ConfirmActionMsg struct {
	Action gate.Action
	Run    func(reason string) tea.Cmd
	// Pane is who asked; a cancel is reported back to it as ActionCancelledMsg.
	Pane PaneID
	// RequestID is the asking pane's request number, echoed back on cancel.
	RequestID int
}

// ActionCancelledMsg tells a pane its Action was not confirmed (esc, or refused in
// read-only mode), with the reason.
type ActionCancelledMsg struct {
	Pane      PaneID
	RequestID int
	Reason    string
}
