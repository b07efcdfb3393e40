package logs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// detailLabelW is the width of the detail view's labels ("received  ").
const detailLabelW = 10

// renderDetail draws one whole record for the detail view: where it came from, both
// times, the level, the message, every field, and the line as read (JSON indented).
// Nothing is cut; long values wrap. The result is made once when the view opens or the
// width changes, not per frame: a megabyte line is a lot of rows.
func renderDetail(l *logs.Line, host hostInfo, p *palette, width int) []string {
	width = max(width, 1)
	var out []string
	add := func(s string) { out = append(out, s) }

	head := p.host(host.color).paint(host.name)
	if l.Source != "" {
		head += p.faint.paint(" · ") + p.text.paint(termsafe.Line(l.Source))
	}
	head += p.faint.paint(" · #" + strconv.FormatUint(l.Seq, 10))
	add(head)

	field := func(label, value string, k ink) {
		rows := wrapText(value, max(width-detailLabelW, 1))
		for i, r := range rows {
			lab := strings.Repeat(" ", detailLabelW)
			if i == 0 {
				lab = p.accent.paint(padCut(label, detailLabelW-1)) + " "
			}
			add(lab + k.paint(r))
		}
	}
	if l.Marker != logs.NotMarker {
		field("marker", markerWord(l.Marker), p.faint)
	}
	field("time", formatTime(l.Time), p.text)
	field("received", formatTime(l.Received), p.text)
	if l.Flag != "" {
		// A configured marker pattern matched: the reason the fleet pane may show this
		// host flagged.
		field("flag", termsafe.Line(l.Flag), p.warn)
	}
	lvl := levelWord(l.Level)
	if lvl == "" {
		lvl = "–"
	}
	field("level", lvl, p.levelInk(l.Level))
	if l.Message != "" {
		for i, ml := range cleanLines(l.Message) {
			label := ""
			if i == 0 {
				label = "message"
			}
			field(label, ml, p.text)
		}
	}

	if len(l.Fields) > 0 {
		add(p.accent.paint("fields"))
		kw := 0
		for _, f := range l.Fields {
			kw = max(kw, textWidth(termsafe.Line(f.Key)))
		}
		kw = min(kw, max(width/3, 8))
		for _, f := range l.Fields {
			k := "  " + padCut(termsafe.Line(f.Key), kw) + "  "
			vw := max(width-textWidth(k), 1)
			for li, vl := range cleanLines(f.Value) {
				for ri, r := range wrapText(vl, vw) {
					lead := strings.Repeat(" ", textWidth(k))
					if li == 0 && ri == 0 {
						lead = p.faint.paint(k)
					}
					add(lead + p.text.paint(r))
				}
			}
		}
	}

	if l.Raw != "" {
		add(p.accent.paint("raw"))
		for _, rl := range rawLines(l.Raw) {
			for _, r := range wrapText(rl, max(width-2, 1)) {
				add("  " + p.text.paint(r))
			}
		}
	}
	return out
}

// rawLines is the line as read, for reading: a JSON object indented, anything else as it
// came, each split at its line breaks and cleaned.
func rawLines(raw string) []string {
	trimmed := strings.TrimSpace(raw)
	if strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[") {
		var buf bytes.Buffer
		if err := json.Indent(&buf, []byte(trimmed), "", "  "); err == nil {
			return cleanLines(buf.String())
		}
	}
	return cleanLines(raw)
}

// wrapText breaks clean text into rows of at most width cells, hard, as a pager does: a
// log line has no paragraphs to respect.
func wrapText(s string, width int) []string {
	if s == "" {
		return []string{""}
	}
	var rows []string
	for from := 0; from < len(s); {
		to, _ := fit(s, from, width)
		if to == from {
			to, _ = advance(s, from)
		}
		rows = append(rows, s[from:to])
		from = to
	}
	return rows
}
