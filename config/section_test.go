package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSectionReportsPositionedErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	src := "[[runbooks]]\nname = \"x\"\ntimeout = \"soon\"\nbatch = \"2\"\nextra = 1\n"
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
