package logs

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/views/logs")

// goldenDir is shared with the other panes' golden files at the repository's testdata.
const goldenDir = "../../testdata/views/logs"

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
// escape sequence or another control character (the ASCII profile is in force, so any
// would have come from a host).
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
		for _, r := range l {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || termsafe.IsBidiControl(r) {
				t.Errorf("%dx%d: line %d holds control character %U: %q", w, h, i, r, l)
				break
			}
		}
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		w, h int
		prep func(t *testing.T, m Model) Model
	}{
		{"following_80x24", 80, 24, nil},
		{"following_160x48", 160, 48, nil},
		{"paused_80x24", 80, 24, func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "up", "up", "up")
			return update(t, m, LinesMsg{Lines: moreLines(m, 7)})
		}},
		{"paused_160x48", 160, 48, func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "pgup")
			return update(t, m, LinesMsg{Lines: moreLines(m, 1)})
		}},
		{"detail_json_80x24", 80, 24, func(t *testing.T, m Model) Model {
			return openOn(t, m, "upstream timeout")
		}},
		{"detail_json_160x48", 160, 48, func(t *testing.T, m Model) Model {
			return openOn(t, m, "request served")
		}},
		{"detail_logfmt_80x24", 80, 24, func(t *testing.T, m Model) Model {
			return openOn(t, m, "slow query")
		}},
		{"filter_bad_regex_80x24", 80, 24, func(t *testing.T, m Model) Model {
			m, _ = m.StartFilter()
			return typeText(t, m, "timeout|(oops")
		}},
		{"filtered_search_160x48", 160, 48, func(t *testing.T, m Model) Model {
			m, _ = m.StartFilter()
			m = typeText(t, m, "orders|items|upstream")
			m, _ = press(t, m, "enter", "L", "L", "L") // warn and above
			m, _ = press(t, m, "s")
			m = typeText(t, m, "orders")
			m, _ = press(t, m, "enter")
			return m
		}},
		{"wrap_80x24", 80, 24, func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "w")
			return m
		}},
		{"hosts_picker_80x24", 80, 24, func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "H", "down", "down", " ")
			return m
		}},
		{"jump_input_80x24", 80, 24, func(t *testing.T, m Model) Model {
			m, _ = press(t, m, "t")
			return typeText(t, m, "12:00:03")
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

// moreLines is n more lines after the model's newest, from two hosts.
func moreLines(m Model, n int) []logs.Line {
	last := m.st.at(m.st.end() - 1)
	b := &lb{seq: m.st.lastSeq, at: last.Received}
	var out []logs.Line
	for i := range n {
		if i%2 == 0 {
			out = append(out, b.text("web-1", logs.LevelInfo, "GET /late/"+string(rune('a'+i))+" 200"))
		} else {
			out = append(out, b.json("db-1", logs.LevelWarn, "late write", "n", "7"))
		}
	}
	return out
}

// openOn moves the cursor to the newest line whose message is msg and opens it.
func openOn(t *testing.T, m Model, msg string) Model {
	t.Helper()
	m = cursorTo(t, m, msg)
	m, _ = press(t, m, "enter")
	if m.mode != modeDetail {
		t.Fatal("enter did not open the detail view")
	}
	return m
}

// cursorTo moves the cursor up to the newest line whose message is msg.
func cursorTo(t *testing.T, m Model, msg string) Model {
	t.Helper()
	for range len(m.view) + 1 {
		if cursorLine(t, m).Message == msg {
			return m
		}
		m, _ = press(t, m, "up")
	}
	t.Fatalf("no line %q shown", msg)
	return m
}
