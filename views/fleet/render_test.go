package fleet

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/themes"
)

func TestSparkline(t *testing.T) {
	cases := []struct {
		v     []float64
		width int
		want  string
	}{
		{nil, 4, "    "},
		{[]float64{0, 50, 100}, 3, "▁▅█"},
		{[]float64{0, 100}, 4, "  ▁█"},             // short history aligns right
		{[]float64{10, 20, 100, 0, 100}, 3, "█▁█"}, // the newest values
		{[]float64{-5, 250}, 2, "▁█"},              // out of range clamps
		{[]float64{1, 2}, 0, ""},
	}
	for _, c := range cases {
		if got := sparkline(c.v, c.width); got != c.want {
			t.Errorf("sparkline(%v, %d) = %q, want %q", c.v, c.width, got, c.want)
		}
	}
}

func TestChart(t *testing.T) {
	got := chart([]float64{0, 25, 50, 100}, 5, 2)
	want := []string{
		"    █",
		" ▁▄██",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("chart:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range chart([]float64{10, 90}, 40, 5) {
		if lipgloss.Width(r) != 40 {
			t.Errorf("chart row %q is %d wide", r, lipgloss.Width(r))
		}
	}
}

func TestCompactPorts(t *testing.T) {
	ports := []int{22, 80, 443, 5432, 9100}
	cases := []struct {
		width int
		want  string
	}{
		{30, "22,80,443,5432,9100"},
		{19, "22,80,443,5432,9100"},
		{18, "22,80,443,5432,+1"},
		{16, "22,80,443,+2"},
		{12, "22,80,443,+2"},
		{8, "22,80,+3"},
		{3, "+5"},
		{1, "…"},
	}
	for _, c := range cases {
		got := compactPorts(ports, c.width)
		if got != c.want {
			t.Errorf("compactPorts(%d) = %q, want %q", c.width, got, c.want)
		}
		if lipgloss.Width(got) > c.width {
			t.Errorf("compactPorts(%d) overflows: %q", c.width, got)
		}
	}
}

func TestFit(t *testing.T) {
	cases := []struct {
		s     string
		w     int
		right bool
		want  string
	}{
		{"abc", 5, false, "abc  "},
		{"abc", 5, true, "  abc"},
		{"abcdef", 4, false, "abc…"},
		{"✓ ok", 6, false, "✓ ok  "},
		{"\x1b[1mbold\x1b[0m", 6, false, "\x1b[1mbold\x1b[0m  "},
		{"x", 0, false, ""},
	}
	for _, c := range cases {
		got := fit(c.s, c.w, c.right)
		if got != c.want {
			t.Errorf("fit(%q, %d) = %q, want %q", c.s, c.w, got, c.want)
		}
		if c.w > 0 && lipgloss.Width(got) != c.w {
			t.Errorf("fit(%q, %d) is %d wide", c.s, c.w, lipgloss.Width(got))
		}
	}
}

func TestFormats(t *testing.T) {
	ago := map[time.Duration]string{-time.Second: "0s", 3 * time.Second: "3s", 150 * time.Second: "2m",
		5 * time.Hour: "5h", 47 * time.Hour: "47h", 72 * time.Hour: "3d"}
	for d, want := range ago {
		if got := fmtAgo(d); got != want {
			t.Errorf("fmtAgo(%v) = %q, want %q", d, got, want)
		}
	}
	if got := seenText(time.Time{}, t0); got != "never" {
		t.Errorf("seen zero: %q", got)
	}
	if got := seenText(t0, time.Time{}); got != "–" {
		t.Errorf("seen before a clock tick: %q", got)
	}
	bytes := map[uint64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 8 << 30: "8.0 GiB"}
	for n, want := range bytes {
		if got := fmtBytes(n); got != want {
			t.Errorf("fmtBytes(%d) = %q, want %q", n, got, want)
		}
	}
	loads := map[float64]string{0.75: "0.75", 12.5: "12.5", 128: "128"}
	for v, want := range loads {
		if got := fmtLoad(v); got != want {
			t.Errorf("fmtLoad(%v) = %q, want %q", v, got, want)
		}
	}
	if got := fmtUptime(12*24*time.Hour + 3*time.Hour + 20*time.Minute); got != "12d 3h" {
		t.Errorf("fmtUptime: %q", got)
	}
}

func TestLayoutFitsEveryWidth(t *testing.T) {
	for w := 0; w <= 220; w++ {
		l := computeLayout(w, 40)
		if !l.clip && l.width > w {
			t.Fatalf("width %d: layout is %d wide", w, l.width)
		}
		if w >= 160 && len(l.cols) != int(numColumns) {
			t.Errorf("width %d: %d columns, want all %d", w, len(l.cols), numColumns)
		}
		if w >= 80 && !l.has(colReason) {
			t.Errorf("width %d: the reason column was dropped", w)
		}
	}
}

func TestOneLine(t *testing.T) {
	cases := map[string]string{
		"clean text":                             "clean text",
		"exit status 1\nstderr: no such\tfile\n": "exit status 1 stderr: no such file",
		"red \x1b[31malert\x1b[0m":               "red [31malert[0m",
		"":                                       "",
	}
	for in, want := range cases {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
	clean := []string{"a", "b"}
	if got := oneLines(clean); &got[0] != &clean[0] {
		t.Error("oneLines copied a clean slice")
	}
}

// A report whose error spans lines (stderr is joined into it) must not break the table.
func TestMultiLineErrorStaysOnItsRow(t *testing.T) {
	m := fixture(t, 120, 20)
	err := errors.New("health: parse: bad line 3\nbash: line 1: \x1b[31mfree\x1b[0m: command not found\n")
	m = update(t, m, HostsPolledMsg{Reports: []fleet.Report{downReport("web-1", t0, err)}})
	frame := m.View()
	checkFrame(t, frame, 120, 20)
	if row := lineWith(t, frame, "web-1"); !strings.Contains(row, "health: parse: bad") {
		t.Errorf("web-1's row: %s", row)
	}
	h := m.hosts[m.byName["web-1"]]
	if want := "health: parse: bad line 3 bash: line 1: [31mfree[0m: command not found"; h.reasons[0] != want || h.lastErr != want {
		t.Errorf("reason %q, last error %q", h.reasons[0], h.lastErr)
	}
}

// The inks must draw exactly what lipgloss draws, in every built-in theme, with colour.
func TestInkMatchesRender(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	for _, name := range themes.Builtins() {
		th, err := themes.Load(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := themes.BuildFor(r, th)
		sts := []lipgloss.Style{s.TableRow, s.Faint, s.Accent, s.Sparkline, s.TableHeader, s.TableSelected,
			s.StatusOK, s.StatusWarn, s.StatusCrit, s.StatusDown, s.StatusUnknown, s.Match}
		for i, st := range sts {
			k := newInk(st)
			for _, text := range []string{"web-1", "  42%", "✗ crit      ", "▁▂▃█ ", "a  b"} {
				if got, want := k.paint(text), st.Render(text); got != want {
					t.Errorf("%s style %d: paint(%q) = %q, Render = %q", name, i, text, got, want)
				}
			}
		}
	}
}
