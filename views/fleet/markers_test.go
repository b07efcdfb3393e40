package fleet

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/themes"
	logsview "github.com/opsconsole/opsconsole/views/logs"
)

// flaggedLine is a log line the engine flagged with marker, stamped at (parsed and read).
func flaggedLine(host, marker, msg string, at time.Time) logs.Line {
	return logs.Line{Host: host, Source: "syslog", Received: at, Time: at, Message: msg, Raw: msg, Flag: marker}
}

// plainLine is a log line no marker matched.
func plainLine(host, msg string, at time.Time) logs.Line {
	return logs.Line{Host: host, Source: "syslog", Received: at, Time: at, Message: msg, Raw: msg}
}

// markerBatch is one engine batch: web-1 hit oom three times, db-1 oom twice and then a
// panic, edge-1 a panic in a line without its own time stamp; a host outside the
// inventory hit oom too; most lines matched nothing.
func markerBatch() logsview.LinesMsg {
	return logsview.LinesMsg{Lines: []logs.Line{
		plainLine("web-1", "GET /healthz 200", t0.Add(-5*time.Minute)),
		flaggedLine("web-1", "oom", "Out of memory: Killed process 4100 (java)", t0.Add(-4*time.Minute)),
		flaggedLine("db-1", "oom", "postgres invoked oom-killer: gfp_mask=0x100cca", t0.Add(-10*time.Minute)),
		plainLine("db-1", "checkpoint complete", t0.Add(-9*time.Minute)),
		flaggedLine("web-1", "oom", "Out of memory: Killed process 4171 (java)", t0.Add(-3*time.Minute)),
		flaggedLine("db-1", "oom", "Out of memory: Killed process 812 (postgres)", t0.Add(-8*time.Minute)),
		flaggedLine("ghost-7", "oom", "Out of memory: Killed process 1 (init)", t0.Add(-time.Minute)),
		flaggedLine("web-1", "oom", "Out of memory: Killed process 4242 (java) total-vm:8123456kB, anon-rss:7012345kB, file-rss:0kB", t0.Add(-2*time.Minute)),
		flaggedLine("db-1", "panic", "panic: runtime error: index out of range [3] with length 3", t0.Add(-time.Minute)),
		{Host: "edge-1", Source: "app", Received: t0.Add(-30 * time.Second), Message: "panic: nil map write", Flag: "panic"},
		plainLine("web-2", "GET / 200", t0.Add(-time.Minute)),
	}}
}

// withMarkers is the fixture with markerBatch applied.
func withMarkers(t *testing.T, w, h int) Model {
	t.Helper()
	return update(t, fixture(t, w, h), markerBatch())
}

func TestMarkerBadgeGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		w, h int
	}{{"markers_table_80x24", 80, 24}, {"markers_table_120x24", 120, 24}} {
		t.Run(c.name, func(t *testing.T) {
			m := withMarkers(t, c.w, c.h)
			frame := m.View()
			checkFrame(t, frame, c.w, c.h)
			golden(t, c.name, "title: "+m.Title()+"\n"+frame+"\n")

			if row := lineWith(t, frame, "web-1"); !strings.Contains(row, "⚑ oom×3") {
				t.Errorf("web-1's row has no oom badge: %s", row)
			}
			// The most recent marker first; the badge goes before the first reason.
			if row := lineWith(t, frame, "db-1"); !strings.Contains(row, "⚑ panic×1 oom×2 · ") {
				t.Errorf("db-1's row: %s", row)
			}
			if row := lineWith(t, frame, "web-2"); strings.Contains(row, markerSymbol) {
				t.Errorf("web-2 had no flagged line but shows a badge: %s", row)
			}
		})
	}
}

func TestMarkersChangeNeitherStatusNorOrder(t *testing.T) {
	before := fixture(t, 120, 30)
	order, summary := shown(before), before.Summary()
	after := update(t, before, markerBatch())
	if got := shown(after); !slices.Equal(got, order) {
		t.Errorf("order changed:\n got %v\nwant %v", got, order)
	}
	if after.Summary() != summary {
		t.Errorf("summary changed: %+v, want %+v", after.Summary(), summary)
	}
	if h := after.hosts[after.byName["web-1"]]; h.statusWord() != "ok" {
		t.Errorf("web-1's status: %s", h.statusWord())
	}
}

func TestMarkerCountIncrements(t *testing.T) {
	m := withMarkers(t, 120, 30)
	h := m.hosts[m.byName["web-1"]]
	if len(h.markers) != 1 {
		t.Fatalf("web-1 markers: %+v", h.markers)
	}
	k := h.markers[0]
	if k.name != "oom" || k.count != 3 || !k.first.Equal(t0.Add(-4*time.Minute)) || !k.last.Equal(t0.Add(-2*time.Minute)) ||
		!strings.HasPrefix(k.line, "Out of memory: Killed process 4242") {
		t.Errorf("web-1's oom: %+v", k)
	}

	// A batch without a flagged line changes nothing.
	m = update(t, m, logsview.LinesMsg{Lines: []logs.Line{plainLine("web-1", "GET / 200", t0)}})
	if got := m.hosts[m.byName["web-1"]].markers[0].count; got != 3 {
		t.Errorf("an unflagged line counted: %d", got)
	}
	m = update(t, m, logsview.LinesMsg{}) // an empty batch (states only)

	m = update(t, m, logsview.LinesMsg{Lines: []logs.Line{flaggedLine("web-1", "oom", "Out of memory: Killed process 4300 (java)", t0)}})
	k = m.hosts[m.byName["web-1"]].markers[0]
	if k.count != 4 || !k.first.Equal(t0.Add(-4*time.Minute)) || !k.last.Equal(t0) || k.line != "Out of memory: Killed process 4300 (java)" {
		t.Errorf("after one more: %+v", k)
	}
	if row := lineWith(t, m.View(), "web-1"); !strings.Contains(row, "⚑ oom×4") {
		t.Errorf("row after one more: %s", row)
	}

	// A line read late but stamped earlier counts and moves the first time back, but the
	// latest line stays the one with the latest time.
	m = update(t, m, logsview.LinesMsg{Lines: []logs.Line{flaggedLine("web-1", "oom", "an old one", t0.Add(-time.Hour))}})
	k = m.hosts[m.byName["web-1"]].markers[0]
	if k.count != 5 || !k.first.Equal(t0.Add(-time.Hour)) || !k.last.Equal(t0) || k.line != "Out of memory: Killed process 4300 (java)" {
		t.Errorf("after a late line: %+v", k)
	}

	// A line without its own time stamp is placed by when it was read.
	e := m.hosts[m.byName["edge-1"]].markers[0]
	if !e.first.Equal(t0.Add(-30*time.Second)) || !e.last.Equal(e.first) || e.count != 1 {
		t.Errorf("edge-1's panic: %+v", e)
	}
}

// trueColorStyles are the dark theme rendered for a colour terminal, so inks differ in
// their escape sequences (the tests' default profile drops colour).
func trueColorStyles(t *testing.T) *themes.Styles {
	t.Helper()
	th, err := themes.Load(themes.Dark, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	return themes.BuildFor(r, th)
}

// colourRow is the row of the named host in a frame drawn in colour, where the name is
// followed by its padding inside the name's ink.
func colourRow(t *testing.T, frame, name string) string {
	t.Helper()
	for _, l := range strings.Split(frame, "\n") {
		if strings.Contains(l, "m"+name+" ") {
			return l
		}
	}
	t.Fatalf("no row for %s in:\n%s", name, frame)
	return ""
}

func TestMarkerBadgeFadesAfterTheWindow(t *testing.T) {
	m := New(inventory(), keymap.Default().Fleet, trueColorStyles(t)).SetSize(120, 24)
	m = update(t, m, clock(t0))
	m = update(t, m, logsview.LinesMsg{Lines: []logs.Line{flaggedLine("web-1", "oom", "Out of memory", t0.Add(-time.Minute))}})
	if sel, _ := m.Selected(); sel == "web-1" {
		t.Fatal("web-1 is selected: its row would be drawn in the selection style")
	}
	warn, faint := m.pal.state[stateWarn].paint("⚑ oom×1"), m.pal.faint.paint("⚑ oom×1")
	if warn == faint || warn == "⚑ oom×1" {
		t.Fatalf("the theme's warn and faint inks do not differ: %q, %q", warn, faint)
	}
	row := colourRow(t, m.View(), "web-1")
	if !strings.Contains(row, warn) {
		t.Errorf("a recent hit should be drawn in the warn ink: %q", row)
	}

	// Still recent just inside the window, by the model's clock.
	m = update(t, m, clock(t0.Add(markerWindow-2*time.Minute)))
	if row := colourRow(t, m.View(), "web-1"); !strings.Contains(row, warn) {
		t.Errorf("inside the window: %q", row)
	}
	m = update(t, m, clock(t0.Add(markerWindow)))
	row = colourRow(t, m.View(), "web-1")
	if !strings.Contains(row, faint) || strings.Contains(row, warn) {
		t.Errorf("after the window the badge should be faint: %q", row)
	}

	// A new hit makes it recent again.
	m = update(t, m, logsview.LinesMsg{Lines: []logs.Line{flaggedLine("web-1", "oom", "Out of memory", t0.Add(markerWindow))}})
	if row := colourRow(t, m.View(), "web-1"); !strings.Contains(row, m.pal.state[stateWarn].paint("⚑ oom×2")) {
		t.Errorf("a new hit should bring the warn ink back: %q", row)
	}
}

func TestMarkerFilter(t *testing.T) {
	m := withMarkers(t, 120, 30)
	m, _ = m.StartFilter()
	m = typeText(t, m, "oom")
	if got := shown(m); !slices.Equal(got, []string{"db-1", "web-1"}) {
		t.Errorf("/oom: %v", got)
	}
	m, _ = press(t, m, "enter")
	if got := shown(m); !slices.Equal(got, []string{"db-1", "web-1"}) {
		t.Errorf("/oom applied: %v", got)
	}
	m, _ = press(t, m, "esc")

	m, _ = m.StartFilter()
	m = typeText(t, m, "PANIC")
	if got := shown(m); !slices.Equal(got, []string{"db-1", "edge-1"}) {
		t.Errorf("/PANIC: %v", got)
	}
	m, _ = press(t, m, "esc")

	// A marker first seen while a filter is in force brings its host in.
	m, _ = m.StartFilter()
	m = typeText(t, m, "segfault")
	m, _ = press(t, m, "enter")
	if got := shown(m); len(got) != 0 {
		t.Fatalf("/segfault before any: %v", got)
	}
	m = update(t, m, logsview.LinesMsg{Lines: []logs.Line{flaggedLine("mq-1", "segfault", "mq[77]: segfault at 0 ip 00007f", t0)}})
	if got := shown(m); !slices.Equal(got, []string{"mq-1"}) {
		t.Errorf("/segfault after mq-1's: %v", got)
	}
}

func TestMarkerDetailGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		w, h int
	}{{"markers_detail_80x24", 80, 24}, {"markers_detail_120x30", 120, 30}} {
		t.Run(c.name, func(t *testing.T) {
			m := withMarkers(t, c.w, c.h)
			m = selectHost(t, m, "db-1")
			m, _ = press(t, m, "enter")
			frame := m.View()
			checkFrame(t, frame, c.w, c.h)
			golden(t, c.name, "title: "+m.Title()+"\n"+frame+"\n")
			for _, want := range []string{"Log markers", "⚑ panic", "⚑ oom", "×2", "first 11:50:00 (10m ago)",
				"last 11:52:00 (8m ago)", "at 11:59:00 (1m ago)", "panic: runtime error"} {
				if !strings.Contains(frame, want) {
					t.Errorf("detail lacks %q:\n%s", want, frame)
				}
			}
		})
	}
	// A host without markers has no section.
	m := withMarkers(t, 120, 40)
	m = selectHost(t, m, "web-2")
	m, _ = press(t, m, "enter")
	if strings.Contains(m.View(), "Log markers") {
		t.Errorf("web-2 has no markers but shows the section:\n%s", m.View())
	}
}

func TestMarkerUnknownHostIgnored(t *testing.T) {
	m := fixture(t, 120, 30)
	frame, n := m.View(), len(m.hosts)
	m = update(t, m, logsview.LinesMsg{Lines: []logs.Line{
		flaggedLine("ghost-7", "oom", "Out of memory", t0),
		flaggedLine("", "oom", "Out of memory", t0),
	}})
	if len(m.hosts) != n {
		t.Errorf("a marker for an unknown host made a row: %d hosts, want %d", len(m.hosts), n)
	}
	if _, ok := m.byName["ghost-7"]; ok {
		t.Error("ghost-7 has a row")
	}
	if m.View() != frame {
		t.Errorf("the frame changed:\n%s", m.View())
	}
}

func TestMarkerHostileLineNeutralised(t *testing.T) {
	hostile := "\x1b]52;c;cm0gLXJmIH4=\x07Out of \x1b[2J\x1b[Hmemory\x1b[31m!\r\n\tKilled \u202eprocess\u009b6n 9\u009d0;title\x07 \x07\x1bc(java)\xff"
	m := fixture(t, 120, 30)
	m = update(t, m, logsview.LinesMsg{Lines: []logs.Line{flaggedLine("web-2", "\x1b[5moom", hostile, t0)}})
	k := m.hosts[m.byName["web-2"]].markers[0]
	want := "Out of memory!⏎ Killed \ufffdprocess 9 ␇(java)\ufffd"
	if k.line != want {
		t.Errorf("cleaned line:\n got %q\nwant %q", k.line, want)
	}
	if k.word != "oom" {
		t.Errorf("cleaned marker word: %q", k.word)
	}
	frame := m.View()
	checkFrame(t, frame, 120, 30)
	m = selectHost(t, m, "web-2")
	m, _ = press(t, m, "enter")
	frame = m.View()
	checkFrame(t, frame, 120, 30)
	for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u009d", "\u202e", "\r", "\t", "52;c"} {
		if strings.Contains(frame, bad) {
			t.Errorf("detail holds %q:\n%s", bad, frame)
		}
	}
	if !strings.Contains(frame, "Out of memory!") {
		t.Errorf("the line's text is gone:\n%s", frame)
	}
}

func TestMarkerLineCutToWidth(t *testing.T) {
	long := strings.Repeat("Out of memory: Killed process 4242 ", 10)
	m := fixture(t, 80, 40)
	m = update(t, m, logsview.LinesMsg{Lines: []logs.Line{flaggedLine("web-2", "oom", long, t0)}})
	m = selectHost(t, m, "web-2")
	m, _ = press(t, m, "enter")
	for _, l := range markerLines(m.hosts[m.byName["web-2"]], m.styles, m.now, 80) {
		if w := lipgloss.Width(l); w > 80 {
			t.Errorf("section line is %d wide: %q", w, l)
		}
	}
	checkFrame(t, m.View(), 80, 40)
}

func TestMarkersBounded(t *testing.T) {
	m := fixture(t, 120, 30)
	var lines []logs.Line
	for i := range 3 * maxMarkers {
		lines = append(lines, flaggedLine("web-2", "m"+itoa(i), "x", t0.Add(time.Duration(i)*time.Second)))
	}
	huge := strings.Repeat("é", 10*maxMarkerLine) // two bytes each: the cut must keep runes whole
	lines = append(lines, flaggedLine("web-2", "oom", huge, t0.Add(time.Hour)))
	m = update(t, m, logsview.LinesMsg{Lines: lines})
	h := m.hosts[m.byName["web-2"]]
	if len(h.markers) != maxMarkers {
		t.Fatalf("%d markers kept, want %d", len(h.markers), maxMarkers)
	}
	// The most recent are kept, most recent first.
	if h.markers[0].name != "oom" || h.markers[1].name != "m"+itoa(3*maxMarkers-1) {
		t.Errorf("kept %v", h.markers)
	}
	if line := h.markers[0].line; len(line) > maxMarkerLine+len("…") || !strings.HasSuffix(line, "é…") {
		t.Errorf("latest line is %d bytes, ends %q", len(line), line[len(line)-8:])
	}
	if !strings.HasPrefix(h.badge, "⚑ oom×1 m"+itoa(3*maxMarkers-1)+"×1 ") {
		t.Errorf("badge: %q", h.badge)
	}
	long := strings.Repeat("x", 3*maxMarkerWord)
	if w := markerWord(long); len(w) > maxMarkerWord+len("…") {
		t.Errorf("marker word not capped: %d bytes", len(w))
	}
}
