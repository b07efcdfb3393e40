package fleet

// The detail view's extras: CPU per core, network rates and the busiest processes. Only
// the local host's collector measures them today, so every section is drawn only when
// its data is present, and a remote host's detail view is unchanged.

import (
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// renderLocal draws the extras of mt as detail-view sections (each opening with a blank
// line and its title), none when mt has none. stale draws the figures faint, as the
// Metrics section does.
func renderLocal(mt *health.Metrics, s *themes.Styles, width int, stale bool) []string {
	if mt == nil {
		return nil
	}
	var out []string
	section := func(title, note string, lines []string) {
		if len(lines) == 0 {
			return
		}
		head := s.Title.Render(title)
		if note != "" {
			head += "  " + s.Faint.Render(note)
		}
		out = append(out, "", head)
		out = append(out, lines...)
	}
	section("CPU per core", "", coreLines(mt.PerCore, s, width, stale))
	section("Network", "per second", netLines(mt.Net, s, width, stale))
	section("Top processes", "by CPU, 100% = one core", procLines(mt.Procs, s, width, stale))
	return out
}

// Geometry of the per-core cells: "12 ████▌░░░░░  45%".
const (
	coreBarWidth = 10
	corePctWidth = 4 // "100%"
	coreGap      = 3
)

// coreLines draws one cell per CPU, a bar and its percentage, flowing down columns (cpu0
// and cpu1 one above the other, as top and htop list them) in as many columns as the
// width holds. The number gives the value, the bar the glance.
func coreLines(perCore []float64, s *themes.Styles, width int, stale bool) []string {
	n := len(perCore)
	if n == 0 {
		return nil
	}
	bar, text := s.Sparkline, s.Text
	if stale {
		bar, text = s.Faint, s.Faint
	}
	iw := len(strconv.Itoa(n - 1))
	cellW := iw + 1 + coreBarWidth + 1 + corePctWidth
	cols := max((width-2+coreGap)/(cellW+coreGap), 1)
	rows := (n + cols - 1) / cols
	cols = (n + rows - 1) / rows // no empty column at the right
	lines := make([]string, rows)
	for r := range rows {
		var b strings.Builder
		b.WriteString("  ")
		for c := range cols {
			i := c*rows + r
			if i >= n {
				break
			}
			if c > 0 {
				b.WriteString(strings.Repeat(" ", coreGap))
			}
			v := perCore[i]
			b.WriteString(s.Faint.Render(padLeft(itoa(i), iw)) + " ")
			b.WriteString(bar.Render(hbar(v, coreBarWidth)) + " ")
			b.WriteString(text.Render(padLeft(fmtPct0(clampPct(v)), corePctWidth)))
		}
		lines[r] = b.String()
	}
	return lines
}

// hbarBlocks are the eighths of a horizontal bar, thinnest first; hbarTrack fills the
// rest of its width, so a bar's length reads without colour.
var hbarBlocks = []rune("▏▎▍▌▋▊▉█")

const hbarTrack = "░"

// hbar draws v (0–100) as a bar width cells long, in eighths of a cell.
func hbar(v float64, width int) string {
	eighths := int(math.Round(clamp01(v/100) * float64(width*8)))
	full, part := eighths/8, eighths%8
	var b strings.Builder
	b.WriteString(strings.Repeat("█", full))
	used := full
	if part > 0 {
		b.WriteRune(hbarBlocks[part-1])
		used++
	}
	b.WriteString(strings.Repeat(hbarTrack, width-used))
	return b.String()
}

// clampPct keeps a percentage printable: NaN reads 0, and the range is 0–100.
func clampPct(v float64) float64 { return clamp01(v/100) * 100 }

// Widths of the network table's columns.
const (
	netNameMax  = 16 // interface names are at most 15 bytes on Linux
	netRateW    = 10 // "999.9 MB/s"
	netCountW   = 7  // "! 12.3k"
	netColGap   = "  "
	netHeadName = "INTERFACE"
)

// netLines draws one row per interface: rx and tx in bytes per second, then errors and
// drops per second (in and out together). Errors or drops that are not zero are marked
// with "!" as well as drawn in the warning style.
func netLines(rates []health.NetRate, s *themes.Styles, width int, stale bool) []string {
	if len(rates) == 0 {
		return nil
	}
	text, warn := s.Text, s.StatusWarn
	if stale {
		text, warn = s.Faint, s.Faint
	}
	nw := len(netHeadName)
	for _, r := range rates {
		nw = max(nw, min(textWidth(termsafe.Line(r.Name)), netNameMax))
	}
	head := padRight(netHeadName, nw) + netColGap + padLeft("RX", netRateW) + netColGap + padLeft("TX", netRateW) +
		netColGap + padLeft("ERRORS", netCountW) + netColGap + padLeft("DROPS", netCountW)
	out := []string{"  " + s.Faint.Render(cutTo(head, width-2))}
	count := func(v float64) string {
		if !(v > 0) {
			return text.Render(padLeft("0", netCountW))
		}
		return warn.Render(padLeft("! "+fmtCount(v), netCountW))
	}
	for _, r := range rates {
		line := text.Render(fit(termsafe.Line(r.Name), nw, false)) + netColGap +
			text.Render(padLeft(fmtRate(r.RxBytes), netRateW)) + netColGap +
			text.Render(padLeft(fmtRate(r.TxBytes), netRateW)) + netColGap +
			count(r.RxErrors+r.TxErrors) + netColGap + count(r.RxDrops+r.TxDrops)
		out = append(out, "  "+line)
	}
	return out
}

// fmtRate is a byte rate in decimal units with one decimal, as network rates are given:
// "512 B/s", "1.2 MB/s".
func fmtRate(v float64) string {
	if !(v > 0) {
		return "0 B/s"
	}
	if v < 999.5 {
		return strconv.FormatFloat(v, 'f', 0, 64) + " B/s"
	}
	units := []string{"kB/s", "MB/s", "GB/s", "TB/s"}
	i := 0
	for v /= 1000; v >= 999.95 && i < len(units)-1; i++ {
		v /= 1000
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// fmtCount is a small rate of events: "0.2", "12", "1.5k".
func fmtCount(v float64) string {
	switch {
	case v < 9.95:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v < 999.5:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v < 99950:
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
}

// Widths of the process table's columns.
const (
	procUserMax = 12
	procCPUW    = 6 // "1600.0"; a wider figure pushes its own row only
	procRSSW    = 9 // "123.4 MiB"
	procCmdMin  = 12
)

// procLines draws the busiest processes: PID, user, CPU%, resident memory and the
// command line, made safe for the terminal and cut to what is left of the width. A kernel
// thread, which has no command line, shows its name in brackets as ps does.
func procLines(procs []health.Proc, s *themes.Styles, width int, stale bool) []string {
	if len(procs) == 0 {
		return nil
	}
	text := s.Text
	if stale {
		text = s.Faint
	}
	pw, uw := len("PID"), len("USER")
	for _, p := range procs {
		pw = max(pw, len(strconv.Itoa(int(p.PID))))
		uw = max(uw, min(textWidth(termsafe.Line(p.User)), procUserMax))
	}
	fixed := pw + 2 + uw + 2 + procCPUW + 2 + procRSSW + 2
	cw := max(width-2-fixed, procCmdMin)
	head := padLeft("PID", pw) + "  " + padRight("USER", uw) + "  " + padLeft("CPU%", procCPUW) + "  " +
		padLeft("RSS", procRSSW) + "  COMMAND"
	out := []string{"  " + s.Faint.Render(cutTo(head, width-2))}
	for _, p := range procs {
		cmd := termsafe.Line(p.Command)
		if cmd == "" {
			cmd = "[" + termsafe.Line(p.Name) + "]"
		}
		line := text.Render(padLeft(strconv.Itoa(int(p.PID)), pw)) + "  " +
			text.Render(fit(termsafe.Line(p.User), uw, false)) + "  " +
			text.Render(padLeft(strconv.FormatFloat(clampCPU(p.CPUPercent), 'f', 1, 64), procCPUW)) + "  " +
			text.Render(padLeft(fmtBytes(p.RSS), procRSSW)) + "  " +
			text.Render(cutTo(cmd, cw))
		out = append(out, "  "+line)
	}
	return out
}

// clampCPU keeps a process's CPU figure printable: NaN and negatives read 0.
func clampCPU(v float64) float64 {
	if !(v > 0) {
		return 0
	}
	return v
}

// cutTo shortens s to w cells, ending it with "…" when it was longer; unlike fit it
// does not pad, so a line's last column leaves no trailing blanks.
func cutTo(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if textWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}
