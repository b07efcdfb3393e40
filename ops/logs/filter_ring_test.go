package logs

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestFilter(t *testing.T) {
	lines := []Line{
		{Host: "web-1", Raw: "GET /health 200", Level: LevelInfo},
		{Host: "web-2", Raw: "Out of Memory: killed", Level: LevelError},
		{Host: "db-1", Raw: "checkpoint", Level: LevelNone},
		{Host: "web-2", Raw: "reconnected", Marker: MarkerReconnected},
	}
	match := func(spec FilterSpec) string {
		f, err := NewFilter(spec)
		if err != nil {
			t.Fatalf("%+v: %v", spec, err)
		}
		var out []string
		for _, l := range lines {
			if f.Match(l) {
				out = append(out, l.Raw)
			}
		}
		return strings.Join(out, "|")
	}
	tests := []struct {
		spec FilterSpec
		want string
	}{
		{FilterSpec{}, "GET /health 200|Out of Memory: killed|checkpoint|reconnected"},
		{FilterSpec{Pattern: "memory"}, "reconnected"},
		{FilterSpec{Pattern: "memory", IgnoreCase: true}, "Out of Memory: killed|reconnected"},
		{FilterSpec{Pattern: "health|check"}, "GET /health 200|checkpoint|reconnected"},
		{FilterSpec{Pattern: `\d{3}$`}, "GET /health 200|reconnected"},
		{FilterSpec{Pattern: "health", Invert: true}, "Out of Memory: killed|checkpoint|reconnected"},
		{FilterSpec{Hosts: []string{"web-2"}}, "Out of Memory: killed|reconnected"},
		{FilterSpec{MinLevel: LevelWarn}, "Out of Memory: killed|reconnected"},
		{FilterSpec{Pattern: "o", Hosts: []string{"db-1"}, MinLevel: LevelInfo}, ""},
	}
	for _, tt := range tests {
		if got := match(tt.spec); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.spec, got, tt.want)
		}
	}
	var nilFilter *Filter
	if !nilFilter.Match(lines[0]) || nilFilter.Spans("x") != nil {
		t.Error("a nil filter must pass everything")
	}
}

func TestFilterBadRegexIsAnError(t *testing.T) {
	for _, p := range []string{"(", "[a-", "a**", `\`, "(?P<x"} {
		f, err := NewFilter(FilterSpec{Pattern: p})
		if err == nil || f != nil {
			t.Errorf("%q: no error", p)
			continue
		}
		if !strings.HasPrefix(err.Error(), "bad regular expression: ") || strings.Contains(err.Error(), "error parsing regexp") {
			t.Errorf("%q: error %q", p, err)
		}
	}
}

func TestFilterSpans(t *testing.T) {
	f, _ := NewFilter(FilterSpec{Pattern: "err|o", IgnoreCase: true})
	if got, want := f.Spans("ERR foo"), [][2]int{{0, 3}, {5, 6}, {6, 7}}; !reflect.DeepEqual(got, want) {
		t.Errorf("spans %v, want %v", got, want)
	}
	f, _ = NewFilter(FilterSpec{Pattern: "x*"})
	if got := f.Spans("abc"); got != nil {
		t.Errorf("empty matches highlight nothing: %v", got)
	}
	f, _ = NewFilter(FilterSpec{Pattern: "a", Invert: true})
	if f.Spans("aaa") != nil {
		t.Error("an inverted filter highlights nothing")
	}
}

func TestLiteralFastPathAgreesWithRegexp(t *testing.T) {
	texts := []string{"Out of memory", "OOM-KILLER invoked", "\u212Aelvin", "ſpeed", "nothing", "oom-kille", ""}
	for _, p := range []string{"Out of memory|oom-killer", "(?i)oom-killer", "kelvin", "(?i)speed|kelvin", "memory"} {
		for _, ic := range []bool{false, true} {
			m, err := compileMatcher(p, ic)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range texts {
				if got, want := m.match(s), m.re.MatchString(s); got != want {
					t.Errorf("%q (ignore case %v) on %q: fast %v, regexp %v", p, ic, s, got, want)
				}
			}
		}
	}
	if m, _ := compileMatcher("oom|panic", false); m.lits == nil {
		t.Error("an alternation of literals should use the fast path")
	}
}

func TestRing(t *testing.T) {
	r := NewRing(5)
	if r.Cap() != 5 || r.Len() != 0 || r.Oldest() != nil {
		t.Fatal("empty ring")
	}
	for i := 1; i <= 12; i++ {
		r.Append(Line{Seq: uint64(i), Raw: fmt.Sprint(i)})
	}
	if r.Len() != 5 || r.Evicted() != 7 || r.Oldest().Seq != 8 || r.Newest().Seq != 12 {
		t.Fatalf("len %d evicted %d oldest %d newest %d", r.Len(), r.Evicted(), r.Oldest().Seq, r.Newest().Seq)
	}
	if l, ok := r.Get(10); !ok || l.Raw != "10" {
		t.Fatalf("Get(10) = %v, %v", l, ok)
	}
	if _, ok := r.Get(7); ok {
		t.Fatal("evicted line still found")
	}
	var got []uint64
	for _, l := range r.Window(nil, 1, 3) {
		got = append(got, l.Seq)
	}
	if !reflect.DeepEqual(got, []uint64{9, 10, 11}) {
		t.Fatalf("window %v", got)
	}
	got = got[:0]
	r.Each(3, func(i int, l *Line) bool { got = append(got, l.Seq); return true })
	if !reflect.DeepEqual(got, []uint64{11, 12}) {
		t.Fatalf("each %v", got)
	}
	// Seqs with holes (a filtered stream) are found by search.
	r2 := NewRing(10)
	for _, s := range []uint64{2, 3, 7, 20, 21} {
		r2.Append(Line{Seq: s})
	}
	for _, s := range []uint64{2, 7, 21} {
		if i, ok := r2.Index(s); !ok || r2.At(i).Seq != s {
			t.Errorf("Index(%d) = %d, %v", s, i, ok)
		}
	}
	if _, ok := r2.Index(8); ok {
		t.Error("Index(8) found a missing seq")
	}
	base := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	for i := 0; i < r.Len(); i++ {
		if i != 1 {
			r.At(i).Time = base.Add(time.Duration(i) * time.Minute)
		}
	}
	if got := r.FindTime(0, base.Add(90*time.Second)); got != 2 {
		t.Errorf("FindTime = %d, want 2 (position 1 has no stamp)", got)
	}
	if got := r.FindTime(0, base.Add(time.Hour)); got != r.Len() {
		t.Errorf("FindTime past the end = %d", got)
	}
	r.Reset()
	if r.Len() != 0 || r.Evicted() != 0 {
		t.Fatal("reset")
	}
	r.Append(Line{Seq: 1})
	if r.Oldest().Seq != 1 {
		t.Fatal("append after reset")
	}
	if NewRing(0).Cap() != DefaultRingSize {
		t.Fatal("default size")
	}
}

// TestRingMemoryIsFlat appends ten times the ring's capacity and checks that the heap does
// not grow with the lines pushed out.
func TestRingMemoryIsFlat(t *testing.T) {
	const capacity = 10_000
	r := NewRing(capacity)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	fill := func(from, n int) {
		for i := from; i < from+n; i++ {
			raw := fmt.Sprintf("2026-11-22T04:05:06Z INFO line %d with some payload to weigh it %0100d", i, i)
			r.Append(Line{Seq: uint64(i + 1), Host: "web-1", Raw: raw, Message: raw})
		}
	}
	fill(0, capacity)
	after1 := heap()
	fill(capacity, 9*capacity)
	after10 := heap()
	if r.Len() != capacity || r.Evicted() != 9*capacity {
		t.Fatalf("len %d evicted %d", r.Len(), r.Evicted())
	}
	if after10 > after1+after1/5 {
		t.Fatalf("heap grew from %d to %d bytes while the ring stayed at %d lines", after1, after10, capacity)
	}
	runtime.KeepAlive(r)
}
