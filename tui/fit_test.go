package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// fit and block replaced a lipgloss render of the whole frame; they must keep its
// promises: at most w columns and h lines, tabs as four spaces, CRLF as LF, escape
// sequences kept whole, wide characters never split.
func TestFitAndBlock(t *testing.T) {
	red := "\x1b[31m"
	reset := "\x1b[0m"
	in := "a\tb\r\n" + red + strings.Repeat("x", 30) + reset + "\n" + strings.Repeat("漢", 10) + "\nshort\nextra"
	got := strings.Split(fit(in, 12, 4), "\n")
	want := []string{"a    b", red + strings.Repeat("x", 12), strings.Repeat("漢", 6), "short"}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if ansi.Strip(got[i]) != ansi.Strip(want[i]) {
			t.Errorf("line %d: %q, want %q", i, got[i], want[i])
		}
		if ansi.StringWidth(got[i]) > 12 {
			t.Errorf("line %d is %d columns wide", i, ansi.StringWidth(got[i]))
		}
	}
	if !strings.HasPrefix(got[1], red) {
		t.Errorf("the colour was lost: %q", got[1])
	}
	// An odd width does not split a wide character: 11 columns hold five.
	if w := ansi.StringWidth(fit(strings.Repeat("漢", 10), 11, 1)); w != 10 {
		t.Errorf("wide characters cut to %d columns at width 11, want 10", w)
	}
	if fit(in, 10, 0) != "" || block(in, 10, 0) != "" {
		t.Error("zero lines asked, something returned")
	}
	// block pads with empty lines to exactly h.
	if b := block("one\ntwo", 10, 5); b != "one\ntwo\n\n\n" {
		t.Errorf("block = %q", b)
	}
	if b := block("1\n2\n3\n4", 10, 2); b != "1\n2" {
		t.Errorf("block cut = %q", b)
	}
}
