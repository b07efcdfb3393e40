package logs

import (
	"sort"
	"time"
)

// DefaultRingSize is how many lines a Ring keeps when no size is configured.
const DefaultRingSize = 100_000

// Ring keeps the newest lines up to a fixed count: appending to a full ring evicts the
// oldest line, so memory stays flat however long a stream runs. Lines are kept whole (a
// view cuts them for display; save writes them as they came). Appending is O(1); a line
// is found by its Seq in O(1) while Seqs are consecutive (the engine's stream), else in
// O(log n). Storage grows on demand up to the capacity and is then reused in place.
//
// A Ring is not safe for concurrent use; the pane owns its ring.
type Ring struct {
	buf     []Line
	cap     int
	start   int // index in buf of the oldest line
	n       int
	evicted uint64
}

// NewRing returns a ring of capacity lines (DefaultRingSize when capacity <= 0).
func NewRing(capacity int) *Ring {
	if capacity <= 0 {
		capacity = DefaultRingSize
	}
	return &Ring{cap: capacity}
}

// Cap is the most lines the ring holds.
func (r *Ring) Cap() int { return r.cap }

// Len is how many lines it holds now.
func (r *Ring) Len() int { return r.n }

// Evicted counts the lines pushed out since the ring was made (or Reset).
func (r *Ring) Evicted() uint64 { return r.evicted }

// Append adds l as the newest line, evicting the oldest when the ring is full.
func (r *Ring) Append(l Line) {
	if r.n < r.cap {
		if len(r.buf) < r.cap && r.n == len(r.buf) {
			// Still growing: the ring has not wrapped, so start is 0.
			if len(r.buf) == cap(r.buf) {
				nb := make([]Line, len(r.buf), min(r.cap, max(64, 2*cap(r.buf))))
				copy(nb, r.buf)
				r.buf = nb
			}
			r.buf = append(r.buf, l)
			r.n++
			return
		}
		r.buf[(r.start+r.n)%len(r.buf)] = l
		r.n++
		return
	}
	r.buf[r.start] = l // overwriting drops the evicted line's strings for the collector
	r.start++
	if r.start == len(r.buf) {
		r.start = 0
	}
	r.evicted++
}

// AppendAll appends lines in order.
func (r *Ring) AppendAll(lines []Line) {
	for i := range lines {
		r.Append(lines[i])
	}
}

// At returns the i-th oldest line held (0 ≤ i < Len). The pointer is valid until the
// next Append; the line must not be modified.
func (r *Ring) At(i int) *Line {
	if i < 0 || i >= r.n {
		return nil
	}
	j := r.start + i
	if j >= len(r.buf) {
		j -= len(r.buf)
	}
	return &r.buf[j]
}

// Oldest and Newest are the lines at either end; nil when the ring is empty.
func (r *Ring) Oldest() *Line { return r.At(0) }

// Newest is the line appended last.
func (r *Ring) Newest() *Line { return r.At(r.n - 1) }

// Index returns the position (for At) of the line with this Seq, and whether the ring
// holds it. Seqs must be appended in increasing order, as the engine delivers them.
func (r *Ring) Index(seq uint64) (int, bool) {
	if r.n == 0 {
		return 0, false
	}
	first := r.At(0).Seq
	if seq >= first && seq-first < uint64(r.n) {
		if i := int(seq - first); r.At(i).Seq == seq {
			return i, true
		}
	}
	i := sort.Search(r.n, func(i int) bool { return r.At(i).Seq >= seq })
	return i, i < r.n && r.At(i).Seq == seq
}

// Get returns the line with this Seq.
func (r *Ring) Get(seq uint64) (*Line, bool) {
	i, ok := r.Index(seq)
	if !ok {
		return nil, false
	}
	return r.At(i), true
}

// Window copies up to n lines starting at position from into dst (reusing its storage)
// and returns it: the slice a view renders.
func (r *Ring) Window(dst []Line, from, n int) []Line {
	dst = dst[:0]
	from = max(from, 0)
	for i := from; i < r.n && i < from+n; i++ {
		dst = append(dst, *r.At(i))
	}
	return dst
}

// Each calls fn for each line from position from onward, oldest first, until fn returns
// false.
func (r *Ring) Each(from int, fn func(i int, l *Line) bool) {
	for i := max(from, 0); i < r.n; i++ {
		if !fn(i, r.At(i)) {
			return
		}
	}
}

// FindTime returns the position of the first line from position from onward whose time
// stamp is at or after t (lines without one are skipped), or Len when there is none:
// "jump to time". The scan is linear because lines merged from many hosts are only
// roughly in time order.
func (r *Ring) FindTime(from int, t time.Time) int {
	for i := max(from, 0); i < r.n; i++ {
		if l := r.At(i); !l.Time.IsZero() && !l.Time.Before(t) {
			return i
		}
	}
	return r.n
}

// Reset empties the ring, keeping its storage.
func (r *Ring) Reset() {
	clear(r.buf)
	r.buf = r.buf[:0]
	r.start, r.n, r.evicted = 0, 0, 0
}
