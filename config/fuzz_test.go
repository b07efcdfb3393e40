package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// FuzzLoad feeds arbitrary TOML to the loader: it must never panic, every error must be
// positioned inside the input, and every key toml reports must have a recorded position.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(fixtures, "*.toml"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("hosts = [{name = \"a\", x = [1, {y = 2}]}]\n")
	f.Add("a.\"b.c\".d = '''x\n'''\n[a.'e']\nf = 1979-05-27 07:32:00\n")
	f.Add("[[hosts]]\nname = \"a\"\n[[hosts.sub]]\nx = 1\n[hosts.t]\ny = \"\"\"q\"\"\"\"\n")
	f.Add("\ufeff[defaults]\r\noutput_limit = 1e3\r\n")
	f.Add("'GF[3]\"\"\"\"GF[3G'=0")

	const name = "fuzz.toml"
	f.Fuzz(func(t *testing.T, src string) {
		l := &loader{
			env: func(k string) string {
				if k == "HOME" {
					return "/nonexistent"
				}
				return ""
			},
			// Input may name any file (inventory = "/dev/zero"); read none but itself.
			read: func(p string) ([]byte, error) {
				if p == name {
					return []byte(src), nil
				}
				return nil, fs.ErrNotExist
			},
		}
		cfg, err := l.load(LoadOptions{ConfigFile: name})
		if err == nil && cfg == nil {
			t.Fatal("nil config without an error")
		}
		if err != nil {
			lines := strings.Count(src, "\n") + 1
			for _, e := range positionsOf(err) {
				if e.Line < 0 || e.Line > lines || e.Col < 0 {
					t.Errorf("error outside the input (%d lines): %v", lines, e)
				}
			}
		}

		var m map[string]any
		md, err := toml.Decode(src, &m)
		if err != nil {
			return
		}
		found := map[string]bool{}
		for k := range locateKeys(name, src).keys {
			found[withoutIndexes(k)] = true
		}
		for _, k := range md.Keys() {
			path := ""
			for _, part := range k {
				path = joinKey(path, part)
			}
			if !found[path] {
				t.Errorf("no position recorded for key %s", path)
			}
		}
	})
}

// FuzzImportAnsibleINI checks that no inventory text panics the INI reader.
func FuzzImportAnsibleINI(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(fixtures, "inventory.ini")); err == nil {
		f.Add(string(b))
	}
	f.Add("h[a:z:3] x=1\n[g:children]\ng\n[g:vars]\nansible_port=0\n")
	f.Fuzz(func(t *testing.T, src string) {
		hosts, err := ImportAnsibleINI(strings.NewReader(src), "inv")
		if err == nil && len(hosts) > strings.Count(src, "\n")*maxRangeHosts+maxRangeHosts {
			t.Errorf("%d hosts from %d lines", len(hosts), strings.Count(src, "\n")+1)
		}
	})
}

// withoutIndexes drops the array indexes of a path (hosts[2].port → hosts.port), leaving
// quoted keys alone.
func withoutIndexes(path string) string {
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '"':
			end := i + 1
			for end < len(path) && path[end] != '"' {
				if path[end] == '\\' {
					end++
				}
				end++
			}
			b.WriteString(path[i:min(end+1, len(path))])
			i = end
		case '[':
			i += strings.IndexByte(path[i:], ']')
		default:
			b.WriteByte(path[i])
		}
	}
	return b.String()
}

func positionsOf(err error) []*Error {
	switch e := err.(type) {
	case ErrorList:
		return e
	case *Error:
		return []*Error{e}
	}
	return nil
}
