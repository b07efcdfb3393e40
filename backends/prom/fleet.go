package prom

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/health"
)

// pseudoFS are filesystem types dropped in PromQL already, so that a fleet of container
// hosts does not ship thousands of tmpfs and overlay series only to have KeepDisk discard
// them; KeepDisk remains the judge of what counts as a disk.
const pseudoFS = "tmpfs|devtmpfs|ramfs|squashfs|nsfs|proc|sysfs|cgroup2?|devpts|autofs"

// fleetQueries are the instant queries FleetMetrics issues. %[1]s is the host label and
// %[2]s the matcher that narrows series to the inventory. CPU is busy time over total
// time across all modes, with iowait counted as idle, as the SSH and local readers count
// it, so a host reads the same whichever source measured it.
var fleetQueries = [...]string{
	qCPU: `100 * (1 - sum by (%[1]s) (rate(node_cpu_seconds_total{mode=~"idle|iowait",%[2]s}[1m]))` +
		` / sum by (%[1]s) (rate(node_cpu_seconds_total{%[2]s}[1m])))`,
	qCores:  `count by (%[1]s) (node_cpu_seconds_total{mode="idle",%[2]s})`,
	qGauges: `{__name__=~"node_memory_(MemTotal|MemAvailable|SwapTotal|SwapFree)_bytes|node_load(1|5|15)|node_boot_time_seconds|node_time_seconds",%[2]s}`,
	qDisks:  `{__name__=~"node_filesystem_(size|free|avail)_bytes",fstype!~"` + pseudoFS + `",%[2]s}`,
}

const (
	qCPU = iota
	qCores
	qGauges
	qDisks
)

// FleetMetrics reads the node_exporter metrics of hosts from the server in a few instant
// queries (CPU busy % as a rate over 1m, cores, memory, swap, load, uptime, disks) and
// returns them keyed by host name. A host with no node_exporter series is absent from the
// map; a field the server had no series for is named in Metrics.Missing (listening ports
// always are: node_exporter does not export them). Metrics.Time is the evaluation time
// the server stamped on the samples.
//
// Any failed query fails the whole read, so hosts never mix fresh and old fields. An
// error wrapping ErrUnavailable means the server did not answer: the caller keeps the
// last metrics and marks them stale, and does not mark the hosts down.
//
// The CPU rate needs two scrapes within a minute, so a scrape interval above 30s leaves
// CPU missing.
func (c *Client) FleetMetrics(ctx context.Context, hosts []config.Host) (map[string]health.Metrics, error) {
	if len(hosts) == 0 {
		return map[string]health.Metrics{}, nil
	}
	sel := c.hostSelector(hosts)
	var (
		wg      sync.WaitGroup
		results [len(fleetQueries)]model.Vector
		errs    [len(fleetQueries)]error
	)
	for i, q := range fleetQueries {
		expr := fmt.Sprintf(q, c.hostLabel, sel)
		wg.Go(func() {
			v, _, err := c.Query(ctx, expr, time.Time{})
			if err != nil {
				errs[i] = err
				return
			}
			vec, ok := v.(model.Vector)
			if !ok {
				errs[i] = fmt.Errorf("prometheus: %s returned a %s, not a vector", expr, v.Type())
				return
			}
			results[i] = vec
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("fleet metrics: %w", err)
		}
	}
	return assembleFleet(results[:], hosts, c.hostLabel), nil
}

// hostSelector narrows queries to series whose host label could name an inventory host.
// It is a superset of what HostIndex.Match accepts (optional scheme, brackets, domain,
// port and path around each address or name); the exact mapping is done afterwards.
// Without it, a server shared by a large organisation would send every machine it knows.
func (c *Client) hostSelector(hosts []config.Host) string {
	seen := map[string]bool{}
	var alts []string
	add := func(s string) {
		if s = HostPart(s); s != "" && !seen[s] {
			seen[s] = true
			alts = append(alts, regexp.QuoteMeta(s))
		}
		if sh := shortName(s); sh != "" && !seen[sh] {
			seen[sh] = true
			alts = append(alts, regexp.QuoteMeta(sh))
		}
	}
	for _, h := range hosts {
		add(h.Address)
		add(h.Name)
	}
	slices.Sort(alts)
	re := `(?i)([a-z][a-z0-9+.-]*://)?\[?(` + strings.Join(alts, "|") + `)\]?(\.[^:/\]]*)?(:[0-9]+)?(/.*)?`
	// PromQL string literals take Go-style escapes; %q writes one.
	return fmt.Sprintf("%s=~%q", c.hostLabel, re)
}

// instanceData gathers what the queries say about one label value (one node_exporter).
type instanceData struct {
	m      health.Metrics
	has    map[string]bool
	gauges map[string]float64
	disks  map[string]*diskSeries // by mountpoint
}

type diskSeries struct {
	fs, fstype              string
	size, free, avail       float64
	hasSize, hasFree, hasAv bool
}

func assembleFleet(results []model.Vector, hosts []config.Host, label string) map[string]health.Metrics {
	ln := model.LabelName(label)
	byInst := map[string]*instanceData{}
	get := func(s *model.Sample) *instanceData {
		inst := string(s.Metric[ln])
		d := byInst[inst]
		if d == nil {
			d = &instanceData{has: map[string]bool{}, gauges: map[string]float64{}, disks: map[string]*diskSeries{}}
			byInst[inst] = d
		}
		if t := s.Timestamp.Time(); t.After(d.m.Time) {
			d.m.Time = t
		}
		return d
	}
	for _, s := range results[qCPU] {
		if v := float64(s.Value); !math.IsNaN(v) && !math.IsInf(v, 0) {
			d := get(s)
			d.m.CPUPercent = min(100, max(0, v))
			d.has[health.FieldCPU] = true
		}
	}
	for _, s := range results[qCores] {
		d := get(s)
		d.m.Cores = int(s.Value)
		d.has[health.FieldCores] = d.m.Cores > 0
	}
	for _, s := range results[qGauges] {
		get(s).gauges[string(s.Metric[model.MetricNameLabel])] = float64(s.Value)
	}
	for _, s := range results[qDisks] {
		mount := string(s.Metric["mountpoint"])
		fstype := string(s.Metric["fstype"])
		if !health.KeepDisk(fstype, mount) {
			continue
		}
		d := get(s)
		ds := d.disks[mount]
		if ds == nil {
			ds = &diskSeries{fs: string(s.Metric["device"]), fstype: fstype}
			d.disks[mount] = ds
		}
		v := float64(s.Value)
		switch s.Metric[model.MetricNameLabel] {
		case "node_filesystem_size_bytes":
			ds.size, ds.hasSize = v, true
		case "node_filesystem_free_bytes":
			ds.free, ds.hasFree = v, true
		case "node_filesystem_avail_bytes":
			ds.avail, ds.hasAv = v, true
		}
	}

	// Map label values to hosts in sorted order, so that when two exporters name the same
	// host (two jobs, two ports) the choice is stable: the first one that has data wins.
	insts := make([]string, 0, len(byInst))
	for inst := range byInst {
		insts = append(insts, inst)
	}
	sort.Strings(insts)
	ix := NewHostIndex(hosts)
	out := map[string]health.Metrics{}
	for _, inst := range insts {
		name, ok := ix.Match(inst)
		if !ok {
			continue
		}
		if _, done := out[name]; done {
			continue
		}
		out[name] = byInst[inst].finish()
	}
	return out
}

func (d *instanceData) finish() health.Metrics {
	m := d.m
	g := d.gauges
	if total, avail := g["node_memory_MemTotal_bytes"], g["node_memory_MemAvailable_bytes"]; total > 0 && hasKey(g, "node_memory_MemAvailable_bytes") {
		m.MemTotal = uint64(total)
		m.MemUsed = uint64(total - min(avail, total))
		m.MemPercent = float64(m.MemUsed) / float64(m.MemTotal) * 100
		d.has[health.FieldMem] = true
		if st, ok := g["node_memory_SwapTotal_bytes"]; ok {
			m.SwapTotal = uint64(st)
			m.SwapUsed = uint64(st - min(g["node_memory_SwapFree_bytes"], st))
		}
	}
	if hasKey(g, "node_load1") && hasKey(g, "node_load5") && hasKey(g, "node_load15") {
		m.Load1, m.Load5, m.Load15 = g["node_load1"], g["node_load5"], g["node_load15"]
		d.has[health.FieldLoad] = true
	}
	if boot, now := g["node_boot_time_seconds"], g["node_time_seconds"]; boot > 0 && now >= boot {
		m.Uptime = time.Duration((now - boot) * float64(time.Second)).Truncate(time.Second)
		d.has[health.FieldUptime] = true
	}
	mounts := make([]string, 0, len(d.disks))
	for mount := range d.disks {
		mounts = append(mounts, mount)
	}
	sort.Strings(mounts)
	complete := len(mounts) > 0
	for _, mount := range mounts {
		ds := d.disks[mount]
		if !ds.hasSize || !ds.hasFree || !ds.hasAv || ds.size <= 0 {
			complete = false
			continue
		}
		m.Disks = append(m.Disks, diskUsage(mount, ds.fs, ds.size, ds.free, ds.avail))
	}
	d.has[health.FieldDisks] = complete

	for _, f := range []string{health.FieldCPU, health.FieldCores, health.FieldMem, health.FieldLoad,
		health.FieldUptime, health.FieldDisks, health.FieldPorts} {
		if !d.has[f] {
			m.Missing = append(m.Missing, f)
		}
	}
	return m
}

// diskUsage computes usage as df does (see health.Disk.Percent): used is size less free,
// and the blocks reserved for root (free less avail) count as unavailable.
func diskUsage(mount, fs string, size, free, avail float64) health.Disk {
	used := max(0, size-free)
	d := health.Disk{Mount: mount, FS: fs, Total: uint64(size), Used: uint64(used)}
	if used+avail > 0 {
		d.Percent = used / (used + avail) * 100
	}
	return d
}

func hasKey(m map[string]float64, k string) bool {
	_, ok := m[k]
	return ok
}
