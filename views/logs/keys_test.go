package logs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

func TestFollowPauseAndResume(t *testing.T) {
	m := fixture(t, 80, 24)
	if !m.Following() {
		t.Fatal("a new pane should follow")
	}
	n := len(m.view)
	if m.cursor != n-1 {
		t.Fatalf("following: cursor %d, want the last line %d", m.cursor, n-1)
	}

	m, _ = press(t, m, "up")
	if m.Following() {
		t.Fatal("scrolling up should pause")
	}
	top, cur := m.top, m.cursor
	before := m.View()

	m = update(t, m, LinesMsg{Lines: moreLines(m, 5)})
	if m.newLines() != 5 {
		t.Errorf("badge counts %d, want 5", m.newLines())
	}
	if m.top != top || m.cursor != cur {
		t.Errorf("paused view moved: top %d→%d, cursor %d→%d", top, m.top, cur, m.cursor)
	}
	frame := m.View()
	if !strings.Contains(frame, "▼ 5 new lines") || !strings.Contains(frame, "paused") {
		t.Errorf("paused frame lacks the badge:\n%s", frame)
	}
	// The body is what it was: only the top line's count and the status bar changed.
	if body(before) != body(frame) {
		t.Errorf("paused body changed:\n%s\n---\n%s", body(before), body(frame))
	}

	m = update(t, m, LinesMsg{Lines: moreLines(m, 1)})
	if !strings.Contains(m.View(), "▼ 6 new lines") {
		t.Error("the badge should keep counting")
	}

	m, _ = press(t, m, "f")
	if !m.Following() || m.newLines() != 0 || m.cursor != len(m.view)-1 {
		t.Fatalf("f should resume at the end: following=%v new=%d cursor=%d/%d", m.Following(), m.newLines(), m.cursor, len(m.view))
	}
	if strings.Contains(m.View(), "new line") {
		t.Error("the badge should be gone once following")
	}

	// end resumes too, and space pauses and resumes without moving.
	m, _ = press(t, m, "home")
	if m.Following() || m.cursor != 0 {
		t.Fatal("home should pause on the first line")
	}
	m, _ = press(t, m, "end")
	if !m.Following() {
		t.Fatal("end should resume")
	}
	m, _ = press(t, m, " ")
	if m.Following() || m.cursor != len(m.view)-1 {
		t.Fatal("space should pause in place")
	}
	m = update(t, m, LinesMsg{Lines: moreLines(m, 2)})
	if m.newLines() != 2 || m.cursor != len(m.view)-3 {
		t.Errorf("paused in place: new=%d cursor=%d of %d", m.newLines(), m.cursor, len(m.view))
	}
	m, _ = press(t, m, "p")
	if !m.Following() {
		t.Fatal("p should resume when paused")
	}
}

// body is a frame without its first and last rows (top line and status bar).
func body(frame string) string {
	rows := strings.Split(frame, "\n")
	return strings.Join(rows[1:len(rows)-1], "\n")
}

func TestFilterBadRegexKeepsOldFilter(t *testing.T) {
	m := fixture(t, 80, 24)
	m, _ = m.StartFilter()
	if !m.InputFocused() {
		t.Fatal("StartFilter should focus the input")
	}
	m = typeText(t, m, "timeout")
	m, _ = press(t, m, "enter")
	if m.InputFocused() {
		t.Fatal("enter should close the input")
	}
	want := matching(m, func(l logs.Line) bool { return strings.Contains(strings.ToLower(l.Raw), "timeout") })
	if got := len(m.view); got != want || want == 0 {
		t.Fatalf("filter timeout shows %d lines, want %d", got, want)
	}

	m, _ = m.StartFilter()
	m = typeText(t, m, "|(oops")
	frame := m.View()
	first := strings.SplitN(frame, "\n", 2)[0]
	if !strings.Contains(first, "✗ bad regular expression") {
		t.Errorf("the error should show inline in the top line:\n%s", first)
	}
	if len(m.view) != want {
		t.Error("typing a bad pattern must not change the filter in force")
	}
	m, _ = press(t, m, "enter")
	if !m.InputFocused() || m.inErr == "" {
		t.Fatal("enter on a bad pattern should keep the input open with its error")
	}
	if m.flt.pattern != "timeout" || len(m.view) != want {
		t.Errorf("the old filter should stay: %q, %d lines", m.flt.pattern, len(m.view))
	}
	// Fixing the pattern clears the error as it is typed.
	m, _ = press(t, m, "backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
	if m.inErr != "" {
		t.Errorf("error should clear once the pattern compiles, still %q", m.inErr)
	}
	m, _ = press(t, m, "esc")
	if m.InputFocused() || m.flt.pattern != "timeout" {
		t.Errorf("esc cancels the edit and keeps the filter: open=%v %q", m.InputFocused(), m.flt.pattern)
	}
	// esc outside the input clears the filter.
	m, _ = press(t, m, "esc")
	if m.flt.active() || len(m.view) != m.st.len() {
		t.Errorf("esc should clear the filter: %d of %d shown", len(m.view), m.st.len())
	}
}

// matching counts the held lines that f accepts, or that are markers (which pass the
// pattern and the level filters).
func matching(m Model, f func(logs.Line) bool) int {
	n := 0
	for p := m.st.first(); p < m.st.end(); p++ {
		if l := *m.st.at(p); l.Marker != logs.NotMarker || f(l) {
			n++
		}
	}
	return n
}

func TestCaseToggleAndInvert(t *testing.T) {
	m := fixture(t, 160, 48)
	m, _ = m.StartFilter()
	m = typeText(t, m, "GET")
	m, _ = press(t, m, "enter")
	fold := matching(m, func(l logs.Line) bool { return strings.Contains(strings.ToUpper(l.Raw), "GET") })
	exact := matching(m, func(l logs.Line) bool { return strings.Contains(l.Raw, "GET") })
	if fold == exact {
		t.Fatal("fixture should have a lower-case get")
	}
	if len(m.view) != fold {
		t.Fatalf("ignoring case: %d lines, want %d", len(m.view), fold)
	}
	if !strings.Contains(m.View(), "filter /GET/i") {
		t.Error("top line should show the pattern with i for ignore case")
	}

	m, cmd := press(t, m, "i")
	if fm, ok := runCmd(cmd).(views.FlashMsg); !ok || !strings.Contains(fm.Text, "case-sensitive") {
		t.Errorf("case toggle should say what it did, got %#v", runCmd(cmd))
	}
	if len(m.view) != exact {
		t.Fatalf("case-sensitive: %d lines, want %d", len(m.view), exact)
	}

	m, _ = press(t, m, "v")
	markers := matching(m, func(logs.Line) bool { return false })
	inverted := matching(m, func(l logs.Line) bool { return !strings.Contains(l.Raw, "GET") })
	if len(m.view) != inverted {
		t.Fatalf("inverted: %d lines, want %d (markers %d)", len(m.view), inverted, markers)
	}
	for _, l := range shownLines(m) {
		if l.Marker == logs.NotMarker && strings.Contains(l.Raw, "GET") {
			t.Errorf("inverted filter shows %q", l.Raw)
		}
	}
	if !strings.Contains(m.View(), "filter not /GET/") {
		t.Error("top line should say the filter is inverted")
	}
	m, _ = press(t, m, "v", "i")
	if len(m.view) != fold {
		t.Errorf("back to the start: %d lines, want %d", len(m.view), fold)
	}
}

func TestHostAndLevelFilters(t *testing.T) {
	m := fixture(t, 80, 24)
	m, _ = press(t, m, "H")
	if m.mode != modePicker {
		t.Fatal("H should open the host picker")
	}
	// Down to db-1 (analytics…, cache-1, db-1), then show only it.
	m, _ = press(t, m, "down", "down", "o", "enter")
	if m.mode != modeNormal {
		t.Fatal("enter should close the picker")
	}
	for _, l := range shownLines(m) {
		if l.Host != "db-1" {
			t.Fatalf("only db-1 should show, got %s: %q", l.Host, l.Raw)
		}
	}
	if !strings.Contains(m.View(), "1 of 7 hosts") {
		t.Errorf("top line should count the hosts shown:\n%s", m.View())
	}

	// A host first seen after the filter was set is shown: it was never hidden.
	b := &lb{seq: m.st.lastSeq, at: t0.Add(time.Minute)}
	m = update(t, m, LinesMsg{Lines: []logs.Line{b.text("web-9", logs.LevelInfo, "hello from a new host")}})
	if last := shownLines(m)[len(m.view)-1]; last.Host != "web-9" {
		t.Errorf("a new host should be shown, last line is from %s", last.Host)
	}

	// Hiding every host is refused.
	m, _ = press(t, m, "H", "home", "o", " ")
	m, cmd := press(t, m, "enter")
	if fm, ok := runCmd(cmd).(views.FlashMsg); !ok || !fm.Err || m.mode != modePicker {
		t.Errorf("hiding every host should be refused, got %#v in mode %d", runCmd(cmd), m.mode)
	}
	m, _ = press(t, m, "a", "enter")
	if m.flt.active() || len(m.view) != m.st.len() {
		t.Fatalf("a shows all hosts again: %d of %d", len(m.view), m.st.len())
	}
	// esc in the picker changes nothing.
	m, _ = press(t, m, "H", " ", "esc")
	if m.flt.active() {
		t.Error("esc should leave the host filter as it was")
	}

	// L cycles debug+, info+, warn+, error+, all.
	for i, want := range []logs.Level{logs.LevelDebug, logs.LevelInfo, logs.LevelWarn, logs.LevelError} {
		var cmd tea.Cmd
		m, cmd = press(t, m, "L")
		if m.flt.minLevel != want {
			t.Fatalf("step %d: level %v, want %v", i, m.flt.minLevel, want)
		}
		if fm, ok := runCmd(cmd).(views.FlashMsg); !ok || !strings.Contains(fm.Text, levelWord(want)) {
			t.Errorf("the level key should say what it shows, got %#v", runCmd(cmd))
		}
		for _, l := range shownLines(m) {
			if l.Marker == logs.NotMarker && l.Level < want {
				t.Fatalf("level ≥ %v shows a %v line: %q", want, l.Level, l.Raw)
			}
		}
	}
	if !strings.Contains(m.View(), "level ≥ ERROR") {
		t.Error("top line should show the level filter")
	}
	m, _ = press(t, m, "L")
	if m.flt.minLevel != logs.LevelNone || len(m.view) != m.st.len() {
		t.Error("L after error should show all levels")
	}
}

func TestSearchMovesBetweenMatches(t *testing.T) {
	m := fixture(t, 80, 24)
	var matches []int
	for i, l := range shownLines(m) {
		if l.Marker == logs.NotMarker && strings.Contains(l.Raw, "timeout") {
			matches = append(matches, i)
		}
	}
	if len(matches) != 2 {
		t.Fatalf("fixture should have 2 timeout lines, has %d", len(matches))
	}
	m, _ = press(t, m, "s")
	m = typeText(t, m, "timeout")
	m, _ = press(t, m, "enter")
	if m.Following() || m.cursor != matches[1] {
		t.Fatalf("search should pause on the newest match %d, cursor %d following=%v", matches[1], m.cursor, m.Following())
	}
	if m.flt.active() {
		t.Error("search must not filter")
	}
	m, _ = press(t, m, "N")
	if m.cursor != matches[0] {
		t.Fatalf("N should go to the older match %d, cursor %d", matches[0], m.cursor)
	}
	m, cmd := press(t, m, "N")
	if fm, ok := runCmd(cmd).(views.FlashMsg); !ok || !strings.Contains(fm.Text, "no older line") || m.cursor != matches[0] {
		t.Errorf("N past the oldest should say so and stay, got %#v at %d", runCmd(cmd), m.cursor)
	}
	m, _ = press(t, m, "n")
	if m.cursor != matches[1] {
		t.Fatalf("n should go to the newer match %d, cursor %d", matches[1], m.cursor)
	}
	// Following, N starts from the newest line itself.
	m, _ = press(t, m, "f")
	m = update(t, m, LinesMsg{Lines: []logs.Line{(&lb{seq: m.st.lastSeq, at: t0.Add(time.Minute)}).text("web-1", logs.LevelError, "timeout again")}})
	m, _ = press(t, m, "N")
	if m.cursor != len(m.view)-1 || m.Following() {
		t.Fatalf("N while following should stop on the newest line, which matches: cursor %d of %d", m.cursor, len(m.view))
	}
	// Markers never count as matches, though they pass every filter.
	m, _ = press(t, m, "s", "ctrl+u")
	m = typeText(t, m, "lost")
	m, cmd = press(t, m, "enter")
	if fm, ok := runCmd(cmd).(views.FlashMsg); !ok || !strings.Contains(fm.Text, "no line matches") {
		t.Errorf("a search only markers hold should find nothing, got %#v", runCmd(cmd))
	}
	// esc clears the search.
	m, _ = press(t, m, "esc")
	if m.search != nil {
		t.Error("esc should clear the search")
	}
	_, cmd = press(t, m, "n")
	if fm, ok := runCmd(cmd).(views.FlashMsg); !ok || !strings.Contains(fm.Text, "no search") {
		t.Errorf("n without a search should say so, got %#v", runCmd(cmd))
	}
}

func TestWrapToggle(t *testing.T) {
	m := fixture(t, 80, 24)
	m = cursorTo(t, m, "GET /api/v1/orders/8812 200 "+strings.Repeat("x", 20)+" trace="+strings.Repeat("0123456789abcdef", 12))
	idx := m.cursor
	// rows counts the rows the line takes: its own and the continuation rows under it,
	// which start blank where the columns are.
	rows := func(m Model) int {
		frame := strings.Split(m.View(), "\n")
		for i, r := range frame {
			if !strings.Contains(r, "/api/v1/orders/8812") {
				continue
			}
			n := 1
			for _, c := range frame[i+1:] {
				if !strings.HasPrefix(c, strings.Repeat(" ", m.lay.msgX)) {
					break
				}
				n++
			}
			return n
		}
		return 0
	}
	if got := rows(m); got != 1 {
		t.Fatalf("unwrapped, the long line takes %d rows, want 1", got)
	}
	m, _ = press(t, m, "w")
	if !m.wrap {
		t.Fatal("w should wrap")
	}
	if got := rows(m); got < 3 {
		t.Errorf("wrapped, the long line takes %d rows, want 3 or more", got)
	}
	if m.cursor != idx {
		t.Error("wrapping should keep the cursor on its line")
	}
	checkFrame(t, m.View(), 80, 24)
	if !strings.Contains(m.View(), "wrap · ") {
		t.Error("status bar should say lines wrap")
	}
	m, _ = press(t, m, "w")
	if got := rows(m); got != 1 {
		t.Errorf("unwrapped again: %d rows", got)
	}
}

func TestDetailOfJSONLine(t *testing.T) {
	m := fixture(t, 80, 24)
	m = openOn(t, m, "cannot bind :8443")
	frame := m.View()
	for _, want := range []string{"web-2 · app · #17", "level     FATAL", "message   cannot bind :8443",
		"err  listen tcp :8443: bind: address already in use", `"msg": "cannot bind :8443",`} {
		if !strings.Contains(frame, want) {
			t.Errorf("detail lacks %q:\n%s", want, frame)
		}
	}
	if m.Title() != "Logs › web-2 #17" {
		t.Errorf("title %q", m.Title())
	}
	// The record stays readable while lines arrive and even once the ring lets it go.
	m = update(t, m, LinesMsg{Lines: moreLines(m, 3)})
	if m.View() != frame {
		t.Error("detail changed while lines arrived")
	}
	m, _ = press(t, m, "esc")
	if m.mode != modeNormal || m.Following() {
		t.Error("esc should go back to the paused list")
	}
	if cursorLine(t, m).Message != "cannot bind :8443" {
		t.Error("back from detail, the cursor should be on the line inspected")
	}
}

func TestJumpToTime(t *testing.T) {
	m := fixture(t, 80, 24)
	m, _ = press(t, m, "t")
	m = typeText(t, m, "12:00:03.1")
	m, _ = press(t, m, "enter")
	if m.InputFocused() || m.Following() {
		t.Fatal("a good time should close the input and pause")
	}
	target := t0.Add(3100 * time.Millisecond)
	shown := shownLines(m)
	if at := lineAt(&shown[m.cursor]); at.Before(target) {
		t.Errorf("cursor line at %v is before %v", at, target)
	}
	for _, l := range shown[:m.cursor] {
		if !lineAt(&l).Before(target) {
			t.Errorf("an earlier line at %v is already at or after %v", lineAt(&l), target)
		}
	}
	if m.top != m.cursor {
		t.Errorf("the line jumped to should be at the top: top %d cursor %d", m.top, m.cursor)
	}

	m, _ = press(t, m, "t")
	m = typeText(t, m, "2026-11-22T12:00:09Z")
	m, _ = press(t, m, "enter")
	if at := lineAt(&shown[m.cursor]); at.Before(t0.Add(9*time.Second)) || m.InputFocused() {
		t.Errorf("RFC 3339: cursor at %v", at)
	}

	for _, bad := range []string{"noon", "2026-11-22T13:00:00Z"} {
		m, _ = press(t, m, "t")
		m = typeText(t, m, bad)
		m, _ = press(t, m, "enter")
		if !m.InputFocused() || m.inErr == "" {
			t.Errorf("%q: want the input open with an error", bad)
		}
		if first := strings.SplitN(m.View(), "\n", 2)[0]; !strings.Contains(first, "✗") {
			t.Errorf("%q: error not inline: %s", bad, first)
		}
		m, _ = press(t, m, "esc")
	}
}

func TestParseJump(t *testing.T) {
	ref := time.Date(2026, 11, 22, 0, 30, 0, 0, time.FixedZone("CET", 3600))
	cases := map[string]time.Time{
		"00:10":                     time.Date(2026, 11, 22, 0, 10, 0, 0, ref.Location()),
		"23:59:58":                  time.Date(2026, 11, 21, 23, 59, 58, 0, ref.Location()), // the one just past
		"00:29:59.5":                time.Date(2026, 11, 22, 0, 29, 59, 5e8, ref.Location()),
		"2026-11-20 08:00:00":       time.Date(2026, 11, 20, 8, 0, 0, 0, ref.Location()),
		"2026-11-20T08:00:00+00:00": time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
	}
	for in, want := range cases {
		got, err := parseJump(in, ref)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseJump(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseJump("25:00", ref); err == nil {
		t.Error("25:00 should not parse")
	}
}

func TestSaveWritesTheFilteredView(t *testing.T) {
	m := fixture(t, 80, 24)
	m, _ = m.StartFilter()
	m = typeText(t, m, "timeout|orders")
	m, _ = press(t, m, "enter")
	shown := shownLines(m)

	m, _ = press(t, m, "ctrl+s")
	if !m.InputFocused() || m.inKind != inputSave {
		t.Fatal("ctrl+s should open the path prompt")
	}
	wantDefault := "opsconsole-logs-" + itoa(shown[0].Seq) + ".log"
	if m.input.Value() != wantDefault {
		t.Errorf("default path %q, want %q", m.input.Value(), wantDefault)
	}
	path := filepath.Join(t.TempDir(), "saved.log")
	m, _ = press(t, m, "ctrl+u")
	m = typeText(t, m, path)
	m, cmd := press(t, m, "enter")
	if cmd == nil || m.InputFocused() {
		t.Fatal("enter should close the prompt and return the command that writes")
	}
	// More lines arriving before the command runs do not change what it writes: it
	// captured the lines' values.
	m = update(t, m, LinesMsg{Lines: moreLines(m, 20)})
	saved, ok := cmd().(SavedMsg)
	if !ok || saved.Err != nil || saved.N != len(shown) || saved.Path != path {
		t.Fatalf("save: %#v, want %d lines to %s", saved, len(shown), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(got) != len(shown) {
		t.Fatalf("file has %d lines, want %d", len(got), len(shown))
	}
	for i, l := range shown {
		want := l.Host + " | " + l.Raw
		if l.Marker != logs.NotMarker {
			want = l.Host + " | ── " + l.Marker.String() + ": " + l.Raw + " ──"
		}
		if got[i] != want {
			t.Errorf("line %d: %q, want %q", i, got[i], want)
		}
	}

	m, cmd = m.Update(saved)
	if fm, ok := runCmd(cmd).(views.FlashMsg); !ok || fm.Err || !strings.Contains(fm.Text, "saved "+itoa(uint64(len(shown)))+" lines to "+path) {
		t.Errorf("SavedMsg should flash, got %#v", runCmd(cmd))
	}

	// Saving again to the same file refuses to overwrite it, and says so.
	m, _ = press(t, m, "ctrl+s", "ctrl+u")
	m = typeText(t, m, path)
	_, cmd = press(t, m, "enter")
	again := cmd().(SavedMsg)
	if again.Err == nil {
		t.Fatal("saving over an existing file should fail")
	}
	_, cmd = m.Update(again)
	if fm, ok := runCmd(cmd).(views.FlashMsg); !ok || !fm.Err {
		t.Errorf("a failed save should flash an error, got %#v", runCmd(cmd))
	}
}

func itoa(n uint64) string { return count(int(n)) }

func TestRingEvictionKeepsViewConsistent(t *testing.T) {
	const capacity = 50
	for _, tc := range []struct {
		name   string
		prep   func(t *testing.T, m Model) Model
		filter func(l logs.Line) bool
	}{
		{"following", nil, nil},
		{"paused", func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "up", "up")
			return m
		}, nil},
		{"filtered", func(t *testing.T, m Model) Model {
			m, _ = m.StartFilter()
			m = typeText(t, m, "items")
			m, _ = press(t, m, "enter", "home", "down")
			return m
		}, func(l logs.Line) bool { return l.Marker != logs.NotMarker || strings.Contains(l.Raw, "items") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(keymap.Default().Logs, styles(t), capacity).SetSize(80, 24)
			m = update(t, m, LinesMsg{Lines: fixtureLines()[:30]})
			if tc.prep != nil {
				m = tc.prep(t, m)
			}
			for round := range 12 {
				m = update(t, m, LinesMsg{Lines: moreLines(m, 7+round*3)})
				if m.st.len() > capacity {
					t.Fatalf("ring holds %d lines, capacity %d", m.st.len(), capacity)
				}
				checkView(t, m, tc.filter)
				checkFrame(t, m.View(), 80, 24)
			}
			// One batch larger than the ring.
			m = update(t, m, LinesMsg{Lines: moreLines(m, 3*capacity)})
			checkView(t, m, tc.filter)
			if m.newLines() > len(m.view) {
				t.Errorf("badge counts %d lines, only %d are shown", m.newLines(), len(m.view))
			}
			checkFrame(t, m.View(), 80, 24)
		})
	}
}

// checkView asserts the view is exactly the held lines the filter accepts, in order,
// with the cursor and the scroll inside it.
func checkView(t *testing.T, m Model, accept func(logs.Line) bool) {
	t.Helper()
	var want []uint64
	for p := m.st.first(); p < m.st.end(); p++ {
		if accept == nil || accept(*m.st.at(p)) {
			want = append(want, p)
		}
	}
	if !slices.Equal(m.view, want) {
		t.Fatalf("view %v, want %v", m.view, want)
	}
	if len(m.view) > 0 && (m.cursor < 0 || m.cursor >= len(m.view) || m.top < 0 || m.top > m.cursor) {
		t.Fatalf("cursor %d top %d outside a view of %d", m.cursor, m.top, len(m.view))
	}
}

func TestReplayedBatchIsDropped(t *testing.T) {
	m := fixture(t, 80, 24)
	n := m.st.len()
	m = update(t, m, LinesMsg{Lines: fixtureLines()})
	if m.st.len() != n {
		t.Errorf("a batch delivered twice was taken twice: %d lines, want %d", m.st.len(), n)
	}
}

func TestHostileTextIsInert(t *testing.T) {
	hostile := []string{
		"\x1b[2J\x1b[Hscreen cleared",
		"\x1b]0;pwned title\x07title set",
		"\x1b]52;c;cm0gLXJmIC8=\x07clipboard written",
		"\x1bPq#0;2;0;0;0#0~~@@vv@@~~$-\x1b\\sixel",
		"\x9b31mC1 CSI \x9d0;c1 osc\x9c",
		"bell\a backspace\b cr\r nul\x00 del\x7f",
		"bidi \u202eevil\u202c and \u2066isolate\u2069",
		"invalid \xff\xfe utf-8",
		"multi\nline\r\nmessage",
		"unterminated osc \x1b]8;;http://x.example",
		"wide 日本語のログ 🚀 and combining e\u0301 marks " + strings.Repeat("界", 90),
	}
	b := &lb{at: t0}
	var ls []logs.Line
	for i, h := range hostile {
		host := "evil-\x1b[31m" + string(rune('a'+i))
		switch i % 3 {
		case 0:
			ls = append(ls, b.text(host, logs.LevelError, h))
		case 1:
			ls = append(ls, b.json(host, logs.LevelWarn, h, "k\x1b]0;x\x07", h))
		default:
			l := b.marker(host, logs.MarkerGap, h)
			ls = append(ls, l)
		}
	}
	states := []logs.StreamState{{Host: "evil-\x1b[2Jhost", Source: "a\x07pp", Status: logs.StreamFailed, Err: errors.New("boom\x1b]52;c;eA==\x07")}}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		w, h := size[0], size[1]
		m := New(keymap.Default().Logs, styles(t), 0).SetSize(w, h)
		m = update(t, m, LinesMsg{Lines: ls, States: states})
		checkFrame(t, m.View(), w, h)
		m, _ = press(t, m, "w")
		checkFrame(t, m.View(), w, h)
		m, _ = press(t, m, "H")
		checkFrame(t, m.View(), w, h)
		m, _ = press(t, m, "esc")
		for range ls {
			m, _ = press(t, m, "enter")
			checkFrame(t, m.View(), w, h)
			m, _ = press(t, m, "esc", "up")
		}
		m, _ = m.StartFilter()
		m = typeText(t, m, "\x1b[31m(")
		checkFrame(t, m.View(), w, h)
	}
}

func TestFramesFitEverySize(t *testing.T) {
	modes := map[string]func(t *testing.T, m Model) Model{
		"following": nil,
		"paused": func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "up")
			return update(t, m, LinesMsg{Lines: moreLines(m, 3)})
		},
		"wrapped": func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "w", "up")
			return m
		},
		"input": func(t *testing.T, m Model) Model {
			m, _ = m.StartFilter()
			return typeText(t, m, "a very long pattern that will not fit (")
		},
		"picker": func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "H", "down")
			return m
		},
		"detail": func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "up", "enter", "down")
			return m
		},
	}
	sizes := [][2]int{{80, 24}, {160, 48}, {0, 0}, {1, 1}, {2, 2}, {3, 3}, {10, 3}, {20, 5}, {40, 10}, {79, 23}, {300, 4}}
	for name, prep := range modes {
		for _, sz := range sizes {
			m := fixture(t, 80, 24)
			if prep != nil {
				m = prep(t, m)
			}
			m = m.SetSize(sz[0], sz[1])
			t.Run(name, func(t *testing.T) { checkFrame(t, m.View(), sz[0], sz[1]) })
			// Keys at a tiny size must not break anything either.
			m, _ = press(t, m, "up", "pgup", "down", "w", "end")
			checkFrame(t, m.View(), sz[0], sz[1])
		}
	}
}

func TestEmptyPane(t *testing.T) {
	m := New(keymap.Default().Logs, styles(t), 0).SetSize(80, 24)
	checkFrame(t, m.View(), 80, 24)
	if !strings.Contains(m.View(), "waiting for log lines") {
		t.Error("an empty pane should say it waits for lines")
	}
	for _, k := range []string{"up", "down", "enter", "n", "N", "w", "home", "end", "L", "esc"} {
		m, _ = press(t, m, k)
	}
	_, cmd := press(t, m, "ctrl+s")
	if fm, ok := runCmd(cmd).(views.FlashMsg); !ok || !fm.Err {
		t.Errorf("saving nothing should say so, got %#v", runCmd(cmd))
	}
	checkFrame(t, m.View(), 80, 24)
}

func TestHostColorIsStable(t *testing.T) {
	s := styles(t)
	for _, name := range []string{"web-1", "db-1", longHost} {
		a := newHostInfo(name)
		if a.color != logs.HostColor(name, themes.HostColors) {
			t.Errorf("%s: colour %d is not the engine's", name, a.color)
		}
		if newHostInfo(name) != a {
			t.Errorf("%s: colour changed between calls", name)
		}
		_ = s.HostColor(a.color)
	}
}

func TestStatusBarCountsStreams(t *testing.T) {
	m := fixture(t, 160, 48)
	last := strings.Split(m.View(), "\n")[47]
	for _, want := range []string{"● 5 streaming", "↻ 1 reconnecting", "✗ 1 failed: mq-1", "● following"} {
		if !strings.Contains(last, want) {
			t.Errorf("status bar lacks %q: %s", want, last)
		}
	}
	// A later state replaces the stream's earlier one.
	m = update(t, m, LinesMsg{States: []logs.StreamState{{Host: "cache-1", Source: "app", Status: logs.StreamStreaming}}})
	if last := strings.Split(m.View(), "\n")[47]; !strings.Contains(last, "6 streaming · ↻ 0 reconnecting") {
		t.Errorf("status bar after cache-1 recovered: %s", last)
	}
	// The picker tells why a stream failed.
	m, _ = press(t, m, "H")
	if !regexp.MustCompile(`mq-1 +✗ failed: app: ssh: handshake failed`).MatchString(m.View()) {
		t.Errorf("picker should give the failure's reason:\n%s", m.View())
	}
}

func TestSetStylesKeepsState(t *testing.T) {
	m := fixture(t, 80, 24)
	m = openOn(t, m, "slow query")
	before := m.View()
	th, err := themes.Load(themes.Light, nil)
	if err != nil {
		t.Fatal(err)
	}
	m = m.SetStyles(themes.Build(th))
	if m.mode != modeDetail || m.View() != before { // ASCII: same text in any theme
		t.Error("a theme change should keep the detail view as it was")
	}
}

func TestHelpFollowsMode(t *testing.T) {
	m := fixture(t, 80, 24)
	keysOf := func(m Model) []string {
		var out []string
		for _, b := range m.ShortHelp() {
			out = append(out, b.Help().Key)
		}
		return out
	}
	if k := keysOf(m); !slices.ContainsFunc(k, func(s string) bool { return strings.HasPrefix(s, "p") }) {
		t.Errorf("following, help offers pause: %v", k)
	}
	m, _ = press(t, m, "up")
	if k := keysOf(m); !slices.Contains(k, "f/F") {
		t.Errorf("paused, help offers follow: %v", k)
	}
	m, _ = m.StartFilter()
	if k := keysOf(m); !slices.Equal(k, []string{"enter", "esc"}) {
		t.Errorf("typing, help offers enter and esc: %v", k)
	}
	if len(m.FullHelp()) == 0 {
		t.Error("no full help")
	}
}

// drain runs cmd and every command the messages it yields bring back, feeding the
// messages to the model, and returns the model and the flashes seen.
func drain(t *testing.T, m Model, cmd tea.Cmd) (Model, int) {
	t.Helper()
	steps := 0
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case scanMsg:
			steps++
			var next tea.Cmd
			m, next = m.Update(msg)
			queue = append(queue, next)
		}
	}
	return m, steps
}

func TestRefilterIsSpreadOverUpdates(t *testing.T) {
	m := New(keymap.Default().Logs, styles(t), 0).SetSize(160, 48)
	b := &lb{at: t0}
	var ls []logs.Line
	for i := range 20_000 {
		if i%3 == 0 {
			ls = append(ls, b.json("web-2", logs.LevelInfo, "request served", "path", "/api/v1/carts/"+itoa(uint64(i))))
		} else {
			ls = append(ls, b.text("web-1", logs.LevelInfo, "GET /api/v1/items/"+itoa(uint64(i))+" 200"))
		}
	}
	m = update(t, m, LinesMsg{Lines: ls}) // no filter: nothing to match, no second step
	m, _ = press(t, m, "up", "up", "up")
	keep := cursorLine(t, m).Seq

	m, _ = m.StartFilter()
	m = typeText(t, m, "carts")
	m, cmd := press(t, m, "enter")
	if cmd == nil || !m.scanning() {
		t.Fatal("a pattern over 20,000 lines should be matched over several updates")
	}
	if m.scan-m.st.first() > scanBudgetPattern {
		t.Errorf("the first update matched %d lines, budget %d", m.scan-m.st.first(), scanBudgetPattern)
	}
	if top := strings.SplitN(m.View(), "\n", 2)[0]; !strings.Contains(top, "filtering…") {
		t.Errorf("top line should say the filter is being applied: %s", top)
	}
	// Saving now would save a part: refused until the scan is done.
	m, _ = press(t, m, "ctrl+s", "enter")
	if !m.InputFocused() || !strings.Contains(m.inErr, "still filtering") {
		t.Errorf("save during a rescan: open=%v err=%q", m.InputFocused(), m.inErr)
	}
	m, _ = press(t, m, "esc")

	// Lines arriving meanwhile are matched too, in order.
	more := []logs.Line{b.json("web-2", logs.LevelInfo, "request served", "path", "/api/v1/carts/late")}
	var next tea.Cmd
	m, next = m.Update(LinesMsg{Lines: more})
	if next != nil {
		t.Error("a scan is already on its way; a second must not be armed")
	}
	m, steps := drain(t, m, cmd)
	if m.scanning() || steps < 10 {
		t.Fatalf("scan done=%v after %d steps", !m.scanning(), steps)
	}
	checkView(t, m, func(l logs.Line) bool { return strings.Contains(l.Raw, "carts") })
	if got := cursorLine(t, m); got.Seq < keep || !strings.Contains(got.Raw, "carts") {
		t.Errorf("cursor on seq %d, want the first carts line at or after %d", got.Seq, keep)
	}
	if m.Following() {
		t.Error("a paused view stays paused through a refilter")
	}
	if strings.Contains(m.View(), "filtering…") {
		t.Error("top line still says filtering")
	}
}

func TestWaitForLinesEndsWithTheEngine(t *testing.T) {
	// An engine with no streams ends at once: the wait delivers nothing, which ends the
	// root's chain of waits.
	eng := logs.Start(context.Background(), nil, nil, logs.Options{})
	defer eng.Stop()
	if msg := WaitForLines(context.Background(), eng)(); msg != nil {
		t.Errorf("an ended engine should end the chain, got %#v", msg)
	}
}
