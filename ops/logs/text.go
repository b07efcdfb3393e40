package logs

import "time"

// levelScan bounds how far into a text line ParseText looks for a level word: levels
// sit near the start, and scanning a whole 10 kB line for one would cost more than
// everything else together.
const levelScan = 160

// ParseText reads a free-text line: Message is the whole line, Time a leading time
// stamp (ISO/RFC 3339, "2006-01-02 15:04:05[,000]", or syslog's "Jan  2 15:04:05" with
// its year from ref), possibly inside [brackets], and Level the first level word near
// the start: an upper-case word (ERROR, WARN, INFO…), any case inside [] or <>, or the
// value of level=, lvl= or severity=. Fields are cleared.
func ParseText(raw string, ref time.Time, l *Line) {
	l.Message = raw
	l.Fields = nil
	l.Time = time.Time{}
	s := raw
	off := 0
	if len(s) > 0 && s[0] == '[' {
		off = 1
	}
	if t, n := parseTimePrefix(s[off:], ref); n > 0 {
		l.Time = t
		off += n
		if off < len(s) && s[off] == ']' {
			off++
		}
	} else {
		off = 0
	}
	l.Level = textLevel(s[off:])
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isAlnum(c byte) bool { return isLetter(c) || isDigit(c) }

func textLevel(s string) Level {
	limit := min(len(s), levelScan)
	for i := 0; i < limit; {
		if !isLetter(s[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		w := s[i:j]
		var prev, next byte
		if i > 0 {
			prev = s[i-1]
		}
		if j < len(s) {
			next = s[j]
		}
		switch {
		case isAlnum(prev) || prev == '_':
			// inside a word
		case next == '=' && (eqFold(w, "level") || eqFold(w, "lvl") || eqFold(w, "severity")):
			v := j + 1
			if v < len(s) && s[v] == '"' {
				v++
			}
			e := v
			for e < len(s) && isLetter(s[e]) {
				e++
			}
			if lv := ParseLevel(s[v:e]); lv != LevelNone {
				return lv
			}
		case prev == '[' && next == ']', prev == '<' && next == '>':
			if lv := levelWord(w, false); lv != LevelNone {
				return lv
			}
		case !isAlnum(next) && next != '_':
			if lv := levelWord(w, true); lv != LevelNone {
				return lv
			}
		}
		i = j
	}
	return LevelNone
}
