package termsafe

import "testing"

func TestSkipEscapeDropsWholeSequences(t *testing.T) {
	cases := []struct {
		in   string
		want int // index just past the sequence starting at 0
	}{
		{"\x1b[2J rest", 4},                // CSI: clear screen
		{"\x1b]0;pwned\x07rest", 10},       // OSC title ended by BEL
		{"\x1b]52;c;aGk=\x1b\\rest", 13},   // OSC 52 clipboard ended by ST
		{"\x1b(Brest", 3},                  // charset designation
		{"\x1bcrest", 2},                   // reset
		{"\x1b", 1},                        // lone ESC at the end
		{"\x1b]0;no terminator\nnext", 17}, // a newline ends a broken string
	}
	for _, c := range cases {
		if got := SkipEscape(c.in, 0); got != c.want {
			t.Errorf("SkipEscape(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestIsBidiControl(t *testing.T) {
	for _, r := range []rune{'\u202e', '\u2066', '\u202a'} {
		if !IsBidiControl(r) {
			t.Errorf("%U is a bidi control", r)
		}
	}
	if IsBidiControl('a') {
		t.Error("'a' is not")
	}
}
