// Package fleet is the live fleet-health pane: one row per inventory host with its status
// (symbol and word), CPU with a sparkline of its history, memory, the fullest disk, load,
// listening ports, probes, when it was last seen and why it is not healthy, with a badge
// for the log markers its lines raised (oom, panic…); sorting, grouping by tag, a live
// filter, marks that hand hosts to the exec pane, and a detail view of one host.
//
// The pane follows DESIGN.md §3 and §10: Update is a pure function of the model and a
// message (reports, flagged log lines and the time arrive as messages: HostsPolledMsg,
// the logs pane's LinesMsg and views.ClockMsg); the sorted and filtered order is computed
// in Update so View only reads; renderers in render.go are pure functions of a host, the
// styles and a width.
//
// Keys come from keymap.Fleet (rebindable, help drawn from them). Esc is handled here as
// the key itself rather than a binding: the root passes the pane esc only when nothing
// before it took the key, and here it always means back: close the detail view, or close
// the filter input and clear the filter, or clear a filter in force. While the input is
// open (InputFocused) the root sends every key here, so letters are text, not commands.
//
// A Model is used the way Bubble Tea uses it: the value Update returns (and the value
// SetSize returns) replaces the old one. Copies share per-host state (history rings,
// marks), so an old copy is not a snapshot.
package fleet

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/gather"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/ops/probes"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
	logsview "github.com/opsconsole/opsconsole/views/logs"
)

// historyLen is how many samples each host keeps per charted metric: the detail chart is
// at most this wide, and memory stays fixed at 2×historyLen floats per host.
const historyLen = health.DefaultHistoryLen

// ProbeCounts is a host's probe results in short: how many of its probes pass.
type ProbeCounts struct {
	OK, Total int
}

// probesOf counts a report's probe results. A report without any (a host no probe
// selects, or whose probes have not run yet) says nothing, and the column keeps "–"
// rather than a 0/0 that reads like a failure.
func probesOf(r *fleet.Report) (ProbeCounts, bool) {
	if len(r.Probes) == 0 {
		return ProbeCounts{}, false
	}
	pc := ProbeCounts{Total: len(r.Probes)}
	for _, p := range r.Probes {
		if p.OK() {
			pc.OK++
		}
	}
	return pc, true
}

// host is one row's state. It lives behind a pointer because its histories must not be
// copied (health.History shares its points with copies).
type host struct {
	cfg       config.Host
	transport string
	// nameRank is the host's place in natural name order (host-9 before host-10), so
	// sorting compares integers instead of re-parsing names.
	nameRank int
	// group is what grouping by tag files the host under: its first tag, the one an
	// inventory usually gives the role. One group per host keeps the group counts adding
	// up to the fleet and keeps the cursor's identity a host name.
	group string
	// baseHay is the lower-cased name, address and tags the filter searches; hay adds the
	// status word and reasons. A report that changes those only marks hay stale: it is
	// rebuilt when a filter next needs it, so an unfiltered table pays nothing.
	baseHay, hay string
	hayStale     bool

	reported bool // false until the first report: the row reads "connecting"
	status   health.Status
	reasons  []string
	// metrics is the last good sample. A failed read keeps it and sets stale, so the
	// operator still sees what the host looked like before it went away; so does a
	// metrics server that stopped answering.
	metrics    *health.Metrics
	source     string // where metrics came from: ssh, local, prometheus
	stale      bool
	seen       time.Time // when metrics were taken; zero: never
	lastReport time.Time // the newest report applied; older ones are dropped
	lastErr    string
	lastErrAt  time.Time
	cpu, mem   *health.History
	probes     *ProbeCounts    // nil until probe results exist
	probeRes   []probes.Result // the latest, sorted by name, for the detail view
	probeWorst health.Status   // the worst of them, for the column's colour
	alerts     []prom.Alert    // firing on the host
	marked     bool

	// markers are the log markers seen on the host (lines that matched a configured
	// [[logs]] marker), most recent first once refreshed. badge is the row's reason prefix
	// made from them ("⚑ oom×3 panic×1") and reasonText the reason cell's text, the badge
	// before the first reason; both are rebuilt in Update when markers or reasons change,
	// so drawing a row only reads them. markerLast is the latest hit's time, which decides
	// the badge's ink against the clock.
	markers      []markerHit
	badge        string
	reasonText   string
	markerLast   time.Time
	markersDirty bool // touched by the batch being applied
}

// statusWord is the word the row shows and the filter matches: the health status, or
// "connecting" before the first report.
func (h *host) statusWord() string {
	if !h.reported {
		return "connecting"
	}
	return h.status.String()
}

func (h *host) refreshHay() {
	var b strings.Builder
	b.WriteString(h.baseHay)
	b.WriteByte(0)
	b.WriteString(h.statusWord())
	for _, r := range h.reasons {
		b.WriteByte(0)
		b.WriteString(strings.ToLower(r))
	}
	for _, k := range h.markers {
		b.WriteByte(0)
		b.WriteString(strings.ToLower(k.name))
	}
	h.hay = b.String()
	h.hayStale = false
}

// Summary counts the fleet for the root's header. Degraded is warn and crit together;
// Unknown is hosts that answered but could not be judged. Total is every host.
type Summary struct {
	Up, Degraded, Down, Connecting, Unknown, Total int
}

// sortKey is a column the table can be sorted by.
type sortKey int

const (
	sortStatus sortKey = iota // worst first, then name
	sortName
	sortCPU  // busiest first
	sortMem  // fullest first
	sortDisk // fullest first
	sortLoad // highest first
	sortSeen // longest unseen first
	numSortKeys
)

var sortNames = [numSortKeys]string{"status", "name", "cpu", "mem", "disk", "load", "seen"}

func (k sortKey) String() string { return sortNames[k] }

// line is one display line of the table: a host row, or a group header when grouping.
type line struct {
	host  int // index into Model.hosts; -1 for a group header
	group *groupHeader
}

// groupHeader is a tag group's header with its counts per status, over the hosts shown.
type groupHeader struct {
	name   string
	counts [numStates]int
	total  int
}

// state is a row's status for counting: the five health statuses plus connecting.
type state int

const (
	stateOK state = iota
	stateWarn
	stateCrit
	stateDown
	stateUnknown
	stateConnecting
	numStates
)

func stateOf(h *host) state {
	if !h.reported {
		return stateConnecting
	}
	return stateOfStatus(h.status)
}

func stateOfStatus(s health.Status) state {
	switch s {
	case health.OK:
		return stateOK
	case health.Warn:
		return stateWarn
	case health.Crit:
		return stateCrit
	case health.Down:
		return stateDown
	}
	return stateUnknown
}

// Model is the fleet pane.
type Model struct {
	keys   keymap.Fleet
	local  localKeys
	styles *themes.Styles
	pal    *palette // styles reduced for the table's rows; shared by copies, never changed

	hosts  []*host
	byName map[string]int
	now    time.Time // the latest ClockMsg; zero until one arrives

	width, height int
	layout        layout

	sortBy  sortKey
	reverse bool
	grouped bool

	query     string // the filter in force ("" none)
	terms     []term
	input     lineInput
	inputOpen bool

	// order is the hosts shown, filtered and sorted (and grouped); lines is the display
	// with group headers; lineOf maps a position in order to its line. All three are
	// rebuilt in Update whenever data, sort, grouping or filter change, so View only reads.
	order  []int
	lines  []line
	lineOf []int
	cursor int    // position in order
	top    int    // first line drawn
	sel    string // the selected host's name: what keeps the cursor across re-sorts
	// chosen is set once the operator moves the cursor. Until then it stays on the top
	// row, so the pane opens on the worst host rather than following whichever host
	// happened to be first while every row was still connecting.
	chosen bool

	detail    bool
	detailIdx int // the host shown in detail
	detailTop int

	summary Summary
	counts  [numStates]int
	marked  int

	// server is the metrics server's state from the latest batch (zero: none configured).
	server fleet.ServerStatus
}

// New makes the pane with every inventory host as a row, connecting until its first report.
func New(hosts []config.Host, keys keymap.Fleet, styles *themes.Styles) Model {
	m := Model{
		keys:   keys,
		local:  newLocalKeys(),
		styles: styles,
		pal:    newPalette(styles),
		byName: make(map[string]int, len(hosts)),
		hosts:  make([]*host, 0, len(hosts)),
	}
	for _, c := range hosts {
		if _, dup := m.byName[c.Name]; dup {
			continue // config validation refuses duplicates; never show one host twice
		}
		m.addHost(c)
	}
	m.rankNames()
	m.recount()
	m.layout = computeLayout(m.width, m.maxNameWidth())
	m.rebuild()
	return m
}

func (m *Model) addHost(c config.Host) int {
	tags := strings.ToLower(strings.Join(c.Tags, " "))
	h := &host{
		cfg:       c,
		transport: c.Transport,
		baseHay:   strings.ToLower(c.Name) + "\x00" + strings.ToLower(c.Address) + "\x00" + tags,
		cpu:       health.NewHistory(historyLen),
		mem:       health.NewHistory(historyLen),
	}
	if len(c.Tags) > 0 {
		h.group = c.Tags[0]
	}
	h.refreshHay()
	m.byName[c.Name] = len(m.hosts)
	m.hosts = append(m.hosts, h)
	return len(m.hosts) - 1
}

func (m *Model) rankNames() {
	idx := make([]int, len(m.hosts))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		na, nb := m.hosts[a].cfg.Name, m.hosts[b].cfg.Name
		switch {
		case gather.NaturalLess(na, nb):
			return -1
		case gather.NaturalLess(nb, na):
			return 1
		}
		return 0
	})
	for rank, i := range idx {
		m.hosts[i].nameRank = rank
	}
}

func (m *Model) maxNameWidth() int {
	w := 0
	for _, h := range m.hosts {
		w = max(w, textWidth(h.cfg.Name))
	}
	return w
}

// SetSize gives the pane its inner size (the root draws the border) and lays the columns
// out for it.
func (m Model) SetSize(w, h int) Model {
	m.width, m.height = max(w, 0), max(h, 0)
	m.layout = computeLayout(m.width, m.maxNameWidth())
	m.scrollToCursor(m.cursorLine() - m.top)
	m.clampDetail()
	return m
}

// Width returns the width last given to SetSize.
func (m Model) Width() int { return m.width }

// Height returns the height last given to SetSize.
func (m Model) Height() int { return m.height }

// InputFocused reports whether the filter input is open, so the root sends it every key
// instead of treating letters as global keys.
func (m Model) InputFocused() bool { return m.inputOpen }

// Title is the pane border's title: how many hosts are shown, how many are marked, and
// which host the detail view shows.
func (m Model) Title() string {
	var b strings.Builder
	b.WriteString("Fleet")
	if m.detail {
		b.WriteString(" › ")
		b.WriteString(m.hosts[m.detailIdx].cfg.Name)
		return b.String()
	}
	b.WriteString(" · ")
	if m.filtering() {
		b.WriteString(itoa(len(m.order)) + " of ")
	}
	b.WriteString(plural(len(m.hosts), "host", "hosts"))
	if m.marked > 0 {
		b.WriteString(" · " + itoa(m.marked) + " marked")
	}
	return b.String()
}

// Summary returns the fleet's counts for the root's header.
func (m Model) Summary() Summary { return m.summary }

// Server returns the metrics server's state as the latest reports told it: where metrics
// come from, whether they are fresh, and how many alerts fire. The zero value means no
// server is configured.
func (m Model) Server() fleet.ServerStatus { return m.server }

// Selected returns the name of the host under the cursor, and false when no host is shown.
func (m Model) Selected() (string, bool) {
	if len(m.order) == 0 {
		return "", false
	}
	return m.hosts[m.order[m.cursor]].cfg.Name, true
}

// Marked returns the marked hosts' names in natural order.
func (m Model) Marked() []string {
	var names []string
	for _, h := range m.sortedByName() {
		if h.marked {
			names = append(names, h.cfg.Name)
		}
	}
	return names
}

func (m Model) sortedByName() []*host {
	hs := slices.Clone(m.hosts)
	slices.SortFunc(hs, func(a, b *host) int { return cmp.Compare(a.nameRank, b.nameRank) })
	return hs
}

func (m Model) filtering() bool { return len(m.terms) > 0 }

// applyReports merges a batch of reports and rebuilds the order once, and only when
// something the order, the filter or the counts depend on changed: in a steady fleet most
// reports change numbers, not statuses.
func (m *Model) applyReports(reps []fleet.Report) {
	rebuild, recount := false, false
	added := false
	for i := range reps {
		r := &reps[i]
		if r.Status == health.Unknown && r.Outcome == sessions.OutcomeCancelled {
			continue // the poll was stopped, it says nothing about the host
		}
		idx, ok := m.byName[r.Host]
		if !ok {
			// A host outside the inventory (published from elsewhere) is shown rather
			// than dropped: an operator should see everything the engine reports.
			idx = m.addHost(config.Host{Name: r.Host, Transport: r.Transport})
			added = true
		}
		ch, applied := merge(m.hosts[idx], r)
		if !applied {
			continue
		}
		recount = recount || ch.status
		rebuild = rebuild || ch.status || (m.filtering() && ch.hay) || m.sortBy.dependsOnMetrics() && ch.metrics
	}
	if added {
		m.rankNames()
		m.layout = computeLayout(m.width, m.maxNameWidth())
		rebuild, recount = true, true
	}
	if recount {
		m.recount()
	}
	if rebuild {
		m.rebuild()
	}
}

func (k sortKey) dependsOnMetrics() bool { return k != sortStatus && k != sortName }

// changes says what a merged report changed, so the caller knows what to recompute.
type changes struct {
	status  bool // status word (or connecting) changed
	hay     bool // what the filter searches changed
	metrics bool // a sort key's value may have changed
}

// merge applies one report to its host. A report older than the newest applied is
// dropped (DESIGN.md §10.5): reports may arrive from more than one producer.
func merge(h *host, r *fleet.Report) (changes, bool) {
	if !r.Time.IsZero() && r.Time.Before(h.lastReport) {
		return changes{}, false
	}
	oldWord, oldReasons := h.statusWord(), h.reasons
	h.lastReport = r.Time
	h.reported = true
	h.status = r.Status
	h.reasons = oneLines(r.Reasons)
	if r.Transport != "" {
		h.transport = r.Transport
	}
	var ch changes
	if r.Err != nil {
		h.lastErr, h.lastErrAt = oneLine(r.Err.Error()), r.Time
	}
	switch {
	case r.Metrics != nil:
		// Metrics may come with an error: a metrics server still has numbers for a host
		// that no longer answers over SSH. They are as fresh as their source says.
		m := r.Metrics
		seen := m.Time
		if seen.IsZero() {
			seen = r.Time
		}
		// The same sample is reported again when only probes or alerts changed, or while
		// its server is away: the charts take each sample once.
		if h.metrics == nil || !seen.Equal(h.seen) {
			if m.Has(health.FieldCPU) {
				h.cpu.Push(m.CPUPercent)
			}
			if m.Has(health.FieldMem) && m.MemTotal > 0 {
				h.mem.Push(m.MemPercent)
			}
		}
		h.metrics, h.source, h.stale, h.seen = m, r.Source, r.Stale, seen
		ch.metrics = true
	case r.Err != nil:
		h.stale = h.metrics != nil
	default:
		// A status without metrics or error (a connection event): down means what we
		// show is old.
		h.stale = h.metrics != nil && r.Status == health.Down
	}
	if pc, ok := probesOf(r); ok {
		h.probes = new(ProbeCounts) // allocated here, not for every report
		*h.probes = pc
		h.probeRes = r.Probes
		h.probeWorst = health.OK
		for _, p := range r.Probes {
			h.probeWorst = health.Worst(h.probeWorst, p.Status)
			if p.Flapping {
				h.probeWorst = health.Worst(h.probeWorst, health.Warn)
			}
		}
	}
	h.alerts = r.Alerts
	if h.badge != "" {
		h.refreshReasonText() // only hosts with markers pay for it
	}
	ch.status = h.statusWord() != oldWord
	if ch.status || !slices.Equal(oldReasons, h.reasons) {
		h.hayStale = true
		ch.hay = true
	}
	return ch, true
}

// Log markers. A line the logs engine flagged (it matched a configured [[logs]] marker,
// e.g. "oom") raises a badge on its host's row and a section in the host's detail view.
// Hits are kept per host and marker name: how many, the first and the latest time, and
// the latest line. They are bounded: at most maxMarkers names per host (the least recent
// goes), and the line is capped at maxMarkerLine bytes and cleaned for the terminal once,
// when it arrives.
const (
	// markerWindow is how long after its latest hit a badge is drawn in the warn ink;
	// after it the badge stays, faint, as history.
	markerWindow  = 15 * time.Minute
	maxMarkers    = 8
	maxMarkerLine = 512
)

// markerHit is one marker's hits on one host.
type markerHit struct {
	name        string // the marker's name as the engine flagged it
	word        string // name cleaned for the terminal, as the row and the detail show it
	count       int
	first, last time.Time // by the lines' own time stamps, else when they were read
	line        string    // the line with the latest time, cleaned and capped
}

// applyLines folds a batch of log lines into the hosts' marker hits. Most batches hold
// no flagged line and cost one scan. Lines for a host the pane has no row for are
// ignored: the logs engine streams from inventory hosts, and a marker must not invent a
// row.
func (m *Model) applyLines(lines []logs.Line) {
	first := slices.IndexFunc(lines, func(l logs.Line) bool { return l.Flag != "" })
	if first < 0 {
		return
	}
	var touched []*host
	renamed := false
	for i := first; i < len(lines); i++ {
		l := &lines[i]
		if l.Flag == "" {
			continue
		}
		idx, ok := m.byName[l.Host]
		if !ok {
			continue
		}
		h := m.hosts[idx]
		if !h.markersDirty {
			h.markersDirty = true
			touched = append(touched, h)
		}
		renamed = h.addMarker(l) || renamed
	}
	for _, h := range touched {
		h.markersDirty = false
		h.refreshBadge()
	}
	if renamed && m.filtering() {
		m.rebuild() // a new marker name may make a host match the filter, or stop it
	}
}

// addMarker counts one flagged line and reports whether the host's set of marker names
// changed (which the filter searches).
func (h *host) addMarker(l *logs.Line) bool {
	at := l.Time
	if at.IsZero() {
		at = l.Received
	}
	named := false
	i := slices.IndexFunc(h.markers, func(k markerHit) bool { return k.name == l.Flag })
	if i < 0 {
		if len(h.markers) >= maxMarkers {
			oldest := 0
			for j, k := range h.markers {
				if k.last.Before(h.markers[oldest].last) {
					oldest = j
				}
			}
			h.markers = slices.Delete(h.markers, oldest, oldest+1)
		}
		h.markers = append(h.markers, markerHit{name: l.Flag, word: markerWord(l.Flag), first: at, last: at})
		i = len(h.markers) - 1
		named = true
		h.hayStale = true
	}
	k := &h.markers[i]
	k.count++
	if at.Before(k.first) {
		k.first = at
	}
	// Lines from several sources need not arrive in time order: the latest line is the
	// one with the latest time, so it always matches the time shown beside it.
	if !at.Before(k.last) {
		k.last = at
		text := l.Message
		if text == "" {
			text = l.Raw
		}
		k.line = markerLine(text)
	}
	return named
}

// refreshBadge orders the host's markers most recent first and rebuilds the badge.
func (h *host) refreshBadge() {
	if len(h.markers) == 0 {
		h.badge, h.markerLast = "", time.Time{}
		h.refreshReasonText()
		return
	}
	slices.SortStableFunc(h.markers, func(a, b markerHit) int {
		if c := b.last.Compare(a.last); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	h.markerLast = h.markers[0].last
	h.badge = markerBadge(h.markers)
	h.refreshReasonText()
}

// refreshReasonText puts the badge before the first reason, for the reason cell.
func (h *host) refreshReasonText() {
	switch {
	case h.badge == "":
		h.reasonText = ""
	case len(h.reasons) == 0:
		h.reasonText = h.badge
	default:
		h.reasonText = h.badge + " · " + h.reasons[0]
	}
}

// recount refreshes the counts per status the header and the pane's top line show.
func (m *Model) recount() {
	s := Summary{Total: len(m.hosts)}
	var counts [numStates]int
	for _, h := range m.hosts {
		st := stateOf(h)
		counts[st]++
		switch st {
		case stateOK:
			s.Up++
		case stateWarn, stateCrit:
			s.Degraded++
		case stateDown:
			s.Down++
		case stateConnecting:
			s.Connecting++
		default:
			s.Unknown++
		}
	}
	m.summary, m.counts = s, counts
}

// rank orders rows by how much they need attention: down, crit, warn, unknown, then
// connecting (not yet bad, but not known good), then ok. The health statuses are ranked by
// health's own order (Status.Worse), so the table and the engine never disagree on what
// is worse.
func rank(h *host) int {
	if !h.reported {
		return 1
	}
	sev := 0
	for _, s := range rankedStatuses {
		if h.status.Worse(s) {
			sev++
		}
	}
	if sev == 0 {
		return 0
	}
	return sev + 1 // above connecting
}

var rankedStatuses = []health.Status{health.OK, health.Unknown, health.Warn, health.Crit, health.Down}

// metricKey is the value a metric sort compares; hosts without one sort after all others
// (in either direction), since there is nothing to compare.
func metricKey(h *host, k sortKey) (float64, bool) {
	if k == sortSeen {
		if h.seen.IsZero() {
			return 0, false
		}
		return float64(-h.seen.UnixNano()), true // oldest first
	}
	if h.metrics == nil {
		return 0, false
	}
	mt := h.metrics
	switch k {
	case sortCPU:
		return mt.CPUPercent, mt.Has(health.FieldCPU)
	case sortMem:
		return mt.MemPercent, mt.Has(health.FieldMem)
	case sortDisk:
		return mt.WorstDisk().Percent, len(mt.Disks) > 0
	case sortLoad:
		return mt.Load1, mt.Has(health.FieldLoad)
	}
	return 0, false
}

// sortEntry is a host with its place under the current sort folded into three unsigned
// keys, compared in turn: the group and whether the host has a value at all, the value
// in the direction asked, then the name. Taking them once per rebuild keeps the sort's
// comparisons to integer compares, which is most of what a rebuild costs.
type sortEntry struct {
	a, b, c uint64
	idx     int
}

func (m *Model) entry(i, group int) sortEntry {
	h := m.hosts[i]
	var v float64
	has := true
	switch m.sortBy {
	case sortStatus:
		v = float64(rank(h))
	case sortName:
	default:
		v, has = metricKey(h, m.sortBy)
	}
	e := sortEntry{idx: i, a: uint64(group) << 1, c: uint64(h.nameRank)}
	if !has {
		e.a |= 1 // hosts without a value go last, in either direction
	}
	// Larger values first in the usual direction; the reverse flips only the value, so
	// ties keep A-first names, except when the name is what is sorted.
	e.b = ^orderedBits(v)
	if m.reverse {
		e.b = ^e.b
		if m.sortBy == sortName {
			e.c = ^e.c
		}
	}
	return e
}

// orderedBits maps a float to an integer with the same order.
func orderedBits(f float64) uint64 {
	if f == 0 {
		f = 0 // one zero: -0 and +0 compare equal
	}
	u := math.Float64bits(f)
	if u>>63 == 1 {
		return ^u
	}
	return u | 1<<63
}

func compareEntries(x, y sortEntry) int {
	if x.a != y.a {
		return cmp.Compare(x.a, y.a)
	}
	if x.b != y.b {
		return cmp.Compare(x.b, y.b)
	}
	return cmp.Compare(x.c, y.c)
}

// rebuild recomputes the shown order and its display lines, then puts the cursor back on
// the host it was on, at the same place on screen when it can.
func (m *Model) rebuild() {
	screenRow := m.cursorLine() - m.top
	shownIdx := make([]int, 0, len(m.hosts))
	for i, h := range m.hosts {
		if len(m.terms) > 0 && h.hayStale {
			h.refreshHay()
		}
		if matchAll(m.terms, h) {
			shownIdx = append(shownIdx, i)
		}
	}

	// Groups: each shown host's tag group, with the groups in natural order of their
	// names and untagged hosts last.
	var groups []*groupHeader
	groupOf := map[string]int{}
	if m.grouped {
		var names []string
		seen := map[string]bool{}
		for _, i := range shownIdx {
			if g := m.hosts[i].group; !seen[g] {
				seen[g] = true
				names = append(names, g)
			}
		}
		slices.SortFunc(names, func(a, b string) int {
			switch {
			case a == b:
				return 0
			case a == "":
				return 1
			case b == "":
				return -1
			case gather.NaturalLess(a, b):
				return -1
			}
			return 1
		})
		for k, n := range names {
			groupOf[n] = k
			groups = append(groups, &groupHeader{name: n})
		}
	}

	entries := make([]sortEntry, len(shownIdx))
	for k, i := range shownIdx {
		g := 0
		if m.grouped {
			g = groupOf[m.hosts[i].group]
			gh := groups[g]
			gh.counts[stateOf(m.hosts[i])]++
			gh.total++
		}
		entries[k] = m.entry(i, g)
	}
	slices.SortFunc(entries, compareEntries)

	order := make([]int, len(entries))
	lineOf := make([]int, len(entries))
	lines := make([]line, 0, len(entries)+len(groups))
	prev := -1
	for k, e := range entries {
		if m.grouped && int(e.a>>1) != prev {
			prev = int(e.a >> 1)
			lines = append(lines, line{host: -1, group: groups[prev]})
		}
		order[k] = e.idx
		lineOf[k] = len(lines)
		lines = append(lines, line{host: e.idx})
	}
	m.order, m.lines, m.lineOf = order, lines, lineOf

	cur := -1
	if m.chosen && m.sel != "" {
		if i, ok := m.byName[m.sel]; ok {
			cur = slices.Index(order, i)
		}
	}
	if cur < 0 && m.chosen {
		cur = min(m.cursor, len(order)-1)
	}
	m.cursor = max(cur, 0)
	m.syncSel()
	m.scrollToCursor(screenRow)
}

func (m *Model) syncSel() {
	if len(m.order) == 0 {
		m.sel = ""
		return
	}
	m.sel = m.hosts[m.order[m.cursor]].cfg.Name
}

// bodyHeight is how many table lines fit under the pane's top line and the header.
func (m *Model) bodyHeight() int { return max(m.height-2, 0) }

func (m *Model) cursorLine() int {
	if m.cursor < 0 || m.cursor >= len(m.lineOf) {
		return 0
	}
	return m.lineOf[m.cursor]
}

// scrollToCursor sets the first line drawn so the cursor's line is at screen row want when
// possible (so rows move under a still cursor when the order changes), and always visible.
func (m *Model) scrollToCursor(want int) {
	body := m.bodyHeight()
	cl := m.cursorLine()
	if body <= 0 {
		m.top = cl
		return
	}
	want = min(max(want, 0), body-1)
	top := cl - want
	// Show a group's header with its first host.
	if top == cl && cl > 0 && m.lines[cl-1].host < 0 {
		top--
	}
	if cl >= top+body {
		top = cl - body + 1
	}
	top = min(top, len(m.lines)-body)
	m.top = max(top, 0)
}

// move moves the cursor by delta shown hosts, scrolling only as far as needed to keep it
// (and its group's header, at the top of a group) on screen.
func (m *Model) move(delta int) {
	if len(m.order) == 0 {
		return
	}
	m.chosen = true
	m.cursor = min(max(m.cursor+delta, 0), len(m.order)-1)
	m.syncSel()
	cl := m.cursorLine()
	switch {
	case cl < m.top || (cl > 0 && cl-1 < m.top && m.lines[cl-1].host < 0):
		m.scrollToCursor(0)
	case cl >= m.top+m.bodyHeight():
		m.scrollToCursor(m.bodyHeight() - 1)
	}
}

// setFilter puts a query in force and rebuilds the order.
func (m *Model) setFilter(q string) {
	m.query = strings.TrimSpace(q)
	m.terms = parseQuery(m.query)
	m.rebuild()
}

// Update merges reports and the log lines that matched a marker, takes the time and
// answers keys. It does no I/O and reads no clock: everything it knows arrives in msg.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case HostsPolledMsg:
		m.server = msg.Server
		m.applyReports(msg.Reports)
		m.clampDetail()
	case logsview.LinesMsg:
		m.applyLines(msg.Lines)
		m.clampDetail()
	case views.ClockMsg:
		m.now = msg.Now
	case tea.KeyMsg:
		return m.handleKey(msg)
	}
	return m, nil
}

// SetStyles replaces the styles, for a theme change at run time.
func (m Model) SetStyles(s *themes.Styles) Model {
	m.styles = s
	m.pal = newPalette(s)
	return m
}
