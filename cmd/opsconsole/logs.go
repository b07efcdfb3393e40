package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/ops/logs"
)

// linesValue is --lines: a count, or "all".
type linesValue struct {
	n   int
	set bool
}

func (v *linesValue) String() string {
	if v.n == logs.BacklogAll {
		return "all"
	}
	return strconv.Itoa(v.n)
}

func (v *linesValue) Set(s string) error {
	v.set = true
	if s == "all" {
		v.n = logs.BacklogAll
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return errors.New(`want a count of lines or "all"`)
	}
	v.n = n
	return nil
}

// sinceBacklog is how far back --since looks when --lines is not given: the pane's
// default ring size, a bound on what one host may send back.
const sinceBacklog = logs.DefaultRingSize

// runLogs prints the merged log stream of the selected hosts:
//
//	opsconsole logs -H PATTERN [--source NAME] [--follow] [--since D] [--grep RE]
//	                [--format text|jsonl] [--duration D] [--lines N|all]
//
// Without --follow it prints the last --lines lines of each stream, ordered by their
// time stamps across hosts, and exits. With --follow it streams until ctrl-C or
// --duration. Exit 1 when a stream failed or was down when the run ended.
func runLogs(ctx context.Context, args []string, io stdio) error {
	var c common
	var (
		follow, ignoreCase, invert bool
		source, grep, level        string
		adhocPath, adhocCmd, parse string
		since, duration            time.Duration
		lines                      = linesValue{n: 10}
	)
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	c.register(fs)
	fs.StringVar(&source, "source", "", "only this [[logs]] source")
	fs.BoolVar(&follow, "follow", false, "keep streaming new lines until ctrl-C or --duration")
	fs.BoolVar(&follow, "f", false, "same as --follow")
	fs.Var(&lines, "lines", `existing lines to show per stream first, or "all" (default 10)`)
	fs.Var(&lines, "n", "same as --lines")
	fs.DurationVar(&since, "since", 0, "only lines stamped within this long ago (e.g. 15m)")
	fs.StringVar(&grep, "grep", "", "only lines matching this regular expression (RE2)")
	fs.BoolVar(&ignoreCase, "ignore-case", false, "--grep ignores case")
	fs.BoolVar(&ignoreCase, "i", false, "same as --ignore-case")
	fs.BoolVar(&invert, "invert", false, "only lines --grep does not match")
	fs.StringVar(&level, "level", "", "only lines of this level or worse: trace, debug, info, warn, error, fatal")
	fs.DurationVar(&duration, "duration", 0, "with --follow, stop after this long")
	fs.StringVar(&adhocPath, "path", "", "follow this file on the selected hosts instead of the configured sources")
	fs.StringVar(&adhocCmd, "command", "", "stream this command's output on the selected hosts instead of the configured sources")
	fs.StringVar(&parse, "parse", "text", "line format of --path/--command: text, json or logfmt")
	pos, dash, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos)+len(dash) > 0 {
		return usagef("logs: unexpected argument %q", append(pos, dash...)[0])
	}
	if err := c.checkFormat("text", "jsonl"); err != nil {
		return err
	}
	if since < 0 || duration < 0 {
		return usagef("logs: --since and --duration must be positive")
	}
	if duration > 0 && !follow {
		return usagef("logs: --duration bounds --follow; without --follow logs prints what exists and exits")
	}
	minLevel := logs.ParseLevel(level)
	if level != "" && minLevel == logs.LevelNone {
		return usagef("logs: --level %q: want trace, debug, info, warn, error or fatal", level)
	}
	filter, err := logs.NewFilter(logs.FilterSpec{Pattern: grep, IgnoreCase: ignoreCase, Invert: invert, MinLevel: minLevel})
	if err != nil {
		return usagef("logs: --grep: %v", err)
	}
	if adhocPath != "" && adhocCmd != "" {
		return usagef("logs: --path and --command exclude each other")
	}

	cfg, err := c.load(io)
	if err != nil {
		return err
	}
	hosts, err := c.selectHosts(cfg)
	if err != nil {
		return err
	}
	var sources []logs.Source
	if adhocPath != "" || adhocCmd != "" {
		if source != "" {
			return usagef("logs: --source names a configured source; --path and --command make their own")
		}
		f, err := logs.ParseFormat(parse)
		if err != nil {
			return usagef("logs: --parse %v", err)
		}
		name := "file"
		if adhocCmd != "" {
			name = "command"
		}
		sources = []logs.Source{{Name: name, Path: adhocPath, Command: adhocCmd, Format: f}}
	} else {
		all, err := logs.Parse(cfg)
		if err != nil {
			return configError{err}
		}
		if len(all) == 0 {
			return usagef("logs: no log sources: add [[logs]] to the config, or use --path FILE or --command CMD")
		}
		sources = all
		if source != "" {
			sources = nil
			var names []string
			for _, s := range all {
				names = append(names, s.Name)
				if s.Name == source {
					sources = append(sources, s)
				}
			}
			if sources == nil {
				return usagef("logs: --source %q: no such log source (have %s)", source, strings.Join(names, ", "))
			}
		}
	}
	targets := logs.Targets(sources, hosts)
	if len(targets) == 0 {
		return usagef("logs: no log source covers the selected hosts")
	}

	opt := logs.Options{Follow: follow, Backlog: lines.n}
	if since > 0 {
		opt.Since = time.Now().Add(-since)
		if !lines.set {
			opt.Backlog = sinceBacklog
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	if duration > 0 {
		runCtx, cancel = context.WithTimeout(ctx, duration)
	}
	defer cancel()
	pool := newPool(cfg)
	defer pool.Close()

	start := time.Now()
	out := newLogPrinter(io, c, targets)
	eng := logs.Start(runCtx, pool, targets, opt)
	var kept []logs.Line // without --follow: printed at the end, as one timeline
	var read, shown, markers int
	for {
		// The engine's own context ends the streams; Next drains what they delivered
		// and then reports io.EOF.
		batch, _, err := eng.Next(context.Background())
		for i := range batch {
			l := &batch[i]
			if l.Marker != logs.NotMarker {
				markers++
			} else {
				read++
			}
			if !filter.Match(*l) {
				continue
			}
			if l.Marker == logs.NotMarker {
				shown++
			}
			if follow {
				out.print(l)
			} else {
				kept = append(kept, *l)
			}
		}
		if err := out.flush(); err != nil {
			cancel()
			eng.Stop()
			return err
		}
		if err != nil {
			break // io.EOF: every stream ended (Next's context never ends)
		}
	}
	if !follow {
		// Streams in target order first, so that lines without time stamps come out in
		// a stable order rather than in the order the hosts happened to answer.
		order := map[[2]string]int{}
		for i, t := range targets {
			order[[2]string{t.Host.Name, t.Source.Name}] = i
		}
		slices.SortStableFunc(kept, func(a, b logs.Line) int {
			return cmp.Compare(order[[2]string{a.Host, a.Source}], order[[2]string{b.Host, b.Source}])
		})
		logs.SortByTime(kept)
		for i := range kept {
			out.print(&kept[i])
		}
		if err := out.flush(); err != nil {
			return err
		}
	}
	bad := summarize(io, eng.States(), read, shown, markers, time.Since(start))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if bad {
		return errSomeFailed
	}
	return nil
}

// summarize writes the stderr summary and reports whether any stream failed or was down
// at the end.
func summarize(io stdio, states []logs.StreamState, read, shown, markers int, wall time.Duration) bool {
	hostSet := map[string]bool{}
	count := map[logs.StreamStatus]int{}
	var problems []string
	reconnects, pauses := 0, 0
	for _, st := range states {
		hostSet[st.Host] = true
		count[st.Status]++
		reconnects += st.Reconnects
		pauses += st.Pauses
		if st.Status != logs.StreamDone {
			why := st.Status.String()
			if st.Err != nil {
				why += ": " + st.Err.Error()
			}
			problems = append(problems, fmt.Sprintf("  %s %s: %s", st.Host, st.Source, why))
		}
	}
	fmt.Fprintf(io.err, "logs: %d streams on %d hosts: %d lines read, %d shown, %d markers; %d ok, %d failed, %d down at the end, in %s\n",
		len(states), len(hostSet), read, shown, markers, count[logs.StreamDone], count[logs.StreamFailed],
		len(states)-count[logs.StreamDone]-count[logs.StreamFailed], wall.Round(time.Millisecond))
	if reconnects+pauses > 0 {
		// Pauses: file streams let go of their channels while stdout was not read.
		fmt.Fprintf(io.err, "logs: %d reconnects, %d pauses for a slow reader\n", reconnects, pauses)
	}
	for _, p := range problems {
		fmt.Fprintln(io.err, p)
	}
	return len(problems) > 0
}

// logPrinter writes lines as text ("host | line", the host padded, coloured on a
// terminal) or as JSON lines. Lines the engine made (reconnected, gap, rotated, state)
// are records with a "marker" in jsonl; in text they are diagnostics and go to stderr,
// so that a pipe gets the log alone while a terminal still shows where lines may be
// missing.
type logPrinter struct {
	w       *bufio.Writer
	diag    io.Writer
	jsonl   bool
	colour  bool
	width   int
	sources bool // several sources: the prefix names the source too
	buf     []byte
}

// hostPalette holds the ANSI colours hosts get (by logs.HostColor, so stable across runs).
var hostPalette = [...]string{"31", "32", "33", "34", "35", "36", "91", "92", "93", "94", "95", "96"}

func newLogPrinter(sio stdio, c common, targets []logs.Target) *logPrinter {
	p := &logPrinter{w: bufio.NewWriterSize(sio.out, 64<<10), diag: sio.err, jsonl: c.format == "jsonl"}
	p.colour = sio.outTTY && !c.noColor && (sio.env == nil || sio.env("NO_COLOR") == "")
	names := map[string]bool{}
	for _, t := range targets {
		names[t.Source.Name] = true
	}
	p.sources = len(names) > 1
	for _, t := range targets {
		p.width = max(p.width, len(p.prefix(t.Host.Name, t.Source.Name)))
	}
	return p
}

func (p *logPrinter) prefix(host, source string) string {
	if p.sources {
		return host + ":" + source
	}
	return host
}

func (p *logPrinter) print(l *logs.Line) {
	b := p.buf[:0]
	if p.jsonl {
		b = logs.AppendJSON(b, l)
	} else {
		pre := p.prefix(l.Host, l.Source)
		if p.colour {
			b = append(b, "\x1b["...)
			b = append(b, hostPalette[logs.HostColor(l.Host, len(hostPalette))]...)
			b = append(b, 'm')
		}
		b = append(b, pre...)
		for range p.width - len(pre) {
			b = append(b, ' ')
		}
		if p.colour {
			b = append(b, "\x1b[0m"...)
		}
		b = append(b, " | "...)
		if l.Marker != logs.NotMarker {
			b = append(b, '[')
			b = append(b, l.Marker.String()...)
			b = append(b, "] "...)
		}
		b = append(b, l.Raw...)
	}
	b = append(b, '\n')
	p.buf = b
	if l.Marker != logs.NotMarker && !p.jsonl {
		p.w.Flush() // keep the order on a terminal showing both
		p.diag.Write(b)
		return
	}
	p.w.Write(b)
}

func (p *logPrinter) flush() error { return p.w.Flush() }
