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

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/gather"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
)

type checkJSON struct {
	Host      string          `json:"host"`
	Transport string          `json:"transport"`
	Status    string          `json:"status"`
	Reasons   []string        `json:"reasons,omitempty"`
	Metrics   *health.Metrics `json:"metrics,omitempty"`
	// Source is where the metrics came from: ssh, local or prometheus.
	Source string `json:"source,omitempty"`
	// Probes holds every probe result of the host; FailingProbes names those that did
	// not pass, so a script need not judge statuses itself.
	Probes        []probes.Result `json:"probes,omitempty"`
	FailingProbes []string        `json:"failing_probes,omitempty"`
	Error         string          `json:"error,omitempty"`
	DurationMS    int64           `json:"duration_ms"`
}

func toCheckJSON(r fleet.Report) checkJSON {
	j := checkJSON{Host: r.Host, Transport: r.Transport, Status: r.Status.String(), Reasons: r.Reasons,
		Metrics: r.Metrics, Source: r.Source, Probes: r.Probes, DurationMS: r.Duration.Milliseconds()}
	for _, p := range r.Probes {
		if !p.OK() {
			j.FailingProbes = append(j.FailingProbes, p.Name)
		}
	}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	return j
}

// configSources reads what the configuration adds to the hosts' own metrics: the probes
// of the selected hosts, and the client of the configured Prometheus (nil when there is
// none). Every problem is a config error (exit 2), found before anything runs; a server
// that does not answer is not one.
func configSources(cfg *config.Config, hosts []config.Host, io stdio) ([]probes.Job, *prom.Client, error) {
	specs, err := probes.Parse(cfg)
	if err != nil {
		return nil, nil, configError{err}
	}
	jobs, err := probes.Expand(specs, hosts)
	if err != nil {
		return nil, nil, configError{err}
	}
	pc, err := prom.Parse(cfg)
	if err != nil {
		return nil, nil, configError{err}
	}
	if pc == nil {
		return jobs, nil, nil
	}
	client, err := prom.New(pc, io.env)
	if err != nil {
		return nil, nil, configError{err}
	}
	return jobs, client, nil
}

// readServer reads one round of metrics for the fleet from the configured Prometheus.
// One that does not answer is reported and the hosts read their own metrics: a batch
// check has no earlier round to fall back on.
func readServer(ctx context.Context, client *prom.Client, hosts []config.Host, io stdio) *fleet.ServerMetrics {
	if client == nil {
		return nil
	}
	server := fleet.ReadServer(ctx, client, hosts, nil)
	if server.Err != nil {
		fmt.Fprintf(io.err, "check: %v; metrics read from the hosts themselves\n", server.Err)
		return nil
	}
	fmt.Fprintf(io.err, "check: metrics from %s for %d of %d hosts\n", client, len(server.Metrics), len(hosts))
	return server
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
	start := time.Now()
	jobs, client, err := configSources(cfg, hosts, io)
	if err != nil {
		return err
	}
	server := readServer(ctx, client, hosts, io)
	pool := newPool(cfg)
	defer pool.Close()
	prog := newProgress(io, "check", len(hosts))
	reports := fleet.Check(ctx, pool, hosts, fleet.CheckOptions{
		Concurrency: cfg.Defaults.Concurrency, Timeout: c.timeout, Thresholds: cfg.Thresholds,
		Server: server, Probes: jobs,
	})
	var all []fleet.Report
	counts := map[health.Status]int{}
	probesOK, probesFailed := 0, 0
	enc := json.NewEncoder(io.out)
	for r := range reports {
		prog.step()
		counts[r.Status]++
		for _, p := range r.Probes {
			if p.OK() {
				probesOK++
			} else {
				probesFailed++
			}
		}
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
	if len(jobs) > 0 {
		fmt.Fprintf(io.err, "check: %d probes: %d ok, %d failing\n", probesOK+probesFailed, probesOK, probesFailed)
	}
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

// printCheckTable prints one row per host, then one line per failing probe, so that
// what failed and why is on screen without the json.
func printCheckTable(io stdio, rs []fleet.Report) {
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATUS\tCPU%\tMEM%\tDISK%\tLOAD1\tPORTS\tPROBES\tTOOK\tREASON")
	var failing []probes.Result
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
		probeCol := "-"
		if len(r.Probes) > 0 {
			ok := 0
			for _, p := range r.Probes {
				if p.OK() {
					ok++
				} else {
					failing = append(failing, p)
				}
			}
			probeCol = fmt.Sprintf("%d/%d", ok, len(r.Probes))
		}
		reason := strings.Join(r.Reasons, "; ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Host, status, cpu, mem, disk, load, ports,
			probeCol, r.Duration.Round(time.Millisecond), oneLine(reason, 120))
	}
	tw.Flush()
	if len(failing) == 0 {
		return
	}
	fmt.Fprintf(io.out, "\nfailing probes (%d):\n", len(failing))
	tw = tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tPROBE\tTARGET\tSTATUS\tLATENCY\tREASON")
	for _, p := range failing {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Host, p.Name, oneLine(p.Target, 60),
			p.Status.Symbol()+" "+p.Status.String(), latency(p.Latency), oneLine(p.Reason, 120))
	}
	tw.Flush()
}

// latency keeps about three significant digits: "1.23s", "45ms", "312µs".
func latency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
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
