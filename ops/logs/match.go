package logs

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// matcher is a compiled pattern. Most patterns people type are plain words or a few
// words joined by | ("oom-killer|Out of memory"); those are searched as substrings,
// several times faster than the regexp engine, which is kept for everything else and for
// the match spans.
type matcher struct {
	re   *regexp.Regexp
	lits []string // when set, the pattern is exactly "any of these"
	fold bool     // lits are lower-case ASCII, matched ignoring ASCII case
	// foldRisk: a folded literal holds k or s, which Unicode folding also matches to
	// the Kelvin sign (U+212A) and long s (U+017F); lines holding their lead bytes are
	// left to the regexp engine.
	foldRisk bool
}

// compileMatcher compiles a Go (RE2) regular expression; ignoreCase adds (?i). The error
// reads "bad regular expression: …" without the regexp package's own prefix.
func compileMatcher(pattern string, ignoreCase bool) (*matcher, error) {
	expr := pattern
	if ignoreCase {
		expr = "(?i)" + pattern
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("bad regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	m := &matcher{re: re}
	m.lits, m.fold = literals(expr)
	if m.fold {
		for _, l := range m.lits {
			m.foldRisk = m.foldRisk || strings.ContainsAny(l, "ks")
		}
	}
	return m, nil
}

// literals reports the alternatives of a pattern that is a literal or an alternation of
// literals, all with the same case folding (ASCII only when folded).
func literals(expr string) ([]string, bool) {
	t, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	t = t.Simplify()
	subs := []*syntax.Regexp{t}
	if t.Op == syntax.OpAlternate {
		subs = t.Sub
	}
	var out []string
	fold := false
	for i, s := range subs {
		if s.Op != syntax.OpLiteral || len(s.Rune) == 0 {
			return nil, false
		}
		f := s.Flags&syntax.FoldCase != 0
		if i == 0 {
			fold = f
		} else if f != fold {
			return nil, false
		}
		lit := string(s.Rune)
		if fold {
			for _, r := range s.Rune {
				if r >= utf8.RuneSelf {
					return nil, false
				}
			}
			lit = strings.ToLower(lit)
		}
		out = append(out, lit)
	}
	return out, fold
}

func (m *matcher) match(s string) bool {
	if m.lits == nil {
		return m.re.MatchString(s)
	}
	for _, lit := range m.lits {
		if m.fold {
			if indexFold(s, lit) >= 0 {
				return true
			}
		} else if strings.Contains(s, lit) {
			return true
		}
	}
	if m.foldRisk && (strings.IndexByte(s, 0xE2) >= 0 || strings.IndexByte(s, 0xC5) >= 0) {
		return m.re.MatchString(s)
	}
	return false
}

// indexFold finds lit (lower-case ASCII) in s ignoring ASCII case.
func indexFold(s, lit string) int {
	if len(lit) == 0 {
		return 0
	}
	c0 := lit[0]
	upper := c0
	if c0 >= 'a' && c0 <= 'z' {
		upper = c0 - ('a' - 'A')
	}
	for i := 0; i+len(lit) <= len(s); {
		// Jump to the next byte that can start a match.
		j := strings.IndexByte(s[i:], c0)
		if upper != c0 {
			if k := strings.IndexByte(s[i:], upper); k >= 0 && (j < 0 || k < j) {
				j = k
			}
		}
		if j < 0 {
			return -1
		}
		i += j
		if i+len(lit) > len(s) {
			return -1
		}
		if eqFold(s[i:i+len(lit)], lit) {
			return i
		}
		i++
	}
	return -1
}

// MarkerRule flags the lines that match Pattern with Name (Line.Flag): a [[logs]]
// source's markers = [{ pattern = "…", name = "…" }].
type MarkerRule struct {
	Name    string
	Pattern string

	m *matcher
}

// NewMarkerRule compiles a marker rule.
func NewMarkerRule(name, pattern string) (MarkerRule, error) {
	m, err := compileMatcher(pattern, false)
	if err != nil {
		return MarkerRule{}, err
	}
	return MarkerRule{Name: name, Pattern: pattern, m: m}, nil
}

func (r *MarkerRule) match(s string) bool {
	if r.m == nil {
		m, err := compileMatcher(r.Pattern, false)
		if err != nil {
			return false
		}
		r.m = m
	}
	return r.m.match(s)
}
