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

func TestLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"naïve café ⚑ — ok", "naïve café ⚑ — ok"},
		{"a\x1b[31mred\x1b[0m", "ared"},
		{"title\x1b]0;owned\x07 after", "title after"},
		{"clip\x1b]52;c;aGk=\x1b\\ done", "clip done"},
		{"tab\there", "tab     here"},
		{"a\nb\r\nc", "a⏎b⏎c"},
		{"bell\x07 nul\x00 del\x7f cr\r", "bell␇ nul␀ del␡ cr␍"},
		{"c1 csi \u009b2J end", "c1 csi  end"},
		{"c1 other \u0085 end", "c1 other  end"},
		{"bidi \u202egnp.exe", "bidi \ufffdgnp.exe"},
		{"bad \xff utf8", "bad \ufffd utf8"},
		{"cut \x1b[3", "cut "},
	} {
		if got := Line(c.in); got != c.want {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.want)
		}
		if IsClean(c.in) != (c.in == c.want) {
			t.Errorf("IsClean(%q) = %v", c.in, IsClean(c.in))
		}
	}
	if n := testing.AllocsPerRun(100, func() { Line("an ordinary log line, nothing to clean") }); n != 0 {
		t.Errorf("clean text allocates %v times", n)
	}
}

func TestCutBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
		cut  bool
	}{
		{"short", 10, "short", false},
		{"exactly", 7, "exactly", false},
		{"abcdef", 3, "abc", true},
		{"héllo", 2, "h", true}, // é is two bytes: never split
		{"héllo", 3, "hé", true},
	} {
		got, cut := CutBytes(c.in, c.n)
		if got != c.want || cut != c.cut {
			t.Errorf("CutBytes(%q, %d) = %q, %v", c.in, c.n, got, cut)
		}
	}
}
