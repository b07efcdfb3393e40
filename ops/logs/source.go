package logs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/opsconsole/opsconsole/config"
)

// Source is one [[logs]] entry, validated: a file followed on each of its hosts, or a
// command whose output is the log.
type Source struct {
	Name string
	// Hosts is the host pattern (config.Resolve syntax).
	Hosts string
	// Path is the file to follow. It may use the host's fields as a text/template
	// ({{.Name}}, {{.Address}}), for hosts that name their files after themselves; ~/ is
	// the remote user's home.
	Path string
	// Command runs on each host and its output (stdout and stderr) is the log, e.g.
	// "journalctl -fu app -o json" or "docker logs -f app". It is not a template: shell
	// commands often hold {{ }} of their own.
	Command string
	Format  Format
	Keys    Keys
	Markers []MarkerRule
	// Where the source is defined (file:line:col), for messages.
	Where string

	tmpl     *template.Template
	selected map[string]bool // nil: every host (sources made in code)
}

var sourceKeys = []string{"name", "hosts", "path", "command", "format", "time_field", "level_field",
	"message_field", "markers"}

// Parse decodes and validates cfg's [[logs]] sections. Every problem is reported at once,
// each positioned at its key, in a config.ErrorList: unknown keys, a missing name or
// hosts, both or neither of path and command, an unknown format, a bad marker pattern,
// a host pattern that matches nothing, a path template that does not expand.
func Parse(cfg *config.Config) ([]Source, error) {
	raw, ok := cfg.Raw["logs"]
	if !ok {
		return nil, nil
	}
	p := &srcParser{config.Section{Cfg: cfg}}
	var out []Source
	names := map[string]string{}
	for i, t := range p.Tables(raw, "logs") {
		if t == nil {
			continue
		}
		s, ok := p.source(srcIndex(i), t)
		if first, dup := names[s.Name]; dup && s.Name != "" {
			p.Errorf(srcIndex(i)+".name", "duplicate log source name %q (first defined at %s)", s.Name, first)
			continue
		}
		names[s.Name] = s.Where
		if ok {
			out = append(out, s)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func srcIndex(i int) string { return "logs[" + strconv.Itoa(i) + "]" }

// srcParser decodes the section with config's shared helpers.
type srcParser struct {
	config.Section
}

func (p *srcParser) source(path string, t map[string]any) (Source, bool) {
	before := len(p.Errs)
	var s Source
	if at := p.Cfg.Errorf(path, ""); at.File != "" {
		s.Where = fmt.Sprintf("%s:%d:%d", at.File, at.Line, at.Col)
	}
	for k := range t {
		if !slices.Contains(sourceKeys, k) {
			p.Errorf(path+"."+k, "unknown key (a log source takes %s)", strings.Join(sourceKeys, ", "))
		}
	}
	if p.Str(t, path, "name", &s.Name) && strings.TrimSpace(s.Name) == "" {
		p.Errorf(path+".name", "must not be empty")
	} else if _, ok := t["name"]; !ok {
		p.Errorf(path, "a log source needs a name")
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
		p.Errorf(path, `a log source needs hosts (a host pattern such as "tag:web" or "all")`)
	}
	hasPath := p.Str(t, path, "path", &s.Path)
	hasCmd := p.Str(t, path, "command", &s.Command)
	switch {
	case hasPath && hasCmd:
		p.Errorf(path+".command", "a log source has a path or a command, not both")
	case !hasPath && !hasCmd:
		if _, ok1 := t["path"]; !ok1 {
			if _, ok2 := t["command"]; !ok2 {
				p.Errorf(path, "a log source needs a path (a file to follow) or a command")
			}
		}
	case hasPath && strings.TrimSpace(s.Path) == "":
		p.Errorf(path+".path", "must not be empty")
	case hasCmd && strings.TrimSpace(s.Command) == "":
		p.Errorf(path+".command", "must not be empty")
	case hasPath:
		if err := s.compilePath(); err != nil {
			p.Errorf(path+".path", "%v", err)
			break
		}
		for _, h := range p.Cfg.Hosts {
			if s.selected != nil && !s.selected[h.Name] {
				continue
			}
			if _, err := s.PathFor(h); err != nil {
				p.Errorf(path+".path", "host %s: %v", h.Name, err)
				break // one host shows the mistake
			}
		}
	}
	var format string
	if p.Str(t, path, "format", &format) {
		f, err := ParseFormat(format)
		if err != nil {
			p.Errorf(path+".format", "%v", err)
		}
		s.Format = f
	}
	p.Str(t, path, "time_field", &s.Keys.Time)
	p.Str(t, path, "level_field", &s.Keys.Level)
	p.Str(t, path, "message_field", &s.Keys.Message)
	if s.Format == FormatText {
		for _, k := range []string{"time_field", "level_field", "message_field"} {
			if _, ok := t[k]; ok {
				p.Errorf(path+"."+k, "applies to json and logfmt sources only")
			}
		}
	}
	s.Markers = p.markers(path, t)
	return s, len(p.Errs) == before
}

func (p *srcParser) markers(path string, t map[string]any) []MarkerRule {
	v, ok := t["markers"]
	if !ok {
		return nil
	}
	var items []map[string]any
	switch v := v.(type) {
	case []map[string]any:
		items = v
	case []any:
		for i, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				p.Errorf(fmt.Sprintf("%s.markers[%d]", path, i), `must be a table { pattern = "…", name = "…" }, not %s`, config.TOMLType(e))
				return nil
			}
			items = append(items, m)
		}
	default:
		p.Errorf(path+".markers", `must be an array of tables { pattern = "…", name = "…" }, not %s`, config.TOMLType(v))
		return nil
	}
	var out []MarkerRule
	seen := map[string]bool{}
	for i, m := range items {
		key := fmt.Sprintf("%s.markers[%d]", path, i)
		for k := range m {
			if k != "pattern" && k != "name" {
				p.Errorf(key+"."+k, "unknown key (a marker takes pattern and name)")
			}
		}
		var name, pattern string
		if !p.Str(m, key, "name", &name) || strings.TrimSpace(name) == "" {
			p.Errorf(key, "a marker needs a non-empty name")
			continue
		}
		if seen[name] {
			p.Errorf(key+".name", "duplicate marker name %q", name)
			continue
		}
		seen[name] = true
		if !p.Str(m, key, "pattern", &pattern) || pattern == "" {
			p.Errorf(key, "a marker needs a non-empty pattern")
			continue
		}
		r, err := NewMarkerRule(name, pattern)
		if err != nil {
			p.Errorf(key+".pattern", "%v", err)
			continue
		}
		out = append(out, r)
	}
	return out
}

func (s *Source) compilePath() error {
	if !strings.Contains(s.Path, "{{") {
		return nil
	}
	t, err := template.New("path").Option("missingkey=error").Parse(s.Path)
	if err != nil {
		return fmt.Errorf("path template: %s", cleanTmplErr(err))
	}
	s.tmpl = t
	return nil
}

func cleanTmplErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "template: ") {
		return msg[i+2:]
	}
	return msg
}

// IsFile reports whether the source follows a file (rather than running a command).
func (s *Source) IsFile() bool { return s.Command == "" }

// PathFor is the file the source follows on h: Path with its template filled in.
func (s *Source) PathFor(h config.Host) (string, error) {
	if s.tmpl == nil && strings.Contains(s.Path, "{{") {
		if err := s.compilePath(); err != nil {
			return "", err
		}
	}
	if s.tmpl == nil {
		return s.Path, nil
	}
	var b strings.Builder
	if err := s.tmpl.Execute(&b, h); err != nil {
		return "", fmt.Errorf("path template: %s", cleanTmplErr(err))
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", fmt.Errorf("path template expands to nothing")
	}
	return b.String(), nil
}

// Selects reports whether the source runs on h (its hosts pattern, resolved against the
// inventory Parse saw). A Source built in code, not by Parse, selects every host.
func (s *Source) Selects(h config.Host) bool {
	return s.selected == nil || s.selected[h.Name]
}

// Parser returns the line parser for the source's format, keys and markers.
func (s *Source) Parser() *Parser {
	return &Parser{Format: s.Format, Keys: s.Keys, Markers: s.Markers}
}

// Target is one stream: a source on a host.
type Target struct {
	Host   config.Host
	Source Source
}

// Targets pairs every source with each of hosts (a selection such as -H, in inventory
// order) that the source selects.
func Targets(sources []Source, hosts []config.Host) []Target {
	var out []Target
	for _, h := range hosts {
		for _, s := range sources {
			if s.Selects(h) {
				out = append(out, Target{Host: h, Source: s})
			}
		}
	}
	return out
}
