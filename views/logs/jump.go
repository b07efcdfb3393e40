package logs

import (
	"errors"
	"strings"
	"time"
)

// Layouts the jump input takes with a date; without a zone they are read in the zone of
// the newest line.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
}

// Layouts of a clock time alone. Fractional seconds are accepted after the seconds by
// time.Parse whatever the layout says.
var clockLayouts = []string{"15:04:05", "15:04"}

var errJumpSyntax = errors.New("want 15:04:05, 15:04 or 2006-01-02T15:04:05Z")

// parseJump reads the jump input. A clock time alone is the latest such time not after
// ref, the newest line's time: "14:02" during the night means the 14:02 just past, not
// tomorrow's. ref also gives the zone and the date; the pane reads no clock.
func parseJump(s string, ref time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errJumpSyntax
	}
	loc := ref.Location()
	for _, layout := range dateLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	for _, layout := range clockLayouts {
		c, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t := time.Date(ref.Year(), ref.Month(), ref.Day(), c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), loc)
		if t.After(ref) {
			t = t.AddDate(0, 0, -1)
		}
		return t, nil
	}
	return time.Time{}, errJumpSyntax
}
