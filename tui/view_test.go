package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	opsfleet "github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/fleet"
)

// screens are the states every frame test draws.
var screens = []struct {
	name string
	into func(*testing.T, Model) Model
}{
	{"fleet", func(t *testing.T, m Model) Model { return m }},
	{"help", func(t *testing.T, m Model) Model { m, _ = keysThen(t, m, "?"); return m }},
	{"palette", func(t *testing.T, m Model) Model { m, _ = keysThen(t, m, ":", "ex"); return m }},
	{"confirm", func(t *testing.T, m Model) Model {
		var ran int
		m, _ = send(t, m, confirmReq(12, &ran))
		return m
	}},
	{"exec", func(t *testing.T, m Model) Model { m, _ = keysThen(t, m, "2"); return m }},
	{"logs", func(t *testing.T, m Model) Model { m, _ = keysThen(t, m, "3"); return m }},
	{"flash", func(t *testing.T, m Model) Model {
		m, _ = send(t, m, views.FlashMsg{Text: strings.Repeat("a very long error ", 20), Err: true})
		return m
	}},
	{"read-only confirm", func(t *testing.T, m Model) Model {
		var ran int
		m.opt.ReadOnly = true
		m, _ = send(t, m, confirmReq(500, &ran))
		return m
	}},
}

func checkFrame(t *testing.T, name string, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) > h {
		t.Errorf("%s at %dx%d: %d lines", name, w, h, len(lines))
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("%s at %dx%d: line %d is %d wide: %q", name, w, h, i+1, lw, l)
		}
	}
}

func TestFrameFitsTerminal(t *testing.T) {
	sizes := [][2]int{{80, 24}, {160, 48}, {MinWidth, MinHeight}, {100, 30}, {240, 70}}
	for _, sz := range sizes {
		for _, sc := range screens {
			for _, opts := range [][]testOpt{nil, {recording, readOnly}} {
				m := sc.into(t, newTest(t, sz[0], sz[1], opts...))
				v := m.View()
				checkFrame(t, sc.name, v, sz[0], sz[1])
				if n := len(strings.Split(v, "\n")); n != sz[1] {
					t.Errorf("%s at %v: %d lines, want the full height", sc.name, sz, n)
				}
			}
		}
	}
}

func TestResizeTooSmall(t *testing.T) {
	m := newTest(t, 80, 24)
	for _, sz := range [][2]int{{40, 10}, {59, 24}, {80, 15}, {10, 3}, {1, 1}} {
		m, _ = send(t, m, size(sz[0], sz[1]))
		v := m.View()
		checkFrame(t, "too small", v, sz[0], sz[1])
		if sz[0] >= 30 && sz[1] >= 2 && !strings.Contains(v, "too small") {
			t.Errorf("%v: no too-small notice:\n%s", sz, v)
		}
		if sz == [2]int{40, 10} && !strings.Contains(v, "40x10") {
			t.Errorf("the notice does not give the size:\n%s", v)
		}
	}
	// Growing back lays the console out again.
	m, _ = send(t, m, size(80, 24))
	if v := m.View(); strings.Contains(v, "too small") || !strings.Contains(v, "[1 Fleet]") {
		t.Errorf("did not recover:\n%s", v)
	}
	if New(Options{}).View() != "" {
		t.Error("before the first size the console should draw nothing")
	}
}

func TestHeader(t *testing.T) {
	m := newTest(t, 160, 48, recording, readOnly)
	head := strings.Split(m.View(), "\n")[0]
	for _, want := range []string{"opsconsole", "▲ 5 up", "! 1 degraded", "↓ 1 down", "… 1 connecting", "REC", "READ-ONLY", "09:41:07", "alerts –"} {
		if !strings.Contains(head, want) {
			t.Errorf("header lacks %q: %q", want, head)
		}
	}
	// At 60 columns the counts shorten rather than disappear.
	m, _ = send(t, m, size(60, 20))
	head = strings.Split(m.View(), "\n")[0]
	for _, want := range []string{"▲5", "!1", "↓1", "…1", "09:41:07"} {
		if !strings.Contains(head, want) {
			t.Errorf("narrow header lacks %q: %q", want, head)
		}
	}
}

// The chrome is memoised across frames: whatever it is drawn from changing must still
// show in the next frame, and the memo must never serve one model's chrome to another.
func send1(t *testing.T, m Model, msg tea.Msg) Model {
	t.Helper()
	m, _ = send(t, m, msg)
	return m
}

func TestChromeFollowsItsInputs(t *testing.T) {
	m := newTest(t, 160, 48)
	line := func(m Model, i int) string { return strings.Split(m.View(), "\n")[i] }
	if h := line(m, 0); !strings.Contains(h, "09:41:07") || !strings.Contains(h, "▲ 5 up") {
		t.Fatalf("header %q", h)
	}
	// The clock alone, then the counts.
	if h := line(send1(t, m, views.ClockMsg{Now: testNow.Add(time.Second)}), 0); !strings.Contains(h, "09:41:08") {
		t.Errorf("header after a tick %q", h)
	}
	down := testReports()[0]
	down.Status, down.Reasons = health.Down, []string{"connection refused"}
	m2, _ := send(t, m, views.ClockMsg{Now: testNow.Add(3 * time.Second)}, fleet.HostsPolledMsg{Reports: []opsfleet.Report{down}})
	if h := line(m2, 0); !strings.Contains(h, "09:41:10") || !strings.Contains(h, "▲ 4 up") || !strings.Contains(h, "↓ 2 down") {
		t.Errorf("header after a tick and a host going down %q", h)
	}
	// The earlier model, which shares the memo, still draws its own.
	if h := line(m, 0); !strings.Contains(h, "09:41:07") || !strings.Contains(h, "▲ 5 up") {
		t.Errorf("the first model's header after the second drew %q", h)
	}
	// The tab bar and the help line follow the focus and the pane's state.
	tabs, help := line(m, 1), line(m, 46)
	m3, _ := keysThen(t, m, "3")
	if line(m3, 1) == tabs || !strings.Contains(line(m3, 1), "[3 Logs]") {
		t.Errorf("tab bar after focusing Logs %q", line(m3, 1))
	}
	if line(m3, 46) == help {
		t.Errorf("help line did not change with the pane: %q", help)
	}
	m4, _ := keysThen(t, m3, "/")
	if line(m4, 46) == line(m3, 46) {
		t.Errorf("help line did not change when the filter input opened: %q", line(m4, 46))
	}
	// The help overlay follows the pane too.
	m5, _ := keysThen(t, m, "?")
	m6, _ := keysThen(t, m3, "?")
	if !strings.Contains(m5.View(), "Fleet keys") || !strings.Contains(m6.View(), "Logs keys") {
		t.Errorf("help overlays:\n%s\n%s", m5.View(), m6.View())
	}
}

func TestGolden(t *testing.T) {
	golden := []string{"fleet", "help", "palette", "confirm"}
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		for _, sc := range screens {
			if !contains(golden, sc.name) {
				continue
			}
			m := sc.into(t, newTest(t, sz[0], sz[1], recording))
			compareGolden(t, fmt.Sprintf("%s_%dx%d", sc.name, sz[0], sz[1]), m.View())
		}
	}
	m, _ := send(t, newTest(t, 80, 24), size(40, 10))
	compareGolden(t, "too_small_40x10", m.View())
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
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
	if string(want) != got {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
