package logs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// seeds adds every line of testdata/logs/seeds/<name> to the fuzz corpus.
func seeds(f *testing.F, name string) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "logs", "seeds", name))
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f.Add(sc.Text())
	}
}

// FuzzParseJSON checks ParseJSON against encoding/json: it accepts exactly the valid
// objects, and reads the same members from them.
func FuzzParseJSON(f *testing.F) {
	seeds(f, "json.txt")
	f.Fuzz(func(t *testing.T, raw string) {
		var l Line
		ok := ParseJSON(raw, Keys{}, &l)
		if strings.Count(raw, "[")+strings.Count(raw, "{") > maxDepth {
			return // deeper than we read; encoding/json goes further
		}
		trimmed := strings.TrimLeft(raw, " \t\r\n")
		valid := json.Valid([]byte(raw)) && strings.HasPrefix(trimmed, "{")
		if ok != valid {
			t.Fatalf("ParseJSON(%q) = %v, encoding/json says valid object %v", raw, ok, valid)
		}
		if !ok || !utf8.ValidString(raw) {
			return
		}
		// Same members, in order, with the same values.
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		dec.Token() // {
		it := jsonIter{s: raw}
		it.open()
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			key, vs, ve, more := it.next()
			if !more || key != tok.(string) {
				t.Fatalf("%q: key %q, encoding/json %q", raw, key, tok)
			}
			got := raw[vs:ve]
			if raw[vs] == '"' {
				var want string
				json.Unmarshal(v, &want)
				if got = unquoteJSON(got); got != want {
					t.Fatalf("%q: value %q, encoding/json %q", raw, got, want)
				}
			} else if got != string(v) {
				t.Fatalf("%q: value %q, encoding/json %q", raw, got, v)
			}
		}
		if _, _, _, more := it.next(); more {
			t.Fatalf("%q: more members than encoding/json saw", raw)
		}
	})
}

// FuzzParseLogfmt checks that what ParseLogfmt reads, written back with AppendLogfmt,
// reads the same again.
func FuzzParseLogfmt(f *testing.F) {
	seeds(f, "logfmt.txt")
	// Names no line uses, so that every pair stays a field.
	none := Keys{Time: "\x00t", Level: "\x00l", Message: "\x00m"}
	f.Fuzz(func(t *testing.T, raw string) {
		var l Line
		if !ParseLogfmt(raw, none, &l) {
			return
		}
		for _, fd := range l.Fields {
			if fd.Key == "" || strings.ContainsAny(fd.Key, "= \"") {
				t.Fatalf("%q: bad key %q", raw, fd.Key)
			}
		}
		again := string(AppendLogfmt(nil, l.Fields))
		var l2 Line
		if !ParseLogfmt(again, none, &l2) || !reflect.DeepEqual(l.Fields, l2.Fields) {
			t.Fatalf("%q read as %q, written %q, read back as %q", raw, l.Fields, again, l2.Fields)
		}
		// The default keys must not fail where explicit ones did not.
		var l3 Line
		if !ParseLogfmt(raw, Keys{}, &l3) {
			t.Fatalf("%q: rejected with the default keys", raw)
		}
	})
}

// FuzzParseTime checks that the time stamp readers never fail loudly and agree with
// time.Parse on RFC 3339.
func FuzzParseTime(f *testing.F) {
	seeds(f, "time.txt")
	ref := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTime(s)
		if want, err := time.Parse(time.RFC3339Nano, s); err == nil && ok && !got.Equal(want) {
			t.Fatalf("ParseTime(%q) = %v, time.Parse says %v", s, got, want)
		}
		if ok && got.IsZero() && s != "0" {
			t.Fatalf("ParseTime(%q) accepted a zero time", s)
		}
		if _, n := parseTimePrefix(s, ref); n < 0 || n > len(s) {
			t.Fatalf("parseTimePrefix(%q) read %d bytes", s, n)
		}
		var l Line
		ParseText(s, ref, &l)
		if l.Message != s {
			t.Fatalf("ParseText(%q) changed the message", s)
		}
	})
}
