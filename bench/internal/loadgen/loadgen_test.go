package loadgen

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The writer appends exactly rate × duration lines, numbered 1… in order, in the
// documented format, after what the file held.
func TestWriteLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host.log")
	os.WriteFile(path, []byte("before\n"), 0o644)
	last, err := WriteLines(path, "web-1", 200, time.Now(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if last != 10 {
		t.Fatalf("last seq %d, want 10 (200 lines/s for 50 ms)", last)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 11 || lines[0] != "before" {
		t.Fatalf("file holds %d lines: %q", len(lines), lines)
	}
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 9 || f[1] != "INFO" || f[2] != "web-1" || f[3] != "seq="+strconv.Itoa(i+1) {
			t.Fatalf("line %d: %q", i+1, l)
		}
		if _, err := time.Parse(time.RFC3339, f[0]); err != nil {
			t.Fatalf("line %d stamp: %v", i+1, err)
		}
	}
	if _, err := WriteLines(filepath.Join(t.TempDir(), "missing.log"), "x", 1, time.Now(), 0); err == nil {
		t.Fatal("a missing file is not an error")
	}
}
