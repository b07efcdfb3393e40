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

// TOMLType names a decoded TOML value's type for messages ("a string", "a table").
func TOMLType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}

// Tables reads an array of tables ([[runbooks]]); an element that is not a table is
// reported and left nil.
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
	s.Errorf(key, "must be an array of tables, not %s", TOMLType(v))
	return nil
}

// Known reports every key of t that is not in keys.
func (s *Section) Known(t map[string]any, key string, keys []string) {
	for _, k := range slices.Sorted(maps.Keys(t)) {
		if !slices.Contains(keys, k) {
			s.Errorf(key+"."+k, "unknown key (known: %s)", strings.Join(keys, ", "))
		}
	}
}

// Str reads a string.
func (s *Section) Str(t map[string]any, key, k string, dst *string) bool {
	v, ok := t[k]
	if !ok {
		return false
	}
	str, ok := v.(string)
	if !ok {
		s.Errorf(key+"."+k, "must be a string, not %s", TOMLType(v))
		return false
	}
	*dst = str
	return true
}

// Bool reads true or false.
func (s *Section) Bool(t map[string]any, key, k string, dst *bool) bool {
	v, ok := t[k]
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		s.Errorf(key+"."+k, "must be true or false, not %s", TOMLType(v))
		return false
	}
	*dst = b
	return true
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
