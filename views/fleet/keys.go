package fleet

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/views"
)

// localKeys are the keys the pane answers to besides keymap.Fleet. They are fixed rather
// than configurable: the filter input, like every text input, owns enter and esc, and the
// root hands the pane esc only when nothing before it (a modal, an input) took it, so esc
// always means "back" here: close the detail view, close the input and clear the filter,
// or clear a filter in force.
type localKeys struct {
	Apply key.Binding // keep the typed filter and close the input
	Clear key.Binding // clear the filter and close the input
	Back  key.Binding // leave the detail view
}

func newLocalKeys() localKeys {
	return localKeys{
		Apply: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply filter")),
		Clear: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Back:  key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

// ShortHelp implements help.KeyMap with the keys that work in the pane's current mode.
func (m Model) ShortHelp() []key.Binding {
	switch {
	case m.inputOpen:
		return []key.Binding{m.local.Apply, m.local.Clear}
	case m.detail:
		return []key.Binding{m.detailExec(), m.local.Back, m.keys.Up, m.keys.Down}
	}
	return m.keys.ShortHelp()
}

// FullHelp implements help.KeyMap.
func (m Model) FullHelp() [][]key.Binding {
	switch {
	case m.inputOpen:
		return [][]key.Binding{{m.local.Apply, m.local.Clear}}
	case m.detail:
		return [][]key.Binding{
			{m.detailExec(), m.local.Back},
			{m.keys.Up, m.keys.Down, m.keys.PageUp, m.keys.PageDown, m.keys.Top, m.keys.Bottom},
		}
	}
	return m.keys.FullHelp()
}

// detailExec is the exec binding as the detail view offers it: same keys, its own words.
func (m Model) detailExec() key.Binding {
	b := m.keys.Exec
	b.SetHelp(b.Help().Key, "exec on this host")
	return b
}

// StartFilter opens the filter input in the pane's top line, holding the filter in force
// so it can be refined. The root calls it on its global filter key.
func (m Model) StartFilter() (Model, tea.Cmd) {
	m.detail = false
	m.inputOpen = true
	m.input = newLineInput(m.query)
	return m, nil
}

func (m Model) handleKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case m.inputOpen:
		return m.filterKey(msg)
	case m.detail:
		return m.detailKey(msg)
	}
	k := m.keys
	switch {
	case msg.Type == tea.KeyEsc:
		if m.filtering() {
			m.setFilter("")
		}
	case key.Matches(msg, k.Up):
		m.move(-1)
	case key.Matches(msg, k.Down):
		m.move(1)
	case key.Matches(msg, k.PageUp):
		m.move(-max(m.bodyHeight()-1, 1))
	case key.Matches(msg, k.PageDown):
		m.move(max(m.bodyHeight()-1, 1))
	case key.Matches(msg, k.Top):
		m.move(-len(m.order))
	case key.Matches(msg, k.Bottom):
		m.move(len(m.order))
	case key.Matches(msg, k.SortNext):
		m.sortBy = (m.sortBy + 1) % numSortKeys
		m.reverse = false
		m.rebuild()
	case key.Matches(msg, k.SortReverse):
		m.reverse = !m.reverse
		m.rebuild()
	case key.Matches(msg, k.GroupBy):
		m.grouped = !m.grouped
		m.rebuild()
	case key.Matches(msg, k.Mark):
		if len(m.order) > 0 {
			h := m.hosts[m.order[m.cursor]]
			m.setMark(h, !h.marked)
			m.move(1) // mark and step on, so a run of hosts is marked by holding the key
		}
	case key.Matches(msg, k.MarkAll):
		m.markAll()
	case key.Matches(msg, k.Exec):
		return m, m.execCmd()
	case key.Matches(msg, k.Detail), key.Matches(msg, k.Enter):
		if len(m.order) > 0 {
			m.chosen = true // coming back, the cursor stays on the host just inspected
			m.detail = true
			m.detailIdx = m.order[m.cursor]
			m.detailTop = 0
		}
	case key.Matches(msg, k.Refresh):
		// The monitor polls every host on its own schedule and has no "poll now" yet.
		return m, flash("refresh: hosts are polled continuously; polling on demand is not available yet", false)
	case key.Matches(msg, k.Logs):
		// views has no message that opens the logs pane on hosts yet; say so instead of
		// doing nothing (DESIGN.md §10.11).
		return m, flash("logs of marked hosts: not available yet", false)
	}
	return m, nil
}

func (m *Model) setMark(h *host, on bool) {
	if h.marked == on {
		return
	}
	h.marked = on
	if on {
		m.marked++
	} else {
		m.marked--
	}
}

// markAll marks every shown host, or unmarks them when all are already marked; hosts
// hidden by the filter keep their marks.
func (m *Model) markAll() {
	all := true
	for _, i := range m.order {
		if !m.hosts[i].marked {
			all = false
			break
		}
	}
	for _, i := range m.order {
		m.setMark(m.hosts[i], !all)
	}
}

// execPattern is the host pattern for the exec pane: the marked hosts, in natural order,
// or the selected host when none is marked.
func (m Model) execPattern() string {
	if m.marked > 0 {
		return strings.Join(m.Marked(), ",")
	}
	name, _ := m.Selected()
	return name
}

func (m Model) execCmd() tea.Cmd {
	p := m.execPattern()
	if p == "" {
		return flash("no host to exec on", true)
	}
	return func() tea.Msg { return views.OpenExecMsg{Pattern: p} }
}

func flash(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return views.FlashMsg{Text: text, Err: isErr} }
}

func (m Model) filterKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch msg.Type {
	case tea.KeyEnter:
		m.inputOpen = false
		m.setFilter(m.input.String())
		return m, nil
	case tea.KeyEsc:
		m.inputOpen = false
		m.input = lineInput{}
		m.setFilter("")
		return m, nil
	}
	var changed bool
	m.input, changed = m.input.update(msg)
	if changed {
		m.setFilter(m.input.String()) // live: the table follows each keystroke
	}
	return m, nil
}

func (m Model) detailKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	k := m.keys
	page := max(m.height-2, 1)
	switch {
	case msg.Type == tea.KeyEsc, key.Matches(msg, k.Detail), key.Matches(msg, k.Enter):
		m.detail = false
	case key.Matches(msg, k.Exec):
		p := m.hosts[m.detailIdx].cfg.Name
		return m, func() tea.Msg { return views.OpenExecMsg{Pattern: p} }
	case key.Matches(msg, k.Up):
		m.detailTop--
	case key.Matches(msg, k.Down):
		m.detailTop++
	case key.Matches(msg, k.PageUp):
		m.detailTop -= page
	case key.Matches(msg, k.PageDown):
		m.detailTop += page
	case key.Matches(msg, k.Top):
		m.detailTop = 0
	case key.Matches(msg, k.Bottom):
		m.detailTop = 1 << 30
	}
	m.clampDetail()
	return m, nil
}

// clampDetail keeps the detail view's scroll within its content. It renders the content
// to count it: cheap for one host, and it keeps View a pure read.
func (m *Model) clampDetail() {
	if !m.detail {
		return
	}
	n := len(m.detailLines())
	m.detailTop = max(min(m.detailTop, n-m.height), 0)
}
