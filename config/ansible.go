package config

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ImportAnsibleINI reads an Ansible INI inventory. name labels errors (name:line: …) and
// each host's Source. Understood: hosts before any section and in [group] sections,
// [group:children], [group:vars] and [all:vars], host lines "NAME[:PORT] key=value…",
// ranges such as web[01:03].example.com or db-[a:c], and # or ; comments. Of the
// variables, ansible_host, ansible_port, ansible_user, their older ansible_ssh_* forms,
// ansible_ssh_private_key_file and ansible_connection (ssh, local, winrm) are used; the
// rest are ignored. Variables follow Ansible's precedence: all, then groups from parent to
// child (by depth, then name), then the host's own. A host's Groups are every group it
// belongs to, directly or through :children, except all. Fields the inventory does not
// set are left zero for Load to fill.
func ImportAnsibleINI(r io.Reader, name string) ([]Host, error) {
	p := &iniParser{name: name, groups: map[string]*iniGroup{}, hosts: map[string]*iniHost{}}
	if err := p.parse(r); err != nil {
		return nil, err
	}
	return p.resolve()
}

type iniVar struct {
	value string
	line  int
}

type iniGroup struct {
	name     string
	vars     map[string]iniVar
	parents  []string
	depth    int // 0 unknown, else 1 + deepest parent (all is 1)
	visiting bool
}

type iniHost struct {
	name   string
	line   int
	vars   map[string]iniVar
	groups []string // direct membership, in order of appearance
}

type iniParser struct {
	name   string
	groups map[string]*iniGroup
	hosts  map[string]*iniHost
	order  []string
}

var iniSection = regexp.MustCompile(`^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$`)

// maxRangeHosts bounds one host line's range expansion; a typo such as [1:1000000]
// should be an error, not a million hosts.
const maxRangeHosts = 65536

func (p *iniParser) errorf(line int, format string, args ...any) *Error {
	return newError(p.name, line, 0, "", format, args...)
}

func (p *iniParser) group(name string) *iniGroup {
	g, ok := p.groups[name]
	if !ok {
		g = &iniGroup{name: name, vars: map[string]iniVar{}}
		p.groups[name] = g
	}
	return g
}

func (p *iniParser) parse(r io.Reader) error {
	var errs ErrorList
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	group, kind := "", "hosts"
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			m := iniSection.FindStringSubmatch(line)
			if m == nil {
				errs = append(errs, p.errorf(n, "malformed section header %q", line))
				group, kind = "", "invalid"
				continue
			}
			group, kind = m[1], m[2]
			if kind == "" {
				kind = "hosts"
			}
			if kind != "hosts" && kind != "vars" && kind != "children" {
				errs = append(errs, p.errorf(n, "unknown section kind %q (want vars or children)", kind))
				kind = "invalid"
				continue
			}
			p.group(group)
			continue
		}
		words, err := shellWords(line)
		if err != nil {
			errs = append(errs, p.errorf(n, "%v", err))
			continue
		}
		if len(words) == 0 {
			continue
		}
		switch kind {
		case "hosts":
			if err := p.hostLine(group, words, n); err != nil {
				errs = append(errs, err)
			}
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t") {
				errs = append(errs, p.errorf(n, "expected key=value in [%s:vars], got %q", group, line))
				continue
			}
			if vw, err := shellWords(v); err == nil && len(vw) == 1 {
				v = vw[0]
			} else {
				v = strings.TrimSpace(v)
			}
			p.group(group).vars[k] = iniVar{v, n}
		case "children":
			if len(words) != 1 || strings.ContainsAny(words[0], "=[]:") {
				errs = append(errs, p.errorf(n, "expected a group name in [%s:children], got %q", group, line))
				continue
			}
			child := p.group(words[0])
			if !slices.Contains(child.parents, group) {
				child.parents = append(child.parents, group)
			}
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, &Error{File: p.name, Msg: err.Error()})
	}
	return errs.sorted(nil)
}

func (p *iniParser) hostLine(group string, words []string, n int) *Error {
	pattern, port := words[0], ""
	// NAME:PORT, but not an IPv6 address or a colon inside a [a:b] range.
	if i := strings.LastIndexByte(pattern, ':'); i > strings.LastIndexByte(pattern, ']') &&
		strings.Count(pattern[strings.LastIndexByte(pattern, ']')+1:], ":") == 1 {
		pattern, port = pattern[:i], pattern[i+1:]
		if port == "" {
			return p.errorf(n, "host %q: empty port", words[0])
		}
	}
	vars := map[string]iniVar{}
	if port != "" {
		vars["ansible_port"] = iniVar{port, n}
	}
	for _, w := range words[1:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return p.errorf(n, "host %s: expected key=value, got %q", pattern, w)
		}
		vars[k] = iniVar{v, n}
	}
	names, err := expandHostRange(pattern)
	if err != nil {
		return p.errorf(n, "host %q: %v", pattern, err)
	}
	for _, name := range names {
		h, ok := p.hosts[name]
		if !ok {
			h = &iniHost{name: name, line: n, vars: map[string]iniVar{}}
			p.hosts[name] = h
			p.order = append(p.order, name)
		}
		for k, v := range vars {
			h.vars[k] = v
		}
		if group != "" && !slices.Contains(h.groups, group) {
			h.groups = append(h.groups, group)
		}
	}
	return nil
}

// expandHostRange expands every [start:end] or [start:end:step] in pattern, numeric (kept
// zero-padded when start is) or single letters, as Ansible does.
func expandHostRange(pattern string) ([]string, error) {
	i := strings.IndexByte(pattern, '[')
	if i < 0 {
		if strings.ContainsRune(pattern, ']') {
			return nil, fmt.Errorf("unbalanced ]")
		}
		return []string{pattern}, nil
	}
	j := strings.IndexByte(pattern[i:], ']')
	if j < 0 {
		return nil, fmt.Errorf("unterminated range")
	}
	values, err := rangeValues(pattern[i+1 : i+j])
	if err != nil {
		return nil, err
	}
	rest, err := expandHostRange(pattern[i+j+1:])
	if err != nil {
		return nil, err
	}
	if len(values)*len(rest) > maxRangeHosts {
		return nil, fmt.Errorf("range expands to more than %d hosts", maxRangeHosts)
	}
	out := make([]string, 0, len(values)*len(rest))
	for _, v := range values {
		for _, r := range rest {
			out = append(out, pattern[:i]+v+r)
		}
	}
	return out, nil
}

func rangeValues(spec string) ([]string, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("range [%s]: want [start:end] or [start:end:step]", spec)
	}
	beg, end, step := parts[0], parts[1], 1
	if len(parts) == 3 {
		s, err := strconv.Atoi(parts[2])
		if err != nil || s < 1 {
			return nil, fmt.Errorf("range [%s]: bad step %q", spec, parts[2])
		}
		step = s
	}
	if beg == "" {
		beg = "0"
	}
	if isLetter(beg) && isLetter(end) {
		if beg > end {
			return nil, fmt.Errorf("range [%s]: start after end", spec)
		}
		var out []string
		for c := int(beg[0]); c <= int(end[0]); c += step {
			out = append(out, string(rune(c)))
		}
		return out, nil
	}
	b, err1 := strconv.Atoi(beg)
	e, err2 := strconv.Atoi(end)
	if err1 != nil || err2 != nil || b < 0 {
		return nil, fmt.Errorf("range [%s]: start and end must both be numbers or single letters", spec)
	}
	if b > e {
		return nil, fmt.Errorf("range [%s]: start after end", spec)
	}
	if (e-b)/step+1 > maxRangeHosts {
		return nil, fmt.Errorf("range [%s] expands to more than %d hosts", spec, maxRangeHosts)
	}
	width := 0
	if len(beg) > 1 && beg[0] == '0' {
		if len(beg) != len(end) {
			return nil, fmt.Errorf("range [%s]: zero-padded start and end must have the same width", spec)
		}
		width = len(beg)
	}
	var out []string
	for v := b; v <= e; v += step {
		out = append(out, fmt.Sprintf("%0*d", width, v))
	}
	return out, nil
}

func isLetter(s string) bool {
	return len(s) == 1 && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z')
}

// depth places a group below its deepest parent; all is the root. A cycle in :children
// stops at the group already being visited instead of recursing forever.
func (p *iniParser) depth(g *iniGroup) int {
	if g.name == "all" {
		return 0
	}
	if g.depth > 0 || g.visiting {
		return g.depth
	}
	g.visiting = true
	d := 1
	for _, parent := range g.parents {
		d = max(d, p.depth(p.group(parent))+1)
	}
	g.visiting = false
	g.depth = d
	return d
}

// memberOf returns the host's direct groups followed by their ancestors, without all.
func (p *iniParser) memberOf(h *iniHost) []string {
	var out []string
	queue := slices.Clone(h.groups)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if g == "all" || slices.Contains(out, g) {
			continue
		}
		out = append(out, g)
		queue = append(queue, p.group(g).parents...)
	}
	return out
}

func (p *iniParser) resolve() ([]Host, error) {
	var errs ErrorList
	hosts := make([]Host, 0, len(p.order))
	for _, name := range p.order {
		h := p.hosts[name]
		groups := p.memberOf(h)
		byDepth := slices.Clone(groups)
		slices.SortStableFunc(byDepth, func(a, b string) int {
			if d := p.depth(p.group(a)) - p.depth(p.group(b)); d != 0 {
				return d
			}
			return strings.Compare(a, b)
		})
		vars := map[string]iniVar{}
		for _, g := range append([]string{"all"}, byDepth...) {
			for k, v := range p.group(g).vars {
				vars[k] = v
			}
		}
		for k, v := range h.vars {
			vars[k] = v
		}
		host := Host{
			Name:      name,
			Transport: TransportSSH,
			Groups:    groups,
			Source:    fmt.Sprintf("%s:%d", p.name, h.line),
		}
		first := func(keys ...string) (iniVar, string, bool) {
			for _, k := range keys {
				if v, ok := vars[k]; ok {
					return v, k, true
				}
			}
			return iniVar{}, "", false
		}
		if v, _, ok := first("ansible_host", "ansible_ssh_host"); ok {
			host.Address = v.value
		}
		if v, _, ok := first("ansible_user", "ansible_ssh_user"); ok {
			host.User = v.value
		}
		if v, k, ok := first("ansible_port", "ansible_ssh_port"); ok {
			port, err := strconv.Atoi(v.value)
			if err != nil || port < 1 || port > 65535 {
				errs = append(errs, p.errorf(v.line, "host %s: %s %q: must be 1-65535", name, k, v.value))
			}
			host.Port = port
		}
		if v, _, ok := first("ansible_ssh_private_key_file", "ansible_private_key_file"); ok {
			host.IdentityFiles = []string{v.value}
		}
		if v, _, ok := first("ansible_connection"); ok {
			switch v.value {
			case "ssh", "paramiko", "smart":
			case "local":
				host.Transport = TransportLocal
			case "winrm", "psrp":
				host.Transport = TransportWinRM
			default:
				errs = append(errs, p.errorf(v.line, "host %s: ansible_connection %q is not supported (ssh, local, winrm)", name, v.value))
			}
		}
		hosts = append(hosts, host)
	}
	if err := errs.sorted(nil); err != nil {
		return nil, err
	}
	return hosts, nil
}

// shellWords splits a line as Ansible's shlex does: whitespace-separated, quotes grouping,
// backslash escaping, and an unquoted # at a word's start ending the line.
func shellWords(s string) ([]string, error) {
	var (
		words  []string
		word   strings.Builder
		inWord bool
		quote  byte
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				word.WriteByte(s[i])
			} else {
				word.WriteByte(c)
			}
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			i = len(s)
		case c == '\'' || c == '"':
			quote = c
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			word.WriteByte(s[i])
			inWord = true
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}
