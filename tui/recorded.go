package tui

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/exec"
	"github.com/opsconsole/opsconsole/views/fleet"
)

// Recorded wraps the console so that every message it handles is appended to the
// journal j before the console sees it (DESIGN.md §6). The wrapper is the I/O edge: it
// stamps each message with the wall clock and hands it to the recorder's queue, which
// never blocks; the model inside stays pure and never knows it is recorded.
//
// A key typed while the model reports SecretInputFocused is journaled as "•".
func Recorded(inner tea.Model, j *sessions.Recorder) tea.Model {
	return recorded{inner: inner, j: j, now: time.Now}
}

type recorded struct {
	inner tea.Model
	j     *sessions.Recorder
	now   func() time.Time
}

// secretInput is the optional power of a model whose inputs may hide what is typed.
type secretInput interface{ SecretInputFocused() bool }

func (r recorded) Init() tea.Cmd { return r.inner.Init() }

func (r recorded) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	// Secrecy is judged before the key is handled: it is the input that has focus when
	// the key arrives that the key goes into.
	secret := false
	if s, ok := r.inner.(secretInput); ok {
		secret = s.SecretInputFocused()
	}
	kind, data := journalEntry(msg, secret)
	r.j.Record(kind, r.now(), data)
	var cmd tea.Cmd
	r.inner, cmd = r.inner.Update(msg)
	return r, cmd
}

func (r recorded) View() string { return r.inner.View() }

// redacted is what a secret keystroke is journaled as.
const redacted = "•"

// journalEntry names a message's kind and takes the data worth keeping. The data is a
// deep copy in plain JSON shapes, taken now: the recorder encodes it later on its own
// goroutine, and by then the model may have changed the slices the message shared.
func journalEntry(msg tea.Msg, secret bool) (string, any) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		k := msg.String()
		if secret {
			k = redacted
		}
		d := map[string]any{"key": k}
		if msg.Paste {
			d["paste"] = true
		}
		return "key", d
	case tea.WindowSizeMsg:
		return "resize", map[string]int{"w": msg.Width, "h": msg.Height}
	case views.ClockMsg:
		return "clock", map[string]string{"now": msg.Now.Format(time.RFC3339Nano)}
	case fleet.HostsPolledMsg:
		return "hosts", snapshot(msg)
	case exec.ResultsMsg:
		return "results", snapshot(msg)
	case exec.RunStartedMsg:
		// The run's channel and cancel func are the pane's private handles; the id is
		// what a replay can use.
		return "run_started", snapshot(msg)
	case views.ConfirmActionMsg:
		return "confirm", snapshot(msg)
	case views.ActionCancelledMsg:
		return "cancelled", snapshot(msg)
	case views.FlashMsg:
		return "flash", snapshot(msg)
	case views.FocusPaneMsg:
		return "focus", map[string]string{"pane": msg.Pane.String()}
	case views.OpenExecMsg:
		return "open_exec", snapshot(msg)
	}
	// Any other message (a pane's results, a stream's batch) keeps its Go type as its
	// kind, so a replay can tell them apart without this switch knowing every pane.
	return fmt.Sprintf("%T", msg), snapshot(msg)
}

// snapshotDepth bounds the copy, so a message that points into a large or cyclic
// structure costs a bounded amount and never loops.
const snapshotDepth = 10

var (
	errorType     = reflect.TypeFor[error]()
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[time.Duration]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
)

// snapshot copies v into values encoding/json always accepts: exported struct fields by
// name, errors as their text, times as RFC 3339, durations as "1.5s", and non-finite
// floats as strings. Funcs, channels and unsafe pointers are left out: they cannot be
// encoded and mean nothing in a replay (the Run of a ConfirmActionMsg, a stream's
// channel).
func snapshot(v any) any {
	if v == nil {
		return nil
	}
	out, _ := copyValue(reflect.ValueOf(v), 0)
	return out
}

func copyValue(v reflect.Value, depth int) (any, bool) {
	if !v.IsValid() {
		return nil, true
	}
	if depth > snapshotDepth {
		return "…", true
	}
	t := v.Type()
	switch t.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return nil, false
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil, true
		}
	}
	switch {
	case t == timeType:
		return v.Interface().(time.Time).Format(time.RFC3339Nano), true
	case t == durationType:
		return time.Duration(v.Int()).String(), true
	case t.Implements(errorType) && v.CanInterface():
		return v.Interface().(error).Error(), true
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer:
		return copyValue(v.Elem(), depth+1)
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if s, ok := stringer(v); ok {
			// Enums such as views.PaneID read better by name.
			return s, true
		}
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint(), true
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprint(f), true
		}
		return f, true
	case reflect.String:
		return v.String(), true
	case reflect.Slice:
		if v.IsNil() {
			return nil, true
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return string(v.Bytes()), true
		}
		fallthrough
	case reflect.Array:
		out := make([]any, 0, v.Len())
		for i := range v.Len() {
			e, ok := copyValue(v.Index(i), depth+1)
			if ok {
				out = append(out, e)
			}
		}
		return out, true
	case reflect.Map:
		if v.IsNil() {
			return nil, true
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			if e, ok := copyValue(it.Value(), depth+1); ok {
				out[fmt.Sprint(it.Key().Interface())] = e
			}
		}
		return out, true
	case reflect.Struct:
		if t.Implements(textMarshaler) || t.Implements(jsonMarshaler) {
			if b, err := json.Marshal(v.Interface()); err == nil {
				return json.RawMessage(b), true
			}
		}
		out := make(map[string]any, t.NumField())
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if e, ok := copyValue(v.Field(i), depth+1); ok {
				out[f.Name] = e
			}
		}
		return out, true
	}
	return nil, false
}

func stringer(v reflect.Value) (string, bool) {
	if !v.CanInterface() {
		return "", false
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String(), true
	}
	return "", false
}
