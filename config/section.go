package config

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Section decodes one of the sections Load keeps in Config.Raw for its owner (runbooks,
// heal rules, …), collecting every problem as a positioned *Error, as Load does for its
// own sections. Each helper reads key k of table t whose path is key ("runbooks[1]"); it
// reports whether the key was present and well typed, and leaves dst alone otherwise.
type Section struct {
	Cfg  *Config
	Errs ErrorList
}

// Errorf records a problem at key.
func (s *Section) Errorf(key, format string, args ...any) {
	s.Errs = append(s.Errs, s.Cfg.Errorf(key, format, args...))
}

// TOMLType names a decoded TOML value's type for messages ("a string", "a table"), as
// Load's own messages do.
func TOMLType(v any) string { return tomlType(v) }

// Tables reads an array of tables ([[runbooks]]); an element that is not a table is
// reported and left nil, so indexes still match the file. For a top-level key the
// message shows how the section is written ([[runbooks]]).
func (s *Section) Tables(v any, key string) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		out := make([]map[string]any, len(v))
		for i, e := range v {
			t, ok := e.(map[string]any)
			if !ok {
				s.Errorf(fmt.Sprintf("%s[%d]", key, i), "must be a table, not %s", TOMLType(e))
				continue
			}
			out[i] = t
		}
		return out
	}
	hint := ""
	if !strings.ContainsAny(key, ".[") {
		hint = " ([[" + key + "]])"
	}
	s.Errorf(key, "must be an array of tables%s, not %s", hint, TOMLType(v))
	return nil
}

// Err returns the problems found, ordered by position as Load orders its own, or nil
// when there are none.
func (s *Section) Err() error { return s.Errs.sorted(s.Cfg.Files) }

// Known reports every key of t that is not in keys.
func (s *Section) Known(t map[string]any, key string, keys []string) {
	for _, k := range slices.Sorted(maps.Keys(t)) {
		if !slices.Contains(keys, k) {
			s.Errorf(key+"."+k, "unknown key (known: %s)", strings.Join(keys, ", "))
		}
	}
}

// dec reads with Load's own getters where the messages are the same.
func (s *Section) dec() *decoder { return &decoder{loc: s.Cfg.loc, errs: &s.Errs} }

// Str reads a string.
func (s *Section) Str(t map[string]any, key, k string, dst *string) bool {
	return s.dec().str(t, key, k, dst)
}

// Bool reads true or false.
func (s *Section) Bool(t map[string]any, key, k string, dst *bool) bool {
	return s.dec().boolean(t, key, k, dst)
}

// Int reads an integer that fits in 32 bits.
func (s *Section) Int(t map[string]any, key, k string, dst *int) bool {
	v, ok := t[k]
	if !ok {
		return false
	}
	n, ok := v.(int64)
	if !ok || n > math.MaxInt32 || n < math.MinInt32 {
		s.Errorf(key+"."+k, "must be an integer, not %s", TOMLType(v))
		return false
	}
	*dst = int(n)
	return true
}

// IntRange reads an integer from lo to hi.
func (s *Section) IntRange(t map[string]any, key, k string, lo, hi int, dst *int) bool {
	return s.dec().integer(t, key, k, int64(lo), int64(hi), dst)
}

// Number reads an integer or a float (not NaN).
func (s *Section) Number(t map[string]any, key, k string, dst *float64) bool {
	v, ok := t[k]
	if !ok {
		return false
	}
	switch n := v.(type) {
	case int64:
		*dst = float64(n)
	case float64:
		if math.IsNaN(n) {
			s.Errorf(key+"."+k, "must be a number, not nan")
			return false
		}
		*dst = n
	default:
		s.Errorf(key+"."+k, "must be a number, not %s", TOMLType(v))
		return false
	}
	return true
}

// Duration reads a positive duration string ("30s").
func (s *Section) Duration(t map[string]any, key, k string, dst *time.Duration) bool {
	var str string
	if !s.Str(t, key, k, &str) {
		return false
	}
	d, err := time.ParseDuration(str)
	if err != nil || d <= 0 {
		s.Errorf(key+"."+k, "must be a positive duration such as \"30s\" or \"5m\", not %q", str)
		return false
	}
	*dst = d
	return true
}

// Span reads a duration string ("10s", "1m30s") as Load reads its own, telling a
// malformed value from one out of range: it must be positive, or may be zero where
// zeroOK (zero then means none, as for a jitter).
func (s *Section) Span(t map[string]any, key, k string, zeroOK bool, dst *time.Duration) bool {
	var str string
	if !s.Str(t, key, k, &str) {
		return false
	}
	d, err := time.ParseDuration(str)
	if err != nil {
		s.Errorf(key+"."+k, "bad duration %q (want e.g. \"10s\", \"1m30s\")", str)
		return false
	}
	if d < 0 || (d == 0 && !zeroOK) {
		s.Errorf(key+"."+k, "must be positive, not %q", str)
		return false
	}
	*dst = d
	return true
}
