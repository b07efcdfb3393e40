package logs

import (
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// DefaultCapacity is how many lines the pane keeps when New is given no capacity.
const DefaultCapacity = logs.DefaultRingSize

// maxDisplay bounds the display text of a line, in bytes: what a row draws and the
// highlight scans. The filter and the search match the line as read, and the detail view
// and save use it whole. A multi-megabyte line (a base64 blob, a minified payload) then
// never costs a long scan per frame.
const maxDisplay = 8 << 10

// lineAt is the time the pane files a line under: its own time stamp when it had one, else
// when it was read.
func lineAt(l *logs.Line) time.Time {
	if !l.Time.IsZero() {
		return l.Time
	}
	return l.Received
}

// hostInfo is what rows show of a host: its cleaned name, that name's width, and the
// host's colour.
type hostInfo struct {
	name  string
	width int
	color int
}

func newHostInfo(name string) hostInfo {
	shown := termsafe.Line(name)
	if shown == "" {
		shown = "?"
	}
	// The engine's hash of the name, so a host has the same colour in every run and in
	// every face of the engine that colours hosts.
	return hostInfo{name: shown, width: ansi.StringWidth(shown), color: logs.HostColor(name, themes.HostColors)}
}

// store is the pane's data: the engine's ring and the hosts seen. It sits behind a
// pointer that copies of the Model share, as Bubble Tea replaces the model with each
// Update's result; an older copy is not a snapshot (copying 100,000 lines per message
// is what the ring exists to avoid).
//
// Lines are addressed by absolute position: the count of lines appended before them,
// which is the ring's Evicted count plus their index in the ring. A position stays valid
// until its line is evicted, and eviction is a comparison against first().
type store struct {
	ring    *logs.Ring
	hosts   map[string]hostInfo
	maxHost int    // widest host name, for the host column
	lastSeq uint64 // the newest Seq taken; older ones are replays and dropped
	streams streamTable
}

func newStore(capacity int) *store {
	return &store{ring: logs.NewRing(capacity), hosts: map[string]hostInfo{}}
}

func (s *store) first() uint64 { return s.ring.Evicted() }
func (s *store) end() uint64   { return s.ring.Evicted() + uint64(s.ring.Len()) }
func (s *store) len() int      { return s.ring.Len() }

// at returns the line at an absolute position the caller knows is held.
func (s *store) at(pos uint64) *logs.Line { return s.ring.At(int(pos - s.ring.Evicted())) }

// host returns how rows show a host, adding it on first sight, and whether it was new.
func (s *store) host(name string) (hostInfo, bool) {
	if h, ok := s.hosts[name]; ok {
		return h, false
	}
	h := newHostInfo(name)
	s.hosts[name] = h
	s.maxHost = max(s.maxHost, h.width)
	return h, true
}

// hostOf is host without adding: for View, which only reads. Every held line's host was
// added when the line arrived.
func (s *store) hostOf(name string) hostInfo {
	if h, ok := s.hosts[name]; ok {
		return h
	}
	return newHostInfo(name)
}

// row is a line made ready to draw: its host and its display text. Rows are made for
// the lines on screen only, so a burst of lines costs nothing here.
type row struct {
	line     *logs.Line
	host     hostInfo
	text     string
	fieldsAt int // where the fields begin in text; len(text) when there are none
	cut      bool
}

func (s *store) row(pos uint64) row {
	l := s.at(pos)
	h := s.hostOf(l.Host)
	r := row{line: l, host: h}
	r.text, r.fieldsAt, r.cut = displayText(l)
	return r
}

// displayText is a line as a row shows it: a text line's message; a structured line's
// message first, two spaces, then its fields as key=value; a marker's description. The
// result is clean and at most about maxDisplay bytes.
func displayText(l *logs.Line) (text string, fieldsAt int, cut bool) {
	if l.Marker != logs.NotMarker || len(l.Fields) == 0 {
		src := l.Message
		if src == "" || l.Marker != logs.NotMarker && l.Raw != "" {
			src = l.Raw
		}
		src, cut = termsafe.CutBytes(src, maxDisplay)
		text = termsafe.Line(src)
		return text, len(text), cut
	}
	var b strings.Builder
	msg, c := termsafe.CutBytes(l.Message, maxDisplay)
	cut = c
	termsafe.WriteLine(&b, msg)
	fieldsAt = b.Len()
	sep := "  "
	if b.Len() == 0 {
		sep = ""
	}
	// The engine keeps the message, level and time out of Fields when it parsed them,
	// so every field is shown.
	for _, f := range l.Fields {
		if b.Len() >= maxDisplay {
			cut = true
			break
		}
		b.WriteString(sep)
		sep = " "
		if len(f.Value) > maxDisplay {
			v, _ := termsafe.CutBytes(f.Value, maxDisplay)
			fieldText(&b, f.Key, v)
			cut = true
			continue
		}
		fieldText(&b, f.Key, f.Value)
	}
	text = b.String()
	if len(text) == 0 {
		text = termsafe.Line(l.Raw)
		return text, len(text), cut
	}
	if fieldsAt > 0 && fieldsAt < len(text) {
		fieldsAt += 2 // past the two spaces
	}
	return text, fieldsAt, cut
}

// levelWords are the level column's words, all five cells wide once padded.
var levelWords = [...]string{
	logs.LevelNone:  "",
	logs.LevelTrace: "TRACE",
	logs.LevelDebug: "DEBUG",
	logs.LevelInfo:  "INFO",
	logs.LevelWarn:  "WARN",
	logs.LevelError: "ERROR",
	logs.LevelFatal: "FATAL",
}

const levelWidth = 5

func levelWord(l logs.Level) string {
	if l < 0 || int(l) >= len(levelWords) {
		return "?"
	}
	return levelWords[l]
}

// markerWord names what a marker line marks, as the engine's jsonl output does.
func markerWord(k logs.MarkerKind) string {
	if w := k.String(); w != "" {
		return w
	}
	return "marker"
}
