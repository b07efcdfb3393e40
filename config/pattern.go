package config

import (
	"fmt"
	"path"
	"strings"
)

// Resolve selects hosts by pattern: a comma-separated list of terms, each a glob on the
// host name (web-*, db-[12]; path.Match syntax), tag:NAME, group:NAME (globs allowed in
// NAME too), or all / *. A term starting with ! excludes what it matches; with only
// exclusions, selection starts from every host. An empty pattern selects every host.
// The result keeps inventory order without duplicates. A term that matches no host is
// an error naming it, because a typo in a pattern should not silently shrink a fan-out.
func Resolve(hosts []Host, pattern string) ([]Host, error) {
	var include, exclude []bool
	for _, term := range strings.Split(pattern, ",") {
		term = strings.TrimSpace(term)
		if term == "" {
			continue
		}
		negate := strings.HasPrefix(term, "!")
		m, err := matchTerm(hosts, strings.TrimSpace(strings.TrimPrefix(term, "!")))
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", term, err)
		}
		if m == nil {
			return nil, fmt.Errorf("pattern %q matches no host", term)
		}
		if negate {
			exclude = or(exclude, m)
		} else {
			include = or(include, m)
		}
	}
	var out []Host
	for i, h := range hosts {
		if (include == nil || include[i]) && (exclude == nil || !exclude[i]) {
			out = append(out, h)
		}
	}
	if len(out) == 0 && (include != nil || exclude != nil) {
		return nil, fmt.Errorf("pattern %q selects no host", pattern)
	}
	return out, nil
}

// matchTerm returns which hosts a term (without its !) matches, or nil if none.
func matchTerm(hosts []Host, term string) ([]bool, error) {
	kind, glob := "name", term
	if k, v, ok := strings.Cut(term, ":"); ok && (k == "tag" || k == "group") {
		kind, glob = k, v
	}
	if glob == "" {
		return nil, fmt.Errorf("empty %s", kind)
	}
	if _, err := path.Match(glob, ""); err != nil {
		return nil, err
	}
	var m []bool
	for i, h := range hosts {
		var hit bool
		switch {
		case kind == "name" && (glob == "all" || glob == "*"):
			hit = true
		case kind == "name":
			hit = globMatch(glob, h.Name)
		case kind == "tag":
			hit = anyMatch(glob, h.Tags)
		default:
			hit = anyMatch(glob, h.Groups)
		}
		if hit {
			if m == nil {
				m = make([]bool, len(hosts))
			}
			m[i] = true
		}
	}
	return m, nil
}

func globMatch(glob, s string) bool {
	ok, _ := path.Match(glob, s)
	return ok
}

func anyMatch(glob string, values []string) bool {
	for _, v := range values {
		if globMatch(glob, v) {
			return true
		}
	}
	return false
}

func or(acc, m []bool) []bool {
	if acc == nil {
		return m
	}
	for i, v := range m {
		acc[i] = acc[i] || v
	}
	return acc
}
