package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/ops/gather"
	"github.com/opsconsole/opsconsole/sessions"
)

type resultJSON struct {
	Host       string `json:"host"`
	Outcome    string `json:"outcome"`
	ExitCode   int    `json:"exit_code"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Dropped    int64  `json:"dropped_bytes,omitempty"`
}

func toResultJSON(r sessions.Result) resultJSON {
	j := resultJSON{Host: r.Host, Outcome: string(r.Outcome), ExitCode: r.ExitCode, Stdout: string(r.Stdout),
		Stderr: string(r.Stderr), DurationMS: r.Duration().Milliseconds(), Dropped: r.Dropped}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	return j
}

// tally counts outcomes for the summary line.
type tally map[sessions.Outcome]int

func (t tally) summary(verb string, total int, wall time.Duration) string {
	return fmt.Sprintf("%s: %d hosts: %d ok, %d failed, %d timed out, %d unreachable/error, %d cancelled in %s",
		verb, total, t[sessions.OutcomeOK], t[sessions.OutcomeFailed], t[sessions.OutcomeTimedOut],
		t[sessions.OutcomeError], t[sessions.OutcomeCancelled], wall.Round(time.Millisecond))
}

func (t tally) allOK(total int) bool { return t[sessions.OutcomeOK] == total }

func runExec(ctx context.Context, args []string, io stdio) error {
	var c common
	var yes, dryRun, group bool
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	c.register(fs)
	fs.BoolVar(&yes, "yes", false, "run a command that may change hosts without asking")
	fs.BoolVar(&yes, "y", false, "same as --yes")
	fs.BoolVar(&dryRun, "dry-run", false, "print the plan and exit")
	fs.BoolVar(&group, "group", false, "gather identical outputs (text format)")
	fs.BoolVar(&group, "b", false, "same as --group")
	pos, dash, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	words := append(pos, dash...)
	if len(words) == 0 {
		return usagef("exec: no command (usage: opsconsole exec -H PATTERN -- COMMAND...)")
	}
	command := strings.Join(words, " ")
	if err := c.checkFormat("text", "json", "jsonl"); err != nil {
		return err
	}
	cfg, err := c.load(io)
	if err != nil {
		return err
	}
	hosts, err := c.selectHosts(cfg)
	if err != nil {
		return err
	}
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = h.Name
	}
	action := gate.Action{Kind: "exec", Name: command, Steps: []gate.Step{{Hosts: names, Command: command}}}
	readOnlyCmd := config.IsReadOnlyCommand(command, cfg.ReadOnlyCommands)
	if dryRun {
		fmt.Fprint(io.out, action.Plan())
		if readOnlyCmd {
			fmt.Fprintln(io.out, "  (read-only command: runs without confirmation)")
		}
		return nil
	}
	if !readOnlyCmd {
		switch d, why := gate.Decide(action, gate.Mode{Yes: yes, ReadOnly: cfg.ReadOnly}); d {
		case gate.RefusedReadOnly, gate.RefusedNeedsConfirmation:
			return refusedError{why}
		}
	}

	pool := newPool(cfg)
	defer pool.Close()
	start := time.Now()
	prog := newProgress(io, "exec", len(hosts))
	var results <-chan sessions.Result
	if readOnlyCmd {
		results = pool.FanOut(ctx, hosts, command, c.fanOutOptions(cfg))
	} else {
		// A command that may change hosts is an Action: its intent reaches the audit log
		// (fsync'd) before any host sees it, or it does not run.
		log, err := openAudit(cfg, io)
		if err != nil {
			return err
		}
		defer log.Close()
		if results, err = audit.FanOut(ctx, log, action, pool, hosts, command, c.fanOutOptions(cfg)); err != nil {
			return fmt.Errorf("%w; nothing was run", err)
		}
	}
	t := tally{}
	var all []sessions.Result
	enc := json.NewEncoder(io.out)
	for r := range results {
		t[r.Outcome]++
		prog.step()
		switch {
		case c.format == "jsonl":
			prog.clear()
			if err := enc.Encode(toResultJSON(r)); err != nil {
				return err
			}
		case c.format == "json" || group:
			all = append(all, r)
		default:
			prog.clear()
			printPrefixed(io, r)
		}
	}
	prog.clear()
	wall := time.Since(start)
	switch {
	case c.format == "json":
		out := struct {
			Command string       `json:"command"`
			Results []resultJSON `json:"results"`
			Summary execSummary  `json:"summary"`
		}{Command: command, Summary: newExecSummary(t, len(hosts), wall)}
		sortResults(all)
		for _, r := range all {
			out.Results = append(out.Results, toResultJSON(r))
		}
		if err := writeJSON(io, out); err != nil {
			return err
		}
	case group:
		printGroups(io, gather.Groups(all))
	}
	fmt.Fprintln(io.err, t.summary("exec", len(hosts), wall))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !t.allOK(len(hosts)) {
		return errSomeFailed
	}
	return nil
}

type execSummary struct {
	Hosts      int   `json:"hosts"`
	OK         int   `json:"ok"`
	Failed     int   `json:"failed"`
	TimedOut   int   `json:"timed_out"`
	Error      int   `json:"error"`
	Cancelled  int   `json:"cancelled"`
	DurationMS int64 `json:"duration_ms"`
}

func newExecSummary(t tally, n int, wall time.Duration) execSummary {
	return execSummary{Hosts: n, OK: t[sessions.OutcomeOK], Failed: t[sessions.OutcomeFailed],
		TimedOut: t[sessions.OutcomeTimedOut], Error: t[sessions.OutcomeError],
		Cancelled: t[sessions.OutcomeCancelled], DurationMS: wall.Milliseconds()}
}

func sortResults(rs []sessions.Result) {
	names := make([]string, len(rs))
	by := make(map[string]sessions.Result, len(rs))
	for i, r := range rs {
		names[i] = r.Host
		by[r.Host] = r
	}
	gather.SortHosts(names)
	for i, n := range names {
		rs[i] = by[n]
	}
}

// printPrefixed prints one host's output with every line prefixed by the host, as pdsh
// does: stdout lines to stdout, stderr lines and errors to stderr.
func printPrefixed(io stdio, r sessions.Result) {
	prefixLines(io.out, r.Host, r.Stdout)
	prefixLines(io.err, r.Host, r.Stderr)
	switch r.Outcome {
	case sessions.OutcomeFailed:
		fmt.Fprintf(io.err, "%s: [exit %d]\n", r.Host, r.ExitCode)
	case sessions.OutcomeOK:
	default:
		msg := string(r.Outcome)
		if r.Err != nil {
			msg += ": " + r.Err.Error()
		}
		fmt.Fprintf(io.err, "%s: [%s]\n", r.Host, msg)
	}
}

func prefixLines(w interface{ Write([]byte) (int, error) }, host string, b []byte) {
	if len(b) == 0 {
		return
	}
	bw := bufio.NewWriter(w)
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		bw.WriteString(host)
		bw.WriteString(": ")
		bw.Write(line)
		if line[len(line)-1] != '\n' {
			bw.WriteByte('\n')
		}
	}
	bw.Flush()
}

// printGroups prints gathered outputs as clush -b does: a header with the folded host list
// and count, then the shared output once.
func printGroups(io stdio, groups []gather.Group) {
	for _, g := range groups {
		header := fmt.Sprintf("%s (%d)", gather.Fold(g.Hosts), len(g.Hosts))
		switch g.Outcome {
		case sessions.OutcomeOK:
		case sessions.OutcomeFailed:
			header += fmt.Sprintf(" [exit %d]", g.ExitCode)
		default:
			header += " [" + string(g.Outcome) + "]"
		}
		rule := strings.Repeat("-", min(max(len(header), 15), 78))
		fmt.Fprintf(io.out, "%s\n%s\n%s\n", rule, header, rule)
		io.out.Write(g.Output)
		if len(g.Output) > 0 && g.Output[len(g.Output)-1] != '\n' {
			fmt.Fprintln(io.out)
		}
	}
}

// openAudit opens the audit log the config names (or the default under XDG state).
func openAudit(cfg *config.Config, io stdio) (*audit.Log, error) {
	settings, err := audit.FromConfig(cfg, io.env)
	if err != nil {
		return nil, configError{err}
	}
	log, err := audit.Open(settings.Path, audit.Options{Redactor: settings.Redactor, Env: io.env})
	if err != nil {
		return nil, err
	}
	return log, nil
}
