package probes

import (
	"container/heap"
	"context"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
)

// DefaultHistoryLen is how many statuses a job keeps for its sparkline.
const DefaultHistoryLen = 32

// Options shape a Scheduler.
type Options struct {
	// Concurrency is how many probes run at once (default sessions.DefaultConcurrency).
	// Probes past it wait their turn; their lag shows it.
	Concurrency int
	// HistoryLen is how many statuses each job keeps (default DefaultHistoryLen).
	HistoryLen int
}

// Scheduler runs every job at its interval, each at a phase of its own within the
// interval (so ten thousand probes arrive as a steady stream, not a burst each second),
// plus a random jitter below the probe's Jitter.
//
// One goroutine keeps the timetable and a fixed pool of workers runs the probes. A job
// whose previous run is still going when it falls due again is not queued behind itself:
// the tick is skipped and counted as missed. So a slow or hung probe costs one worker
// until its timeout, never the schedule of any other job, and the queue never holds more
// than one entry per job. When the pool is overloaded (every worker busy for a whole
// interval), a run that waited longer than its interval is shed and counted as missed
// too: results stay at most an interval stale and the backlog cannot grow.
//
// Results are coalesced like fleet.Monitor's reports: the latest per job, taken in
// batches by Next, so that a reader as slow as a terminal frame rate sees every job's
// newest state and memory stays bounded by the number of jobs.
type Scheduler struct {
	jobs []*jobState
	pool *sessions.Pool
	opt  Options

	lag      Histogram
	runs     atomic.Int64
	missed   atomic.Int64
	inflight atomic.Int64

	mu      sync.Mutex
	dirty   []*jobState   // jobs with a result not yet taken, in arrival order
	wake    chan struct{} // signalled (non-blocking) when dirty becomes non-empty
	started atomic.Bool
}

// jobState is one job's schedule and memory. The timetable fields belong to the
// scheduling goroutine; the result fields are guarded by Scheduler.mu.
type jobState struct {
	job Job

	// Timetable: the job is due at base + k·interval + a jitter drawn per run.
	interval time.Duration
	base     time.Time
	k        int64
	due      time.Time   // the next run's due time
	busy     atomic.Bool // queued or running
	miss     atomic.Int64

	// Results.
	latest  Result
	has     bool
	pending bool
	hist    []health.Status // ring of HistoryLen
	histN   int             // statuses pushed so far
	changes []time.Time     // ring of the last FlapChanges status changes
	changeN int
}

// NewScheduler prepares a scheduler for jobs; Run starts it. pool gives command probes
// their sessions (nil if there are none).
func NewScheduler(jobs []Job, pool *sessions.Pool, opt Options) *Scheduler {
	if opt.Concurrency <= 0 {
		opt.Concurrency = sessions.DefaultConcurrency
	}
	if opt.HistoryLen <= 0 {
		opt.HistoryLen = DefaultHistoryLen
	}
	s := &Scheduler{pool: pool, opt: opt, wake: make(chan struct{}, 1)}
	for _, j := range jobs {
		js := &jobState{job: j, hist: make([]health.Status, opt.HistoryLen), interval: j.Spec.Interval}
		if js.interval <= 0 { // a hand-built spec
			js.interval = DefaultInterval
		}
		if j.Spec.FlapChanges > 0 {
			js.changes = make([]time.Time, j.Spec.FlapChanges)
		}
		s.jobs = append(s.jobs, js)
	}
	return s
}

// Run schedules and runs the jobs until ctx ends, then waits for the probes in flight
// (each ends at its timeout at the latest, sooner since ctx cancels it) and returns. A
// Scheduler runs once.
func (s *Scheduler) Run(ctx context.Context) {
	if !s.started.CompareAndSwap(false, true) {
		panic("probes: Scheduler.Run called twice")
	}
	// Buffered for every job: a job is queued at most once (busy), so the timetable never
	// blocks on a busy pool, and lag measures the wait instead.
	work := make(chan dispatch, len(s.jobs))
	var wg sync.WaitGroup
	for range min(s.opt.Concurrency, max(len(s.jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(ctx, work)
		}()
	}
	s.timetable(ctx, work)
	close(work)
	wg.Wait()
}

// timetable hands each job to the workers when it falls due.
func (s *Scheduler) timetable(ctx context.Context, work chan<- dispatch) {
	now := time.Now()
	q := make(dueQueue, 0, len(s.jobs))
	for _, js := range s.jobs {
		js.base = firstTick(now, js.job.Key(), js.interval)
		js.due = js.base.Add(jitter(js.job.Spec.Jitter))
		q = append(q, js)
	}
	heap.Init(&q)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for len(q) > 0 {
		now = time.Now()
		for len(q) > 0 && !q[0].due.After(now) {
			js := q[0]
			if js.busy.CompareAndSwap(false, true) {
				s.inflight.Add(1)
				work <- dispatch{js, js.due}
			} else {
				js.miss.Add(1)
				s.missed.Add(1)
			}
			s.advance(js, now)
			heap.Fix(&q, 0)
		}
		timer.Reset(q[0].due.Sub(now))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
	}
	<-ctx.Done()
}

// advance moves js to its next tick. Ticks already past (the process was stopped, or the
// machine stalled) are skipped and counted as missed rather than run back to back.
func (s *Scheduler) advance(js *jobState, now time.Time) {
	iv := js.interval
	js.k++
	next := js.base.Add(time.Duration(js.k) * iv)
	if behind := now.Sub(next); behind >= iv {
		skip := int64(behind / iv)
		js.k += skip
		js.miss.Add(skip)
		s.missed.Add(skip)
		next = js.base.Add(time.Duration(js.k) * iv)
	}
	js.due = next.Add(jitter(js.job.Spec.Jitter))
}

// firstTick spreads jobs over their interval: each job's ticks fall at a phase of its own,
// a hash of its key, counted on the wall clock, so that a restarted console probes each
// target at the same point of its interval as before. The tick is the first at or after
// now; it keeps now's monotonic reading, so later ticks ignore wall-clock steps.
func firstTick(now time.Time, key string, interval time.Duration) time.Time {
	h := fnv.New64a()
	h.Write([]byte(key))
	phase := time.Duration(h.Sum64() % uint64(interval))
	ahead := phase - now.Sub(now.Truncate(interval))
	if ahead < 0 {
		ahead += interval
	}
	return now.Add(ahead)
}

func jitter(j time.Duration) time.Duration {
	if j <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(j)))
}

// dispatch is one run handed to a worker, with the time it was due: the job's own due
// time moves on to the next tick as soon as it is handed over.
type dispatch struct {
	js  *jobState
	due time.Time
}

func (s *Scheduler) worker(ctx context.Context, work <-chan dispatch) {
	for d := range work {
		js := d.js
		if ctx.Err() == nil {
			lag := time.Since(d.due)
			s.lag.Observe(lag)
			if lag > js.interval {
				// Every worker was busy for a whole interval. The run is stale and the
				// job's next tick has come: shed it, so that the worker takes fresher
				// work and an overloaded pool publishes results at most an interval
				// late instead of working through a backlog.
				js.miss.Add(1)
				s.missed.Add(1)
			} else {
				r := js.job.Probe(ctx, s.pool)
				if ctx.Err() == nil { // a run cut short by shutdown says nothing about the target
					s.runs.Add(1)
					s.record(js, r, lag)
				}
			}
		}
		js.busy.Store(false)
		s.inflight.Add(-1)
	}
}

// record files a result: history, flapping, and the coalesced latest for Next.
func (s *Scheduler) record(js *jobState, r probe.Result, lag time.Duration) {
	spec := js.job.Spec
	s.mu.Lock()
	if js.has && r.Status != js.latest.Status && js.changes != nil {
		js.changes[js.changeN%len(js.changes)] = r.Time
		js.changeN++
	}
	js.hist[js.histN%len(js.hist)] = r.Status
	js.histN++
	flapping := false
	if n := len(js.changes); n > 0 && js.changeN >= n {
		// The oldest of the last FlapChanges changes is within the window: that many
		// changes happened inside it.
		oldest := js.changes[js.changeN%n]
		flapping = r.Time.Sub(oldest) <= spec.FlapWindow
	}
	js.latest = Result{Result: r, Flapping: flapping, Missed: js.miss.Load(), Lag: lag}
	js.has = true
	if !js.pending {
		js.pending = true
		s.dirty = append(s.dirty, js)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// history copies js's statuses, oldest first. s.mu must be held.
func (js *jobState) history() []health.Status {
	n := len(js.hist)
	if js.histN < n {
		return append([]health.Status(nil), js.hist[:js.histN]...)
	}
	i := js.histN % n
	out := make([]health.Status, 0, n)
	out = append(out, js.hist[i:]...)
	return append(out, js.hist[:i]...)
}

// Next blocks until at least one job has a new result (or ctx ends), then returns the
// latest result of every job that has one since the previous call, in arrival order, each
// with its history. The console calls it from one re-armed tea.Cmd.
func (s *Scheduler) Next(ctx context.Context) ([]Result, error) {
	for {
		s.mu.Lock()
		if len(s.dirty) > 0 {
			out := make([]Result, len(s.dirty))
			for i, js := range s.dirty {
				out[i] = js.latest
				out[i].History = js.history()
				js.pending = false
			}
			s.dirty = s.dirty[:0]
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Latest returns every job's newest result, in job order, skipping jobs that have not
// run yet. It does not affect what Next returns.
func (s *Scheduler) Latest() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Result
	for _, js := range s.jobs {
		if js.has {
			r := js.latest
			r.History = js.history()
			out = append(out, r)
		}
	}
	return out
}

// Stats is the scheduler's account of itself.
type Stats struct {
	Jobs int
	Runs int64 // probes completed
	// Missed counts ticks skipped because the job's previous run was still going, or
	// shed because the run waited a whole interval for a worker.
	Missed int64
	// InFlight counts probes queued or running.
	InFlight int64
	// Lag is how late probes were taken up after they were due: the scheduler's own
	// delay plus any wait for a free worker, shed runs included.
	LagP50, LagP99, LagMax time.Duration
}

// Stats reads the counters.
func (s *Scheduler) Stats() Stats {
	return Stats{
		Jobs: len(s.jobs), Runs: s.runs.Load(), Missed: s.missed.Load(), InFlight: s.inflight.Load(),
		LagP50: s.lag.Quantile(0.5), LagP99: s.lag.Quantile(0.99), LagMax: s.lag.Max(),
	}
}

// Lag is the histogram of schedule lag, for callers that want other quantiles.
func (s *Scheduler) Lag() *Histogram { return &s.lag }

// InFlight counts probes queued or running. It is raised before a probe is handed to a
// worker, so a test that sees zero knows nothing is under way (DESIGN §10.16).
func (s *Scheduler) InFlight() int64 { return s.inflight.Load() }

// dueQueue is a min-heap of jobs by due time.
type dueQueue []*jobState

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q dueQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)        { *q = append(*q, x.(*jobState)) }
func (q *dueQueue) Pop() any {
	old := *q
	js := old[len(old)-1]
	*q = old[:len(old)-1]
	return js
}
