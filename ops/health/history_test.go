package health

import (
	"slices"
	"testing"
)

func TestHistory(t *testing.T) {
	h := NewHistory(3)
	if h.Len() != 0 || h.Cap() != 3 || len(h.Values()) != 0 {
		t.Fatalf("new: len %d cap %d", h.Len(), h.Cap())
	}
	if _, ok := h.Last(); ok {
		t.Error("Last on empty history")
	}
	steps := []struct {
		push float64
		want []float64
	}{
		{1, []float64{1}},
		{2, []float64{1, 2}},
		{3, []float64{1, 2, 3}}, // full: the write position wraps to the start
		{4, []float64{2, 3, 4}}, // the oldest is dropped
		{5, []float64{3, 4, 5}},
		{6, []float64{4, 5, 6}}, // a second lap
		{7, []float64{5, 6, 7}},
	}
	for i, s := range steps {
		h.Push(s.push)
		if got := h.Values(); !slices.Equal(got, s.want) {
			t.Fatalf("step %d: Values = %v, want %v", i, got, s.want)
		}
		if h.Len() != len(s.want) {
			t.Fatalf("step %d: Len = %d", i, h.Len())
		}
		if last, ok := h.Last(); !ok || last != s.push {
			t.Fatalf("step %d: Last = %v %v", i, last, ok)
		}
	}
}

func TestHistoryValuesIsACopy(t *testing.T) {
	h := NewHistory(2)
	h.Push(1)
	h.Push(2)
	v := h.Values()
	v[0] = 99
	h.Push(3)
	if got := h.Values(); !slices.Equal(got, []float64{2, 3}) {
		t.Errorf("Values = %v", got)
	}
}

func TestHistorySizes(t *testing.T) {
	one := NewHistory(0)
	for i := range 5 {
		one.Push(float64(i))
	}
	if one.Cap() != 1 || !slices.Equal(one.Values(), []float64{4}) {
		t.Errorf("size 1: cap %d values %v", one.Cap(), one.Values())
	}

	var zero History
	if zero.Cap() != DefaultHistoryLen || zero.Len() != 0 {
		t.Errorf("zero: cap %d len %d", zero.Cap(), zero.Len())
	}
	for i := range DefaultHistoryLen + 5 {
		zero.Push(float64(i))
	}
	v := zero.Values()
	if len(v) != DefaultHistoryLen || v[0] != 5 || v[len(v)-1] != DefaultHistoryLen+4 {
		t.Errorf("zero after wrap: len %d first %v last %v", len(v), v[0], v[len(v)-1])
	}
}
