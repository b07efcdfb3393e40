package health

// DefaultHistoryLen is the capacity of a zero History: two minutes of samples at the
// fleet view's usual 1 s poll, or ten at 5 s.
const DefaultHistoryLen = 120

// History keeps the last N values of one metric for a sparkline. Memory is fixed at N
// points however long the console runs. The zero value holds DefaultHistoryLen points.
// A History is not safe for concurrent use, and a copy shares its points with the
// original: keep it behind a pointer.
type History struct {
	buf  []float64
	next int // where the next value goes
	full bool
}

// NewHistory returns a History of n points (at least one).
func NewHistory(n int) *History {
	return &History{buf: make([]float64, max(n, 1))}
}

// Push adds v, dropping the oldest value when the history is full.
func (h *History) Push(v float64) {
	if h.buf == nil {
		h.buf = make([]float64, DefaultHistoryLen)
	}
	h.buf[h.next] = v
	h.next++
	if h.next == len(h.buf) {
		h.next, h.full = 0, true
	}
}

// Values returns the values held, oldest first, in a new slice the caller may keep.
func (h *History) Values() []float64 {
	if !h.full {
		return append([]float64(nil), h.buf[:h.next]...)
	}
	out := make([]float64, 0, len(h.buf))
	out = append(out, h.buf[h.next:]...)
	return append(out, h.buf[:h.next]...)
}

// Len returns how many values are held.
func (h *History) Len() int {
	if h.full {
		return len(h.buf)
	}
	return h.next
}

// Cap returns how many values the history can hold.
func (h *History) Cap() int {
	if h.buf == nil {
		return DefaultHistoryLen
	}
	return len(h.buf)
}

// Last returns the newest value, and false when there is none.
func (h *History) Last() (float64, bool) {
	switch {
	case h.next > 0:
		return h.buf[h.next-1], true
	case h.full:
		return h.buf[len(h.buf)-1], true
	}
	return 0, false
}
