package logs

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/views"
)

// LinesMsg carries the lines merged since the previous one, in Seq order, and the
// stream states that changed meanwhile: one engine batch (logs.Engine.Next). One message
// holds the whole batch, so a burst of thousands of lines costs one Update and one frame.
type LinesMsg struct {
	Lines  []logs.Line
	States []logs.StreamState
}

// WaitForLines waits for the engine's next batch and delivers it as a LinesMsg. The root
// runs it again after each message, so exactly one wait is pending at a time; when the
// engine has ended (every stream done) or ctx ends it delivers nothing (a nil message),
// which ends the chain. The command captures the engine and ctx only, never the model
// (DESIGN.md §10.6); the engine is safe to call from the command's goroutine.
func WaitForLines(ctx context.Context, eng *logs.Engine) tea.Cmd {
	return func() tea.Msg {
		lines, states, err := eng.Next(ctx)
		if err != nil {
			return nil
		}
		return LinesMsg{Lines: lines, States: states}
	}
}

// SavedMsg reports a save of the filtered view: where it went (made absolute when that
// could be found), how many lines were written, and the error if it failed.
type SavedMsg struct {
	Path string
	N    int
	Err  error
}

// saveRow is one line to save: values only, so the command that writes them shares
// nothing with the model (DESIGN.md §10.6). The strings are the lines' own, which are
// never changed, so capturing them copies no text.
type saveRow struct {
	host, raw string
	marker    logs.MarkerKind
}

// saveCmd writes rows to path, one line each as "host | line" (the batch command's text
// format), and reports with a SavedMsg. It refuses to overwrite a file: a save during an
// incident must not clobber the file saved a minute ago.
func saveCmd(path string, rows []saveRow) tea.Cmd {
	return func() tea.Msg {
		p := expandHome(path)
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		n, err := writeRows(p, rows)
		return SavedMsg{Path: p, N: n, Err: err}
	}
}

func writeRows(path string, rows []saveRow) (n int, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriterSize(f, 64<<10)
	for _, r := range rows {
		w.WriteString(r.host)
		w.WriteString(" | ")
		if r.marker != logs.NotMarker {
			w.WriteString("── " + markerWord(r.marker) + ": ")
			w.WriteString(r.raw)
			w.WriteString(" ──")
		} else {
			w.WriteString(r.raw)
		}
		if err := w.WriteByte('\n'); err != nil {
			return n, err
		}
		n++
	}
	return n, w.Flush()
}

func expandHome(p string) string {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, rest)
}

// errNothingToSave is the save prompt's complaint when the filter shows no line.
var errNothingToSave = errors.New("nothing to save: no line is shown")

// flash asks the root for a status-bar line.
func flash(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return views.FlashMsg{Text: text, Err: isErr} }
}
