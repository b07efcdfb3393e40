package logs

import (
	"strconv"
	"strings"

	"github.com/opsconsole/opsconsole/views/termsafe"
)

// Remote text is untrusted: a log line may hold anything a process on a host printed,
// including escape sequences that would move the cursor, clear the screen, retitle the
// window or write the clipboard (OSC 52) once they reach the terminal. Everything the pane
// draws from a line goes through termsafe.Line first.

// cleanLines is clean for text shown over several rows (the detail view): it splits at
// line breaks first, so they break rows instead of showing as ⏎.
func cleanLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		parts[i] = termsafe.Line(p)
	}
	return parts
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
	if s == "" || !termsafe.IsClean(s) {
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
