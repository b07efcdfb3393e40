package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// decoder turns the generic TOML tree into typed values. toml decodes into a map rather
// than into structs because struct decoding stops at the first type mismatch; here every
// problem becomes a positioned *Error and decoding goes on. Each getter leaves its
// destination alone when the key is absent or wrong, and reports whether it set it.
type decoder struct {
	loc  *located
	errs *ErrorList
	env  Env
	dir  string // relative paths are relative to the file's directory
}

func (d *decoder) errorf(path, format string, args ...any) {
	*d.errs = append(*d.errs, d.loc.errorf(path, format, args...))
}

// table checks that v is a table holding only known keys.
func (d *decoder) table(v any, path string, known []string) (map[string]any, bool) {
	t, ok := v.(map[string]any)
	if !ok {
		d.errorf(path, "must be a table, not %s", tomlType(v))
		return nil, false
	}
	for k := range t {
		if !slices.Contains(known, k) {
			d.errorf(joinKey(path, k), "unknown key")
		}
	}
	return t, true
}

// tables accepts an array of tables, written [[x]] or x = [{…}]. Elements that are not
// tables are reported and left nil, so indexes still match the file.
func (d *decoder) tables(v any, path string) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		out := make([]map[string]any, len(v))
		for i, e := range v {
			t, ok := e.(map[string]any)
			if !ok {
				d.errorf(indexKey(path, i), "must be a table, not %s", tomlType(e))
				continue
			}
			out[i] = t
		}
		return out
	}
	d.errorf(path, "must be an array of tables ([[%s]]), not %s", path, tomlType(v))
	return nil
}

func tomlType(v any) string {
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
	return "a date-time"
}

func (d *decoder) str(t map[string]any, path, key string, dst *string) bool {
	v, ok := t[key]
	if !ok {
		return false
	}
	s, ok := v.(string)
	if !ok {
		d.errorf(joinKey(path, key), "must be a string, not %s", tomlType(v))
		return false
	}
	*dst = s
	return true
}

func (d *decoder) boolean(t map[string]any, path, key string, dst *bool) bool {
	v, ok := t[key]
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		d.errorf(joinKey(path, key), "must be true or false, not %s", tomlType(v))
		return false
	}
	*dst = b
	return true
}

func (d *decoder) integer(t map[string]any, path, key string, lo, hi int64, dst *int) bool {
	v, ok := t[key]
	if !ok {
		return false
	}
	n, ok := v.(int64)
	if !ok {
		d.errorf(joinKey(path, key), "must be an integer, not %s", tomlType(v))
		return false
	}
	if n < lo || n > hi {
		d.errorf(joinKey(path, key), "must be %d-%d", lo, hi)
		return false
	}
	*dst = int(n)
	return true
}

// number accepts integers and floats, for thresholds written either way.
func (d *decoder) number(t map[string]any, path, key string, lo, hi float64, dst *float64) bool {
	v, ok := t[key]
	if !ok {
		return false
	}
	var f float64
	switch v := v.(type) {
	case int64:
		f = float64(v)
	case float64:
		f = v
	default:
		d.errorf(joinKey(path, key), "must be a number, not %s", tomlType(v))
		return false
	}
	if math.IsNaN(f) || f < lo || f > hi {
		d.errorf(joinKey(path, key), "must be %g-%g", lo, hi)
		return false
	}
	*dst = f
	return true
}

// strings accepts a list of strings or, for convenience, one string. Paths have ~
// expanded and are made relative to the file.
func (d *decoder) strings(t map[string]any, path, key string, dst *[]string, paths bool) bool {
	v, ok := t[key]
	if !ok {
		return false
	}
	var list []string
	switch v := v.(type) {
	case string:
		list = []string{v}
	case []any:
		for i, e := range v {
			s, ok := e.(string)
			if !ok || s == "" {
				d.errorf(indexKey(joinKey(path, key), i), "must be a non-empty string")
				return false
			}
			list = append(list, s)
		}
	default:
		d.errorf(joinKey(path, key), "must be a string or a list of strings, not %s", tomlType(v))
		return false
	}
	if paths {
		for i, p := range list {
			list[i] = expandPath(p, d.env, d.dir)
		}
	}
	*dst = list
	return true
}

// duration reads a Go duration string ("5s", "1m30s"); it must be positive, since zero
// would mean an instant timeout or a keepalive storm.
func (d *decoder) duration(t map[string]any, path, key string, dst *time.Duration) bool {
	var s string
	if !d.str(t, path, key, &s) {
		return false
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.errorf(joinKey(path, key), "bad duration %q (want e.g. \"5s\", \"1m30s\")", s)
		return false
	}
	if v <= 0 {
		d.errorf(joinKey(path, key), "must be positive, not %q", s)
		return false
	}
	*dst = v
	return true
}

// size reads a byte count: an integer, or a string such as "512KiB", "1MiB", "2MB".
func (d *decoder) size(t map[string]any, path, key string, dst *int64) bool {
	v, ok := t[key]
	if !ok {
		return false
	}
	var n int64
	switch v := v.(type) {
	case int64:
		n = v
	case string:
		var err error
		if n, err = parseSize(v); err != nil {
			d.errorf(joinKey(path, key), "%v", err)
			return false
		}
	default:
		d.errorf(joinKey(path, key), "must be a byte count or a size such as \"1MiB\", not %s", tomlType(v))
		return false
	}
	if n < 1 {
		d.errorf(joinKey(path, key), "must be at least 1 byte")
		return false
	}
	*dst = n
	return true
}

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	f, err := strconv.ParseFloat(num, 64)
	mult, ok := sizeUnits[unit]
	if err != nil || !ok || f*mult > math.MaxInt64 {
		return 0, fmt.Errorf("bad size %q (want bytes or e.g. \"512KiB\", \"1MiB\", \"2MB\")", s)
	}
	return int64(f * mult), nil
}

// defaults decodes [defaults] over def and reports whether ssh_config was written.
func (d *decoder) defaults(v any, def *Defaults) (sshConfigSet bool) {
	const p = "defaults"
	t, ok := d.table(v, p, defaultsKeys)
	if !ok {
		return false
	}
	d.str(t, p, "user", &def.User)
	d.integer(t, p, "port", 1, 65535, &def.Port)
	d.strings(t, p, "identity_files", &def.IdentityFiles, true)
	d.strings(t, p, "known_hosts", &def.KnownHosts, true)
	d.duration(t, p, "connect_timeout", &def.ConnectTimeout)
	d.duration(t, p, "command_timeout", &def.CommandTimeout)
	d.duration(t, p, "keepalive", &def.Keepalive)
	d.integer(t, p, "concurrency", 1, 1<<20, &def.Concurrency)
	d.size(t, p, "output_limit", &def.OutputLimit)
	d.boolean(t, p, "import_ssh_config", &def.ImportSSHConfig)
	var ssh string
	if d.str(t, p, "ssh_config", &ssh) {
		def.SSHConfig = expandPath(ssh, d.env, d.dir)
		return ssh != ""
	}
	return false
}

func (d *decoder) thresholds(v any, th *Thresholds) {
	const p = "thresholds"
	t, ok := d.table(v, p, thresholdKeys)
	if !ok {
		return
	}
	pairs := []struct {
		name       string
		warn, crit *float64
		max        float64
	}{
		{"cpu", &th.CPUWarn, &th.CPUCrit, 100},
		{"mem", &th.MemWarn, &th.MemCrit, 100},
		{"disk", &th.DiskWarn, &th.DiskCrit, 100},
		{"load", &th.LoadWarn, &th.LoadCrit, 1000},
	}
	for _, pr := range pairs {
		w := d.number(t, p, pr.name+"_warn", 0, pr.max, pr.warn)
		c := d.number(t, p, pr.name+"_crit", 0, pr.max, pr.crit)
		if (w || c) && *pr.warn > *pr.crit {
			at := pr.name + "_crit"
			if !c {
				at = pr.name + "_warn"
			}
			d.errorf(joinKey(p, at), "%s_warn (%g) must not exceed %s_crit (%g)", pr.name, *pr.warn, pr.name, *pr.crit)
		}
	}
}

// hosts decodes an array of host tables. Unset fields stay zero for resolveHosts.
func (d *decoder) hosts(v any, path string) []*entry {
	var out []*entry
	for i, t := range d.tables(v, path) {
		if t == nil {
			continue
		}
		p := indexKey(path, i)
		d.table(t, p, hostKeys)
		at := d.loc.at(p)
		e := &entry{loc: d.loc, key: p}
		h := &e.h
		h.Source = fmt.Sprintf("%s:%d:%d", d.loc.fileName(), at.Line, at.Col)
		d.str(t, p, "name", &h.Name) // checked with the whole inventory
		d.str(t, p, "address", &h.Address)
		d.str(t, p, "user", &h.User)
		d.integer(t, p, "port", 1, 65535, &h.Port)
		d.integer(t, p, "node_exporter", 1, 65535, &h.NodeExporter)
		if d.str(t, p, "transport", &h.Transport) {
			switch h.Transport {
			case TransportSSH, TransportWinRM, TransportLocal:
			default:
				d.errorf(joinKey(p, "transport"), "%q: must be ssh, winrm or local", h.Transport)
			}
		}
		d.strings(t, p, "tags", &h.Tags, false)
		d.strings(t, p, "groups", &h.Groups, false)
		d.strings(t, p, "identity_files", &h.IdentityFiles, true)
		d.strings(t, p, "known_hosts", &h.KnownHosts, true)
		d.str(t, p, "proxy_jump", &h.ProxyJump)
		d.duration(t, p, "connect_timeout", &h.ConnectTimeout)
		d.duration(t, p, "command_timeout", &h.CommandTimeout)
		d.duration(t, p, "keepalive", &h.Keepalive)
		out = append(out, e)
	}
	return out
}
