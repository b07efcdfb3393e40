package logs

// FilterSpec is what the user asked to see. The zero value shows everything.
type FilterSpec struct {
	// Pattern is a Go (RE2) regular expression matched against the raw line; empty
	// matches every line.
	Pattern    string
	IgnoreCase bool
	// Invert keeps the lines the pattern does not match. Hosts and MinLevel still apply.
	Invert bool
	// Hosts, when not empty, keeps only these hosts' lines.
	Hosts []string
	// MinLevel, when set, keeps only lines of this level or more severe; a line without a
	// level does not pass it.
	MinLevel Level
}

// Filter is a compiled FilterSpec. It is pure and immutable, so the pane and the batch
// command share it and one Filter may be used from many goroutines.
type Filter struct {
	spec  FilterSpec
	m     *matcher
	hosts map[string]bool
}

// NewFilter compiles spec. A pattern that does not compile is an error (never a panic)
// whose text is fit to show the user inline.
func NewFilter(spec FilterSpec) (*Filter, error) {
	f := &Filter{spec: spec}
	if spec.Pattern != "" {
		m, err := compileMatcher(spec.Pattern, spec.IgnoreCase)
		if err != nil {
			return nil, err
		}
		f.m = m
	}
	if len(spec.Hosts) > 0 {
		f.hosts = make(map[string]bool, len(spec.Hosts))
		for _, h := range spec.Hosts {
			f.hosts[h] = true
		}
	}
	return f, nil
}

// Spec returns what the filter was built from.
func (f *Filter) Spec() FilterSpec {
	if f == nil {
		return FilterSpec{}
	}
	return f.spec
}

// Match reports whether the line passes. A nil Filter passes everything. Lines the
// engine made (markers: gaps, reconnects, rotations) pass the pattern and the level, so
// that a filtered view still shows where lines may be missing; the host set applies.
func (f *Filter) Match(l Line) bool {
	if f == nil {
		return true
	}
	if f.hosts != nil && !f.hosts[l.Host] {
		return false
	}
	if l.Marker != NotMarker {
		return true
	}
	if f.spec.MinLevel != LevelNone && l.Level < f.spec.MinLevel {
		return false
	}
	if f.m == nil {
		return true
	}
	return f.m.match(l.Raw) != f.spec.Invert
}

// Spans returns where the pattern matches text (the part of a line the pane shows), as
// [start, end) byte offsets in order, for highlighting. It returns nil when there is no
// pattern or the filter is inverted (the lines shown are those that do not match).
func (f *Filter) Spans(text string) [][2]int {
	if f == nil || f.m == nil || f.spec.Invert {
		return nil
	}
	if f.m.lits != nil && !f.m.match(text) {
		return nil // the common case, no match, without the regexp engine
	}
	idx := f.m.re.FindAllStringIndex(text, -1)
	if len(idx) == 0 {
		return nil
	}
	out := make([][2]int, 0, len(idx))
	for _, p := range idx {
		if p[1] > p[0] { // empty matches highlight nothing
			out = append(out, [2]int{p[0], p[1]})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
