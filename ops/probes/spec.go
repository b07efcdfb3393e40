// Package probes turns the [[probes]] configuration into jobs, one per probe per matched
// host, and runs them: once for batch `check` (RunOnce), or on their schedules for the
// console (Scheduler), with a bounded worker pool, a timeout per probe, a short history
// per job and flapping detection. Each attempt itself is backends/probe's.
package probes

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/config"
)

// Defaults for keys a probe leaves out.
const (
	DefaultInterval    = 30 * time.Second
	DefaultTimeout     = 5 * time.Second // or the interval, when shorter
	DefaultWarnDays    = 14
	DefaultCritDays    = 7
	DefaultFlapChanges = 4
	// DefaultFlapIntervals sizes the default flap window in intervals: four changes in ten
	// runs is a probe that cannot make up its mind.
	DefaultFlapIntervals = 10
)

// Spec is one [[probes]] entry, validated and with defaults applied.
type Spec struct {
	Name string
	// Hosts is the host pattern (config.Resolve syntax) the probe runs against.
	Hosts string
	Type  string // probe.TypeHTTP, TypeTCP, TypeGRPC, TypeTLS or TypeExec
	// Target is a text/template over the host (config.Host: {{.Address}}, {{.Name}},
	// {{.Port}}…) giving a URL for http, host:port for tcp, grpc and tls. Exec probes have
	// none.
	Target string

	Interval time.Duration
	// Jitter delays each run by a random amount below it, so that probes of one target
	// from many consoles do not arrive in step.
	Jitter  time.Duration
	Timeout time.Duration

	// HTTP.
	Method          string
	ExpectStatus    []probe.StatusRange
	BodyMatch       *regexp.Regexp
	Headers         map[string]string // values may be "env:NAME"
	FollowRedirects bool
	// NoKeepAlive (keep_alive = false) opens a fresh connection for every run, so each
	// run also proves the server accepts connections.
	NoKeepAlive bool
	// HTTP(S), gRPC with TLS, and TLS.
	TLS                probe.TLSOptions
	WarnDays, CritDays int

	// gRPC.
	Service string
	GRPCTLS bool

	// Exec. The command is not a template: shell commands often hold {{ }} of their own
	// (docker --format), and the command runs on the host it is about anyway.
	Command     string
	ExpectExit  int
	OutputMatch *regexp.Regexp

	// A job is flapping when its status changed FlapChanges times or more within
	// FlapWindow. FlapChanges 0 turns detection off.
	FlapWindow  time.Duration
	FlapChanges int

	// Source is where the probe is defined (file:line:col), for messages.
	Source string

	tmpl    *template.Template
	tmplSrc string // the Target tmpl was compiled from
	// selected holds the names of the hosts the pattern chose from the inventory Parse
	// saw, so that Expand over a subset (check -H) never re-resolves a pattern whose
	// other terms match only hosts outside the subset.
	selected map[string]bool
}

// Key sets: the keys every probe takes, and those only some types take.
var (
	commonKeys = []string{"name", "hosts", "type", "interval", "jitter", "timeout", "flap_window", "flap_changes"}
	typeKeys   = map[string][]string{
		probe.TypeHTTP: {"target", "method", "expect_status", "body_match", "headers", "follow_redirects",
			"keep_alive", "ca_file", "insecure_skip_verify", "server_name", "warn_days", "crit_days"},
		probe.TypeTCP:  {"target"},
		probe.TypeGRPC: {"target", "service", "tls", "ca_file", "insecure_skip_verify", "server_name", "warn_days", "crit_days"},
		probe.TypeTLS:  {"target", "ca_file", "insecure_skip_verify", "server_name", "warn_days", "crit_days"},
		probe.TypeExec: {"command", "expect_exit", "output_match"},
	}
	typeNames = []string{probe.TypeHTTP, probe.TypeTCP, probe.TypeGRPC, probe.TypeExec, probe.TypeTLS}
)

// Parse decodes and validates cfg's [[probes]]. Every problem is reported at once, each
// positioned at its key (config.Error), in a config.ErrorList: unknown keys, keys that do
// not apply to the probe's type, bad durations and regular expressions, patterns that
// match no host, and targets that do not expand to a valid address for some matched host.
func Parse(cfg *config.Config) ([]Spec, error) {
	raw, ok := cfg.Raw["probes"]
	if !ok {
		return nil, nil
	}
	p := &parser{config.Section{Cfg: cfg}}
	var specs []Spec
	names := map[string]string{}
	for i, t := range p.Tables(raw, "probes") {
		if t == nil {
			continue
		}
		s, ok := p.spec(index(i), t)
		if first, dup := names[s.Name]; dup && s.Name != "" {
			p.Errorf(index(i)+".name", "duplicate probe name %q (first defined at %s)", s.Name, first)
			continue
		}
		names[s.Name] = s.Source
		if ok {
			specs = append(specs, s)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return specs, nil
}

func index(i int) string { return "probes[" + strconv.Itoa(i) + "]" }

// parser decodes the section with config's shared helpers.
type parser struct {
	config.Section
}

// spec decodes one entry at path (probes[i]); ok is false when it had errors.
func (p *parser) spec(path string, t map[string]any) (Spec, bool) {
	before := len(p.Errs)
	var s Spec
	if at := p.Cfg.Errorf(path, ""); at.File != "" {
		s.Source = fmt.Sprintf("%s:%d:%d", at.File, at.Line, at.Col)
	}

	if p.Str(t, path, "name", &s.Name) && strings.TrimSpace(s.Name) == "" {
		p.Errorf(path+".name", "must not be empty")
	} else if _, ok := t["name"]; !ok {
		p.Errorf(path, "a probe needs a name")
	}
	if p.Str(t, path, "hosts", &s.Hosts) {
		sel, err := config.Resolve(p.Cfg.Hosts, s.Hosts)
		if err != nil {
			p.Errorf(path+".hosts", "%v", err)
		}
		s.selected = map[string]bool{}
		for _, h := range sel {
			s.selected[h.Name] = true
		}
	} else if _, ok := t["hosts"]; !ok {
		p.Errorf(path, `a probe needs hosts (a host pattern such as "tag:web" or "all")`)
	}

	if !p.Str(t, path, "type", &s.Type) {
		if _, ok := t["type"]; !ok {
			p.Errorf(path, "a probe needs a type (%s)", strings.Join(typeNames, ", "))
		}
		return s, false
	}
	if typeKeys[s.Type] == nil {
		p.Errorf(path+".type", "%q: must be one of %s", s.Type, strings.Join(typeNames, ", "))
		return s, false
	}
	for k := range t {
		if slices.Contains(commonKeys, k) || slices.Contains(typeKeys[s.Type], k) {
			continue
		}
		var takers []string
		for _, typ := range typeNames {
			if slices.Contains(typeKeys[typ], k) {
				takers = append(takers, typ)
			}
		}
		if len(takers) == 0 {
			p.Errorf(path+"."+k, "unknown key")
		} else {
			p.Errorf(path+"."+k, "not a key of %s probes (only %s)", s.Type, strings.Join(takers, ", "))
		}
	}

	s.Interval = DefaultInterval
	p.Span(t, path, "interval", false, &s.Interval)
	s.Timeout = min(DefaultTimeout, s.Interval)
	if p.Span(t, path, "timeout", false, &s.Timeout) && s.Timeout > s.Interval {
		p.Errorf(path+".timeout", "%s is longer than the interval (%s): runs would overlap and every other one be skipped", s.Timeout, s.Interval)
	}
	if p.Span(t, path, "jitter", true, &s.Jitter) && s.Jitter >= s.Interval {
		p.Errorf(path+".jitter", "%s must be shorter than the interval (%s)", s.Jitter, s.Interval)
	}
	s.FlapChanges = DefaultFlapChanges
	p.IntRange(t, path, "flap_changes", 0, 1000, &s.FlapChanges)
	s.FlapWindow = DefaultFlapIntervals * s.Interval
	p.Span(t, path, "flap_window", false, &s.FlapWindow)

	if s.Type == probe.TypeExec {
		if !p.Str(t, path, "command", &s.Command) {
			if _, ok := t["command"]; !ok {
				p.Errorf(path, "an exec probe needs a command")
			}
		} else if strings.TrimSpace(s.Command) == "" {
			p.Errorf(path+".command", "must not be empty")
		}
		p.IntRange(t, path, "expect_exit", 0, 255, &s.ExpectExit)
		s.OutputMatch = p.regexp(t, path, "output_match")
	} else {
		p.target(t, path, &s)
	}

	switch s.Type {
	case probe.TypeHTTP:
		if p.Str(t, path, "method", &s.Method) {
			s.Method = strings.ToUpper(s.Method)
			if !validToken(s.Method) {
				p.Errorf(path+".method", "%q is not an HTTP method", s.Method)
			}
		}
		s.ExpectStatus = p.statuses(t, path, "expect_status")
		s.BodyMatch = p.regexp(t, path, "body_match")
		s.Headers = p.headers(t, path, "headers")
		p.Bool(t, path, "follow_redirects", &s.FollowRedirects)
		keepAlive := true
		p.Bool(t, path, "keep_alive", &keepAlive)
		s.NoKeepAlive = !keepAlive
	case probe.TypeGRPC:
		p.Str(t, path, "service", &s.Service)
		p.Bool(t, path, "tls", &s.GRPCTLS)
		if !s.GRPCTLS {
			for _, k := range []string{"ca_file", "insecure_skip_verify", "server_name", "warn_days", "crit_days"} {
				if _, ok := t[k]; ok {
					p.Errorf(path+"."+k, "needs tls = true")
				}
			}
		}
	}
	if s.Type == probe.TypeHTTP || s.Type == probe.TypeGRPC || s.Type == probe.TypeTLS {
		if p.Str(t, path, "ca_file", &s.TLS.CAFile) {
			s.TLS.CAFile = p.path(s.TLS.CAFile)
			if _, err := os.Stat(s.TLS.CAFile); err != nil {
				p.Errorf(path+".ca_file", "%v", err)
			}
		}
		p.Bool(t, path, "insecure_skip_verify", &s.TLS.InsecureSkipVerify)
		p.Str(t, path, "server_name", &s.TLS.ServerName)
		s.WarnDays, s.CritDays = DefaultWarnDays, DefaultCritDays
		p.IntRange(t, path, "warn_days", 0, 3650, &s.WarnDays)
		p.IntRange(t, path, "crit_days", 0, 3650, &s.CritDays)
		if s.WarnDays > 0 && s.CritDays > s.WarnDays {
			p.Errorf(path+".crit_days", "%d is more than warn_days (%d)", s.CritDays, s.WarnDays)
		}
	}
	return s, len(p.Errs) == before
}

// target compiles the target template and checks its expansion for every matched host,
// so that a typo in a field name or a malformed URL is a config error, not a probe that
// fails at 3 a.m.
func (p *parser) target(t map[string]any, path string, s *Spec) {
	if !p.Str(t, path, "target", &s.Target) {
		if _, ok := t["target"]; !ok {
			p.Errorf(path, "a %s probe needs a target", s.Type)
		}
		return
	}
	tmpl, err := compile(s.Target)
	if err != nil {
		p.Errorf(path+".target", "%v", err)
		return
	}
	s.tmpl, s.tmplSrc = tmpl, s.Target
	for _, h := range p.Cfg.Hosts {
		if s.selected != nil && !s.selected[h.Name] {
			continue
		}
		if _, err := expand(s, h); err != nil {
			p.Errorf(path+".target", "host %s: %v", h.Name, err)
			return // one host shows the mistake; the rest would repeat it
		}
	}
}

// path resolves a file name from the config as config does: ~ is the home directory,
// and a relative name is relative to the config file.
func (p *parser) path(name string) string {
	if rest, ok := strings.CutPrefix(name, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	if !filepath.IsAbs(name) && len(p.Cfg.Files) > 0 {
		return filepath.Join(filepath.Dir(p.Cfg.Files[0]), name)
	}
	return name
}

func compile(src string) (*template.Template, error) {
	t, err := template.New("target").Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, cleanTemplateErr(err)
	}
	return t, nil
}

// cleanTemplateErr drops text/template's "template: target:1:" prefix: the config
// error already says where.
func cleanTemplateErr(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, `target:`); i >= 0 {
		rest := msg[i+len("target:"):]
		// Skip "line:col:" or "line:" and a following " executing \"target\" at <...>:".
		for range 2 {
			if j := strings.IndexByte(rest, ':'); j >= 0 && isDigits(rest[:j]) {
				rest = rest[j+1:]
			}
		}
		if _, after, ok := strings.Cut(rest, ">: "); ok && strings.Contains(rest, "executing") {
			rest = after
		}
		msg = strings.TrimSpace(rest)
	}
	return fmt.Errorf("target template: %s", msg)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// expand fills s's target for host h and checks it has the shape the type needs.
func expand(s *Spec, h config.Host) (string, error) {
	if s.Type == probe.TypeExec {
		return s.Command, nil
	}
	if s.tmpl == nil || s.tmplSrc != s.Target {
		t, err := compile(s.Target)
		if err != nil {
			return "", err
		}
		s.tmpl, s.tmplSrc = t, s.Target
	}
	var b strings.Builder
	if err := s.tmpl.Execute(&b, h); err != nil {
		return "", cleanTemplateErr(err)
	}
	target := b.String()
	if s.Type == probe.TypeHTTP {
		lower := strings.ToLower(target)
		if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			return "", fmt.Errorf("%q is not an http:// or https:// URL", target)
		}
		u, err := url.Parse(target)
		if err != nil {
			return "", fmt.Errorf("%q: %v", target, unwrapURLErr(err))
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("%q is not an http:// or https:// URL", target)
		}
		return target, nil
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return "", fmt.Errorf("%q: want host:port", target)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" {
		return "", fmt.Errorf("%q: want host:port with a port 1-65535", target)
	}
	return target, nil
}

func unwrapURLErr(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// regexp reads a regular expression.
func (p *parser) regexp(t map[string]any, path, k string) *regexp.Regexp {
	var s string
	if !p.Str(t, path, k, &s) {
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		p.Errorf(path+"."+k, "bad regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

// statuses reads expect_status: a code (200), a class ("2xx"), a range ("200-204"), or
// a list of those.
func (p *parser) statuses(t map[string]any, path, k string) []probe.StatusRange {
	v, ok := t[k]
	if !ok {
		return nil
	}
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	if len(items) == 0 {
		p.Errorf(path+"."+k, "must list at least one status")
		return nil
	}
	var out []probe.StatusRange
	for i, item := range items {
		key := path + "." + k
		if isList {
			key += "[" + strconv.Itoa(i) + "]"
		}
		r, err := statusRange(item)
		if err != nil {
			p.Errorf(key, "%v", err)
			return nil
		}
		out = append(out, r)
	}
	return out
}

func statusRange(v any) (probe.StatusRange, error) {
	bad := fmt.Errorf(`must be a status code (200), a class ("2xx") or a range ("200-204"), not %s`, config.TOMLType(v))
	switch v := v.(type) {
	case int64:
		if v < 100 || v > 599 {
			return probe.StatusRange{}, fmt.Errorf("%d is not an HTTP status (100-599)", v)
		}
		return probe.StatusRange{Lo: int(v), Hi: int(v)}, nil
	case string:
		s := strings.ToLower(strings.TrimSpace(v))
		if len(s) == 3 && s[1:] == "xx" && s[0] >= '1' && s[0] <= '5' {
			lo := int(s[0]-'0') * 100
			return probe.StatusRange{Lo: lo, Hi: lo + 99}, nil
		}
		a, b, ok := strings.Cut(s, "-")
		lo, err1 := strconv.Atoi(strings.TrimSpace(a))
		hi, err2 := strconv.Atoi(strings.TrimSpace(b))
		if !ok {
			hi, err2 = lo, err1
		}
		if err1 != nil || err2 != nil || lo < 100 || hi > 599 || lo > hi {
			return probe.StatusRange{}, fmt.Errorf("%q: %v", v, bad)
		}
		return probe.StatusRange{Lo: lo, Hi: hi}, nil
	}
	return probe.StatusRange{}, bad
}

// headers reads a table of header names to values; a value "env:NAME" is read from the
// environment when the probe runs, so the secret never sits in the config or a Spec.
func (p *parser) headers(t map[string]any, path, k string) map[string]string {
	v, ok := t[k]
	if !ok {
		return nil
	}
	h, ok := v.(map[string]any)
	if !ok {
		p.Errorf(path+"."+k, "must be a table of header names to values, not %s", config.TOMLType(v))
		return nil
	}
	out := make(map[string]string, len(h))
	for name, val := range h {
		key := path + "." + k + "." + name
		if !validToken(name) {
			p.Errorf(key, "%q is not a valid header name", name)
			continue
		}
		s, ok := val.(string)
		if !ok {
			p.Errorf(key, "must be a string, not %s", config.TOMLType(val))
			continue
		}
		if env, ok := strings.CutPrefix(s, probe.EnvPrefix); ok && !validEnvName(env) {
			p.Errorf(key, "%q is not an environment variable name", env)
			continue
		}
		out[http.CanonicalHeaderKey(name)] = s
	}
	return out
}

// validToken is RFC 9110's token: what header names and methods are made of.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
