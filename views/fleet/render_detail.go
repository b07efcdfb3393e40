package fleet

import (
	"strconv"
	"strings"
	"time"

	"github.com/opsconsole/opsconsole/ops/health"
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
// in place while the rest scrolls.
func renderDetail(h *host, s themes.Styles, now time.Time, width int, act detailActions) []string {
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

	mt := h.metrics
	note := ""
	if mt != nil {
		note = "sampled " + fmtClock(h.seen, now)
		if h.stale {
			note += " · stale: the last read failed"
		}
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
		row("Probes", probesText(h.probes))
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

		section("Ports", plural(len(mt.Ports), "listening", "listening"))
		if len(mt.Ports) == 0 {
			add("  ", s.Faint.Render("none"))
		}
		for _, l := range wrapPorts(mt.Ports, width-2) {
			add("  ", metric.Render(l))
		}
	}

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
