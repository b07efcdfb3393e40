package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/gather"
	"github.com/opsconsole/opsconsole/ops/health"
)

type checkJSON struct {
	Host       string          `json:"host"`
	Transport  string          `json:"transport"`
	Status     string          `json:"status"`
	Reasons    []string        `json:"reasons,omitempty"`
	Metrics    *health.Metrics `json:"metrics,omitempty"`
	Error      string          `json:"error,omitempty"`
	DurationMS int64           `json:"duration_ms"`
}

func toCheckJSON(r fleet.Report) checkJSON {
	j := checkJSON{Host: r.Host, Transport: r.Transport, Status: r.Status.String(), Reasons: r.Reasons,
		Metrics: r.Metrics, DurationMS: r.Duration.Milliseconds()}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	return j
}

func runCheck(ctx context.Context, args []string, io stdio) error {
	var c common
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	c.register(fs)
	pos, _, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("check: unexpected argument %q (select hosts with -H)", pos[0])
	}
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
	pool := newPool(cfg)
	defer pool.Close()
	start := time.Now()
	prog := newProgress(io, "check", len(hosts))
	reports := fleet.Check(ctx, pool, hosts, fleet.CheckOptions{
		Concurrency: cfg.Defaults.Concurrency, Timeout: c.timeout, Thresholds: cfg.Thresholds,
	})
	var all []fleet.Report
	counts := map[health.Status]int{}
	enc := json.NewEncoder(io.out)
	for r := range reports {
		prog.step()
		counts[r.Status]++
		if c.format == "jsonl" {
			prog.clear()
			if err := enc.Encode(toCheckJSON(r)); err != nil {
				return err
			}
			continue
		}
		all = append(all, r)
	}
	prog.clear()
	sortReports(all)
	switch c.format {
	case "json":
		out := make([]checkJSON, 0, len(all))
		for _, r := range all {
			out = append(out, toCheckJSON(r))
		}
		if err := writeJSON(io, out); err != nil {
			return err
		}
	case "text":
		printCheckTable(io, all)
	}
	fmt.Fprintf(io.err, "check: %d hosts: %d ok, %d warn, %d crit, %d down, %d unknown in %s\n", len(hosts),
		counts[health.OK], counts[health.Warn], counts[health.Crit], counts[health.Down], counts[health.Unknown],
		time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if counts[health.OK] != len(hosts) {
		return errSomeFailed
	}
	return nil
}

func sortReports(rs []fleet.Report) {
	names := make([]string, len(rs))
	by := make(map[string]fleet.Report, len(rs))
	for i, r := range rs {
		names[i] = r.Host
		by[r.Host] = r
	}
	gather.SortHosts(names)
	for i, n := range names {
		rs[i] = by[n]
	}
}

func printCheckTable(io stdio, rs []fleet.Report) {
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATUS\tCPU%\tMEM%\tDISK%\tLOAD1\tPORTS\tTOOK\tREASON")
	for _, r := range rs {
		status := r.Status.Symbol() + " " + r.Status.String()
		cpu, mem, disk, load, ports := "-", "-", "-", "-", "-"
		if m := r.Metrics; m != nil {
			cpu = fmt.Sprintf("%.0f", m.CPUPercent)
			mem = fmt.Sprintf("%.0f", m.MemPercent)
			if d := m.WorstDisk(); d.Mount != "" {
				disk = fmt.Sprintf("%.0f %s", d.Percent, d.Mount)
			}
			load = fmt.Sprintf("%.2f", m.Load1)
			ports = portList(m.Ports, 6)
		}
		reason := strings.Join(r.Reasons, "; ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Host, status, cpu, mem, disk, load, ports,
			r.Duration.Round(time.Millisecond), oneLine(reason, 120))
	}
	tw.Flush()
}

func portList(ports []int, most int) string {
	if len(ports) == 0 {
		return "-"
	}
	var parts []string
	for i, p := range ports {
		if i == most {
			parts = append(parts, fmt.Sprintf("+%d", len(ports)-most))
			break
		}
		parts = append(parts, strconv.Itoa(p))
	}
	return strings.Join(parts, ",")
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}
