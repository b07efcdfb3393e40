package logs

import (
	"sync"
	"time"
)

// ParseTime reads a whole time stamp value as structured logs carry it:
//   - RFC 3339 and its common relatives: a 'T' or a space between date and time, an
//     optional fraction after '.' or ',', and a zone of Z, ±hh:mm, ±hhmm or ±hh; without a
//     zone the time is local;
//   - a number of seconds, milliseconds, microseconds or nanoseconds since the epoch,
//     told apart by magnitude (seconds may carry a fraction: 1700000000.25).
func ParseTime(s string) (time.Time, bool) {
	if t, n := parseISO(s); n > 0 && n == len(s) {
		return t, true
	}
	return parseEpoch(s)
}

// parseTimePrefix reads a time stamp at the start of a text line: ISO (as ParseTime), or
// syslog's "Jan  2 15:04:05", whose missing year is taken from ref. It returns the
// length read, 0 when the line does not start with a time stamp.
func parseTimePrefix(s string, ref time.Time) (time.Time, int) {
	if len(s) >= 19 && isDigit(s[0]) {
		return parseISO(s)
	}
	if len(s) >= 15 && s[0] >= 'A' && s[0] <= 'S' {
		return parseSyslog(s, ref)
	}
	return time.Time{}, 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits reads n decimal digits at s[i:], or -1.
func digits(s string, i, n int) int {
	if i+n > len(s) {
		return -1
	}
	v := 0
	for j := i; j < i+n; j++ {
		c := s[j]
		if c < '0' || c > '9' {
			return -1
		}
		v = v*10 + int(c-'0')
	}
	return v
}

// parseISO reads YYYY-MM-DD[T ]hh:mm:ss[.frac][zone] at the start of s. It is written out
// by hand because it runs for nearly every line and time.Parse, which must interpret a
// layout, costs several times more.
func parseISO(s string) (time.Time, int) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		s[13] != ':' || s[16] != ':' {
		return time.Time{}, 0
	}
	year, month, day := digits(s, 0, 4), digits(s, 5, 2), digits(s, 8, 2)
	hour, minute, sec := digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, 0
	}
	i := 19
	nsec := 0
	if i < len(s) && (s[i] == '.' || s[i] == ',') && i+1 < len(s) && isDigit(s[i+1]) {
		i++
		scale := 100000000
		for ; i < len(s) && isDigit(s[i]); i++ {
			nsec += int(s[i]-'0') * scale
			scale /= 10 // digits past nanoseconds add 0
		}
	}
	loc := time.Local
	if i < len(s) {
		switch c := s[i]; {
		case c == 'Z' || c == 'z':
			loc = time.UTC
			i++
		case c == '+' || c == '-':
			if off, n := parseOffset(s[i:]); n > 0 {
				loc = fixedZone(off)
				i += n
			}
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), i
}

// parseOffset reads a zone offset ±hh:mm, ±hhmm or ±hh at the start of s.
func parseOffset(s string) (int, int) {
	h := digits(s, 1, 2)
	if h < 0 || h > 23 {
		return 0, 0
	}
	m, n := 0, 3
	switch {
	case len(s) > 3 && s[3] == ':':
		if m = digits(s, 4, 2); m < 0 {
			return 0, 0
		}
		n = 6
	case digits(s, 3, 2) >= 0:
		m, n = digits(s, 3, 2), 5
	}
	if m > 59 {
		return 0, 0
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, n
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

var zones sync.Map // offset seconds → *time.Location

// fixedZone shares one Location per offset: time.FixedZone allocates, and a log carries
// the same offset on every line.
func fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if l, ok := zones.Load(off); ok {
		return l.(*time.Location)
	}
	l, _ := zones.LoadOrStore(off, time.FixedZone("", off))
	return l.(*time.Location)
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseSyslog reads "Jan  2 15:04:05" (day space- or zero-padded, an optional fraction).
// The year is ref's, or the one before when that would put the stamp more than a day
// past ref (December's lines read in January).
func parseSyslog(s string, ref time.Time) (time.Time, int) {
	if len(s) < 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' {
		return time.Time{}, 0
	}
	month := 0
	for i, m := range months {
		if s[:3] == m {
			month = i + 1
			break
		}
	}
	day := 0
	switch {
	case s[4] == ' ' && isDigit(s[5]):
		day = int(s[5] - '0')
	default:
		day = digits(s, 4, 2)
	}
	hour, minute, sec := digits(s, 7, 2), digits(s, 10, 2), digits(s, 13, 2)
	if month == 0 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, 0
	}
	i := 15
	nsec := 0
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		i++
		scale := 100000000
		for ; i < len(s) && isDigit(s[i]); i++ {
			nsec += int(s[i]-'0') * scale
			scale /= 10
		}
	}
	if ref.IsZero() {
		ref = time.Now()
	}
	year := ref.Year()
	if day > daysIn(month, year) {
		return time.Time{}, 0
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.Local)
	if t.Sub(ref) > 24*time.Hour {
		if day > daysIn(month, year-1) {
			return time.Time{}, 0
		}
		t = time.Date(year-1, time.Month(month), day, hour, minute, sec, nsec, time.Local)
	}
	return t, i
}

// Epoch magnitudes: a count below 1e11 is seconds (until the year 5138), below 1e14
// milliseconds, below 1e17 microseconds, and nanoseconds above.
func parseEpoch(s string) (time.Time, bool) {
	if s == "" || len(s) > 40 {
		return time.Time{}, false
	}
	var whole int64
	i := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		if whole > (1<<63-1)/10-10 {
			return time.Time{}, false
		}
		whole = whole*10 + int64(s[i]-'0')
	}
	if i == 0 {
		return time.Time{}, false
	}
	var frac int64 // nanoseconds of a fractional second count
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) {
			return time.Time{}, false
		}
		scale := int64(100000000)
		for ; i < len(s) && isDigit(s[i]); i++ {
			frac += int64(s[i]-'0') * scale
			scale /= 10
		}
	}
	if i != len(s) {
		return time.Time{}, false
	}
	switch {
	case whole < 1e11:
		return time.Unix(whole, frac), true
	case frac != 0:
		return time.Time{}, false // a fraction of milliseconds is not a format anyone writes
	case whole < 1e14:
		return time.UnixMilli(whole), true
	case whole < 1e17:
		return time.UnixMicro(whole), true
	}
	return time.Unix(0, whole), true
}
