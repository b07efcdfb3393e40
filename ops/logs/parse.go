package logs

import (
	"fmt"
	"time"
)

// Format is how a source's lines are written.
type Format int

// Formats a source can declare.
const (
	FormatText Format = iota
	FormatJSON
	FormatLogfmt
)

var formatNames = [...]string{"text", "json", "logfmt"}

func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// ParseFormat reads a format name as the config writes it: text, json or logfmt.
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if s == n {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("%q: want text, json or logfmt", s)
}

// Keys name the fields a structured line takes its time, level and message from. An
// empty name means the usual ones: time, ts, timestamp, @timestamp, t,
// __REALTIME_TIMESTAMP; level, lvl, severity, log.level, priority; msg, message, log,
// MESSAGE (key case is ignored for the usual names, not for an explicit one).
type Keys struct {
	Time, Level, Message string
}

// Parser turns one source's raw lines into Lines. It keeps no state between lines, so one
// Parser may serve many streams at once. The zero Parser reads text.
type Parser struct {
	Format Format
	Keys   Keys
	// Markers flag lines that match them (Line.Flag): the first that matches wins.
	Markers []MarkerRule
}

// Parse fills l from raw: Raw, Message, Time, Level, Fields and Flag. ref is the time the
// line was received; it supplies the year of syslog stamps. A line that does not have the
// source's structure (a stack trace inside a JSON log) is read as text.
func (p *Parser) Parse(raw string, ref time.Time, l *Line) {
	l.Raw = raw
	ok := false
	switch p.Format {
	case FormatJSON:
		ok = ParseJSON(raw, p.Keys, l)
	case FormatLogfmt:
		ok = ParseLogfmt(raw, p.Keys, l)
	}
	if !ok {
		ParseText(raw, ref, l)
	}
	for i := range p.Markers {
		if p.Markers[i].match(raw) {
			l.Flag = p.Markers[i].Name
			break
		}
	}
}

// role is what a structured field is used for.
type role int

const (
	roleField role = iota
	roleTime
	roleLevel
	roleMessage
)

// eqFold reports whether key equals word (lower-case ASCII) ignoring ASCII case.
func eqFold(key, word string) bool {
	if len(key) != len(word) {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[i] {
			return false
		}
	}
	return true
}

// roleOf classifies a key. have records the roles already taken on this line, so that a
// second "msg" stays a field.
func (k *Keys) roleOf(key string, have *[4]bool) role {
	r := k.classify(key)
	if r == roleField || have[r] {
		return roleField
	}
	have[r] = true
	return r
}

func (k *Keys) classify(key string) role {
	if k.Time != "" || k.Level != "" || k.Message != "" {
		switch {
		case k.Time != "" && key == k.Time:
			return roleTime
		case k.Level != "" && key == k.Level:
			return roleLevel
		case k.Message != "" && key == k.Message:
			return roleMessage
		}
	}
	if len(key) == 0 || len(key) > 20 {
		return roleField
	}
	c := key[0]
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	switch c {
	case 't':
		if k.Time == "" && (key == "t" || eqFold(key, "ts") || eqFold(key, "time") || eqFold(key, "timestamp")) {
			return roleTime
		}
	case '@':
		if k.Time == "" && eqFold(key, "@timestamp") {
			return roleTime
		}
		if k.Message == "" && eqFold(key, "@message") {
			return roleMessage
		}
	case '_':
		if k.Time == "" && key == "__REALTIME_TIMESTAMP" {
			return roleTime
		}
	case 'l':
		if k.Level == "" && (eqFold(key, "level") || eqFold(key, "lvl") || eqFold(key, "log.level") || eqFold(key, "loglevel")) {
			return roleLevel
		}
		if k.Message == "" && eqFold(key, "log") {
			return roleMessage
		}
	case 's':
		if k.Level == "" && eqFold(key, "severity") {
			return roleLevel
		}
	case 'p':
		if k.Level == "" && eqFold(key, "priority") {
			return roleLevel
		}
	case 'm':
		if k.Message == "" && (eqFold(key, "msg") || eqFold(key, "message")) {
			return roleMessage
		}
	}
	return roleField
}

// levelValue reads a level field: a word or a number (see numericLevel).
func levelValue(v string) Level {
	if n, ok := smallInt(v); ok {
		return numericLevel(n)
	}
	return ParseLevel(v)
}

func smallInt(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// trimNewline drops a trailing newline from a message field: Docker's json-file "log"
// field carries the line's own newline.
func trimNewline(s string) string {
	if n := len(s); n > 0 && s[n-1] == '\n' {
		s = s[:n-1]
		if n := len(s); n > 0 && s[n-1] == '\r' {
			s = s[:n-1]
		}
	}
	return s
}
