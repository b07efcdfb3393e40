package fleet

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/views/fleet")

// goldenDir is shared with the other panes' golden files at the repository's testdata.
const goldenDir = "../../testdata/views/fleet"

func TestMain(m *testing.M) {
	// Golden files hold text, not escape codes: the ASCII profile drops colour and
	// attributes, which is also what proves nothing depends on colour alone.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(goldenDir, name+".golden")
	if *updateGolden {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// checkFrame asserts the frame has exactly h lines, none wider than w and none holding an
// escape sequence (the ASCII profile is in force).
func checkFrame(t *testing.T, frame string, w, h int) {
	t.Helper()
	if h == 0 || w == 0 {
		if frame != "" {
			t.Fatalf("%dx%d: want an empty frame, got %q", w, h, frame)
		}
		return
	}
	lines := strings.Split(frame, "\n")
	if len(lines) != h {
		t.Errorf("%dx%d: %d lines, want %d", w, h, len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("%dx%d: line %d is %d wide:\n%s", w, h, i, lw, l)
		}
		if strings.Contains(l, "\x1b") {
			t.Errorf("%dx%d: line %d holds an escape sequence: %q", w, h, i, l)
		}
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		w, h int
		prep func(t *testing.T, m Model) Model
	}{
		{"table_80x24", 80, 24, nil},
		{"table_160x48", 160, 48, nil},
		{"detail_80x24", 80, 24, func(t *testing.T, m Model) Model {
			m = selectHost(t, m, "db-2")
			m, _ = press(t, m, "enter")
			return m
		}},
		{"detail_160x48", 160, 48, func(t *testing.T, m Model) Model {
			m = selectHost(t, m, "db-1")
			m, _ = press(t, m, "d")
			return m
		}},
		{"grouped_80x24", 80, 24, func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "b")
			return m
		}},
		{"grouped_160x48", 160, 48, func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "b", "s", "s") // grouped, by cpu within each group
			return m
		}},
		{"filter_typing_80x24", 80, 24, func(t *testing.T, m Model) Model {
			m, _ = m.StartFilter()
			return typeText(t, m, "db")
		}},
		{"filter_applied_160x48", 160, 48, func(t *testing.T, m Model) Model {
			m, _ = m.StartFilter()
			m = typeText(t, m, "status:degraded")
			m, _ = press(t, m, "enter")
			m = selectHost(t, m, "db-1")
			m, _ = press(t, m, " ") // mark
			return m
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := fixture(t, c.w, c.h)
			if c.prep != nil {
				m = c.prep(t, m)
			}
			frame := m.View()
			checkFrame(t, frame, c.w, c.h)
			golden(t, c.name, "title: "+m.Title()+"\n"+frame+"\n")
		})
	}
}

// selectHost moves the cursor to the named host through key presses.
func selectHost(t *testing.T, m Model, name string) Model {
	t.Helper()
	m, _ = press(t, m, "home")
	for range len(m.order) {
		if mustSelected(t, m) == name {
			return m
		}
		m, _ = press(t, m, "down")
	}
	t.Fatalf("host %s not shown: %v", name, shown(m))
	return m
}

func TestEveryHostIsARowFromTheStart(t *testing.T) {
	m := New(inventory(), keymap.Default().Fleet, styles(t, themes.NoColor)).SetSize(160, 48)
	if got, want := len(m.order), len(inventory()); got != want {
		t.Fatalf("%d rows, want %d", got, want)
	}
	s := m.Summary()
	if s.Connecting != len(inventory()) || s.Total != len(inventory()) || s.Up+s.Degraded+s.Down+s.Unknown != 0 {
		t.Errorf("summary before any report: %+v", s)
	}
	frame := m.View()
	checkFrame(t, frame, 160, 48)
	if n := strings.Count(frame, "? connecting"); n != len(inventory()) {
		t.Errorf("%d mentions of connecting, want one per host and the count:\n%s", n, frame)
	}
	if !strings.Contains(frame, "never") {
		t.Errorf("an unseen host should read never:\n%s", frame)
	}
}

func TestSummaryCounts(t *testing.T) {
	m := fixture(t, 80, 24)
	// ok: web-1, web-2, web-10, long, win-build-1, localhost; degraded: web-9, db-1;
	// down: db-2, cache-1; connecting: mq-1, mq-2 (its only report was cancelled);
	// unknown: edge-1.
	want := Summary{Up: 6, Degraded: 2, Down: 2, Connecting: 2, Unknown: 1, Total: 13}
	if got := m.Summary(); got != want {
		t.Errorf("Summary() = %+v, want %+v", got, want)
	}
}

func TestMerge(t *testing.T) {
	hosts := []config.Host{{Name: "a", Transport: "ssh"}}
	m := New(hosts, keymap.Default().Fleet, styles(t, themes.NoColor)).SetSize(120, 10)
	at := t0.Add(-time.Minute)
	ok := report("a", at, health.OK, metricsAt(at, sample{cpu: 40, mem: 50, disks: rootDisk(10), load: 1}))
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{ok}})
	h := m.hosts[0]
	if !h.reported || h.status != health.OK || h.stale || h.cpu.Len() != 1 || !h.seen.Equal(at) {
		t.Fatalf("after an ok report: %+v", h)
	}

	// A failed read keeps the metrics, marks them stale and shows why.
	err := errors.New("dial tcp: connection refused")
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{downReport("a", at.Add(5*time.Second), err)}})
	h = m.hosts[0]
	if h.status != health.Down || !h.stale || h.metrics == nil || h.lastErr != err.Error() || !h.seen.Equal(at) {
		t.Fatalf("after a down report: %+v", h)
	}
	if h.cpu.Len() != 1 {
		t.Errorf("a failed read must not add to the history: %d points", h.cpu.Len())
	}

	// A cancelled poll says nothing about the host.
	cancelled := fleet.Report{Host: "a", Status: health.Unknown, Outcome: sessions.OutcomeCancelled, Err: context.Canceled, Time: at.Add(10 * time.Second)}
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{cancelled}})
	if m.hosts[0].status != health.Down {
		t.Errorf("a cancelled report changed the status to %v", m.hosts[0].status)
	}

	// A report older than the newest applied is dropped.
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{report("a", at.Add(-time.Hour), health.OK, metricsAt(at.Add(-time.Hour), sample{}))}})
	if m.hosts[0].status != health.Down {
		t.Errorf("an old report was applied over a newer one")
	}

	// A host outside the inventory is shown, not dropped.
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{report("stray", at, health.OK, metricsAt(at, sample{}))}})
	if !slices.Contains(shown(m), "stray") || m.Summary().Total != 2 {
		t.Errorf("a stray host was not added: %v", shown(m))
	}
}

func TestStaleMetricsShownWithReason(t *testing.T) {
	m := fixture(t, 160, 48)
	frame := m.View()
	row := lineWith(t, frame, "db-2")
	for _, want := range []string{"↓ down", "47%", "dial tcp 10.0.1.12:22", "45s"} {
		if !strings.Contains(row, want) {
			t.Errorf("db-2's row lacks %q:\n%s", want, row)
		}
	}
	row = lineWith(t, frame, "cache-1")
	if !strings.Contains(row, "never") || !strings.Contains(row, "i/o timeout") {
		t.Errorf("cache-1's row: %s", row)
	}
}

func lineWith(t *testing.T, frame, s string) string {
	t.Helper()
	for _, l := range strings.Split(frame, "\n") {
		if strings.Contains(l, " "+s+" ") {
			return l
		}
	}
	t.Fatalf("no line with %q in:\n%s", s, frame)
	return ""
}

func TestDefaultSortWorstFirstThenNaturalName(t *testing.T) {
	m := fixture(t, 160, 48)
	want := []string{"cache-1", "db-2", "db-1", "web-9", "edge-1", "mq-1", "mq-2",
		longName, "localhost", "web-1", "web-2", "web-10", "win-build-1"}
	if got := shown(m); !slices.Equal(got, want) {
		t.Errorf("order:\n got %v\nwant %v", got, want)
	}
}

func TestSortCycleAndReverse(t *testing.T) {
	m := fixture(t, 160, 48)
	var seen []sortKey
	for range numSortKeys {
		seen = append(seen, m.sortBy)
		m, _ = press(t, m, "s")
	}
	if m.sortBy != sortStatus {
		t.Errorf("after a full cycle: sort by %v", m.sortBy)
	}
	if len(seen) != int(numSortKeys) || seen[1] != sortName || seen[2] != sortCPU {
		t.Errorf("cycle: %v", seen)
	}

	m, _ = press(t, m, "s") // name
	names := shown(m)
	if names[0] != longName || !before(names, "web-9", "web-10") {
		t.Errorf("by name: %v", names)
	}
	m, _ = press(t, m, "S")
	rev := shown(m)
	if rev[0] != "win-build-1" || !before(rev, "web-10", "web-9") {
		t.Errorf("by name reversed: %v", rev)
	}

	m, _ = press(t, m, "s") // cpu, busiest first; hosts without a sample last
	byCPU := shown(m)
	if byCPU[0] != "web-10" {
		t.Errorf("by cpu: %v", byCPU)
	}
	if !slices.Equal(byCPU[len(byCPU)-3:], []string{"cache-1", "mq-1", "mq-2"}) {
		t.Errorf("by cpu, hosts without samples should come last: %v", byCPU)
	}
	if m.reverse {
		t.Error("sort_next should reset the direction")
	}
	m, _ = press(t, m, "S")
	if got := shown(m); got[0] == "web-10" || !slices.Contains(got[len(got)-4:], "web-10") {
		t.Errorf("by cpu reversed: %v", got)
	}
}

func before(list []string, a, b string) bool {
	return slices.Index(list, a) < slices.Index(list, b)
}

func TestCursorStaysOnHostAcrossResortAndUpdates(t *testing.T) {
	m := fixture(t, 160, 10)
	m = selectHost(t, m, "web-1")
	for _, k := range []string{"s", "s", "S", "s", "b", "s", "b"} {
		m, _ = press(t, m, k)
		if got := mustSelected(t, m); got != "web-1" {
			t.Fatalf("after %q the cursor is on %s", k, got)
		}
		if cl := m.cursorLine(); cl < m.top || cl >= m.top+m.bodyHeight() {
			t.Fatalf("after %q the cursor line %d is off screen (top %d)", k, cl, m.top)
		}
	}

	// Back to the status sort. When web-2 turns warn it moves above web-1: the rows move
	// under the cursor, which stays on web-1 at the same place on screen.
	for m.sortBy != sortStatus {
		m, _ = press(t, m, "s")
	}
	m = selectHost(t, m, "web-1")
	screenRow := m.cursorLine() - m.top
	at := t0.Add(time.Second)
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{
		report("web-2", at, health.Warn, metricsAt(at, sample{cpu: 90, mem: 41, disks: rootDisk(40)}), "cpu 90% ≥ 85%"),
	}})
	if got := mustSelected(t, m); got != "web-1" {
		t.Fatalf("after web-2 went warn the cursor is on %s", got)
	}
	if !before(shown(m), "web-2", "web-1") {
		t.Fatalf("web-2 did not move up: %v", shown(m))
	}
	if got := m.cursorLine() - m.top; got != screenRow {
		t.Errorf("the cursor moved on screen from row %d to %d", screenRow, got)
	}

	// web-1 goes critical and jumps near the top; the cursor follows it and stays visible.
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{
		report("web-1", at, health.Crit, metricsAt(at, sample{cpu: 99, mem: 41, disks: rootDisk(40)}), "cpu 99% ≥ 95%"),
	}})
	if got := mustSelected(t, m); got != "web-1" {
		t.Fatalf("after web-1 went critical the cursor is on %s", got)
	}
	if shown(m)[0] != "cache-1" || !before(shown(m), "web-1", "web-9") {
		t.Errorf("order after web-1 went critical: %v", shown(m))
	}
	if cl := m.cursorLine(); cl < m.top || cl >= m.top+m.bodyHeight() {
		t.Fatalf("cursor line %d off screen (top %d)", cl, m.top)
	}
}

func TestCursorStartsOnTheWorstHost(t *testing.T) {
	// Before the operator moves, the cursor stays on the top row instead of following
	// whichever host was first while all were connecting.
	m := fixture(t, 160, 48)
	if got := mustSelected(t, m); got != "cache-1" {
		t.Errorf("selected %s, want the top row cache-1", got)
	}
}

func TestNavigation(t *testing.T) {
	m := fixture(t, 160, 6) // four table lines
	m, _ = press(t, m, "end")
	if got := mustSelected(t, m); got != "win-build-1" {
		t.Errorf("end: %s", got)
	}
	if m.top != len(m.lines)-m.bodyHeight() {
		t.Errorf("end: top %d, want %d", m.top, len(m.lines)-m.bodyHeight())
	}
	m, _ = press(t, m, "home")
	if got := mustSelected(t, m); got != "cache-1" || m.top != 0 {
		t.Errorf("home: %s, top %d", got, m.top)
	}
	m, _ = press(t, m, "pgdown")
	if m.cursor != m.bodyHeight()-1 {
		t.Errorf("pgdown: cursor %d", m.cursor)
	}
	m, _ = press(t, m, "k", "k", "k", "k", "k")
	if m.cursor != 0 {
		t.Errorf("up past the top: cursor %d", m.cursor)
	}
}

func TestFilter(t *testing.T) {
	m := fixture(t, 120, 30)
	if m.InputFocused() {
		t.Fatal("input focused before StartFilter")
	}
	m, cmd := m.StartFilter()
	if cmd != nil {
		t.Error("StartFilter returned a command")
	}
	if !m.InputFocused() {
		t.Fatal("StartFilter did not focus the input")
	}
	// Letters that are keys in the table (s sorts, b groups) are text in the input.
	m = typeText(t, m, "db")
	if got := shown(m); !slices.Equal(got, []string{"db-2", "db-1"}) {
		t.Errorf("filter db: %v", got)
	}
	if m.sortBy != sortStatus || m.grouped {
		t.Error("typed letters reached the table's keys")
	}
	if got := m.Title(); got != "Fleet · 2 of 13 hosts" {
		t.Errorf("title: %q", got)
	}
	if !strings.Contains(m.View(), "2 of 13 hosts") {
		t.Error("the input line does not show the count")
	}
	m, _ = press(t, m, "enter")
	if m.InputFocused() || len(m.order) != 2 {
		t.Fatalf("enter should keep the filter and close the input: focused %v, %v", m.InputFocused(), shown(m))
	}
	if !strings.Contains(m.View(), "filter “db”") {
		t.Errorf("the top line does not show the filter in force:\n%s", m.View())
	}

	// Reopening keeps the text for refining; esc clears everything.
	m, _ = m.StartFilter()
	if m.input.String() != "db" {
		t.Errorf("reopened input holds %q", m.input.String())
	}
	m, _ = press(t, m, "esc")
	if m.InputFocused() || len(m.order) != 13 || m.Title() != "Fleet · 13 hosts" {
		t.Errorf("esc: focused %v, %d shown, title %q", m.InputFocused(), len(m.order), m.Title())
	}

	// esc in the table clears a filter in force.
	m, _ = m.StartFilter()
	m = typeText(t, m, "web")
	m, _ = press(t, m, "enter", "esc")
	if len(m.order) != 13 {
		t.Errorf("esc in the table should clear the filter: %v", shown(m))
	}

	cases := []struct {
		q    string
		want []string
	}{
		{"tag:prod", []string{"db-1", "web-1", "web-2"}},
		{"TAG:PROD web", []string{"web-1", "web-2"}},
		{"status:down", []string{"cache-1", "db-2"}},
		{"status:degraded", []string{"db-1", "web-9"}},
		{"status:connecting", []string{"mq-1", "mq-2"}},
		{"refused", []string{"db-2"}},         // reason
		{"10.0.3.", []string{"mq-1", "mq-2"}}, // address
		{"postgresql", []string{"db-1"}},      // second reason's text
		{"web !tag:prod", []string{"web-9", "web-10"}},
		{"nothing-matches", nil},
	}
	for _, c := range cases {
		m, _ = m.StartFilter()
		m, _ = press(t, m, "ctrl+u")
		m = typeText(t, m, c.q)
		m, _ = press(t, m, "enter")
		if got := shown(m); !slices.Equal(got, c.want) {
			t.Errorf("filter %q: %v, want %v", c.q, got, c.want)
		}
	}
	if !strings.Contains(m.View(), "no host matches") {
		t.Errorf("an empty result should say so:\n%s", m.View())
	}
}

func TestFilterEditing(t *testing.T) {
	m := fixture(t, 80, 24)
	m, _ = m.StartFilter()
	m = typeText(t, m, "web prod")
	m, _ = press(t, m, "ctrl+w")
	if got := m.input.String(); got != "web " {
		t.Errorf("ctrl+w: %q", got)
	}
	m, _ = press(t, m, "backspace", "left", "left", "x")
	if got := m.input.String(); got != "wxeb" {
		t.Errorf("editing: %q", got)
	}
	if len(m.order) != 0 {
		t.Errorf("filter wxeb: %v", shown(m))
	}
}

func TestGroupToggle(t *testing.T) {
	m := fixture(t, 160, 48)
	m, _ = press(t, m, "b")
	if !m.grouped {
		t.Fatal("b did not group")
	}
	var headers []string
	for _, l := range m.lines {
		if l.host < 0 {
			headers = append(headers, l.group.name)
		}
	}
	want := []string{"analytics", "build", "cache", "db", "edge", "mq", "web", ""}
	if !slices.Equal(headers, want) {
		t.Errorf("groups %q, want %q", headers, want)
	}
	frame := m.View()
	if l := lineWith(t, frame, "web"); !strings.Contains(l, "4 hosts") || !strings.Contains(l, "! 1 warn") || !strings.Contains(l, "✓ 3 ok") {
		t.Errorf("web's header: %s", l)
	}
	// The cursor never rests on a header.
	m, _ = press(t, m, "home")
	for range len(m.order) + 2 {
		if m.lines[m.cursorLine()].host < 0 {
			t.Fatal("cursor on a group header")
		}
		m, _ = press(t, m, "j")
	}
	if m.top != 0 {
		t.Errorf("whole table fits, yet top is %d", m.top)
	}
	m, _ = press(t, m, "b")
	if m.grouped || len(m.lines) != len(m.order) {
		t.Error("b did not ungroup")
	}
}

func TestGroupHeaderShownWithFirstHost(t *testing.T) {
	m := fixture(t, 160, 5) // three table lines
	m, _ = press(t, m, "b", "end", "home")
	if m.top != 0 || m.lines[0].host >= 0 {
		t.Fatalf("home should show the first group's header: top %d", m.top)
	}
	m, _ = press(t, m, "end")
	for range len(m.order) {
		m, _ = press(t, m, "k")
		cl := m.cursorLine()
		if cl > 0 && m.lines[cl-1].host < 0 && m.top != cl-1 && cl-1 < m.top {
			t.Fatalf("moving up onto %s hid its group's header", mustSelected(t, m))
		}
	}
}

func TestMarkAndExec(t *testing.T) {
	m := fixture(t, 160, 48)

	// Nothing marked: exec opens the selected host.
	m = selectHost(t, m, "web-9")
	_, cmd := press(t, m, "x")
	if got := execMsg(t, cmd); got.Pattern != "web-9" {
		t.Errorf("exec without marks: %q", got.Pattern)
	}

	// Marking steps down, so the next host is marked by the next press.
	m = selectHost(t, m, "db-2")
	m, _ = press(t, m, " ", " ")
	if got := m.Marked(); !slices.Equal(got, []string{"db-1", "db-2"}) {
		t.Fatalf("marked %v", got)
	}
	m = selectHost(t, m, "web-10")
	m, _ = press(t, m, " ")
	if m.Title() != "Fleet · 13 hosts · 3 marked" {
		t.Errorf("title %q", m.Title())
	}
	_, cmd = press(t, m, "x")
	if got := execMsg(t, cmd); got.Pattern != "db-1,db-2,web-10" {
		t.Errorf("exec on marked: %q", got.Pattern)
	}
	if frame := m.View(); !strings.Contains(lineWith(t, frame, "db-1"), " *") {
		t.Errorf("a marked row shows no mark:\n%s", frame)
	}

	// Unmark one; mark all marks the shown hosts, again unmarks them.
	m = selectHost(t, m, "db-1")
	m, _ = press(t, m, " ")
	if got := m.Marked(); !slices.Equal(got, []string{"db-2", "web-10"}) {
		t.Errorf("after unmarking db-1: %v", got)
	}
	m, _ = m.StartFilter()
	m = typeText(t, m, "tag:web")
	m, _ = press(t, m, "enter", "a")
	if got := m.Marked(); !slices.Equal(got, []string{"db-2", "web-1", "web-2", "web-9", "web-10"}) {
		t.Errorf("mark all over tag:web: %v", got)
	}
	m, _ = press(t, m, "a")
	if got := m.Marked(); !slices.Equal(got, []string{"db-2"}) {
		t.Errorf("mark all again should unmark the shown hosts: %v", got)
	}
}

func execMsg(t *testing.T, cmd tea.Cmd) views.OpenExecMsg {
	t.Helper()
	if cmd == nil {
		t.Fatal("no command")
	}
	msg, ok := cmd().(views.OpenExecMsg)
	if !ok {
		t.Fatalf("command returned %T, want views.OpenExecMsg", cmd())
	}
	return msg
}

func TestDetailOpenClose(t *testing.T) {
	m := fixture(t, 100, 30)
	m = selectHost(t, m, "db-1")
	m, _ = press(t, m, "enter")
	if !m.detail || m.Title() != "Fleet › db-1" {
		t.Fatalf("enter: detail %v, title %q", m.detail, m.Title())
	}
	frame := m.View()
	checkFrame(t, frame, 100, 30)
	for _, want := range []string{"/var/lib/postgresql", "96.2%", "12.5  10.0  7.50", "12d 3h", "mem 81% ≥ 80%"} {
		if !strings.Contains(frame, want) {
			t.Errorf("detail lacks %q:\n%s", want, frame)
		}
	}
	// Scrolling stops at the end of the content.
	m, _ = press(t, m, "G")
	bottom := m.detailTop
	m, _ = press(t, m, "j", "j")
	if m.detailTop != bottom || bottom == 0 {
		t.Errorf("scroll: bottom %d, after more j %d", bottom, m.detailTop)
	}
	if !strings.Contains(m.View(), "exec on this host") {
		t.Errorf("the bottom of the detail lists no actions:\n%s", m.View())
	}
	if help := m.ShortHelp(); help[0].Help().Desc != "exec on this host" {
		t.Errorf("detail help: %v", help[0].Help())
	}

	_, cmd := press(t, m, "x")
	if got := execMsg(t, cmd); got.Pattern != "db-1" {
		t.Errorf("exec from detail: %q", got.Pattern)
	}

	// New reports keep the detail on its host.
	at := t0.Add(time.Second)
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{report("web-1", at, health.Crit, metricsAt(at, sample{cpu: 99}), "cpu")}})
	if m.Title() != "Fleet › db-1" {
		t.Errorf("after a report the detail shows %q", m.Title())
	}

	m, _ = press(t, m, "esc")
	if m.detail || mustSelected(t, m) != "db-1" {
		t.Errorf("esc: detail %v, selected %s", m.detail, mustSelected(t, m))
	}
	m, _ = press(t, m, "d", "d")
	if m.detail {
		t.Error("d should toggle the detail view")
	}
}

func TestResize(t *testing.T) {
	m := fixture(t, 160, 48)
	if !m.layout.has(colPorts) || !m.layout.has(colVia) || !m.layout.has(colTrend) || !m.layout.has(colProbes) {
		t.Errorf("160 columns should show every column: %+v", m.layout.cols)
	}
	m = m.SetSize(80, 24)
	for _, c := range []column{colPorts, colVia, colTrend} {
		if m.layout.has(c) {
			t.Errorf("80 columns should drop column %d first", c)
		}
	}
	for _, c := range []column{colStatus, colName, colCPU, colMem, colDisk, colLoad, colSeen, colReason} {
		if !m.layout.has(c) {
			t.Errorf("80 columns should keep column %d", c)
		}
	}

	// Every size, in every mode, fits: no line wider than the pane, exactly its height.
	modes := map[string]func(Model) Model{
		"table": func(m Model) Model { return m },
		"grouped": func(m Model) Model {
			m, _ = press(t, m, "b", "end")
			return m
		},
		"filter": func(m Model) Model {
			m, _ = m.StartFilter()
			return typeText(t, m, "status:down web-9 and a long filter text")
		},
		"detail": func(m Model) Model {
			m, _ = press(t, m, "end", "enter", "G")
			return m
		},
	}
	for name, prep := range modes {
		m := prep(fixture(t, 160, 48))
		for _, w := range []int{0, 1, 2, 5, 10, 17, 33, 40, 59, 64, 79, 80, 81, 100, 120, 159, 160, 200} {
			for _, h := range []int{0, 1, 2, 3, 4, 7, 24, 48} {
				m = m.SetSize(w, h)
				checkFrame(t, m.View(), w, h)
				if t.Failed() {
					t.Fatalf("mode %s", name)
				}
			}
		}
	}
}

func TestKeysFromTheKeymap(t *testing.T) {
	km := keymap.Default()
	km.Fleet.SortNext.SetKeys("o")
	m := New(inventory(), km.Fleet, styles(t, themes.NoColor)).SetSize(120, 20)
	m, _ = press(t, m, "s")
	if m.sortBy != sortStatus {
		t.Error("an unbound default key still sorts")
	}
	m, _ = press(t, m, "o")
	if m.sortBy != sortName {
		t.Error("the rebound key does not sort")
	}
	km.Fleet.Exec.SetEnabled(false)
	m = New(inventory(), km.Fleet, styles(t, themes.NoColor)).SetSize(120, 20)
	if _, cmd := press(t, m, "x"); cmd != nil {
		t.Error("a disabled binding still acts")
	}
}

func TestLogsKeyExplainsItself(t *testing.T) {
	m := fixture(t, 80, 24)
	_, cmd := press(t, m, "l")
	if cmd == nil {
		t.Fatal("logs key did nothing")
	}
	if f, ok := cmd().(views.FlashMsg); !ok || f.Text == "" {
		t.Errorf("logs key: %#v", cmd())
	}
}

func TestHelp(t *testing.T) {
	m := fixture(t, 80, 24)
	if len(m.ShortHelp()) == 0 || len(m.FullHelp()) == 0 {
		t.Fatal("no help")
	}
	m, _ = m.StartFilter()
	if h := m.ShortHelp(); len(h) != 2 || h[0].Help().Key != "enter" || h[1].Help().Key != "esc" {
		t.Errorf("filter help: %v", h)
	}
}

func TestClockOnlyChangesAges(t *testing.T) {
	m := fixture(t, 120, 20)
	before := m.View()
	m = update(t, m, clock(t0.Add(2*time.Minute)))
	after := m.View()
	if before == after || !strings.Contains(lineWith(t, after, "web-1"), "2m") {
		t.Errorf("ages did not follow the clock:\n%s", after)
	}
	if m.View() != after {
		t.Error("View is not a pure read")
	}
}

func TestWaitForReports(t *testing.T) {
	mon := fleet.NewMonitor(nil, nil, fleet.MonitorOptions{})
	rep := report("web-1", t0, health.OK, metricsAt(t0, sample{cpu: 10}))
	mon.Publish(rep)
	msg := WaitForReports(context.Background(), mon)()
	got, ok := msg.(HostsPolledMsg)
	if !ok || len(got.Reports) != 1 || got.Reports[0].Host != "web-1" {
		t.Fatalf("WaitForReports: %#v", msg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if msg := WaitForReports(ctx, mon)(); msg != nil {
		t.Errorf("after cancel: %#v, want nil", msg)
	}
}

func TestNoColorTheme(t *testing.T) {
	m := New(inventory(), keymap.Default().Fleet, styles(t, themes.NoColor)).SetSize(160, 48)
	for _, msg := range fixtureReports() {
		m = update(t, m, msg)
	}
	frame := m.View()
	checkFrame(t, frame, 160, 48)
	for _, want := range []string{"✓ ok", "! warn", "✗ crit", "↓ down", "? unknown", "? connecting"} {
		if !strings.Contains(frame, want) {
			t.Errorf("status %q not spelled out:\n%s", want, frame)
		}
	}
}

func TestRefreshKeyExplainsItself(t *testing.T) {
	m := fixture(t, 80, 24)
	_, cmd := press(t, m, "r")
	if cmd == nil {
		t.Fatal("refresh key did nothing")
	}
	if f, ok := cmd().(views.FlashMsg); !ok || !strings.Contains(f.Text, "refresh") {
		t.Errorf("refresh key: %#v", cmd())
	}
}
