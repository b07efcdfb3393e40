package config

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// loadSection loads src as c.toml.
func loadSection(t *testing.T, src string) *Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(LoadOptions{ConfigFile: path, Env: func(k string) string {
		if k == "HOME" {
			return t.TempDir()
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSectionReportsPositionedErrors(t *testing.T) {
	cfg := loadSection(t, "[[runbooks]]\nname = \"x\"\ntimeout = \"soon\"\nbatch = \"2\"\nextra = 1\n")
	s := Section{Cfg: cfg}
	tables := s.Tables(cfg.Raw["runbooks"], "runbooks")
	if len(tables) != 1 {
		t.Fatalf("tables %v", tables)
	}
	var name string
	var d time.Duration
	var n int
	if !s.Str(tables[0], "runbooks[0]", "name", &name) || name != "x" {
		t.Fatalf("name %q", name)
	}
	if s.Duration(tables[0], "runbooks[0]", "timeout", &d) || s.Int(tables[0], "runbooks[0]", "batch", &n) {
		t.Fatal("bad values accepted")
	}
	s.Known(tables[0], "runbooks[0]", []string{"name", "timeout", "batch"})
	got := s.Errs.Error()
	for _, want := range []string{"c.toml:3:1: runbooks[0].timeout", "c.toml:4:1: runbooks[0].batch: must be an integer, not a string",
		"c.toml:5:1: runbooks[0].extra: unknown key"} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
}

func TestSectionBoundsAndSpans(t *testing.T) {
	cfg := loadSection(t, "runbooks = \"x\"\n[[probes]]\nn = 5\nbig = 11\nword = \"5\"\nwait = \"10s\"\nnone = \"0s\"\nbad = \"10 s\"\nback = \"-1s\"\nat = 2024-01-02\n")
	s := Section{Cfg: cfg}
	if s.Tables(cfg.Raw["runbooks"], "runbooks") != nil {
		t.Fatal("a string read as tables")
	}
	tables := s.Tables(cfg.Raw["probes"], "probes")
	if len(tables) != 1 {
		t.Fatalf("tables %v", tables)
	}
	p, key := tables[0], "probes[0]"
	n := -1
	if !s.IntRange(p, key, "n", 0, 10, &n) || n != 5 {
		t.Fatalf("n %d", n)
	}
	if s.IntRange(p, key, "big", 0, 10, &n) || s.IntRange(p, key, "word", 0, 10, &n) || n != 5 {
		t.Fatalf("bad integers accepted (n %d)", n)
	}
	var wait time.Duration
	if !s.Span(p, key, "wait", false, &wait) || wait != 10*time.Second {
		t.Fatalf("wait %v", wait)
	}
	none := time.Hour
	if !s.Span(p, key, "none", true, &none) || none != 0 {
		t.Fatalf("zero where allowed: %v", none)
	}
	if s.Span(p, key, "none", false, &wait) || s.Span(p, key, "bad", true, &wait) || s.Span(p, key, "back", true, &wait) || wait != 10*time.Second {
		t.Fatalf("bad spans accepted (wait %v)", wait)
	}
	var str string
	s.Str(p, key, "at", &str)
	got := s.Errs.Error()
	wants := []string{
		"c.toml:1:1: runbooks: must be an array of tables ([[runbooks]]), not a string",
		"c.toml:4:1: probes[0].big: must be 0-10",
		"c.toml:5:1: probes[0].word: must be an integer, not a string",
		`c.toml:7:1: probes[0].none: must be positive, not "0s"`,
		`c.toml:8:1: probes[0].bad: bad duration "10 s" (want e.g. "10s", "1m30s")`,
		`c.toml:9:1: probes[0].back: must be positive, not "-1s"`,
		"c.toml:10:1: probes[0].at: must be a string, not a date-time",
	}
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	if len(s.Errs) != len(wants) {
		t.Errorf("%d errors, want %d:\n%s", len(s.Errs), len(wants), got)
	}

	if (&Section{Cfg: cfg}).Err() != nil {
		t.Error("Err without errors is not nil")
	}
	s.Errorf(key+".n", "found last, shown second")
	list, ok := s.Err().(ErrorList)
	if !ok || len(list) != len(wants)+1 || list[1].Msg != "found last, shown second" ||
		!slices.IsSortedFunc(list, func(a, b *Error) int { return cmp.Or(a.Line-b.Line, a.Col-b.Col) }) {
		t.Errorf("Err does not order by position:\n%v", s.Err())
	}
}
