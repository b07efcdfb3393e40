package logs

import (
	"github.com/opsconsole/opsconsole/ops/logs"
)

// filterState is what the operator asked to see, and the engine's Filter compiled from
// it: a pattern (optionally inverted) matched against the line as read, a set of hidden
// hosts and a minimum level. The engine's Filter is the same one `opsconsole logs --grep`
// uses, so the pane and the batch command agree on what a pattern selects.
type filterState struct {
	pattern  string
	invert   bool
	minLevel logs.Level
	// hidden is the hosts the operator hid. The engine's Filter takes the hosts to show,
	// so it is rebuilt when a new host appears: a host that starts talking is shown
	// rather than silently filtered out.
	hidden map[string]bool
	f      *logs.Filter // nil: everything is shown
}

func (fs *filterState) active() bool { return fs.f != nil }

func (fs *filterState) match(l *logs.Line) bool { return fs.f == nil || fs.f.Match(*l) }

// build compiles the filter. A pattern that does not compile is an error whose text is
// fit to show inline; the caller keeps the filter it had.
func (fs *filterState) build(ignoreCase bool, s *store) error {
	spec := logs.FilterSpec{
		Pattern:    fs.pattern,
		IgnoreCase: ignoreCase,
		Invert:     fs.invert && fs.pattern != "",
		MinLevel:   fs.minLevel,
	}
	if len(fs.hidden) > 0 {
		for _, name := range s.hostNames() {
			if !fs.hidden[name] {
				spec.Hosts = append(spec.Hosts, name)
			}
		}
	}
	if spec.Pattern == "" && spec.MinLevel == logs.LevelNone && len(spec.Hosts) == 0 {
		fs.f = nil
		return nil
	}
	f, err := logs.NewFilter(spec)
	if err != nil {
		return err
	}
	fs.f = f
	return nil
}

// compileSearch compiles a search pattern; an empty one is no search.
func compileSearch(pattern string, ignoreCase bool) (*logs.Filter, error) {
	if pattern == "" {
		return nil, nil
	}
	return logs.NewFilter(logs.FilterSpec{Pattern: pattern, IgnoreCase: ignoreCase})
}

// searchMatch reports whether the search finds the line. Markers pass any engine Filter
// (they are context for a filtered view), but a search stopping at every gap would be
// noise, so they never match here.
func searchMatch(f *logs.Filter, l *logs.Line) bool {
	return f != nil && l.Marker == logs.NotMarker && f.Match(*l)
}

// levelSteps is the order the level filter key cycles through.
var levelSteps = []logs.Level{logs.LevelNone, logs.LevelDebug, logs.LevelInfo, logs.LevelWarn, logs.LevelError}

func nextLevel(l logs.Level) logs.Level {
	for i, s := range levelSteps {
		if s == l {
			return levelSteps[(i+1)%len(levelSteps)]
		}
	}
	return logs.LevelNone
}

// spans returns the byte ranges of text the highlight marks, merged and in order: the
// matches of each filter given (an inverted filter gives none: its lines are the ones
// that do not match).
func spans(text string, fs ...*logs.Filter) [][2]int {
	var out [][2]int
	for _, f := range fs {
		if f != nil {
			out = append(out, f.Spans(text)...)
		}
	}
	if len(out) < 2 {
		return out
	}
	// Few spans per row: an insertion sort then a merge is enough.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j][0] < out[j-1][0]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	merged := out[:1]
	for _, s := range out[1:] {
		last := &merged[len(merged)-1]
		if s[0] <= last[1] {
			last[1] = max(last[1], s[1])
			continue
		}
		merged = append(merged, s)
	}
	return merged
}
