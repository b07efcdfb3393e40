package sessions

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func readJournal(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", len(out)+1, err, sc.Text())
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRecorderWritesJSONL(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "recordings", "s.jsonl")
	r, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 10, 4, 5, 123456789, time.UTC)
	r.Record("key", at, map[string]string{"key": "enter"})
	r.Record("resize", at.Add(time.Second), map[string]int{"w": 80, "h": 24})
	r.Record("clock", at, nil)
	// A value JSON refuses (NaN) must not lose the line, nor break the journal.
	r.Record("bad", at, math.NaN())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	r.Record("late", at, nil) // ignored, and must not panic

	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s: mode %v, want at most %v", p, got, want)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := readJournal(t, b)
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4:\n%s", len(lines), b)
	}
	if lines[0]["t"] != "2026-11-22T10:04:05.123456789Z" || lines[0]["kind"] != "key" {
		t.Errorf("first line: %v", lines[0])
	}
	if d := lines[0]["data"].(map[string]any); d["key"] != "enter" {
		t.Errorf("data: %v", d)
	}
	if _, ok := lines[2]["data"]; ok {
		t.Errorf("nil data should be left out: %v", lines[2])
	}
	if lines[3]["kind"] != "bad" || !strings.Contains(lines[3]["error"].(string), "unencodable") {
		t.Errorf("unencodable record: %v", lines[3])
	}

	if _, err := NewRecorder(path); err == nil {
		t.Error("NewRecorder over an existing journal should fail, not append or truncate")
	}
}

// gateWriter blocks every write until released, standing in for a disk that stalls.
type gateWriter struct {
	release chan struct{}
	once    sync.Once

	mu     sync.Mutex
	buf    bytes.Buffer
	synced bool
	closed bool
	// syncedBeforeClose is whether Sync came before Close.
	syncedBeforeClose bool
}

func (g *gateWriter) Write(p []byte) (int, error) {
	<-g.release
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gateWriter) Sync() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.synced = true
	return nil
}

func (g *gateWriter) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.syncedBeforeClose = g.synced
	g.closed = true
	return nil
}

func (g *gateWriter) open() { g.once.Do(func() { close(g.release) }) }

func TestRecorderFullQueueDoesNotBlock(t *testing.T) {
	g := &gateWriter{release: make(chan struct{})}
	r := startRecorder(g, 4)
	defer g.open()

	// A record bigger than the bufio buffer forces a Write, which blocks on the gate: the
	// writer is now stuck, as on a stalled disk.
	big := strings.Repeat("x", 128<<10)
	r.Record("big", time.Unix(0, 0), big)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 1000 {
			r.Record("key", time.Unix(int64(i), 0), map[string]int{"i": i})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a full queue")
	}
	if r.Dropped() == 0 {
		t.Fatal("expected drops with a stalled writer and a queue of 4")
	}

	g.open()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed || !g.syncedBeforeClose {
		t.Errorf("Close must fsync before closing: synced=%v closed=%v", g.syncedBeforeClose, g.closed)
	}
	lines := readJournal(t, g.buf.Bytes())
	kept := int64(len(lines) - 2) // minus the big record and the dropped note
	if got := lines[len(lines)-1]; got["kind"] != "dropped" {
		t.Fatalf("last line should note the drops: %v", got)
	}
	count := int64(lines[len(lines)-1]["data"].(map[string]any)["count"].(float64))
	if count != r.Dropped() || kept+count != 1000 {
		t.Errorf("kept %d + dropped %d != 1000 (Dropped()=%d)", kept, count, r.Dropped())
	}
}

func TestRecorderSyncsOnClose(t *testing.T) {
	g := &gateWriter{release: make(chan struct{})}
	g.open()
	r := startRecorder(g, 16)
	r.Record("key", time.Unix(0, 0), map[string]string{"key": "q"})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.syncedBeforeClose {
		t.Error("Close did not fsync before closing the file")
	}
	if n := len(readJournal(t, g.buf.Bytes())); n != 1 {
		t.Errorf("%d lines, want 1", n)
	}
}

func TestRecorderPath(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 4, 5, 0, time.FixedZone("CET", 3600))
	got := RecordingPath("/state/opsconsole", at)
	want := "/state/opsconsole/recordings/20261122T090405.000000000Z.jsonl"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
