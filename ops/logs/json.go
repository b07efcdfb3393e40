package logs

import (
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseJSON reads raw as one JSON object: the time, level and message fields chosen by
// keys (see Keys) fill l.Time, l.Level and l.Message, and every other member becomes a
// Field in order (strings unquoted; numbers, booleans, null, objects and arrays as their
// JSON text). It reports false, leaving l untouched, when raw is not a well-formed
// object. Values share raw's memory unless they had escapes.
func ParseJSON(raw string, keys Keys, l *Line) bool {
	it := jsonIter{s: raw}
	if !it.open() {
		return false
	}
	var (
		have  [4]bool
		buf   [8]Field // members land here first so that a line costs one allocation
		extra []Field
		n     int
		msg   string
		lvl   Level
		ts    time.Time
	)
	for {
		key, vs, ve, more := it.next()
		if !more {
			break
		}
		v := raw[vs:ve]
		if it.plain {
			v = raw[vs+1 : ve-1]
		} else if raw[vs] == '"' {
			v = unquoteJSON(v)
		}
		switch keys.roleOf(key, &have) {
		case roleMessage:
			msg = trimNewline(v)
			continue
		case roleLevel:
			if lvl = levelValue(v); lvl != LevelNone {
				continue
			}
			have[roleLevel] = false
		case roleTime:
			var ok bool
			if ts, ok = ParseTime(v); ok {
				continue
			}
			have[roleTime] = false
		}
		if n < len(buf) {
			buf[n] = Field{Key: key, Value: v}
		} else {
			extra = append(extra, Field{Key: key, Value: v})
		}
		n++
	}
	if it.bad || skipSpace(raw, it.i) != len(raw) {
		return false
	}
	l.Message, l.Level, l.Time = msg, lvl, ts
	l.Fields = nil
	if n > 0 {
		l.Fields = make([]Field, 0, n)
		l.Fields = append(append(l.Fields, buf[:min(n, len(buf))]...), extra...)
	}
	return true
}

// jsonIter walks the members of a top-level JSON object.
type jsonIter struct {
	s    string
	i    int
	bad  bool // the object is malformed
	done bool
	// plain: the last value returned is a string without escapes or non-ASCII bytes.
	plain bool
}

// open positions the iterator after the opening brace.
func (it *jsonIter) open() bool {
	it.i = skipSpace(it.s, 0)
	if it.i >= len(it.s) || it.s[it.i] != '{' {
		return false
	}
	it.i = skipSpace(it.s, it.i+1)
	if it.i < len(it.s) && it.s[it.i] == '}' {
		it.i++
		it.done = true
	}
	return true
}

// next returns the next member's key (unquoted) and the bounds of its value (a string
// value's bounds include its quotes); more is false at the end or on malformed input
// (it.bad tells which).
func (it *jsonIter) next() (key string, vs, ve int, more bool) {
	if it.done || it.bad {
		return "", 0, 0, false
	}
	s, i := it.s, it.i
	fail := func() (string, int, int, bool) { it.bad = true; return "", 0, 0, false }
	if i >= len(s) || s[i] != '"' {
		return fail()
	}
	ke, plain, ok := scanStringPlain(s, i)
	if !ok {
		return fail()
	}
	if plain {
		key = s[i+1 : ke-1]
	} else {
		key = unquoteJSON(s[i:ke])
	}
	i = skipSpace(s, ke)
	if i >= len(s) || s[i] != ':' {
		return fail()
	}
	vs = skipSpace(s, i+1)
	it.plain = false
	if vs < len(s) && s[vs] == '"' {
		ve, it.plain, ok = scanStringPlain(s, vs)
	} else {
		ve, ok = scanValue(s, vs, 0)
	}
	if !ok {
		return fail()
	}
	i = skipSpace(s, ve)
	if i >= len(s) {
		return fail()
	}
	switch s[i] {
	case ',':
		it.i = skipSpace(s, i+1)
	case '}':
		it.i = i + 1
		it.done = true
	default:
		return fail()
	}
	return key, vs, ve, true
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// maxDepth bounds nesting so that a hostile line cannot exhaust the stack.
const maxDepth = 64

// scanValue returns the end of the JSON value at s[i].
func scanValue(s string, i, depth int) (int, bool) {
	if i >= len(s) || depth > maxDepth {
		return i, false
	}
	switch c := s[i]; {
	case c == '"':
		return scanString(s, i)
	case c == '{':
		return scanObjectNested(s, i, depth+1)
	case c == '[':
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1, true
		}
		for {
			e, ok := scanValue(s, i, depth+1)
			if !ok {
				return e, false
			}
			i = skipSpace(s, e)
			if i >= len(s) {
				return i, false
			}
			switch s[i] {
			case ',':
				i = skipSpace(s, i+1)
			case ']':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == 't':
		return literal(s, i, "true")
	case c == 'f':
		return literal(s, i, "false")
	case c == 'n':
		return literal(s, i, "null")
	case c == '-' || isDigit(c):
		return scanNumber(s, i)
	}
	return i, false
}

func scanObjectNested(s string, i, depth int) (int, bool) {
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return i, false
		}
		ke, ok := scanString(s, i)
		if !ok {
			return i, false
		}
		i = skipSpace(s, ke)
		if i >= len(s) || s[i] != ':' {
			return i, false
		}
		ve, ok := scanValue(s, skipSpace(s, i+1), depth)
		if !ok {
			return ve, false
		}
		i = skipSpace(s, ve)
		if i >= len(s) {
			return i, false
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

func literal(s string, i int, w string) (int, bool) {
	if strings.HasPrefix(s[i:], w) {
		return i + len(w), true
	}
	return i, false
}

// scanNumber follows JSON's number grammar exactly.
func scanNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return i, false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return i, false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i, true
}

// plainByte marks the bytes a JSON string may hold as they are: not a quote, a
// backslash, a control character, or the start of a multi-byte character (which needs
// a UTF-8 check when unquoting).
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString returns the index after the closing quote of the string at s[i] == '"'.
func scanString(s string, i int) (int, bool) {
	end, _, ok := scanStringPlain(s, i)
	return end, ok
}

// scanStringPlain is scanString that also reports whether the string is plain ASCII
// without escapes, which unquoteJSON can then return as it is.
func scanStringPlain(s string, i int) (int, bool, bool) {
	i++
	plain := true
	for i < len(s) {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, plain, true
		case c == '\\':
			plain = false
			if i+1 >= len(s) {
				return i, false, false
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
					return i, false, false
				}
				i += 6
			default:
				return i, false, false
			}
		case c < 0x20:
			return i, false, false
		default: // a byte of a multi-byte character
			plain = false
			i++
		}
	}
	return i, false, false
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		if hexVal(s[i]) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// unquoteJSON returns the contents of a scanned JSON string (quotes included in q). It
// allocates only when the string holds escapes. Invalid UTF-8 and lone surrogates become
// U+FFFD, as encoding/json does.
func unquoteJSON(q string) string {
	s := q[1 : len(q)-1]
	if strings.IndexByte(s, '\\') < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				b.WriteByte(c)
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r) // RuneError for invalid bytes
			i += n
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(s[i:])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(s[i+2:])); r2 != utf8.RuneError {
						b.WriteRune(r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
		default: // " \ /
			b.WriteByte(e)
		}
	}
	return b.String()
}

func hex4(s string) rune {
	return hexVal(s[0])<<12 | hexVal(s[1])<<8 | hexVal(s[2])<<4 | hexVal(s[3])
}
