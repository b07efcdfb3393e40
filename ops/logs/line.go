// Package logs is the log engine: sources on many hosts streamed over their persistent
// connections, parsed (text, JSON lines, logfmt), merged into one stream, and kept in a
// bounded ring buffer. It knows nothing of panes; the Logs pane and `opsconsole logs` are
// two faces of it.
//
// The way through it, for either face:
//
//	sources, err := logs.Parse(cfg)                  // [[logs]], positioned errors
//	targets := logs.Targets(sources, hosts)          // one stream per source per host
//	eng := logs.Start(ctx, pool, targets, logs.Options{Follow: true, Backlog: 100})
//	lines, states, err := eng.Next(ctx)              // a batch; re-arm after each
//	ring.AppendAll(lines)                            // a *Ring of the newest lines
//	filter, err := logs.NewFilter(logs.FilterSpec{Pattern: re})
//	filter.Match(line); filter.Spans(text)           // what to show, what to highlight
//
// Next returns io.EOF once every stream has ended (Stop, ctx, or, without Follow, each
// read what it was asked to). Lines carry their Seq in merge order; lines the engine
// makes (reconnects, gaps, rotations, state changes) carry a Marker; lines a configured
// marker pattern matched carry its name in Flag.
package logs

import "time"

// Level is a normalised log level.
type Level int

// Levels, least severe first; LevelNone means the line carried none.
const (
	LevelNone Level = iota
	LevelTrace
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
	LevelFatal
)

// Field is one key/value of a structured line, in the order the line had them.
type Field struct {
	Key   string
	Value string
}

// Line is one log line as the engine delivers it.
type Line struct {
	// Seq is the line's position in the merged stream (1, 2, …); a reader that has seen Seq
	// n has seen every line before it.
	Seq    uint64
	Host   string
	Source string
	// Received is when opsconsole read the line; Time is the time stamp parsed from the
	// line itself (zero when it had none).
	Received time.Time
	Time     time.Time
	Level    Level
	// Message is the human part: the text line itself, or a structured line's msg field.
	Message string
	// Fields holds a structured line's other fields (JSON, logfmt), in order.
	Fields []Field
	// Raw is the line exactly as read (without its newline), kept whole for save.
	Raw string
	// Marker is set on lines the engine adds itself: a gap after a reconnect, a rotation,
	// a stream state change. Raw then says what happened.
	Marker MarkerKind
	// Flag names the configured marker pattern (a [[logs]] source's markers, e.g. "oom")
	// that this line matched first; empty when none did. It is how incidents flow from
	// logs: the fleet pane raises a marker on the host for a flagged line.
	Flag string
}

// MarkerKind says what an engine-made line marks.
type MarkerKind int

// Marker kinds.
const (
	NotMarker MarkerKind = iota
	MarkerGap
	MarkerReconnected
	MarkerRotated
	MarkerState
)
