package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/ops/audit"
)

// runAudit is `opsconsole audit [--since D] [--id ID] [--format text|json|jsonl]`: what
// was done, by whom, with what result; lines the log could not hold (a torn write) on
// stderr; runs that never finished (an intent without done) called out.
func runAudit(ctx context.Context, args []string, io stdio) error {
	var c common
	var since, id string
	fset := flag.NewFlagSet("audit", flag.ContinueOnError)
	c.register(fset)
	fset.StringVar(&since, "since", "", "only actions since: a duration (90m, 24h, 7d) or a time (2026-11-22, RFC 3339)")
	fset.StringVar(&id, "id", "", "show one action in full")
	pos, dash, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos)+len(dash) > 0 {
		return usagef("audit: unexpected argument %q", append(pos, dash...)[0])
	}
	if err := c.checkFormat("text", "json", "jsonl"); err != nil {
		return err
	}
	var from time.Time
	if since != "" {
		if from, err = parseSince(since, time.Now()); err != nil {
			return usagef("--since: %v", err)
		}
	}
	cfg, err := c.load(io)
	if err != nil {
		return err
	}
	settings, err := audit.FromConfig(cfg, io.env)
	if err != nil {
		return configError{err}
	}
	recs, probs, err := audit.Read(settings.Path)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(io.err, "opsconsole: no audit log at %s (nothing recorded yet)\n", settings.Path)
		recs, err = nil, nil
	}
	if err != nil {
		return err
	}
	for _, p := range probs {
		fmt.Fprintf(io.err, "opsconsole: %s: %s\n", settings.Path, p)
	}

	actions := audit.Group(recs)
	keep := func(a audit.Action) bool {
		return !a.Time.Before(from) && (id == "" || string(a.ID) == id)
	}
	if id != "" && !slices.ContainsFunc(actions, keep) {
		return usagef("audit: no action %q in %s", id, settings.Path)
	}
	switch c.format {
	case "jsonl":
		ids := map[audit.ActionID]bool{}
		for _, a := range actions {
			if keep(a) {
				ids[a.ID] = true
			}
		}
		enc := json.NewEncoder(io.out)
		for _, r := range recs {
			if ids[r.ID] {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
		}
		return nil
	case "json":
		return writeJSON(io, auditJSON(settings.Path, actions, probs, keep))
	}
	var runs []audit.Run
	for _, r := range audit.Interrupted(recs) {
		if keep(r.Action) {
			runs = append(runs, r)
		}
	}
	for _, a := range actions {
		if !keep(a) {
			continue
		}
		fmt.Fprintln(io.out, actionLine(a))
		if id != "" {
			printActionDetail(io, a)
		}
	}
	if len(runs) > 0 {
		fmt.Fprintf(io.out, "\n%d interrupted %s (an intent without a done record):\n", len(runs), pluralWord(len(runs), "run", "runs"))
		for _, r := range runs {
			printInterrupted(io, r)
		}
	}
	return nil
}

// parseSince reads a duration back from now (Go syntax, plus d for days) or a time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.ParseFloat(n, 64); err == nil && days >= 0 {
			return now.Add(-time.Duration(days * 24 * float64(time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q is negative", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (24h, 7d) nor a time (2026-11-22, 2026-11-22T10:00:00Z)", s)
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func who(w audit.Who) string {
	s := w.User
	if w.SudoUser != "" && w.SudoUser != w.User {
		s = w.SudoUser + " as " + s
	}
	if w.SSHClient != "" {
		s += " from " + strings.Fields(w.SSHClient)[0]
	} else if w.SSHConnection != "" {
		s += " from " + strings.Fields(w.SSHConnection)[0]
	}
	return s
}

// actionLine is one line per action: when, id, who, what, where, how it ended, why.
func actionLine(a audit.Action) string {
	in := a.Intent
	status := "RUNNING OR INTERRUPTED"
	if a.Done != nil {
		status = a.Done.Outcome
		if len(a.Done.Counts) > 0 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(a.Done.Counts)) {
				parts = append(parts, fmt.Sprintf("%d %s", a.Done.Counts[k], k))
			}
			status += " (" + strings.Join(parts, ", ") + ")"
		}
	}
	line := fmt.Sprintf("%s  %s  %s  %s %s  %d %s  %s", a.Time.Local().Format("2006-01-02 15:04:05"), a.ID, who(in.Who),
		in.Kind, in.Name, len(in.Hosts), pluralWord(len(in.Hosts), "host", "hosts"), status)
	if in.Reason != "" {
		line += "  reason: " + in.Reason
	}
	return line
}

func printActionDetail(io stdio, a audit.Action) {
	in := a.Intent
	fmt.Fprintf(io.out, "  version %s, pid %d on %s\n", in.Version, in.Who.PID, in.Who.Machine)
	for _, s := range in.When {
		fmt.Fprintf(io.out, "  when %s %s on %s\n", s.Name, s.Command, strings.Join(s.Hosts, ", "))
	}
	for _, s := range in.Steps {
		fmt.Fprintf(io.out, "  step %d %s on %s\n    run: %s\n", s.Step, s.Name, strings.Join(s.Hosts, ", "), s.Command)
		if s.Check != "" {
			fmt.Fprintf(io.out, "    check: %s\n", s.Check)
		}
		if s.Rollback != "" {
			fmt.Fprintf(io.out, "    rollback: %s\n", s.Rollback)
		}
	}
	for _, r := range a.Results {
		line := fmt.Sprintf("  %s  %s step %d %s: %s exit %d (%.1f ms)", r.Started.Local().Format("15:04:05.000"), r.Host,
			r.Step, r.Phase, r.Outcome, r.ExitCode, r.DurationMS)
		if r.FirstLine != "" {
			line += fmt.Sprintf(" %q", r.FirstLine)
		}
		if r.Error != "" {
			line += " error: " + r.Error
		}
		if r.Note != "" {
			line += " — " + r.Note
		}
		fmt.Fprintln(io.out, line)
	}
	if a.Done != nil && a.Done.Error != "" {
		fmt.Fprintf(io.out, "  error: %s\n", a.Done.Error)
	}
}

func printInterrupted(io stdio, r audit.Run) {
	in := r.Intent
	fmt.Fprintf(io.out, "  %s  %s %s by %s at %s, %d %s\n", r.ID, in.Kind, in.Name, who(in.Who),
		r.Time.Local().Format("2006-01-02 15:04:05"), len(in.Hosts), pluralWord(len(in.Hosts), "host", "hosts"))
	if r.MaybeRunning() {
		fmt.Fprintf(io.out, "    pid %d on %s may still be running it\n", in.Who.PID, in.Who.Machine)
	}
	for _, p := range r.Started {
		fmt.Fprintf(io.out, "    %s: last reported step %d %s: %s\n", p.Host, p.Last.Step, p.Last.Phase, p.Last.Outcome)
	}
	if len(r.NotStarted) > 0 {
		fmt.Fprintf(io.out, "    no result from: %s\n", strings.Join(r.NotStarted, ", "))
	}
}

type auditActionJSON struct {
	ID          audit.ActionID `json:"id"`
	Time        time.Time      `json:"time"`
	Intent      audit.Intent   `json:"intent"`
	Results     []audit.Result `json:"results"`
	Done        *audit.Done    `json:"done"`
	Interrupted bool           `json:"interrupted"`
	NotStarted  []string       `json:"not_started,omitempty"`
}

type auditProblemJSON struct {
	Line   int    `json:"line"`
	Offset int64  `json:"offset"`
	Torn   bool   `json:"torn"`
	Msg    string `json:"message"`
}

type auditDocJSON struct {
	Log      string             `json:"log"`
	Actions  []auditActionJSON  `json:"actions"`
	Problems []auditProblemJSON `json:"problems"`
}

func auditJSON(path string, actions []audit.Action, probs []audit.Problem, keep func(audit.Action) bool) auditDocJSON {
	doc := auditDocJSON{Log: path, Actions: []auditActionJSON{}, Problems: []auditProblemJSON{}}
	for _, a := range actions {
		if !keep(a) {
			continue
		}
		j := auditActionJSON{ID: a.ID, Time: a.Time, Intent: a.Intent, Results: a.Results, Done: a.Done, Interrupted: a.Done == nil}
		if j.Results == nil {
			j.Results = []audit.Result{}
		}
		if a.Done == nil {
			j.NotStarted = audit.Progress(a).NotStarted
		}
		doc.Actions = append(doc.Actions, j)
	}
	for _, p := range probs {
		doc.Problems = append(doc.Problems, auditProblemJSON{Line: p.Line, Offset: p.Offset, Torn: p.Torn, Msg: p.Msg})
	}
	return doc
}
