// Package termsafe recognises the terminal control sequences that remote text (command
// output, log lines) may carry, so the panes that show such text can drop them whole: a
// hostile host must not move the cursor, retitle the window or write the clipboard.
package termsafe

// SkipEscape returns the index just past the escape sequence starting with ESC at s[i].
func SkipEscape(s string, i int) int {
	j := i + 1
	if j >= len(s) {
		return j
	}
	switch c := s[j]; {
	case c == '[':
		return SkipCSI(s, j+1)
	case c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_':
		return SkipString(s, j+1)
	case c >= 0x20 && c <= 0x2f:
		// Intermediate bytes (ESC ( B, ESC # 8, …), then one final byte.
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		if j < len(s) && s[j] >= 0x30 && s[j] <= 0x7e {
			j++
		}
		return j
	case c >= 0x30 && c <= 0x7e:
		// Two-byte sequences: ESC c (reset), ESC 7/8 (save/restore cursor), ESC M …
		return j + 1
	}
	// ESC followed by something that starts no sequence: drop the ESC alone.
	return j
}

// SkipCSI skips a control sequence's parameter and intermediate bytes and its final
// byte, starting at j just past CSI. A sequence broken by a control character or a
// non-ASCII byte ends there, so the rest of the output is still shown.
func SkipCSI(s string, j int) int {
	for ; j < len(s); j++ {
		c := s[j]
		switch {
		case c >= 0x40 && c <= 0x7e:
			return j + 1
		case c < 0x20 || c > 0x7e:
			return j
		}
	}
	return j
}

// SkipString skips an OSC, DCS, APC, PM or SOS body up to its terminator (BEL, ESC \ or
// C1 ST). A terminal would swallow everything up to a terminator that never comes; here
// a newline ends it too, so a malformed sequence cannot hide the rest of the output.
func SkipString(s string, j int) int {
	for ; j < len(s); j++ {
		switch {
		case s[j] == 0x07:
			return j + 1
		case s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\':
			return j + 2
		case s[j] == 0xc2 && j+1 < len(s) && s[j+1] == 0x9c: // U+009C ST in UTF-8
			return j + 2
		case s[j] == '\n':
			return j
		}
	}
	return j
}

// IsBidiControl reports the explicit embeddings, overrides and isolates, which can make
// text read differently from what the bytes say.
func IsBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
