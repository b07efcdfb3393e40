package logs

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// localKeys are the keys the pane answers to besides keymap.Logs. They are fixed rather
// than configurable: an input, like every text field, owns enter and esc; enter on a row
// opens it as it does in every list; and the root hands the pane esc only when nothing
// before it took it, so esc always means back. The picker's keys work only while the
// picker is open, where letters are not otherwise bound.
type localKeys struct {
	Open   key.Binding // the whole record of the line under the cursor
	Back   key.Binding // leave the detail view
	Clear  key.Binding // clear the search, then the filter pattern
	Submit key.Binding
	Cancel key.Binding
	Toggle key.Binding // picker: show or hide the host under the cursor
	All    key.Binding // picker: show every host
	Only   key.Binding // picker: show only the host under the cursor
	Apply  key.Binding // picker: apply and close
}

func newLocalKeys() localKeys {
	b := func(k, help string) key.Binding {
		return key.NewBinding(key.WithKeys(k), key.WithHelp(k, help))
	}
	return localKeys{
		Open:   b("enter", "whole record"),
		Back:   b("esc", "back"),
		Clear:  b("esc", "clear search/filter"),
		Submit: b("enter", "apply"),
		Cancel: b("esc", "cancel"),
		Toggle: key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "show/hide host")),
		All:    b("a", "all hosts"),
		Only:   b("o", "only this host"),
		Apply:  b("enter", "apply"),
	}
}

// ShortHelp implements help.KeyMap with the keys that work in the pane's current mode.
func (m Model) ShortHelp() []key.Binding {
	k, l := m.keys, m.local
	switch m.mode {
	case modeInput:
		return []key.Binding{l.Submit, l.Cancel}
	case modePicker:
		return []key.Binding{l.Toggle, l.All, l.Only, l.Apply, l.Cancel}
	case modeDetail:
		return []key.Binding{k.Up, k.Down, l.Back}
	}
	fp := k.Pause
	if !m.follow {
		fp = k.Follow
	}
	return []key.Binding{fp, k.Search, k.NextMatch, k.HostFilter, k.LevelFilter, k.Wrap, l.Open}
}

// FullHelp implements help.KeyMap.
func (m Model) FullHelp() [][]key.Binding {
	k, l := m.keys, m.local
	switch m.mode {
	case modeInput:
		return [][]key.Binding{{l.Submit, l.Cancel}}
	case modePicker:
		return [][]key.Binding{{k.Up, k.Down, l.Toggle, l.All, l.Only, l.Apply, l.Cancel}}
	case modeDetail:
		return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, l.Back}}
	}
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Follow, k.Pause, k.Wrap, l.Open, k.JumpTime, k.Save},
		{k.Search, k.NextMatch, k.PrevMatch, k.CaseToggle, k.Invert, l.Clear},
		{k.HostFilter, k.LevelFilter},
	}
}

// StartFilter opens the filter input in the pane's top line holding the pattern in
// force, so it can be refined. The root calls it on its global filter key.
func (m Model) StartFilter() (Model, tea.Cmd) {
	m.openInput(inputFilter, "/ ", "regular expression", m.flt.pattern)
	return m, nil
}

func (m Model) handleKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch m.mode {
	case modeInput:
		return m.inputKey(msg)
	case modePicker:
		return m.pickerKey(msg)
	case modeDetail:
		return m.detailKey(msg), nil
	}
	k := m.keys
	body := max(m.bodyHeight(), 1)
	switch {
	case msg.Type == tea.KeyEnter:
		m.openDetail()
	case msg.Type == tea.KeyEsc:
		switch {
		case m.searchPat != "":
			m.searchPat, m.search = "", nil
		case m.flt.pattern != "":
			_ = m.applyFilter(func(f *filterState) { f.pattern = "" })
		}
	case key.Matches(msg, k.Up):
		m.move(-1)
	case key.Matches(msg, k.Down):
		m.move(1)
	case key.Matches(msg, k.PageUp):
		m.move(-body)
	case key.Matches(msg, k.PageDown):
		m.move(body)
	case key.Matches(msg, k.Top):
		if len(m.view) > 0 {
			m.jumpTo(0)
		}
	case key.Matches(msg, k.Bottom), key.Matches(msg, k.Follow):
		m.resume()
	case key.Matches(msg, k.Pause):
		if m.follow {
			m.pause()
		} else {
			m.resume()
		}
	case key.Matches(msg, k.Wrap):
		m.wrap = !m.wrap
		m.settle()
	case key.Matches(msg, k.Search):
		m.openInput(inputSearch, "search ", "regular expression", m.searchPat)
	case key.Matches(msg, k.NextMatch):
		return m.step(1)
	case key.Matches(msg, k.PrevMatch):
		return m.step(-1)
	case key.Matches(msg, k.CaseToggle):
		m.setCase(!m.ignoreCase)
		if m.ignoreCase {
			return m, flash("matching ignores case", false)
		}
		return m, flash("matching is case-sensitive", false)
	case key.Matches(msg, k.Invert):
		if m.flt.pattern == "" {
			return m, flash("no filter to invert: "+filterKeyHint+" sets one", false)
		}
		_ = m.applyFilter(func(f *filterState) { f.invert = !f.invert })
	case key.Matches(msg, k.LevelFilter):
		_ = m.applyFilter(func(f *filterState) { f.minLevel = nextLevel(f.minLevel) })
		return m, flash("showing "+levelName(m.flt.minLevel), false)
	case key.Matches(msg, k.HostFilter):
		m.openPicker()
	case key.Matches(msg, k.Save):
		if len(m.view) == 0 {
			return m, flash(errNothingToSave.Error(), true)
		}
		first := m.st.at(m.view[0]).Seq
		m.openInput(inputSave, "save to ", "file name", "opsconsole-logs-"+strconv.FormatUint(first, 10)+".log")
	case key.Matches(msg, k.JumpTime):
		m.openInput(inputJump, "jump to ", "15:04:05 or 2006-01-02T15:04:05Z", "")
	}
	return m, nil
}

// patternError is a pattern's compile error for the inline error. The engine compiles
// an ignore-case pattern as (?i) and the pattern, and the error quotes that; the
// operator typed no (?i), so it is taken out.
func patternError(err error) string {
	return termsafe.Line(strings.Replace(err.Error(), "`(?i)", "`", 1))
}

// filterKeyHint names the root's filter key in messages. The pane holds only its own
// keys (the root owns global.filter and calls StartFilter), so it names the default.
const filterKeyHint = "/"

// step moves to the search's next or previous match.
func (m Model) step(dir int) (Model, tea.Cmd) {
	if m.search == nil {
		return m, flash("no search: "+m.keys.Search.Help().Key+" starts one", false)
	}
	from := m.cursor + dir
	if m.follow {
		// Following, the newest line is under the cursor but not yet looked at: N
		// starts there, and nothing is newer for n.
		from = len(m.view) - 1
		if dir > 0 {
			from = len(m.view)
		}
	}
	i, ok := m.findMatch(from, dir)
	if !ok {
		which := "newer"
		if dir < 0 {
			which = "older"
		}
		return m, flash("no "+which+" line matches "+regexWords(m.searchPat, m.ignoreCase), false)
	}
	m.pause()
	m.keepPending = false
	m.cursor = i
	m.settle()
	return m, nil
}

func (m Model) inputKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch msg.Type {
	case tea.KeyEsc:
		// Nothing typed was applied yet, so cancelling leaves everything as it was.
		m.closeInput()
		return m, nil
	case tea.KeyEnter:
		return m.submit()
	}
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if m.input.Value() != before {
		m.inErr = ""
		if m.inKind == inputFilter || m.inKind == inputSearch {
			// Say at once when the pattern does not compile; the filter in force stays
			// until enter puts a good one in its place.
			if _, err := compileSearch(m.input.Value(), m.ignoreCase); err != nil {
				m.inErr = patternError(err)
			}
		}
		m.fitInput()
	}
	return m, cmd
}

func (m Model) submit() (Model, tea.Cmd) {
	value := m.input.Value()
	switch m.inKind {
	case inputFilter:
		if err := m.applyFilter(func(f *filterState) { f.pattern = value }); err != nil {
			m.inErr = patternError(err)
			m.fitInput()
			return m, nil
		}
		m.closeInput()
	case inputSearch:
		f, err := compileSearch(value, m.ignoreCase)
		if err != nil {
			m.inErr = patternError(err)
			m.fitInput()
			return m, nil
		}
		m.closeInput()
		m.searchPat, m.search = value, f
		if f == nil {
			return m, nil
		}
		// The nearest match at or above the cursor (the newest, while following), else
		// the first below it.
		i, ok := m.findMatch(min(m.cursor, len(m.view)-1), -1)
		if !ok {
			i, ok = m.findMatch(m.cursor+1, 1)
		}
		if !ok {
			return m, flash("no line matches "+regexWords(value, m.ignoreCase)+" yet", false)
		}
		m.pause()
		m.keepPending = false
		m.cursor = i
		m.settle()
	case inputSave:
		path := strings.TrimSpace(value)
		if path == "" {
			m.inErr = "type a file name"
			m.fitInput()
			return m, nil
		}
		if len(m.view) == 0 {
			m.inErr = errNothingToSave.Error()
			m.fitInput()
			return m, nil
		}
		if m.scanning() {
			// Saving now would save part of what the filter shows.
			m.inErr = "still filtering: try again in a moment"
			m.fitInput()
			return m, nil
		}
		rows := make([]saveRow, len(m.view))
		for i, p := range m.view {
			l := m.st.at(p)
			rows[i] = saveRow{host: l.Host, raw: l.Raw, marker: l.Marker}
			if rows[i].raw == "" {
				rows[i].raw = l.Message
			}
		}
		m.closeInput()
		return m, saveCmd(path, rows)
	case inputJump:
		if len(m.view) == 0 {
			m.inErr = "no line to jump to"
			m.fitInput()
			return m, nil
		}
		ref := lineAt(m.st.at(m.view[len(m.view)-1]))
		t, err := parseJump(value, ref)
		if err != nil {
			m.inErr = err.Error()
			m.fitInput()
			return m, nil
		}
		i := -1
		for j, p := range m.view {
			if !lineAt(m.st.at(p)).Before(t) {
				i = j
				break
			}
		}
		if i < 0 {
			m.inErr = "no line at or after " + t.Format("2006-01-02 15:04:05")
			m.fitInput()
			return m, nil
		}
		m.closeInput()
		m.jumpTo(i)
	}
	return m, nil
}

func (m *Model) openPicker() {
	hidden := make(map[string]bool, len(m.flt.hidden))
	for h := range m.flt.hidden {
		hidden[h] = true
	}
	m.pick = picker{hidden: hidden}
	m.mode = modePicker
	m.refreshPicker()
}

func (m Model) pickerKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	k, l, p := m.keys, m.local, &m.pick
	rows := max(m.bodyHeight()-1, 1)
	switch {
	case key.Matches(msg, l.Apply):
		if len(p.names) > 0 && len(p.hidden) >= len(p.names) {
			return m, flash("every host is hidden: show at least one", true)
		}
		m.mode = modeNormal
		hidden := p.hidden
		if len(hidden) == 0 {
			hidden = nil
		}
		_ = m.applyFilter(func(f *filterState) { f.hidden = hidden })
		return m, nil
	case key.Matches(msg, l.Cancel):
		m.mode = modeNormal
		m.settle()
		return m, nil
	case key.Matches(msg, k.Up):
		p.cursor--
	case key.Matches(msg, k.Down):
		p.cursor++
	case key.Matches(msg, k.PageUp):
		p.cursor -= rows
	case key.Matches(msg, k.PageDown):
		p.cursor += rows
	case key.Matches(msg, k.Top):
		p.cursor = 0
	case key.Matches(msg, k.Bottom):
		p.cursor = len(p.names) - 1
	case key.Matches(msg, l.Toggle):
		if p.cursor < len(p.names) {
			name := p.names[p.cursor]
			if p.hidden[name] {
				delete(p.hidden, name)
			} else {
				p.hidden[name] = true
			}
		}
	case key.Matches(msg, l.All):
		clear(p.hidden)
	case key.Matches(msg, l.Only):
		if p.cursor < len(p.names) {
			clear(p.hidden)
			for i, n := range p.names {
				if i != p.cursor {
					p.hidden[n] = true
				}
			}
		}
	}
	p.cursor = min(max(p.cursor, 0), max(len(p.names)-1, 0))
	m.clampPicker()
	return m, nil
}

func (m Model) detailKey(msg tea.KeyMsg) Model {
	k := m.keys
	page := max(m.height-2, 1)
	switch {
	case msg.Type == tea.KeyEsc, msg.Type == tea.KeyEnter:
		m.mode = modeNormal
		m.det = detailState{}
		m.settle()
		return m
	case key.Matches(msg, k.Up):
		m.det.top--
	case key.Matches(msg, k.Down):
		m.det.top++
	case key.Matches(msg, k.PageUp):
		m.det.top -= page
	case key.Matches(msg, k.PageDown):
		m.det.top += page
	case key.Matches(msg, k.Top):
		m.det.top = 0
	case key.Matches(msg, k.Bottom):
		m.det.top = len(m.det.rows)
	}
	m.clampDetail()
	return m
}

// levelName is the level filter's word for the flash and the top line.
func levelName(l logs.Level) string {
	if l == logs.LevelNone {
		return "all levels"
	}
	return levelWord(l) + " and above"
}
