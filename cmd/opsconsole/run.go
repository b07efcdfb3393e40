package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/ops/runbook"
	"github.com/opsconsole/opsconsole/sessions"
)

// runRun is `opsconsole run RUNBOOK [-H PATTERN] [--var k=v]... [--yes|--dry-run]
// [--reason TEXT]`: render the runbook's exact plan, pass it through the gate, write the
// audit intent, then run it.
func runRun(ctx context.Context, args []string, io stdio) error {
	var c common
	var yes, dryRun bool
	var reason string
	vars := map[string]string{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	c.register(fs)
	fs.BoolVar(&yes, "yes", false, "run without asking (the plan is shown by --dry-run)")
	fs.BoolVar(&yes, "y", false, "same as --yes")
	fs.BoolVar(&dryRun, "dry-run", false, "print the exact plan and exit")
	fs.StringVar(&reason, "reason", "", "why you run it; recorded in the audit log (required by runbooks with require_reason)")
	fs.Func("var", "set a runbook variable, name=value (repeatable)", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("want name=value, not %q", s)
		}
		if _, dup := vars[k]; dup {
			return fmt.Errorf("variable %q given twice", k)
		}
		vars[k] = v
		return nil
	})
	pos, dash, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	words := append(pos, dash...)
	if err := c.checkFormat("text", "json", "jsonl"); err != nil {
		return err
	}
	cfg, err := c.load(io)
	if err != nil {
		return err
	}
	rbs, err := runbook.Parse(cfg)
	if err != nil {
		return configError{err}
	}
	if len(words) != 1 {
		return usagef("run: name one runbook (usage: opsconsole run RUNBOOK [-H PATTERN] [--var k=v]... [--yes|--dry-run]); %s", available(rbs))
	}
	rb, ok := runbook.Find(rbs, words[0])
	if !ok {
		return usagef("no runbook %q; %s", words[0], available(rbs))
	}
	pattern := c.hosts
	if pattern == "" {
		pattern = rb.Hosts
	}
	if pattern == "" {
		return usagef("runbook %q names no hosts: give -H PATTERN", rb.Name)
	}
	hosts, err := config.Resolve(cfg.Hosts, pattern)
	if err != nil {
		return usagef("%v", err)
	}
	plan, err := runbook.NewPlan(rb, hosts, vars)
	if err != nil {
		return usagef("%v", err)
	}
	metric, probe := plan.Needs()
	if probe {
		return usagef("runbook %q has a probe precondition; probe results are only available in the console", rb.Name)
	}

	decision, why := gate.Decide(plan.Action(reason), gate.Mode{Yes: yes, DryRun: dryRun, ReadOnly: cfg.ReadOnly})
	switch decision {
	case gate.RefusedReadOnly:
		return refusedError{why}
	case gate.DryRun:
		return printPlan(io, c.format, plan)
	}
	// A missing reason is reported before a missing --yes, so that the operator fixes the
	// command line once.
	if rb.RequireReason && strings.TrimSpace(reason) == "" {
		return usagef("runbook %q requires a reason: give --reason TEXT (it goes into the audit log)", rb.Name)
	}
	if decision != gate.Proceed {
		return refusedError{why}
	}

	log, err := openAudit(cfg, io)
	if err != nil {
		return err
	}
	defer log.Close()
	pool := newPool(cfg)
	defer pool.Close()

	opt := runbook.Options{Reason: reason, Concurrency: cfg.Defaults.Concurrency,
		OutputLimit: cfg.Defaults.OutputLimit, DefaultTimeout: c.timeout}
	if metric {
		opt.Metric = runbook.RemoteMetrics(pool, c.timeout)
	}
	rep := &runReporter{io: io, format: c.format, steps: len(plan.Steps), enc: json.NewEncoder(io.out)}
	out := runbook.Run(ctx, plan, pool, log, rep.observe, opt)
	if out.ID == "" {
		return fmt.Errorf("%w; nothing was run", out.Err)
	}
	if err := rep.final(out, log.Path()); err != nil {
		return err
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case out.Err != nil:
		return out.Err
	case !out.OK():
		return errSomeFailed
	}
	return nil
}

func available(rbs []runbook.Runbook) string {
	if len(rbs) == 0 {
		return "the configuration defines no [[runbooks]]"
	}
	return "runbooks: " + strings.Join(runbook.Names(rbs), ", ")
}

func printPlan(io stdio, format string, p runbook.Plan) error {
	switch format {
	case "json":
		return writeJSON(io, p)
	case "jsonl":
		return json.NewEncoder(io.out).Encode(p)
	}
	_, err := fmt.Fprint(io.out, p.Text())
	return err
}

// runReporter turns a run's events into output: in text, each host's state changes and
// the output of failed commands; in jsonl, every event as it happens; in json, one
// document at the end.
type runReporter struct {
	io     stdio
	format string
	steps  int
	enc    *json.Encoder
	err    error
}

type eventJSON struct {
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	ID         string    `json:"id"`
	Host       string    `json:"host,omitempty"`
	Step       int       `json:"step,omitempty"`
	Phase      string    `json:"phase,omitempty"`
	Command    string    `json:"command,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	DurationMS float64   `json:"duration_ms,omitempty"`
	State      string    `json:"state,omitempty"`
	Note       string    `json:"note,omitempty"`
}

func (r *runReporter) observe(ev runbook.Event) {
	switch r.format {
	case "jsonl":
		if ev.Kind == runbook.EventDone {
			return // final writes the summary
		}
		j := eventJSON{Time: ev.Time, Kind: string(ev.Kind), ID: string(ev.ID), Host: ev.Host, Step: ev.Step,
			Phase: ev.Phase, Command: ev.Command, State: string(ev.State), Note: ev.Note}
		if ev.Result != nil {
			code := ev.Result.ExitCode
			j.Outcome, j.ExitCode, j.DurationMS = string(ev.Result.Outcome), &code, audit.Millis(ev.Result.Duration())
		}
		if err := r.enc.Encode(j); err != nil && r.err == nil {
			r.err = err
		}
	case "text":
		switch ev.Kind {
		case runbook.EventStarted:
			fmt.Fprintf(r.io.err, "run: audit id %s\n", ev.ID)
		case runbook.EventCommandDone:
			if ev.Result.Outcome != sessions.OutcomeOK && ev.Phase != audit.PhaseWhen {
				fmt.Fprintf(r.io.err, "%s: step %d %s: %s\n", ev.Host, ev.Step, ev.Phase, ev.Command)
				printPrefixed(r.io, *ev.Result)
			}
		case runbook.EventHostState:
			// Live transitions are progress: on a terminal only. The final state of every
			// host goes to stdout at the end, in plan order.
			if !r.io.errTTY || ev.State == runbook.StateRunning || ev.State == runbook.StatePending {
				return
			}
			fmt.Fprintln(r.io.err, hostLine(ev.Host, ev.State, ev.Note))
		}
	}
}

func hostLine(host string, st runbook.HostState, note string) string {
	line := fmt.Sprintf("%s: %s", host, st)
	if note != "" {
		line += " (" + note + ")"
	}
	return line
}

type runResultJSON struct {
	Step       int     `json:"step"`
	Phase      string  `json:"phase"`
	Command    string  `json:"command"`
	Outcome    string  `json:"outcome"`
	ExitCode   int     `json:"exit_code"`
	Stdout     string  `json:"stdout"`
	Stderr     string  `json:"stderr,omitempty"`
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

type runHostJSON struct {
	Host       string          `json:"host"`
	State      string          `json:"state"`
	FailedStep int             `json:"failed_step,omitempty"`
	Note       string          `json:"note,omitempty"`
	Results    []runResultJSON `json:"results"`
}

type runSummaryJSON struct {
	Kind       string         `json:"kind"`
	ID         string         `json:"id"`
	Runbook    string         `json:"runbook"`
	OK         bool           `json:"ok"`
	Cancelled  bool           `json:"cancelled,omitempty"`
	Error      string         `json:"error,omitempty"`
	Counts     map[string]int `json:"counts"`
	DurationMS float64        `json:"duration_ms"`
	AuditLog   string         `json:"audit_log"`
	Hosts      []runHostJSON  `json:"hosts,omitempty"`
}

func (r *runReporter) final(out runbook.Outcome, logPath string) error {
	if r.err != nil {
		return r.err
	}
	counts := map[string]int{}
	for st, n := range out.Counts() {
		counts[string(st)] = n
	}
	sum := runSummaryJSON{Kind: "summary", ID: string(out.ID), Runbook: out.Runbook, OK: out.OK(), Cancelled: out.Cancelled,
		Counts: counts, DurationMS: audit.Millis(out.Ended.Sub(out.Started)), AuditLog: logPath}
	if out.Err != nil {
		sum.Error = out.Err.Error()
	}
	switch r.format {
	case "jsonl":
		return r.enc.Encode(sum)
	case "json":
		for _, h := range out.Hosts {
			hj := runHostJSON{Host: h.Host, State: string(h.State), FailedStep: h.FailedStep, Note: h.Note, Results: []runResultJSON{}}
			for _, cr := range h.Results {
				rj := runResultJSON{Step: cr.Step, Phase: cr.Phase, Command: cr.Command, Outcome: string(cr.Result.Outcome),
					ExitCode: cr.Result.ExitCode, Stdout: string(cr.Result.Stdout), Stderr: string(cr.Result.Stderr),
					DurationMS: audit.Millis(cr.Result.Duration())}
				if cr.Result.Err != nil {
					rj.Error = cr.Result.Err.Error()
				}
				hj.Results = append(hj.Results, rj)
			}
			sum.Hosts = append(sum.Hosts, hj)
		}
		return writeJSON(r.io, sum)
	}
	for _, h := range out.Hosts {
		fmt.Fprintln(r.io.out, hostLine(h.Host, h.State, h.Note))
	}
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
	}
	status := ""
	switch {
	case out.Err != nil:
		status = " (error: " + out.Err.Error() + ")"
	case out.Cancelled:
		status = " (cancelled)"
	}
	fmt.Fprintf(r.io.err, "run %s: %d hosts: %s in %s%s; audit id %s in %s\n", out.Runbook, len(out.Hosts),
		strings.Join(parts, ", "), out.Ended.Sub(out.Started).Round(time.Millisecond), status, out.ID, logPath)
	return nil
}
