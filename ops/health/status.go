package health

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/opsconsole/opsconsole/config"
)

// Status is the judgement of a host. The zero value is Unknown: a host we have not heard
// from yet is not OK.
type Status int

const (
	Unknown Status = iota // no sample yet, or the sample lacks what a threshold needs
	OK
	Warn // a warn threshold is crossed
	Crit // a crit threshold is crossed
	Down // unreachable: set by whoever polls, never by Judge
)

var statusWords = [...]string{Unknown: "unknown", OK: "ok", Warn: "warn", Crit: "crit", Down: "down"}

// Symbols pair with colour so that a status never depends on colour alone (colour-blind
// users, NO_COLOR, logs).
var statusSymbols = [...]string{Unknown: "?", OK: "✓", Warn: "!", Crit: "✗", Down: "↓"}

// String returns the status as one lower-case word: ok, warn, crit, down or unknown.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusWords) {
		return "status(" + strconv.Itoa(int(s)) + ")"
	}
	return statusWords[s]
}

// Symbol returns a one-character mark for the status: ✓ ! ✗ ↓ ?.
func (s Status) Symbol() string {
	if s < 0 || int(s) >= len(statusSymbols) {
		return "?"
	}
	return statusSymbols[s]
}

// MarshalText writes the status as its word, for JSON output and recorded journals.
func (s Status) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(statusWords) {
		return nil, fmt.Errorf("health: invalid status %d", int(s))
	}
	return []byte(statusWords[s]), nil
}

// UnmarshalText reads a status word as String writes it.
func (s *Status) UnmarshalText(b []byte) error {
	i := slices.Index(statusWords[:], string(b))
	if i < 0 {
		return fmt.Errorf("health: unknown status %q", b)
	}
	*s = Status(i)
	return nil
}

// severity orders statuses from best to worst. Unknown ranks above OK so that a fleet with
// one silent host does not read as all clear; Down ranks above Crit because a host we
// cannot see may be in any state.
func (s Status) severity() int {
	switch s {
	case OK:
		return 0
	case Unknown:
		return 1
	case Warn:
		return 2
	case Crit:
		return 3
	case Down:
		return 4
	}
	return 1
}

// Worse reports whether s is a worse status than t.
func (s Status) Worse(t Status) bool { return s.severity() > t.severity() }

// Worst returns the worst of the statuses, or OK when there are none.
func Worst(statuses ...Status) Status {
	worst := OK
	for _, s := range statuses {
		if s.Worse(worst) {
			worst = s
		}
	}
	return worst
}

type reason struct {
	status Status
	text   string
}

// Judge compares m with the thresholds and returns the worst status with the reasons for
// it, worst first, e.g. "disk /var 91% ≥ 85%" or "load1 6.1 ≥ 3.0/core×2". A threshold
// of zero or less is disabled. Values at a threshold count as crossing it. Load
// thresholds are per core. A field the sample lacks (see Metrics.Missing) that an enabled
// threshold needs makes the status at least Unknown, with a reason saying so.
func Judge(m Metrics, t config.Thresholds) (Status, []string) {
	var rs []reason
	add := func(level Status, format string, args ...any) {
		rs = append(rs, reason{level, fmt.Sprintf(format, args...)})
	}
	pct := func(name string, v, warn, crit float64) {
		switch {
		case crit > 0 && v >= crit:
			add(Crit, "%s %s ≥ %s", name, fmtPct(v), fmtPct(crit))
		case warn > 0 && v >= warn:
			add(Warn, "%s %s ≥ %s", name, fmtPct(v), fmtPct(warn))
		}
	}
	unknown := func(what string) { rs = append(rs, reason{Unknown, what + " not measured"}) }
	enabled := func(warn, crit float64) bool { return warn > 0 || crit > 0 }

	if enabled(t.CPUWarn, t.CPUCrit) {
		if m.Has(FieldCPU) {
			pct("cpu", m.CPUPercent, t.CPUWarn, t.CPUCrit)
		} else {
			unknown("cpu")
		}
	}
	if enabled(t.MemWarn, t.MemCrit) {
		if m.Has(FieldMem) && m.MemTotal > 0 {
			pct("mem", m.MemPercent, t.MemWarn, t.MemCrit)
		} else {
			unknown("mem")
		}
	}
	if enabled(t.LoadWarn, t.LoadCrit) {
		switch {
		case !m.Has(FieldLoad):
			unknown("load")
		case !m.Has(FieldCores) || m.Cores < 1:
			unknown("cores")
		default:
			n := float64(m.Cores)
			switch {
			case t.LoadCrit > 0 && m.Load1 >= t.LoadCrit*n:
				add(Crit, "load1 %s ≥ %s/core×%d", fmtLoad(m.Load1), fmtLoad(t.LoadCrit), m.Cores)
			case t.LoadWarn > 0 && m.Load1 >= t.LoadWarn*n:
				add(Warn, "load1 %s ≥ %s/core×%d", fmtLoad(m.Load1), fmtLoad(t.LoadWarn), m.Cores)
			}
		}
	}
	if enabled(t.DiskWarn, t.DiskCrit) {
		if !m.Has(FieldDisks) {
			// Judge the disks that were read all the same: a partial list that shows a
			// full disk is still a full disk.
			unknown("disks")
		}
		for _, d := range m.Disks {
			pct("disk "+d.Mount, d.Percent, t.DiskWarn, t.DiskCrit)
		}
	}

	status := OK
	for _, r := range rs {
		if r.status.Worse(status) {
			status = r.status
		}
	}
	slices.SortStableFunc(rs, func(a, b reason) int {
		return cmp.Compare(b.status.severity(), a.status.severity())
	})
	var texts []string
	for _, r := range rs {
		texts = append(texts, r.text)
	}
	return status, texts
}

// fmtPct keeps one decimal (dropping ".0") so that a value just over its threshold reads
// as over it ("85.4% ≥ 85%"), not as equal.
func fmtPct(v float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + "%"
}

// fmtLoad prints a load with one or two decimals: "6.1", "3.0", "0.75".
func fmtLoad(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if strings.HasSuffix(s, "0") {
		s = s[:len(s)-1]
	}
	return s
}
