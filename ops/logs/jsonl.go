package logs

import (
	"cmp"
	"slices"
	"time"
	"unicode/utf8"
)

// AppendJSON appends l as one JSON object (no newline), the record `opsconsole logs
// --format jsonl` writes and the pane saves:
//
//	{"host":…,"source":…,"time":RFC 3339 or null,"received":RFC 3339,"level":"error" or "",
//	 "message":…,"fields":{…in the line's order…},"raw":…}
//
// with "marker" (gap, reconnected, rotated, state) on lines the engine made and "flag"
// on lines a marker rule flagged. It is written by hand: encoding/json would sort the
// fields' keys and costs several times more per line.
func AppendJSON(dst []byte, l *Line) []byte {
	dst = append(dst, `{"host":`...)
	dst = appendJSONString(dst, l.Host)
	dst = append(dst, `,"source":`...)
	dst = appendJSONString(dst, l.Source)
	dst = append(dst, `,"time":`...)
	if l.Time.IsZero() {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '"')
		dst = appendRFC3339Nano(dst, l.Time)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"received":"`...)
	dst = appendRFC3339Nano(dst, l.Received)
	dst = append(dst, `","level":"`...)
	dst = append(dst, l.Level.String()...)
	dst = append(dst, `","message":`...)
	dst = appendJSONString(dst, l.Message)
	dst = append(dst, `,"fields":{`...)
	for i, f := range l.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, f.Key)
		dst = append(dst, ':')
		dst = appendJSONString(dst, f.Value)
	}
	dst = append(dst, `},"raw":`...)
	dst = appendJSONString(dst, l.Raw)
	if l.Marker != NotMarker {
		dst = append(dst, `,"marker":"`...)
		dst = append(dst, l.Marker.String()...)
		dst = append(dst, '"')
	}
	if l.Flag != "" {
		dst = append(dst, `,"flag":`...)
		dst = appendJSONString(dst, l.Flag)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendRFC3339Nano is t.AppendFormat(dst, time.RFC3339Nano) for years 0-9999, written
// out because it runs twice for every line of jsonl output and the layout interpreter
// costs several times more.
func appendRFC3339Nano(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	hour, min, sec := t.Clock()
	dst = append4(dst, year)
	dst = append(dst, '-')
	dst = append2(dst, int(month))
	dst = append(dst, '-')
	dst = append2(dst, day)
	dst = append(dst, 'T')
	dst = append2(dst, hour)
	dst = append(dst, ':')
	dst = append2(dst, min)
	dst = append(dst, ':')
	dst = append2(dst, sec)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [9]byte
		for i := 8; i >= 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 9
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, '.')
		dst = append(dst, frac[:n]...)
	}
	_, off := t.Zone()
	if off == 0 {
		return append(dst, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = append(dst, sign)
	dst = append2(dst, off/3600)
	dst = append(dst, ':')
	return append2(dst, off/60%60)
}

func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }

func append4(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// appendJSONString quotes s as a JSON string; invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += n
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// SortByTime orders lines from many hosts into one timeline by their time stamps,
// stably. A line without a stamp takes the stamp of the line before it from the same
// stream (a stack trace stays under its error); lines before any stamp keep their place
// at the start.
func SortByTime(lines []Line) {
	type keyed struct {
		t time.Time
		i int
	}
	last := map[[2]string]time.Time{}
	keys := make([]keyed, len(lines))
	for i := range lines {
		k := [2]string{lines[i].Host, lines[i].Source}
		t := lines[i].Time
		if t.IsZero() {
			t = last[k]
		} else {
			last[k] = t
		}
		keys[i] = keyed{t, i}
	}
	slices.SortStableFunc(keys, func(a, b keyed) int { return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.i, b.i)) })
	sorted := make([]Line, len(lines))
	for j, k := range keys {
		sorted[j] = lines[k.i]
	}
	copy(lines, sorted)
}
