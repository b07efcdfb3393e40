package keymap

import (
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// SetReadOnly disables (or re-enables) every dangerous binding: the keys that change
// hosts. A disabled binding no longer matches and drops out of help; DisabledReason
// explains the silence when one is pressed anyway.
func (m *Map) SetReadOnly(readOnly bool) {
	m.readOnly = readOnly
	for _, e := range m.entries() {
		if e.dangerous {
			e.b.SetEnabled(!readOnly)
		}
	}
}

// ReadOnly reports whether SetReadOnly(true) is in force.
func (m Map) ReadOnly() bool { return m.readOnly }

// DisabledReasonIn says why msg did nothing in pane (a Scope* name), for the flash
// line: "read-only mode: exec.run is disabled". It looks at the pane's bindings and the
// global ones; ok is false when the key is not a disabled binding there.
func (m Map) DisabledReasonIn(pane string, msg tea.KeyMsg) (reason string, ok bool) {
	return m.disabledReason(msg, func(e entry) bool { return e.pane == pane || e.pane == ScopeGlobal })
}

// DisabledReason is DisabledReasonIn over every pane. One key can be a dangerous
// binding in several panes (R runs in exec and resumes in rollouts), so the root, which
// knows the focused pane, should prefer DisabledReasonIn.
func (m Map) DisabledReason(msg tea.KeyMsg) (reason string, ok bool) {
	return m.disabledReason(msg, func(entry) bool { return true })
}

func (m Map) disabledReason(msg tea.KeyMsg, in func(entry) bool) (string, bool) {
	if !m.readOnly {
		return "", false
	}
	pressed := msg.String()
	var names []string
	for _, e := range m.entries() {
		if !e.dangerous || e.b.Enabled() || !in(e) || !slices.Contains(e.b.Keys(), pressed) {
			continue
		}
		if !slices.Contains(names, e.name) {
			names = append(names, e.name)
		}
	}
	switch len(names) {
	case 0:
		return "", false
	case 1:
		return fmt.Sprintf("read-only mode: %s is disabled", names[0]), true
	}
	return fmt.Sprintf("read-only mode: %s are disabled", strings.Join(names, ", ")), true
}
