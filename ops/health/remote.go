package health

import (
	"iter"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// RemoteScript gathers a Metrics sample in one round trip. It is POSIX sh that runs under
// dash, bash, zsh and busybox ash, and needs nothing beyond /proc and the tools every
// Linux has (cat, df, grep, sleep; nproc as a fallback). Each part is preceded by a marker
// line that ParseRemote splits on, and a final "end" marker tells a complete output from a
// truncated one.
//
// It is kept to one line with no single quote, backslash or "!" so that RemoteCommand can
// quote it for any login shell (csh rejects newlines inside quotes and expands "!" in
// them; fish treats backslashes in single quotes).
//
// Choices worth knowing:
//   - stderr is discarded: an unreadable file leaves its section empty, which
//     ParseRemote reports as missing, rather than mixing error text into the output.
//   - CPU is two samples of /proc/stat's aggregate line 200 ms apart; a sleep without
//     fractions fails fast on "0.2", and the script then waits one second instead.
//   - Cores are counted from /proc/stat (online CPUs, the same scope as the load
//     average); nproc only if that fails, since it counts the CPUs this shell may use.
//   - df: GNU's -l keeps network mounts out (a hung NFS server would hang df) and -x
//     trims pseudo filesystems; busybox has neither, so plain df -P -k is the fallback
//     and ParseRemote filters by type using /proc/mounts.
//   - Only LISTEN rows of /proc/net/tcp{,6} are sent: a busy proxy has tens of thousands
//     of sockets, and we poll every few seconds.
const RemoteScript = "exec 2>/dev/null; export LC_ALL=C; " +
	"m() { echo; echo \"" + markerPrefix + "$1" + markerSuffix + "\"; }; " +
	"m loadavg; cat /proc/loadavg; " +
	"m uptime; cat /proc/uptime; " +
	"m meminfo; cat /proc/meminfo; " +
	"m stat; read -r l </proc/stat && echo \"$l\"; sleep 0.2 || sleep 1; " +
	"read -r l </proc/stat && echo \"$l\"; " +
	"m cores; grep -c \"^cpu[0-9]\" /proc/stat || nproc; " +
	"m df; if df -P -k -l -x tmpfs -x devtmpfs / >/dev/null; " +
	"then df -P -k -l -x tmpfs -x devtmpfs; else df -P -k; fi; " +
	"m mounts; cat /proc/mounts; " +
	"m tcp; for f in /proc/net/tcp /proc/net/tcp6; do " +
	"if command -v grep >/dev/null; then grep \" 0A \" $f; else cat $f; fi; done; " +
	"m end"

// RemoteCommand runs RemoteScript under /bin/sh whatever the user's login shell is
// (SSH hands the command to it): fish and csh do not speak POSIX sh.
const RemoteCommand = "sh -c '" + RemoteScript + "'"

const (
	markerPrefix = "=== opsconsole "
	markerSuffix = " ==="
)

// The sections RemoteScript prints, in order.
const (
	secLoadavg = iota
	secUptime
	secMeminfo
	secStat
	secCores
	secDF
	secMounts
	secTCP
	numSections
)

var sectionNames = [numSections]string{
	secLoadavg: "loadavg",
	secUptime:  "uptime",
	secMeminfo: "meminfo",
	secStat:    "stat",
	secCores:   "cores",
	secDF:      "df",
	secMounts:  "mounts",
	secTCP:     "tcp",
}

// sectionFields names the Metrics field each section measures, in the order Missing
// lists them. The mounts section only refines disks, so it is not a field of its own.
var sectionFields = []struct {
	sec   int
	field string
}{
	{secStat, FieldCPU},
	{secCores, FieldCores},
	{secMeminfo, FieldMem},
	{secLoadavg, FieldLoad},
	{secUptime, FieldUptime},
	{secDF, FieldDisks},
	{secTCP, FieldPorts},
}

type section struct {
	text   string
	seen   bool
	closed bool // another marker followed, so the text is whole
}

// ParseRemote parses the output of RemoteScript taken at time at. It never fails outright:
// whatever could be parsed is returned, and when something could not (a section absent,
// garbled, or cut short by a truncated output) the Metrics name it in Missing and the
// error is a *MissingError naming the same fields. Text outside the sections (a login
// banner, shell init noise) is ignored.
func ParseRemote(out []byte, at time.Time) (Metrics, error) {
	m := Metrics{Time: at}
	secs := splitSections(string(out))
	var missing [numSections]bool
	need := func(i int, ok bool) {
		if !ok || !secs[i].seen || !secs[i].closed {
			missing[i] = true
		}
	}

	need(secLoadavg, parseLoadavg(secs[secLoadavg].text, &m))
	need(secUptime, parseUptime(secs[secUptime].text, &m))
	need(secMeminfo, parseMeminfo(secs[secMeminfo].text, &m))
	need(secStat, parseStat(secs[secStat].text, &m))
	need(secCores, parseCores(secs[secCores].text, &m))
	need(secDF, parseDF(secs[secDF].text, parseMounts(secs[secMounts].text), &m))
	m.Ports = listeningPorts(secs[secTCP].text)
	need(secTCP, true)

	for _, f := range sectionFields {
		if missing[f.sec] {
			m.Missing = append(m.Missing, f.field)
		}
	}
	if len(m.Missing) > 0 {
		return m, &MissingError{Fields: slices.Clone(m.Missing)}
	}
	return m, nil
}

// splitSections cuts out into the known sections. The first copy of a section wins, so a
// command that echoes a marker-like line later cannot overwrite real data.
func splitSections(out string) [numSections]section {
	var secs [numSections]section
	cur := -1 // index of the section being read; -1 outside any known one
	start := 0
	closeCur := func(end int) {
		if cur >= 0 {
			secs[cur].text = out[start:end]
			secs[cur].closed = true
		}
	}
	for pos := 0; pos < len(out); {
		end := strings.IndexByte(out[pos:], '\n')
		next := len(out)
		if end >= 0 {
			end += pos
			next = end + 1
		} else {
			end = len(out)
		}
		line := strings.TrimSuffix(out[pos:end], "\r")
		if name, ok := markerName(line); ok {
			closeCur(pos)
			cur = -1
			if i := slices.Index(sectionNames[:], name); i >= 0 && !secs[i].seen {
				secs[i].seen = true
				cur = i
				start = next
			}
		}
		pos = next
	}
	if cur >= 0 {
		// No marker after it: keep what arrived, but it may be cut short.
		secs[cur].text = out[start:]
	}
	return secs
}

func markerName(line string) (string, bool) {
	// The length check also keeps "=== opsconsole ===", where prefix and suffix overlap,
	// from being sliced backwards.
	if len(line) < len(markerPrefix)+len(markerSuffix) || len(line) > 64 ||
		!strings.HasPrefix(line, markerPrefix) || !strings.HasSuffix(line, markerSuffix) {
		return "", false
	}
	return line[len(markerPrefix) : len(line)-len(markerSuffix)], true
}

// lines yields the non-blank lines of s without their line endings.
func lines(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for line := range strings.Lines(s) {
			line = strings.TrimRight(line, "\r\n")
			if strings.TrimSpace(line) == "" {
				continue
			}
			if !yield(line) {
				return
			}
		}
	}
}

func firstLine(s string) string {
	for line := range lines(s) {
		return line
	}
	return ""
}

// parseGauge reads a finite, non-negative float: /proc never reports NaN or a negative
// load, so either means garbage.
func parseGauge(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, false
	}
	return v, true
}

func parseLoadavg(s string, m *Metrics) bool {
	f := strings.Fields(firstLine(s))
	if len(f) < 3 {
		return false
	}
	var v [3]float64
	for i := range v {
		var ok bool
		if v[i], ok = parseGauge(f[i]); !ok {
			return false
		}
	}
	m.Load1, m.Load5, m.Load15 = v[0], v[1], v[2]
	return true
}

func parseUptime(s string, m *Metrics) bool {
	f := strings.Fields(firstLine(s))
	if len(f) < 1 {
		return false
	}
	secs, ok := parseGauge(f[0])
	if !ok || secs >= float64(math.MaxInt64)/float64(time.Second) {
		return false
	}
	m.Uptime = time.Duration(secs * float64(time.Second))
	return true
}

// kib converts a count of KiB to bytes, refusing values that would overflow.
func kib(s string) (uint64, bool) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > math.MaxUint64/1024 {
		return 0, false
	}
	return v * 1024, true
}

func parseMeminfo(s string, m *Metrics) bool {
	const (
		memTotal = iota
		memFree
		memAvailable
		buffers
		cached
		sReclaimable
		swapTotal
		swapFree
		numKeys
	)
	keys := [numKeys]string{"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached",
		"SReclaimable", "SwapTotal", "SwapFree"}
	var val [numKeys]uint64
	var have [numKeys]bool
	for line := range lines(s) {
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		i := slices.Index(keys[:], key)
		if i < 0 || have[i] {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, ok := kib(f[0]); ok {
			val[i], have[i] = v, true
		}
	}
	if !have[memTotal] || val[memTotal] == 0 {
		return false
	}
	total := val[memTotal]
	avail := val[memAvailable]
	if !have[memAvailable] {
		// Kernels before 3.14 lack MemAvailable; this is how procps estimated it then.
		if !have[memFree] {
			return false
		}
		avail = satAdd(satAdd(satAdd(val[memFree], val[buffers]), val[cached]), val[sReclaimable])
	}
	avail = min(avail, total)
	m.MemTotal = total
	m.MemUsed = total - avail
	m.MemPercent = percent(m.MemUsed, total)
	m.SwapTotal = val[swapTotal]
	m.SwapUsed = val[swapTotal] - min(val[swapFree], val[swapTotal])
	return true
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func percent(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return min(100, float64(part)/float64(whole)*100)
}

// cpuTimes is the aggregate line of /proc/stat reduced to what a busy percentage needs.
type cpuTimes struct{ idle, total float64 }

func parseCPULine(line string) (cpuTimes, bool) {
	f := strings.Fields(line)
	// user nice system idle [iowait irq softirq steal [guest guest_nice]]: guest time is
	// already counted in user and nice, so it is left out of the total.
	if len(f) < 5 || f[0] != "cpu" {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, s := range f[1:min(len(f), 9)] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		t.total += float64(v)
		if i == 3 || i == 4 { // idle, iowait
			t.idle += float64(v)
		}
	}
	return t, true
}

func parseStat(s string, m *Metrics) bool {
	var samples []cpuTimes
	for line := range lines(s) {
		if t, ok := parseCPULine(line); ok {
			samples = append(samples, t)
			if len(samples) == 2 {
				break
			}
		}
	}
	if len(samples) < 2 {
		return false
	}
	dTotal := samples[1].total - samples[0].total
	dIdle := samples[1].idle - samples[0].idle
	if dTotal <= 0 {
		return false
	}
	// iowait may step backwards between samples (the kernel says so in proc(5)); clamp
	// rather than call a live host unmeasured.
	dIdle = min(max(dIdle, 0), dTotal)
	m.CPUPercent = (dTotal - dIdle) / dTotal * 100
	return true
}

// maxCores bounds the core count against garbage; the largest Linux configuration
// (NR_CPUS) is 8192.
const maxCores = 1 << 16

func parseCores(s string, m *Metrics) bool {
	for line := range lines(s) {
		n, err := strconv.Atoi(strings.TrimSpace(line))
		if err == nil && n >= 1 && n <= maxCores {
			m.Cores = n
			return true
		}
	}
	return false
}

// parseMounts maps mount points to filesystem types from /proc/mounts. When a mount point
// appears twice the later mount hides the earlier, so the later wins.
func parseMounts(s string) map[string]string {
	types := make(map[string]string)
	for line := range lines(s) {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		types[unescapeMount(f[1])] = f[2]
	}
	return types
}

// unescapeMount undoes the octal escapes /proc/mounts uses for space, tab, newline and
// backslash in paths (e.g. \040), so they match df's plain spelling.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// pseudoSources are df's Filesystem names for in-memory mounts, used to filter when the
// mount's type is unknown (no /proc/mounts section, or df spelled the path differently).
var pseudoSources = map[string]bool{"udev": true, "none": true, "shm": true, "run": true}

func parseDF(s string, types map[string]string, m *Metrics) bool {
	rows := 0
	var disks []Disk
	for line := range lines(s) {
		d, ok := parseDFRow(line)
		if !ok {
			continue
		}
		rows++
		typ, known := types[d.Mount]
		if !known {
			// Without the type, df's source name is the best clue: pseudo filesystems are
			// mostly named after their type.
			typ = d.FS
			if pseudoSources[typ] {
				continue
			}
		}
		if !KeepDisk(typ, d.Mount) {
			continue
		}
		if d.Total == 0 {
			continue
		}
		// The names are cut from the poll's whole output; copied, they no longer keep
		// it alive for as long as the sample is held (a host's listening sockets alone
		// can make that output hundreds of kB).
		d.FS, d.Mount = strings.Clone(d.FS), strings.Clone(d.Mount)
		disks = append(disks, d)
	}
	m.Disks = dedupDisks(disks)
	return rows > 0
}

// parseDFRow reads one line of `df -P -k`: Filesystem 1024-blocks Used Available
// Capacity Mounted-on. Source and mount point may contain spaces, so the row is anchored
// on the capacity column ("NN%") that follows three numbers.
func parseDFRow(line string) (Disk, bool) {
	f, at := fieldsAt(line)
	for i := 4; i < len(f); i++ {
		c := f[i]
		if c != "-" && (len(c) < 2 || c[len(c)-1] != '%') {
			continue
		}
		total, ok1 := kib(f[i-3])
		used, ok2 := kib(f[i-2])
		avail, ok3 := kib(f[i-1])
		if !ok1 || !ok2 || !ok3 || i+1 >= len(f) {
			continue
		}
		return Disk{
			FS:      strings.Join(f[:i-3], " "),
			Mount:   line[at[i+1]:],
			Total:   total,
			Used:    used,
			Percent: percent(used, satAdd(used, avail)),
		}, true
	}
	return Disk{}, false
}

// fieldsAt splits line on blanks like strings.Fields and also returns where each field
// starts.
func fieldsAt(line string) ([]string, []int) {
	var f []string
	var at []int
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		f = append(f, line[i:j])
		at = append(at, i)
		i = j
	}
	return f, at
}

// dedupDisks keeps one entry per mounted source, the one with the shortest mount point:
// bind mounts and btrfs subvolumes repeat the same filesystem (as GNU df hides, but
// busybox df does not). The result is sorted by mount point.
func dedupDisks(disks []Disk) []Disk {
	slices.SortStableFunc(disks, func(a, b Disk) int { return len(a.Mount) - len(b.Mount) })
	seenFS := make(map[string]bool, len(disks))
	seenMount := make(map[string]bool, len(disks))
	out := disks[:0]
	for _, d := range disks {
		if seenFS[d.FS] || seenMount[d.Mount] {
			continue
		}
		seenFS[d.FS], seenMount[d.Mount] = true, true
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b Disk) int { return strings.Compare(a.Mount, b.Mount) })
	return out
}

// ParseListeningPorts returns the sorted, unique local ports of the LISTEN (state 0A)
// sockets in text in the format of /proc/net/tcp or /proc/net/tcp6; other lines are
// ignored.
func ParseListeningPorts(text []byte) []int {
	return listeningPorts(string(text))
}

// firstFields puts the first len(f) blank-separated fields of line into f, without
// allocating, and returns how many there were. A host with many sockets sends thousands
// of these lines a poll, and splitting each whole was most of the poll's garbage.
func firstFields(line string, f []string) int {
	n := 0
	for n < len(f) {
		line = strings.TrimLeft(line, " \t")
		if line == "" {
			break
		}
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		f[n], line = line[:end], line[end:]
		n++
	}
	return n
}

func listeningPorts(text string) []int {
	var ports []int
	var f [4]string // sl, local_address, rem_address, st: the rest is not needed
	for line := range lines(text) {
		if firstFields(line, f[:]) < 4 || f[3] != "0A" {
			continue
		}
		i := strings.LastIndexByte(f[1], ':')
		if i < 0 {
			continue
		}
		p, err := strconv.ParseUint(f[1][i+1:], 16, 16)
		if err != nil || p == 0 {
			continue
		}
		ports = append(ports, int(p))
	}
	slices.Sort(ports)
	return slices.Compact(ports)
}
