package fleet

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/themes"
)

// detailActions are the keys the detail view lists as quick actions, as bound.
type detailActions struct {
	exec, back string
}

// chartHeight is the detail charts' height in rows: eight levels a row gives 5% steps.
const chartHeight = 5

// renderDetail draws everything known about one host, one string per line, lines not yet
// cut to width (the caller truncates). The first line names the host; the caller keeps it
// in place while the rest scrolls. srv is the metrics server's state, which explains
// metrics it left stale.
func renderDetail(h *host, s *themes.Styles, now time.Time, width int, srv fleet.ServerStatus, act detailActions) []string {
	var out []string
	add := func(parts ...string) { out = append(out, strings.Join(parts, "")) }
	blank := func() { out = append(out, "") }
	section := func(title string, note ...string) {
		blank()
		line := s.Title.Render(title)
		if len(note) > 0 && note[0] != "" {
			line += "  " + s.Faint.Render(note[0])
		}
		add(line)
	}
	metric := s.Text
	if h.stale {
		metric = s.Faint
	}

	// Who the host is.
	where := h.cfg.Address
	if h.cfg.Port != 0 && where != "" {
		where += ":" + itoa(h.cfg.Port)
	}
	head := []string{s.Status(h.statusWord()).Render(statusText(h)), s.Title.Render(h.cfg.Name)}
	if where != "" {
		head = append(head, where)
	}
	if h.transport != "" {
		head = append(head, s.Faint.Render("via "+h.transport))
	}
	if len(h.cfg.Tags) > 0 {
		head = append(head, s.Faint.Render("tags "+strings.Join(h.cfg.Tags, ", ")))
	}
	if h.marked {
		head = append(head, s.Accent.Render("* marked"))
	}
	add(strings.Join(head, "  "))

	section("Reasons")
	switch {
	case !h.reported:
		add("  ", s.Faint.Render("waiting for the first report"))
	case len(h.reasons) == 0:
		add("  ", s.Faint.Render("none"))
	}
	for _, r := range h.reasons {
		add("  ", s.Status(h.statusWord()).Render("• "+r))
	}

	section("Probes", probesNote(h))
	if len(h.probeRes) == 0 {
		add("  ", s.Faint.Render("none: no probe selects this host, or none has run yet"))
	}
	for _, l := range probeLines(h.probeRes, s) {
		add("  ", l)
	}

	if srv.Source != "" || len(h.alerts) > 0 {
		section("Alerts", plural(len(h.alerts), "firing", "firing"))
		if len(h.alerts) == 0 {
			add("  ", s.Faint.Render("none firing"))
		}
		for _, a := range h.alerts {
			add("  ", alertLine(a, s, now))
		}
	}
	out = append(out, markerLines(h, s, now, width)...)

	mt := h.metrics
	note := ""
	if mt != nil {
		note = metricsNote(h, srv, now)
	}
	section("Metrics", note)
	if mt == nil {
		add("  ", s.Faint.Render("no sample yet"))
	} else {
		row := func(label, value string) { add("  ", s.Faint.Render(padRight(label, 8)), metric.Render(value)) }
		cpu := "?"
		if mt.Has(health.FieldCPU) {
			cpu = fmtPct1(mt.CPUPercent)
		}
		if mt.Has(health.FieldCores) && mt.Cores > 0 {
			cpu += "  " + plural(mt.Cores, "core", "cores")
		}
		row("CPU", cpu)
		mem := "?"
		if mt.Has(health.FieldMem) && mt.MemTotal > 0 {
			mem = fmtPct1(mt.MemPercent) + "  " + fmtBytes(mt.MemUsed) + " of " + fmtBytes(mt.MemTotal)
		}
		row("Memory", mem)
		swap := "none"
		if mt.SwapTotal > 0 {
			swap = fmtPct1(100*float64(mt.SwapUsed)/float64(mt.SwapTotal)) + "  " +
				fmtBytes(mt.SwapUsed) + " of " + fmtBytes(mt.SwapTotal)
		}
		row("Swap", swap)
		load := "?"
		if mt.Has(health.FieldLoad) {
			load = fmtLoad(mt.Load1) + "  " + fmtLoad(mt.Load5) + "  " + fmtLoad(mt.Load15) + "  (1, 5, 15 min)"
		}
		row("Load", load)
		up := "?"
		if mt.Has(health.FieldUptime) {
			up = fmtUptime(mt.Uptime)
		}
		row("Uptime", up)
		if len(mt.Missing) > 0 {
			row("Missing", strings.Join(mt.Missing, ", "))
		}
	}

	if mt != nil {
		section("Disks")
		if len(mt.Disks) == 0 {
			add("  ", s.Faint.Render("none measured"))
		}
		mw, fw := 0, 0
		for _, d := range mt.Disks {
			mw, fw = max(mw, textWidth(d.Mount)), max(fw, textWidth(d.FS))
		}
		for _, d := range mt.Disks {
			add("  ", metric.Render(padRight(d.Mount, mw)+"  "+padLeft(fmtPct1(d.Percent), 6)+"  "+
				fmtBytes(d.Used)+" of "+fmtBytes(d.Total)), "  ", s.Faint.Render(padRight(d.FS, fw)))
		}

		ports := plural(len(mt.Ports), "listening", "listening")
		if !mt.Has(health.FieldPorts) {
			ports = ""
		}
		section("Ports", ports)
		switch {
		case !mt.Has(health.FieldPorts):
			add("  ", s.Faint.Render("not measured (a metrics server does not list them)"))
		case len(mt.Ports) == 0:
			add("  ", s.Faint.Render("none"))
		}
		for _, l := range wrapPorts(mt.Ports, width-2) {
			add("  ", metric.Render(l))
		}
	}
	out = append(out, renderLocal(mt, s, width, h.stale)...) // per core, network, processes: render_local.go

	cw := max(min(width-8, historyLen), 1)
	for _, c := range []struct {
		title string
		hist  *health.History
	}{{"CPU history", h.cpu}, {"Memory history", h.mem}} {
		section(c.title, plural(c.hist.Len(), "sample", "samples"))
		if c.hist.Len() == 0 {
			add("  ", s.Faint.Render("no samples yet"))
			continue
		}
		rows := chart(c.hist.Values(), cw, chartHeight)
		for i, r := range rows {
			label := "    "
			switch i {
			case 0:
				label = "100%"
			case len(rows) - 1:
				label = "  0%"
			}
			st := s.Sparkline
			if h.stale {
				st = s.Faint
			}
			add("  ", s.Faint.Render(label+"│"), st.Render(r))
		}
	}

	section("Last error")
	if h.lastErr == "" {
		add("  ", s.Faint.Render("none"))
	} else {
		add("  ", s.Faint.Render(fmtClock(h.lastErrAt, now)), "  ", s.StatusCrit.Render(h.lastErr))
	}

	section("Actions")
	add("  ", s.HelpKey.Render(padRight(act.exec, 5)), s.HelpDesc.Render("exec on this host"))
	add("  ", s.HelpKey.Render(padRight(act.back, 5)), s.HelpDesc.Render("back to the fleet"))
	return out
}

// metricsNote says where the metrics came from and how fresh they are: "from prometheus ·
// sampled 12:00:03 (3s ago)", or when their source stopped answering "from prometheus,
// stale 40s · prometheus unavailable: …".
func metricsNote(h *host, srv fleet.ServerStatus, now time.Time) string {
	from := "from " + cmp.Or(h.source, "the host")
	if !h.stale {
		return from + " · sampled " + fmtClock(h.seen, now)
	}
	note := from + ", stale"
	if !now.IsZero() {
		note += " " + fmtAgo(now.Sub(h.seen))
	}
	switch {
	case h.source != fleet.SourcePrometheus:
		return note + " · the last read failed"
	case srv.Stale && srv.Err != "":
		return note + " · " + oneLine(srv.Err)
	case srv.Stale:
		return note + " · the server did not answer"
	}
	return note + " · the server has no series for this host now"
}

// probesNote counts a host's probes for the section's title: "2 of 3 ok".
func probesNote(h *host) string {
	if h.probes == nil {
		return ""
	}
	return itoa(h.probes.OK) + " of " + itoa(h.probes.Total) + " ok"
}

// probeLines draws one line per probe, in columns: status in symbol and word, name,
// target, latency, then why it is not OK and whether it flaps.
func probeLines(rs []probes.Result, s *themes.Styles) []string {
	sw, nw, tw := 0, 0, 0
	for _, r := range rs {
		sw = max(sw, textWidth(r.Status.Symbol()+" "+r.Status.String()))
		nw = max(nw, textWidth(oneLine(r.Name)))
		tw = max(tw, min(textWidth(oneLine(r.Target)), maxTargetCol))
	}
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		st := r.Status.Symbol() + " " + r.Status.String()
		line := s.Status(r.Status.String()).Render(padRight(st, sw)) + "  " +
			s.Text.Render(padRight(oneLine(r.Name), nw)) + "  " +
			s.Faint.Render(fit(oneLine(r.Target), tw, false)) + "  " +
			s.Text.Render(padLeft(fmtLatency(r.Latency), 6))
		if r.Reason != "" {
			line += "  " + s.Status(r.Status.String()).Render(oneLine(r.Reason))
		}
		if r.Flapping {
			line += "  " + s.StatusWarn.Render("! flapping")
		}
		out = append(out, line)
	}
	return out
}

// maxTargetCol caps the target column, so that one long URL does not push every
// latency and reason off the line.
const maxTargetCol = 48

// alertLine is one firing alert: its name, severity, since when, and its summary.
func alertLine(a prom.Alert, s *themes.Styles, now time.Time) string {
	sev := string(a.Labels["severity"])
	st := s.StatusWarn
	if sev == "critical" || sev == "page" {
		st = s.StatusCrit
	}
	line := st.Render("! " + oneLine(a.Name()))
	if sev != "" {
		line += "  " + s.Faint.Render("severity ") + s.Text.Render(oneLine(sev))
	}
	if !a.ActiveAt.IsZero() {
		line += "  " + s.Faint.Render("since "+fmtClock(a.ActiveAt, now))
	}
	for _, k := range []model.LabelName{"summary", "description"} {
		if v := a.Annotations[k]; v != "" {
			line += "  " + s.Text.Render(oneLine(string(v)))
			break
		}
	}
	return line
}

// fmtLatency keeps about three significant digits: "1.23s", "45ms", "312µs".
func fmtLatency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// wrapPorts lists every port, comma-separated, in lines of at most width cells.
func wrapPorts(ports []int, width int) []string {
	var lines []string
	var b strings.Builder
	for i, p := range ports {
		ps := strconv.Itoa(p)
		if i < len(ports)-1 {
			ps += ","
		}
		if b.Len() > 0 && b.Len()+1+len(ps) > width {
			lines = append(lines, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ps)
	}
	if b.Len() > 0 {
		lines = append(lines, b.String())
	}
	return lines
}

func padRight(s string, w int) string { return fit(s, max(w, textWidth(s)), false) }
