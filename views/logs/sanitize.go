package logs

import (
	"github.com/opsconsole/opsconsole/views/termsafe"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Remote text is untrusted: a log line may hold anything a process on a host printed,
// including escape sequences that would move the cursor, clear the screen, retitle the
// window or write the clipboard (OSC 52) once they reach the terminal. Everything the pane
// draws from a line goes through clean first. views/exec has a sanitiser for command
// output, but it is unexported and works on whole outputs; this one is for single lines
// and keeps the fast path allocation-free, since every arriving line passes through it.

const tabStop = 8

// clean makes s safe to draw on one row: escape sequences (CSI, OSC, DCS, APC, PM, SOS
// and their 8-bit C1 forms) are removed whole; a line break shows as ⏎ and other C0
// controls as their Control Pictures (␇, ␍), so nothing is hidden; tabs expand to
// spaces; invalid UTF-8 and bidi overrides become U+FFFD. Clean text, the usual case, is
// returned as is.
func clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	cleanInto(&b, s)
	return b.String()
}

// isClean reports whether s needs no change: printable ASCII, or valid UTF-8 without C0
// or C1 controls and without bidi controls.
func isClean(s string) bool {
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
		if (r == utf8.RuneError && size == 1) || (r >= 0x80 && r <= 0x9f) || termsafe.IsBidiControl(r) {
			return false
		}
		i += size
	}
	return true
}

func cleanInto(b *strings.Builder, s string) {
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
			i = termsafe.SkipEscape(s, i)
			continue
		case r == 0x9b: // C1 CSI
			i = termsafe.SkipCSI(s, i+size)
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // C1 DCS, SOS, OSC, PM, APC
			i = termsafe.SkipString(s, i+size)
			continue
		case r < 0x20:
			b.WriteRune(0x2400 + r)
			col++
		case r == 0x7f:
			b.WriteRune('␡')
			col++
		case r >= 0x80 && r <= 0x9f:
			// Other C1 controls have no picture; drop them.
		case (r == utf8.RuneError && size == 1) || termsafe.IsBidiControl(r):
			b.WriteRune(utf8.RuneError)
			col++
		default:
			b.WriteString(s[i : i+size])
			col++
		}
		i += size
	}
}

// cleanLines is clean for text shown over several rows (the detail view): it splits at
// line breaks first, so they break rows instead of showing as ⏎.
func cleanLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = clean(p)
	}
	return parts
}

// cutBytes shortens s to at most n bytes on a rune boundary and reports whether it cut.
func cutBytes(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// fieldText writes k=v the way logfmt does, quoting a key or value that is empty or holds
// a space, a quote, an equals sign or anything unprintable. strconv.Quote escapes control
// characters and bidi controls, so a quoted value is inert as well as unambiguous.
func fieldText(b *strings.Builder, k, v string) {
	writeToken(b, k)
	b.WriteByte('=')
	writeToken(b, v)
}

func writeToken(b *strings.Builder, s string) {
	if needsQuote(s) {
		b.WriteString(strconv.Quote(s))
		return
	}
	b.WriteString(s)
}

func needsQuote(s string) bool {
	if s == "" || !isClean(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '"', '=':
			return true
		}
	}
	return false
}
