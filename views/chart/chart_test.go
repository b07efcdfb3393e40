package chart

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run with -update after checking):\n%s", name, path, got)
	}
}

var t0 = time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)

func wave(name string, n int, step time.Duration, f func(i int) float64) Series {
	s := Series{Name: name}
	for i := 0; i < n; i++ {
		s.Points = append(s.Points, Point{T: t0.Add(time.Duration(i) * step), V: f(i)})
	}
	return s
}

func checkFits(t *testing.T, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) > h {
		t.Errorf("%d lines, want at most %d:\n%s", len(lines), h, out)
	}
	for _, l := range lines {
		if ansi.StringWidth(l) > w {
			t.Errorf("line %q is %d cells wide, want at most %d", l, ansi.StringWidth(l), w)
		}
	}
}

func TestBrailleOneSeries(t *testing.T) {
	s := wave(`node_load1{instance="127.0.0.1:9100"}`, 121, 30*time.Second, func(i int) float64 {
		return 1.5 + math.Sin(float64(i)/10)
	})
	out := Render([]Series{s}, Options{Width: 80, Height: 16, Step: 30 * time.Second})
	checkFits(t, out, 80, 16)
	golden(t, "braille_one", out)
}

func TestSymbolsSeveralSeriesWithGap(t *testing.T) {
	a := wave("cpu a", 60, time.Minute, func(i int) float64 { return float64(i) * 1.5 })
	b := wave("cpu b", 60, time.Minute, func(i int) float64 { return 90 - float64(i) })
	b.Points[30].V = math.NaN()
	out := Render([]Series{a, b}, Options{Width: 60, Height: 14, Step: time.Minute})
	checkFits(t, out, 60, 14)
	golden(t, "symbols_two", out)
}

func TestEdgeCases(t *testing.T) {
	one := Series{Name: "one", Points: []Point{{T: t0, V: 42}}}
	flat := wave("flat", 10, time.Second, func(int) float64 { return 0 })
	nan := Series{Name: "nan", Points: []Point{{T: t0, V: math.NaN()}, {T: t0.Add(time.Second), V: math.Inf(1)}}}
	huge := wave("huge", 5, time.Second, func(i int) float64 { return float64(i) * 1e12 })
	tiny := wave("tiny", 5, time.Second, func(i int) float64 { return 1 + float64(i)*1e-4 })
	neg := wave("neg", 5, time.Second, func(i int) float64 { return -float64(i) * 2.5 })
	long := Series{Name: strings.Repeat("série-très-longue-", 10), Points: one.Points}
	for _, tc := range []struct {
		name   string
		series []Series
		w, h   int
		want   []string
	}{
		{"no series", nil, 40, 10, []string{"(no data)"}},
		{"only NaN and Inf", []Series{nan}, 40, 10, []string{"(no data)"}},
		{"one point", []Series{one}, 40, 10, []string{"42┤", "14:00:00", "⣿ one"}},
		{"flat zero", []Series{flat}, 40, 10, []string{"0┤", "⣿ flat"}},
		{"huge values get SI labels", []Series{huge}, 50, 12, []string{"4T┤", "0┤"}},
		{"close values keep decimals", []Series{tiny}, 50, 12, []string{"1.0004┤", "1.0000┤"}},
		{"negative values", []Series{neg}, 50, 12, []string{"-10┤", "0┤"}},
		{"long name is cut", []Series{long}, 30, 10, []string{"…"}},
		{"tiny box", []Series{one, flat}, 5, 2, nil},
		{"one cell", []Series{one}, 1, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := Render(tc.series, Options{Width: tc.w, Height: tc.h})
			checkFits(t, out, tc.w, tc.h)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if Render([]Series{one}, Options{}) != "" {
		t.Error("zero size drew something")
	}
}

func TestLegendCapsAndColour(t *testing.T) {
	var many []Series
	for i := 0; i < 12; i++ {
		many = append(many, wave(strings.Repeat("s", i+1), 10, time.Minute, func(j int) float64 { return float64(i + j) }))
	}
	out := Render(many, Options{Width: 60, Height: 30, MaxLegend: 4})
	checkFits(t, out, 60, 30)
	if !strings.Contains(out, "+9 more") || strings.Count(out, "\n") > 29 {
		t.Fatalf("legend not capped:\n%s", out)
	}
	colored := Render(many[:2], Options{Width: 60, Height: 12, Color: func(i int, s string) string {
		return "<" + string(rune('a'+i)) + ">" + s + "</>"
	}})
	if !strings.Contains(colored, "<a>⣿</> s") || !strings.Contains(colored, "<b>") || !strings.ContainsRune(colored, '⠉') {
		t.Fatalf("colour or braille missing:\n%s", colored)
	}
}

func TestGapsAreNotJoined(t *testing.T) {
	s := Series{Name: "gappy", Points: []Point{{t0, 0}, {t0.Add(time.Minute), 0}, {t0.Add(10 * time.Minute), 10}, {t0.Add(11 * time.Minute), 10}}}
	joined := Render([]Series{s}, Options{Width: 40, Height: 10})
	gapped := Render([]Series{s}, Options{Width: 40, Height: 10, Step: time.Minute})
	if dots(joined) <= dots(gapped) {
		t.Fatalf("a gap should draw fewer dots:\n%s\n%s", joined, gapped)
	}
}

func dots(s string) int {
	n := 0
	for _, r := range s {
		if r > 0x2800 && r <= 0x28ff {
			for b := r - 0x2800; b != 0; b &= b - 1 {
				n++
			}
		}
	}
	return n
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 0.25: "0.25", 12.5: "12.5", 1234: "1.234k", 56789000: "56.79M", 999.96: "1k",
		-1500: "-1.5k", 0.0001: "0.0001", 3e21: "3e+21", math.NaN(): "NaN", math.Inf(-1): "-Inf",
	} {
		if got := FormatValue(v); got != want {
			t.Errorf("FormatValue(%v) = %q, want %q", v, got, want)
		}
	}
}

// FuzzRender draws arbitrary series in arbitrary boxes: it must never panic and never
// draw outside the box.
func FuzzRender(f *testing.F) {
	f.Add(80, 24, 3, int64(30), 1.0, 2.0, -3.0, uint8(0))
	f.Add(1, 1, 1, int64(0), 0.0, 0.0, 0.0, uint8(1))
	f.Add(10, 3, 2, int64(1), math.MaxFloat64, -math.MaxFloat64, 0.0, uint8(2))
	f.Add(200, 60, 40, int64(-5), math.NaN(), math.Inf(1), 1e-300, uint8(0))
	f.Add(7, 4, 0, int64(1<<40), 5e-324, 1e308, -1e308, uint8(1))
	f.Fuzz(func(t *testing.T, w, h, n int, stepSec int64, a, b, c float64, marks uint8) {
		if w < -5 || w > 400 || h < -5 || h > 200 || n < 0 || n > 50 {
			return
		}
		vals := []float64{a, b, c}
		var series []Series
		for i := 0; i < n%5+1; i++ {
			s := Series{Name: strings.Repeat("x", i*7)}
			for j := 0; j < n; j++ {
				// Times may repeat or go backwards when stepSec is zero or negative.
				at := t0.Add(time.Duration(stepSec*int64(j)) * time.Second)
				s.Points = append(s.Points, Point{T: at, V: vals[(i+j)%3] * float64(j+1)})
			}
			series = append(series, s)
		}
		out := Render(series, Options{Width: w, Height: h, Marks: Marks(marks % 3), Step: time.Duration(stepSec) * time.Second})
		if w <= 0 || h <= 0 {
			if out != "" {
				t.Fatalf("drew %q in no room", out)
			}
			return
		}
		checkFits(t, out, w, h)
	})
}
