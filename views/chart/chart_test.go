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
