package logs

import (
	"slices"

	"github.com/opsconsole/opsconsole/ops/gather"
	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

type streamKey struct{ host, source string }

// streamState is the part of the engine's logs.StreamState the pane shows, its reason
// already cleaned for the terminal.
type streamState struct {
	status logs.StreamStatus
	reason string
}

// streamTable is the latest state of every stream, and its counts for the status bar.
type streamTable struct {
	byKey  map[streamKey]streamState
	counts streamCounts
}

type streamCounts struct {
	connecting, streaming, reconnecting, failed, done int
	// failedHosts are the hosts with a failed stream, in natural order.
	failedHosts []string
}

func (t *streamTable) apply(states []logs.StreamState) {
	if len(states) == 0 {
		return
	}
	if t.byKey == nil {
		t.byKey = map[streamKey]streamState{}
	}
	for _, s := range states {
		st := streamState{status: s.Status}
		if s.Err != nil {
			st.reason = termsafe.Line(s.Err.Error())
		}
		t.byKey[streamKey{s.Host, s.Source}] = st
	}
	var c streamCounts
	failed := map[string]bool{}
	for k, s := range t.byKey {
		switch s.status {
		case logs.StreamConnecting:
			c.connecting++
		case logs.StreamStreaming:
			c.streaming++
		case logs.StreamReconnecting:
			c.reconnecting++
		case logs.StreamDone:
			c.done++
		default:
			c.failed++
			if !failed[k.host] {
				failed[k.host] = true
				c.failedHosts = append(c.failedHosts, termsafe.Line(k.host))
			}
		}
	}
	gather.SortHosts(c.failedHosts)
	t.counts = c
}

// severity orders statuses for summing a host's streams up: the one needing attention
// wins.
func severity(s logs.StreamStatus) int {
	switch s {
	case logs.StreamFailed:
		return 4
	case logs.StreamReconnecting:
		return 3
	case logs.StreamConnecting:
		return 2
	case logs.StreamStreaming:
		return 1
	}
	return 0 // done
}

// hostState is a host's streams summed up for the host picker: its worst status, and
// that stream's reason.
type hostState struct {
	known  bool
	status logs.StreamStatus
	reason string
	source string
}

func (t *streamTable) host(name string) hostState {
	var hs hostState
	for k, s := range t.byKey {
		if k.host != name {
			continue
		}
		// Worst first, then the first source by name, so the picker reads the same on
		// every frame whatever order the map gives.
		sv, hv := severity(s.status), severity(hs.status)
		if !hs.known || sv > hv || sv == hv && k.source < hs.source {
			hs = hostState{known: true, status: s.status, reason: s.reason, source: k.source}
			if k.source != "" && s.reason != "" {
				hs.reason = termsafe.Line(k.source) + ": " + s.reason
			}
		}
	}
	return hs
}

// hostNames is every host the pane knows: those that sent lines and those with a stream,
// in natural order.
func (s *store) hostNames() []string {
	seen := make(map[string]bool, len(s.hosts))
	names := make([]string, 0, len(s.hosts))
	for n := range s.hosts {
		seen[n] = true
		names = append(names, n)
	}
	for k := range s.streams.byKey {
		if !seen[k.host] {
			seen[k.host] = true
			names = append(names, k.host)
		}
	}
	gather.SortHosts(names)
	return slices.Clip(names)
}

// knownHosts counts hostNames without building it: for the top line, every frame.
func (s *store) knownHosts() int {
	n := len(s.hosts)
	seen := map[string]bool{}
	for k := range s.streams.byKey {
		if _, ok := s.hosts[k.host]; !ok && !seen[k.host] {
			seen[k.host] = true
			n++
		}
	}
	return n
}
