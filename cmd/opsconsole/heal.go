package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/ops/heal"
	"github.com/opsconsole/opsconsole/ops/runbook"
	"github.com/opsconsole/opsconsole/sessions"
)

// healCandidate is one automatic heal a rule asks for: the incident, the suggestion,
// the exact plan, and whether the limiter lets it run now.
type healCandidate struct {
	inc  heal.Incident
	sug  heal.Suggestion
	rule heal.Rule
	host config.Host
	plan runbook.Plan
	// held says why it does not run now; empty when it may.
	held string
}

func (c healCandidate) reason() string { return heal.Reason(c.inc, c.sug, true) }

// runHeal is `opsconsole heal [-H PATTERN] [--yes|--dry-run] [--format text|json]`: one
// check round over the hosts, the `[[heal]]` rules evaluated over it, and for each
// incident whose rule is automatic and allowed by the limits, its runbook on that host,
// through the gate and the audit log like any other run. It is meant for cron: the
// limiter's state (runs per host per hour, runs in flight) lives in
// $XDG_STATE_HOME/opsconsole/heal-state.json, so repeated invocations respect the same
// limits as one long-running console.
func runHeal(ctx context.Context, args []string, io stdio) error {
	var c common
	var yes, dryRun bool
	fs := flag.NewFlagSet("heal", flag.ContinueOnError)
	c.register(fs)
	fs.BoolVar(&yes, "yes", false, "run the automatic heals the rules and limits allow (see them with --dry-run)")
	fs.BoolVar(&yes, "y", false, "same as --yes")
	fs.BoolVar(&dryRun, "dry-run", false, "print the plan of every heal that would run, and run nothing")
	pos, dash, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos)+len(dash) > 0 {
		return usagef("heal: unexpected argument %q (usage: opsconsole heal [-H PATTERN] [--yes|--dry-run])", append(pos, dash...)[0])
	}
	if err := c.checkFormat("text", "json"); err != nil {
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
	rules, err := heal.Parse(cfg, rbs)
	if err != nil {
		return configError{err}
	}
	if len(rules) == 0 {
		return usagef("heal: the configuration defines no [[heal]] rules")
	}
	hosts, err := c.selectHosts(cfg)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if len(r.Trigger.Conds) == 0 {
			fmt.Fprintf(io.err, "heal: rule %q needs %s results, which only the console has; skipped\n", r.Name, r.Trigger.Kind())
		}
	}

	pool := newPool(cfg)
	defer pool.Close()
	round := time.Now()
	prog := newProgress(io, "heal: check", len(hosts))
	var reports []fleet.Report
	for r := range fleet.Check(ctx, pool, hosts, fleet.CheckOptions{
		Concurrency: cfg.Defaults.Concurrency, Timeout: c.timeout, Thresholds: cfg.Thresholds,
	}) {
		prog.step()
		// One round is one moment: incidents of equal severity then come in host order,
		// not in the order the hosts happened to answer.
		r.Time = round
		reports = append(reports, r)
	}
	prog.clear()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	incs := heal.Evaluate(rules, reports, round)

	statePath := heal.DefaultStatePath(config.Env(io.env))
	lim, err := heal.LoadState(statePath)
	if err != nil {
		return err
	}
	byName := map[string]config.Host{}
	for _, h := range cfg.Hosts {
		byName[h.Name] = h
	}
	var cands []healCandidate
	for _, inc := range incs {
		for _, s := range inc.Suggestions {
			if !s.Auto {
				continue
			}
			rule, _ := heal.Find(rules, s.Rule)
			cand := healCandidate{inc: inc, sug: s, rule: rule, host: byName[inc.Host]}
			if cand.plan, err = heal.Plan(rule, rbs, cand.host); err != nil {
				cand.held = err.Error()
			} else if _, probe := cand.plan.Needs(); probe {
				cand.held = "runbook " + rule.Runbook + " has a probe precondition; probe results are only available in the console"
			}
			cands = append(cands, cand)
		}
	}
	// Judge the candidates as if each allowed one had started, so the group's share and
	// the one-run-per-host rule apply within this round too.
	cands, _ = allowCandidates(cands, lim, round)
	fmt.Fprintf(io.err, "heal: %s checked, %s; %s\n", healPlural(len(hosts), "host"), healPlural(len(incs), "incident"), candidateSummary(cands))

	var steps []gate.Step
	for _, cand := range cands {
		if cand.held == "" {
			steps = append(steps, cand.plan.Action(cand.reason()).Steps...)
		}
	}
	if len(steps) == 0 {
		printHeld(io, cands)
		if c.format == "json" {
			return writeJSON(io, healDoc(incs, cands, nil, false))
		}
		return nil
	}
	decision, why := gate.Decide(gate.Action{Kind: "heal", Name: "automatic self-heal", Steps: steps},
		gate.Mode{Yes: yes, DryRun: dryRun, ReadOnly: cfg.ReadOnly})
	switch decision {
	case gate.DryRun:
		if c.format == "json" {
			return writeJSON(io, healDoc(incs, cands, nil, true))
		}
		return printHealPlans(io, cands)
	case gate.RefusedReadOnly, gate.RefusedNeedsConfirmation:
		printHeld(io, cands)
		return refusedError{why}
	}

	log, err := openAudit(cfg, io)
	if err != nil {
		return err
	}
	defer log.Close()
	// Reserve the runs in the state file under its lock, before anything runs: a
	// concurrent `heal` (an overlapping cron job, a console) sees them in flight, and a
	// crash mid-run still counts them against the hourly limit.
	var reserved []healCandidate
	if _, err := heal.UpdateState(statePath, round, heal.Retention(rules), func(l heal.Limiter) heal.Limiter {
		cands, l = allowCandidates(resetHeld(cands), l, round)
		reserved = reserved[:0]
		for _, cand := range cands {
			if cand.held == "" {
				reserved = append(reserved, cand)
			}
		}
		return l
	}); err != nil {
		return fmt.Errorf("%w; nothing was run", err)
	}
	printHeld(io, cands)

	opt := runbook.Options{Concurrency: cfg.Defaults.Concurrency, OutputLimit: cfg.Defaults.OutputLimit, DefaultTimeout: c.timeout}
	shared := healSyncIO(io)
	results := make([]healResult, len(reserved))
	var wg sync.WaitGroup
	for i, cand := range reserved {
		wg.Go(func() {
			results[i] = runOneHeal(ctx, cand, pool, log, opt, shared, c.format)
			if _, err := heal.UpdateState(statePath, time.Now(), heal.Retention(rules), func(l heal.Limiter) heal.Limiter {
				return l.Finished(cand.rule, cand.host.Name, time.Now())
			}); err != nil {
				fmt.Fprintf(shared.err, "heal: %s: the end of the run was not recorded in %s: %v\n", cand.host.Name, statePath, err)
			}
		})
	}
	wg.Wait()

	failed := false
	for _, r := range results {
		failed = failed || r.err != nil || !r.out.OK()
	}
	if c.format == "json" {
		if err := writeJSON(io, healDoc(incs, cands, results, false)); err != nil {
			return err
		}
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case failed:
		return errSomeFailed
	}
	return nil
}

// allowCandidates asks the limiter about each candidate in order (worst incident first),
// recording each allowed one as started so the next is judged with it in flight.
func allowCandidates(cands []healCandidate, l heal.Limiter, now time.Time) ([]healCandidate, heal.Limiter) {
	for i := range cands {
		if cands[i].held != "" {
			continue
		}
		if ok, why := l.Allow(cands[i].rule, cands[i].host.Name, now); !ok {
			cands[i].held = why
			continue
		}
		l = l.Started(cands[i].rule, cands[i].host.Name, now)
	}
	return cands, l
}

// resetHeld forgets the limiter's answers (keeping the other reasons a candidate cannot
// run), so candidates can be judged again against the state as it is under the lock.
func resetHeld(cands []healCandidate) []healCandidate {
	out := make([]healCandidate, len(cands))
	for i, c := range cands {
		out[i] = c
		if c.plan.Runbook != "" {
			if _, probe := c.plan.Needs(); !probe {
				out[i].held = ""
			}
		}
	}
	return out
}

func candidateSummary(cands []healCandidate) string {
	if len(cands) == 0 {
		return "no automatic rule applies"
	}
	run := 0
	for _, c := range cands {
		if c.held == "" {
			run++
		}
	}
	return fmt.Sprintf("%s allowed now, %d held back", healPlural(run, "automatic heal"), len(cands)-run)
}

// printHeld says on stderr why each held candidate does not run now.
func printHeld(io stdio, cands []healCandidate) {
	for _, c := range cands {
		if c.held != "" {
			fmt.Fprintf(io.err, "heal: %s: %s (rule %s) held back: %s\n", c.inc.Host, c.sug.Runbook, c.rule.Name, c.held)
		}
	}
}

// printHealPlans is the dry run: the exact plan of every heal that would run, each
// under a line saying what it answers, and a line for each one held back.
func printHealPlans(io stdio, cands []healCandidate) error {
	for _, c := range cands {
		if c.held != "" {
			fmt.Fprintf(io.out, "# %s: %s (rule %s) held back now: %s\n\n", c.inc.Host, c.sug.Runbook, c.rule.Name, c.held)
			continue
		}
		fmt.Fprintf(io.out, "# %s: %s → %s (rule %s)\n", c.inc.Host, c.sug.Why, c.sug.Runbook, c.rule.Name)
		if err := printPlan(io, "text", c.plan); err != nil {
			return err
		}
		fmt.Fprintln(io.out)
	}
	return nil
}

// healResult is one heal that ran; summary is its run's JSON summary, as `run` writes it.
type healResult struct {
	cand    healCandidate
	out     runbook.Outcome
	summary json.RawMessage
	err     error
}

// runOneHeal runs one approved heal with the audit log, reporting it as `opsconsole run`
// does (runReporter): progress and failures on stderr, each host's final state on
// stdout in text, the run's summary document in json.
func runOneHeal(ctx context.Context, cand healCandidate, pool *sessions.Pool, log *audit.Log, opt runbook.Options,
	io stdio, format string) healResult {
	opt.Reason = cand.reason()
	if metric, _ := cand.plan.Needs(); metric {
		opt.Metric = runbook.RemoteMetrics(pool, opt.DefaultTimeout)
	}
	fmt.Fprintf(io.err, "heal: %s: running %s (rule %s: %s)\n", cand.host.Name, cand.plan.Runbook, cand.rule.Name, cand.sug.Why)
	var summary bytes.Buffer
	rio := io
	if format == "json" {
		rio.out = &summary
	}
	rep := &runReporter{io: rio, format: format, steps: len(cand.plan.Steps), enc: json.NewEncoder(rio.out)}
	out := runbook.Run(ctx, cand.plan, pool, log, rep.observe, opt)
	res := healResult{cand: cand, out: out}
	if out.ID == "" {
		res.err = fmt.Errorf("%w; nothing was run", out.Err)
		fmt.Fprintf(io.err, "heal: %s: %v\n", cand.host.Name, res.err)
		return res
	}
	if err := rep.final(out, log.Path()); err != nil {
		res.err = err
	}
	if format == "json" {
		res.summary = json.RawMessage(bytes.TrimSpace(summary.Bytes()))
	}
	return res
}

// healSyncIO makes io safe for heals reporting at once: every write to stdout or stderr
// is whole, and never concurrent with another.
func healSyncIO(s stdio) stdio {
	var mu sync.Mutex
	s.out = &healSyncWriter{mu: &mu, w: s.out}
	s.err = &healSyncWriter{mu: &mu, w: s.err}
	return s
}

type healSyncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *healSyncWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

type healSuggestionJSON struct {
	Rule    string `json:"rule"`
	Runbook string `json:"runbook"`
	Auto    bool   `json:"auto"`
	Why     string `json:"why,omitempty"`
}

type healIncidentJSON struct {
	ID          string               `json:"id"`
	Host        string               `json:"host"`
	Kind        string               `json:"kind"`
	Severity    string               `json:"severity"`
	Since       time.Time            `json:"since"`
	Detail      string               `json:"detail"`
	Suggestions []healSuggestionJSON `json:"suggestions"`
}

type healJSON struct {
	Incident string          `json:"incident"`
	Host     string          `json:"host"`
	Rule     string          `json:"rule"`
	Runbook  string          `json:"runbook"`
	Why      string          `json:"why"`
	Status   string          `json:"status"` // planned, held, ran
	Held     string          `json:"held_because,omitempty"`
	Plan     *runbook.Plan   `json:"plan,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    string          `json:"error,omitempty"`
}

type healDocJSON struct {
	Incidents []healIncidentJSON `json:"incidents"`
	Heals     []healJSON         `json:"heals"`
}

// healDoc is the json output: the incidents found and what became of each automatic
// heal (held back, planned by a dry run, or run with its result).
func healDoc(incs []heal.Incident, cands []healCandidate, results []healResult, dry bool) healDocJSON {
	doc := healDocJSON{Incidents: []healIncidentJSON{}, Heals: []healJSON{}}
	for _, in := range incs {
		j := healIncidentJSON{ID: in.ID, Host: in.Host, Kind: string(in.Kind), Severity: in.Severity.String(),
			Since: in.Since, Detail: in.Detail, Suggestions: []healSuggestionJSON{}}
		for _, s := range in.Suggestions {
			j.Suggestions = append(j.Suggestions, healSuggestionJSON{Rule: s.Rule, Runbook: s.Runbook, Auto: s.Auto, Why: s.Why})
		}
		doc.Incidents = append(doc.Incidents, j)
	}
	ran := map[string]healResult{}
	for _, r := range results {
		ran[r.cand.inc.ID+"\x00"+r.cand.rule.Name] = r
	}
	for _, c := range cands {
		h := healJSON{Incident: c.inc.ID, Host: c.inc.Host, Rule: c.rule.Name, Runbook: c.sug.Runbook, Why: c.sug.Why}
		switch r, ok := ran[c.inc.ID+"\x00"+c.rule.Name]; {
		case c.held != "":
			h.Status, h.Held = "held", c.held
		case ok:
			h.Status, h.Result = "ran", r.summary
			if r.err != nil {
				h.Error = r.err.Error()
			}
		case dry:
			p := c.plan
			h.Status, h.Plan = "planned", &p
		default:
			h.Status = "not run"
		}
		doc.Heals = append(doc.Heals, h)
	}
	return doc
}

func healPlural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
