package tui

import (
	"strings"
	"sync"

	"github.com/charmbracelet/bubbles/key"

	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/fleet"
)

// chromeMemo keeps the last drawn header, tab bar and help line with what they were drawn
// from. Under a log stream the console draws dozens of frames a second in which only the
// body changes; styling the chrome again each time was most of a frame's cost. It is a
// cache of View's output, not state: Update never reads it, a miss only redraws, and every
// copy of the model shares the one memo.
type chromeMemo struct {
	mu     sync.Mutex
	header memoEntry[headerKey, string]
	tabs   memoEntry[tabsKey, string]
	help   memoEntry[helpKey, string]
	// fullHelp is the help overlay's lines (callers must not change them).
	fullHelp memoEntry[helpKey, []string]
}

type memoEntry[K comparable, V any] struct {
	ok  bool
	key K
	val V
}

// get returns the value drawn for key, drawing it with draw when key differs from the
// last one.
func (e *memoEntry[K, V]) get(key K, draw func() V) V {
	if !e.ok || e.key != key {
		e.ok, e.key, e.val = true, key, draw()
	}
	return e.val
}

// headerKey is everything the header is drawn from.
type headerKey struct {
	styles            *themes.Styles
	width             int
	sum               fleet.Summary
	source            string
	alerts            int
	alertsKnown       bool
	stale             bool
	recording, roMode bool
	clock             string
}

type helpKey struct {
	styles   *themes.Styles
	width    int
	focus    views.PaneID
	bindings string
}

type tabsKey struct {
	styles *themes.Styles
	width  int
	focus  views.PaneID
	title  string
}

func (m Model) memoHeader() string {
	if m.memo == nil {
		return m.headerView()
	}
	srv := m.fleet.Server()
	k := headerKey{styles: m.styles, width: m.width, sum: m.fleet.Summary(), source: srv.Source,
		alerts: srv.Alerts, alertsKnown: srv.AlertsKnown, stale: srv.Stale,
		recording: m.opt.Recording, roMode: m.opt.ReadOnly, clock: m.clock()}
	m.memo.mu.Lock()
	defer m.memo.mu.Unlock()
	return m.memo.header.get(k, m.headerView)
}

func (m Model) memoTabs() string {
	if m.memo == nil {
		return m.tabsView()
	}
	k := tabsKey{styles: m.styles, width: m.width, focus: m.focus, title: m.paneTitle(m.focus)}
	m.memo.mu.Lock()
	defer m.memo.mu.Unlock()
	return m.memo.tabs.get(k, m.tabsView)
}

// memoHelpLine memoises the help line when no modal has the keys (the line a stream
// redraws under); its key spells out the bindings shown, which change with the pane's
// state.
func (m Model) memoHelpLine() string {
	if m.memo == nil || m.gate.active || m.palette.active || m.showHelp {
		return m.helpLineView()
	}
	var b strings.Builder
	b.Grow(256)
	writeBindings(&b, m.paneShortHelp(m.focus))
	g := m.keys.Global
	writeBindings(&b, []key.Binding{g.Help, g.Palette, g.Quit})
	k := helpKey{styles: m.styles, width: m.width, focus: m.focus, bindings: b.String()}
	m.memo.mu.Lock()
	defer m.memo.mu.Unlock()
	return m.memo.help.get(k, m.helpLineView)
}

// writeBindings spells out what the help line shows of bs.
func writeBindings(b *strings.Builder, bs []key.Binding) {
	for _, k := range bs {
		if !k.Enabled() {
			continue
		}
		h := k.Help()
		b.WriteString(h.Key)
		b.WriteByte(0)
		b.WriteString(h.Desc)
		b.WriteByte(0)
	}
	b.WriteByte(1)
}
