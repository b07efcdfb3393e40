// Package termsafe recognises the terminal control sequences that remote text (command
// output, log lines) may carry, so the panes that show such text can drop them whole: a
// hostile host must not move the cursor, retitle the window or write the clipboard.
package termsafe

import (
	"strings"
	"unicode/utf8"
)

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

const tabStop = 8

// Line makes untrusted text (a log line, a process's command line, a marker's line)
// safe to draw on one row: escape sequences (CSI, OSC, DCS, APC, PM, SOS and their 8-bit
// C1 forms) are removed whole; a line break shows as ⏎ and other C0 controls as their
// Control Pictures (␇, ␍), so nothing is hidden; tabs expand to spaces; other C1
// controls are dropped; invalid UTF-8 and bidi controls become U+FFFD. Clean text, the
// usual case, is returned as it is without allocating.
func Line(s string) string {
	if IsClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	WriteLine(&b, s)
	return b.String()
}

// IsClean reports whether Line would leave s as it is: printable ASCII, or valid UTF-8
// without C0 or C1 controls and without bidi controls.
func IsClean(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if ascii {
		return true
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || (r >= 0x80 && r <= 0x9f) || IsBidiControl(r) {
			return false
		}
		i += size
	}
	return true
}

// WriteLine writes Line(s) to b.
func WriteLine(b *strings.Builder, s string) {
	col := 0 // runes written, for tab stops; close enough for text that needs cleaning
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\t':
			n := tabStop - col%tabStop
			b.WriteString("        "[:n])
			col += n
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			// CRLF shows as one line break.
		case r == '\n':
			b.WriteRune('⏎')
			col++
		case r == 0x1b:
			i = SkipEscape(s, i)
			continue
		case r == 0x9b: // C1 CSI
			i = SkipCSI(s, i+size)
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // C1 DCS, SOS, OSC, PM, APC
			i = SkipString(s, i+size)
			continue
		case r < 0x20:
			b.WriteRune(0x2400 + r)
			col++
		case r == 0x7f:
			b.WriteRune('␡')
			col++
		case r >= 0x80 && r <= 0x9f:
			// Other C1 controls have no picture; drop them.
		case (r == utf8.RuneError && size == 1) || IsBidiControl(r):
			b.WriteRune(utf8.RuneError)
			col++
		default:
			b.WriteString(s[i : i+size])
			col++
		}
		i += size
	}
}

// CutBytes shortens s to at most n bytes on a rune boundary and reports whether it cut:
// the bound that keeps one enormous remote line from costing more than its share.
func CutBytes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}
