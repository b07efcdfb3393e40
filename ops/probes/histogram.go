package probes

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram estimates quantiles of durations in fixed memory and without locks: buckets
// are log-linear (16 per power of two of microseconds), so a quantile is within 1/16 of
// the truth from 1 µs to days, and ten thousand observations a second cost an atomic add
// each. The zero value is ready to use.
type Histogram struct {
	buckets [numBuckets]atomic.Int64
	count   atomic.Int64
	sum     atomic.Int64 // ns
	max     atomic.Int64 // ns
}

const (
	subBits    = 4
	subBuckets = 1 << subBits
	// 1 µs × 2^44 is about 200 days: anything longer lands in the last bucket.
	numBuckets = subBuckets + (44-subBits)*subBuckets
)

// bucketOf maps microseconds to a bucket: exact below 16 µs, then 16 buckets per octave.
func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(us) - 1 // ≥ subBits
	mant := int(us>>(exp-subBits)) & (subBuckets - 1)
	return min(subBuckets+(exp-subBits)*subBuckets+mant, numBuckets-1)
}

// bucketTop is the largest value, in microseconds, that lands in bucket i.
func bucketTop(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	i -= subBuckets
	exp, mant := i/subBuckets+subBits, i%subBuckets
	return uint64(subBuckets+mant+1)<<(exp-subBits) - 1
}

// Observe records d; a negative d counts as zero.
func (h *Histogram) Observe(d time.Duration) {
	d = max(d, 0)
	h.buckets[bucketOf(uint64(d/time.Microsecond))].Add(1)
	h.count.Add(1)
	h.sum.Add(int64(d))
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			break
		}
	}
}

// Count is the number of observations.
func (h *Histogram) Count() int64 { return h.count.Load() }

// Max is the largest observation, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean is the average observation.
func (h *Histogram) Mean() time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns an upper estimate of the q-quantile (0 < q ≤ 1): the top of the
// bucket holding it, never above Max. Reading while others Observe gives a value
// consistent to within the observations in flight.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen int64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank && i < numBuckets-1 {
			top := time.Duration(bucketTop(i)+1)*time.Microsecond - 1
			return min(top, h.Max())
		}
	}
	return h.Max()
}
