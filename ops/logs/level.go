package logs

import "strings"

var levelNames = [...]string{"", "trace", "debug", "info", "warn", "error", "fatal"}

// String is the level's lower-case name ("warn"), empty for LevelNone.
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return ""
	}
	return levelNames[l]
}

// ParseLevel reads a level word as loggers write it, in any case: trace, debug, info,
// warn/warning, error/err, fatal/panic/crit/critical/emerg/alert, notice (info), and
// the one-letter forms T D I W E F. It returns LevelNone for anything else.
func ParseLevel(s string) Level {
	if l := levelWord(s, false); l != LevelNone {
		return l
	}
	if len(s) == 1 {
		switch s[0] | 0x20 {
		case 't':
			return LevelTrace
		case 'd':
			return LevelDebug
		case 'i':
			return LevelInfo
		case 'w':
			return LevelWarn
		case 'e':
			return LevelError
		case 'f':
			return LevelFatal
		}
	}
	return LevelNone
}

// levelWord matches the level words of ParseLevel (not the one-letter forms). With
// upperOnly, only the all-capitals spelling counts: in free text "ERROR" is a level
// while "error" is usually just a word of the message.
func levelWord(s string, upperOnly bool) Level {
	if len(s) < 3 || len(s) > 8 {
		return LevelNone
	}
	if upperOnly {
		for i := 0; i < len(s); i++ {
			if s[i] < 'A' || s[i] > 'Z' {
				return LevelNone
			}
		}
	}
	eq := func(w string) bool { return len(s) == len(w) && strings.EqualFold(s, w) }
	switch s[0] | 0x20 {
	case 't':
		if eq("trace") {
			return LevelTrace
		}
	case 'd':
		if eq("debug") || eq("dbg") {
			return LevelDebug
		}
	case 'i':
		if eq("info") || eq("inf") {
			return LevelInfo
		}
	case 'n':
		if eq("notice") {
			return LevelInfo
		}
	case 'w':
		if eq("warn") || eq("warning") || eq("wrn") {
			return LevelWarn
		}
	case 'e':
		if eq("error") || eq("err") {
			return LevelError
		}
		if eq("emerg") {
			return LevelFatal
		}
	case 'f':
		if eq("fatal") {
			return LevelFatal
		}
	case 'p':
		if eq("panic") {
			return LevelFatal
		}
	case 'c':
		if eq("crit") || eq("critical") {
			return LevelFatal
		}
	case 'a':
		if eq("alert") {
			return LevelFatal
		}
	}
	return LevelNone
}

// syslogLevel maps a syslog severity (0 emerg … 7 debug), as journald's PRIORITY
// carries it.
func syslogLevel(n int) Level {
	switch {
	case n < 0 || n > 7:
		return LevelNone
	case n <= 2:
		return LevelFatal
	case n == 3:
		return LevelError
	case n == 4:
		return LevelWarn
	case n <= 6:
		return LevelInfo
	}
	return LevelDebug
}

// numericLevel maps a number in a level field: 0-7 is a syslog severity, 10-60 the
// bunyan/pino scale (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal).
func numericLevel(n int) Level {
	switch {
	case n >= 0 && n <= 7:
		return syslogLevel(n)
	case n >= 60:
		return LevelFatal
	case n >= 50:
		return LevelError
	case n >= 40:
		return LevelWarn
	case n >= 30:
		return LevelInfo
	case n >= 20:
		return LevelDebug
	case n >= 10:
		return LevelTrace
	}
	return LevelNone
}

var markerNames = [...]string{"", "gap", "reconnected", "rotated", "state"}

// String names the marker kind as the jsonl output writes it ("gap"), empty for
// NotMarker.
func (k MarkerKind) String() string {
	if k < 0 || int(k) >= len(markerNames) {
		return ""
	}
	return markerNames[k]
}

// HostColor picks a colour slot in [0, n) for a host from its name alone, so a host
// keeps its colour across runs and whatever other hosts are shown beside it.
func HostColor(host string, n int) int {
	if n <= 0 {
		return 0
	}
	// FNV-1a: tiny, and stable by definition (unlike maphash, which is seeded).
	h := uint32(2166136261)
	for i := 0; i < len(host); i++ {
		h ^= uint32(host[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}
