package sessions

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultRecorderQueue is how many records may wait for the writer. The console records
// every message it handles; a burst (a thousand hosts reporting at once, a held-down key)
// must not stall the UI, so beyond this the recorder drops and counts instead of waiting.
const DefaultRecorderQueue = 4096

// Recorder appends a session journal: one JSON object per line,
//
//	{"t":"2026-11-22T10:04:05.123456789Z","kind":"key","data":{"key":"enter"}}
//
// Record never blocks: it hands the record to a bounded queue drained by the recorder's
// own goroutine, so the console's event loop never waits on the disk. Encoding happens on
// that goroutine too, which is why callers pass values they will not change afterwards
// (a snapshot, not a live slice of the model).
//
// The journal is what `opsconsole replay` rebuilds a console from (DESIGN.md §6); it
// knows nothing of Bubble Tea: the console decides what a message's kind and data are.
type Recorder struct {
	w       recordWriter
	buf     *bufio.Writer
	queue   chan record
	stop    chan struct{}
	done    chan struct{}
	closed  atomic.Bool
	dropped atomic.Int64

	closeOnce sync.Once
	closeErr  error
	// err is the first write or encode failure of the writer goroutine; it is reported by
	// Close, since Record has no caller to tell.
	err error
}

// recordWriter is what the journal goes to: an *os.File in production, a fake in tests
// that checks the fsync.
type recordWriter interface {
	io.Writer
	Sync() error
	Close() error
}

type record struct {
	kind string
	at   time.Time
	data any
}

// line is the journal's line format. Err is set instead of Data when a record's data
// could not be encoded, so a bad record still leaves its time and kind in the journal.
type line struct {
	T    string          `json:"t"`
	Kind string          `json:"kind"`
	Data json.RawMessage `json:"data,omitempty"`
	Err  string          `json:"error,omitempty"`
}

// NewRecorder creates the journal at path and starts its writer. The directory is created
// 0700 and the file 0600 (a journal holds host names, commands and keystrokes); an
// existing file is an error rather than something to append to or overwrite, because two
// sessions interleaved in one journal could not be replayed.
func NewRecorder(path string) (*Recorder, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return startRecorder(f, DefaultRecorderQueue), nil
}

// RecordingPath is the default journal path for a session started at t:
// <stateDir>/recordings/<UTC timestamp>.jsonl. The timestamp has no colons, so the name
// is valid on every filesystem, and it sorts by start time.
func RecordingPath(stateDir string, t time.Time) string {
	return filepath.Join(stateDir, "recordings", t.UTC().Format("20060102T150405.000000000Z")+".jsonl")
}

func startRecorder(w recordWriter, queue int) *Recorder {
	if queue <= 0 {
		queue = DefaultRecorderQueue
	}
	r := &Recorder{
		w:     w,
		buf:   bufio.NewWriterSize(w, 64<<10),
		queue: make(chan record, queue),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go r.run()
	return r
}

// Record queues one journal line. It never blocks: when the queue is full the record is
// dropped and counted (see Dropped). Records after Close are ignored. data must be
// encodable by encoding/json and must not be modified after the call.
func (r *Recorder) Record(kind string, at time.Time, data any) {
	if r == nil || r.closed.Load() {
		return
	}
	select {
	case r.queue <- record{kind: kind, at: at, data: data}:
	default:
		r.dropped.Add(1)
	}
}

// Dropped counts records lost because the queue was full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// Close writes what is queued, notes any dropped records in a final "dropped" line (so a
// replay knows the journal has gaps), flushes, fsyncs and closes the file. It returns the
// first error the writer met. Close is safe to call more than once.
func (r *Recorder) Close() error {
	if r == nil {
		return nil
	}
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		close(r.stop)
		<-r.done
		if n := r.dropped.Load(); n > 0 {
			r.write(record{kind: "dropped", at: time.Now(), data: map[string]int64{"count": n}})
		}
		err := r.err
		if ferr := r.buf.Flush(); err == nil {
			err = ferr
		}
		if serr := r.w.Sync(); err == nil {
			err = serr
		}
		if cerr := r.w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			r.closeErr = fmt.Errorf("recording: %w", err)
		}
	})
	return r.closeErr
}

func (r *Recorder) run() {
	defer close(r.done)
	for {
		select {
		case rec := <-r.queue:
			r.write(rec)
		case <-r.stop:
			// Take what was queued before Close; anything racing in after is dropped
			// with the closed recorder.
			for {
				select {
				case rec := <-r.queue:
					r.write(rec)
				default:
					return
				}
			}
		}
		// Flush when the queue runs dry rather than per line: a burst becomes one write,
		// and a quiet console has its journal in the file (if not yet fsync'd) within moments.
		if len(r.queue) == 0 {
			r.keep(r.buf.Flush())
		}
	}
}

func (r *Recorder) write(rec record) {
	l := line{T: rec.at.Format(time.RFC3339Nano), Kind: rec.kind}
	if rec.data != nil {
		data, err := json.Marshal(rec.data)
		if err != nil {
			l.Err = "unencodable data: " + err.Error()
		} else {
			l.Data = data
		}
	}
	b, err := json.Marshal(l)
	if err != nil {
		// Unreachable: every field of line is a string or valid JSON.
		r.keep(err)
		return
	}
	b = append(b, '\n')
	if _, err := r.buf.Write(b); err != nil {
		r.keep(err)
	}
}

// keep remembers the writer's first error for Close.
func (r *Recorder) keep(err error) {
	if err != nil && r.err == nil {
		r.err = err
	}
}
