package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"syscall"
	"time"
)

// Problem is a line of the log that could not be read as a record.
type Problem struct {
	// Offset is the byte offset where the line starts; Line counts lines from 1.
	Offset int64
	Line   int
	// Torn means the line ends before its JSON does: a write cut short by a crash. The
	// last line of a log that ends without a newline is always torn.
	Torn bool
	Msg  string
}

func (p Problem) String() string {
	what := "unreadable record"
	if p.Torn {
		what = "torn record (a write cut short, e.g. by a crash)"
	}
	return fmt.Sprintf("line %d (byte offset %d): %s: %s", p.Line, p.Offset, what, p.Msg)
}

// Read reads the log at path. It never fails on content: lines that are not records
// (a torn last line, garbage) are skipped and returned as Problems, and every record
// around them is kept. The error is for the file itself (missing, unreadable).
func Read(path string) ([]Record, []Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return Parse(f)
}

// Parse reads records from r; see Read.
func Parse(r io.Reader) ([]Record, []Problem, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var recs []Record
	var probs []Problem
	var off int64
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			start := off
			off += int64(len(line))
			complete := line[len(line)-1] == '\n'
			body := bytes.TrimSpace(line)
			if len(body) > 0 {
				rec, perr := parseLine(body)
				switch {
				case perr != nil:
					probs = append(probs, Problem{Offset: start, Line: n, Torn: !complete || isTruncated(perr), Msg: perr.Error()})
				case !complete:
					// Valid JSON without its newline: the write may still have been cut
					// (a record can be a valid prefix of itself only by accident), but
					// the record is whole; keep it and say so.
					rec.Offset = start
					recs = append(recs, rec)
					probs = append(probs, Problem{Offset: start, Line: n, Torn: true, Msg: "last line has no newline; record kept"})
				default:
					rec.Offset = start
					recs = append(recs, rec)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return recs, probs, nil
		}
		if err != nil {
			return recs, probs, err
		}
	}
}

func parseLine(b []byte) (Record, error) {
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, err
	}
	if rec.ID == "" {
		return rec, errors.New("record has no id")
	}
	switch {
	case rec.Type == TypeIntent && rec.Intent != nil,
		rec.Type == TypeResult && rec.Result != nil,
		rec.Type == TypeDone && rec.Done != nil:
		return rec, nil
	}
	return rec, fmt.Errorf("record of type %q lacks its body", rec.Type)
}

func isTruncated(err error) bool {
	var se *json.SyntaxError
	return errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &se) && se.Error() == "unexpected end of JSON input"
}

// Action is one Action as the log tells it: the intent, every result, and the done
// record when there is one.
type Action struct {
	ID      ActionID
	Time    time.Time
	Intent  Intent
	Results []Result
	// Done is nil while the Action runs, or when it was interrupted.
	Done     *Done
	DoneTime time.Time
}

// Group gathers records by Action, in the order the intents were written. Results and
// done records whose intent is not in records (a log cut by rotation) are left out.
func Group(records []Record) []Action {
	var out []Action
	index := map[ActionID]int{}
	for _, r := range records {
		switch r.Type {
		case TypeIntent:
			if _, dup := index[r.ID]; dup {
				continue
			}
			index[r.ID] = len(out)
			out = append(out, Action{ID: r.ID, Time: r.Time, Intent: *r.Intent})
		case TypeResult:
			if i, ok := index[r.ID]; ok {
				out[i].Results = append(out[i].Results, *r.Result)
			}
		case TypeDone:
			if i, ok := index[r.ID]; ok && out[i].Done == nil {
				out[i].Done = r.Done
				out[i].DoneTime = r.Time
			}
		}
	}
	return out
}

// HostProgress is how far one host of an interrupted run got.
type HostProgress struct {
	Host string
	// Last is the host's last result.
	Last Result
	// Results are all of the host's results, in order.
	Results []Result
}

// Failed reports whether the host's last result was not a success.
func (p HostProgress) Failed() bool {
	return p.Last.Outcome != "ok" && p.Last.Outcome != OutcomeSkipped
}

// Run is an Action whose intent has no done record: it crashed, was killed, or is still
// running (see Run.MaybeRunning).
type Run struct {
	Action
	// Started lists the hosts with at least one result, in plan order.
	Started []HostProgress
	// NotStarted lists the planned hosts without any result: nothing recorded ran there,
	// although a command may have begun and not reported.
	NotStarted []string
}

// Interrupted returns the Actions in records that have an intent and no done record,
// oldest first, with which hosts reported and which did not.
func Interrupted(records []Record) []Run {
	var out []Run
	for _, a := range Group(records) {
		if a.Done != nil {
			continue
		}
		out = append(out, Progress(a))
	}
	return out
}

// Progress says, for any Action, which planned hosts reported a result and which did
// not; for a finished one it is a per-host digest of its results.
func Progress(a Action) Run {
	run := Run{Action: a}
	byHost := map[string]*HostProgress{}
	for _, r := range a.Results {
		p := byHost[r.Host]
		if p == nil {
			p = &HostProgress{Host: r.Host}
			byHost[r.Host] = p
		}
		p.Results = append(p.Results, r)
		p.Last = r
	}
	hosts := a.Intent.Hosts
	if len(hosts) == 0 {
		hosts = planHosts(a.Intent.When, a.Intent.Steps)
	}
	for _, h := range hosts {
		if p := byHost[h]; p != nil {
			run.Started = append(run.Started, *p)
			delete(byHost, h)
		} else {
			run.NotStarted = append(run.NotStarted, h)
		}
	}
	// Results for hosts outside the plan should not exist; show them rather than hide
	// them.
	for _, h := range slices.Sorted(maps.Keys(byHost)) {
		run.Started = append(run.Started, *byHost[h])
	}
	return run
}

// MaybeRunning reports whether the process that wrote the intent may still be running.
// A false answer is certain: the intent came from this machine and no process has its pid
// any more, so the run was interrupted. A true one may be a reused pid, or a run on
// another machine sharing the log, which cannot be checked from here.
func (r Run) MaybeRunning() bool {
	w := r.Intent.Who
	host, _ := os.Hostname()
	if w.PID <= 0 {
		return false
	}
	if w.Machine == "" || w.Machine != host {
		return true
	}
	err := syscall.Kill(w.PID, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
