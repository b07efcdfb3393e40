package logs

import (
	"strings"
	"time"
	"unicode/utf8"
)

// ParseLogfmt reads raw as logfmt: space-separated key=value pairs, values bare or
// double-quoted with Go-style escapes, a bare key meaning an empty value. The time, level
// and message fields chosen by keys fill l as in ParseJSON; the others become Fields in
// order. It reports false, leaving l untouched, when raw has no key=value pair or is
// malformed (an unterminated quote, a pair without a key).
func ParseLogfmt(raw string, keys Keys, l *Line) bool {
	var (
		have  [4]bool
		buf   [16]Field
		extra []Field
		n     int
		msg   string
		lvl   Level
		ts    time.Time
		pairs int
	)
	s := raw
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		ks := i
		for i < len(s) && s[i] > ' ' && s[i] != '=' && s[i] != '"' {
			i++
		}
		key := s[ks:i]
		if key == "" {
			return false // "=x" or a stray quote
		}
		var v string
		if i < len(s) && s[i] == '=' {
			pairs++
			i++
			if i < len(s) && s[i] == '"' {
				e, ok := scanLogfmtQuoted(s, i)
				if !ok {
					return false
				}
				v = unquoteLogfmt(s[i:e])
				i = e
			} else {
				vs := i
				for i < len(s) && s[i] > ' ' && s[i] != '"' {
					i++
				}
				v = s[vs:i]
			}
		}
		if i < len(s) && s[i] != ' ' && s[i] != '\t' {
			return false // key"x" or a value running into a quote
		}
		switch keys.roleOf(key, &have) {
		case roleMessage:
			msg = v
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
	if pairs == 0 {
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

// scanLogfmtQuoted returns the index after the closing quote of the value at s[i] == '"'.
func scanLogfmtQuoted(s string, i int) (int, bool) {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return i, false
}

// unquoteLogfmt undoes the escapes logfmt writers use (\" \\ \n \t \r, and \uXXXX from
// some); an unknown escape keeps its character. It allocates only for escapes.
func unquoteLogfmt(q string) string {
	s := q[1 : len(q)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'u':
			if i+5 <= len(s) && isHex4(s[i+1:i+5]) {
				r := hex4(s[i+1:])
				if !utf8.ValidRune(r) {
					r = utf8.RuneError
				}
				b.WriteRune(r)
				i += 4
			} else {
				b.WriteByte('u')
			}
		default:
			b.WriteByte(e)
		}
	}
	return b.String()
}

// AppendLogfmt writes fields as logfmt, quoting values that need it, so that
// ParseLogfmt reads back the same fields (the save feature and the fuzz test use it).
func AppendLogfmt(dst []byte, fields []Field) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, f.Key...)
		dst = append(dst, '=')
		if !needsQuote(f.Value) {
			dst = append(dst, f.Value...)
			continue
		}
		dst = append(dst, '"')
		for j := 0; j < len(f.Value); j++ {
			switch c := f.Value[j]; c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\r':
				dst = append(dst, '\\', 'r')
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, '"')
	}
	return dst
}

func needsQuote(v string) bool {
	if v == "" {
		return true
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c == '"' || c == '=' || c == '\\' {
			return true
		}
	}
	return false
}
