package logs

import (
	"reflect"
	"testing"
	"time"
)

var ref = time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)

func TestParseTime(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-22T04:05:06Z", utc(2026, 11, 22, 4, 5, 6, 0), true},
		{"2026-11-22T04:05:06.123456789Z", utc(2026, 11, 22, 4, 5, 6, 123456789), true},
		{"2026-11-22T04:05:06.1234567891Z", utc(2026, 11, 22, 4, 5, 6, 123456789), true},
		{"2026-11-22T05:05:06+01:00", utc(2026, 11, 22, 4, 5, 6, 0), true},
		{"2026-11-22T05:05:06+0100", utc(2026, 11, 22, 4, 5, 6, 0), true},
		{"2026-11-22T03:05:06-01", utc(2026, 11, 22, 4, 5, 6, 0), true},
		{"2026-11-22 04:05:06,250Z", utc(2026, 11, 22, 4, 5, 6, 250000000), true},
		{"1700000000", time.Unix(1700000000, 0), true},
		{"1700000000.5", time.Unix(1700000000, 500000000), true},
		{"1700000000123", time.UnixMilli(1700000000123), true},
		{"1700000000123456", time.UnixMicro(1700000000123456), true},
		{"1700000000123456789", time.Unix(0, 1700000000123456789), true},
		{"2026-02-30T00:00:00Z", time.Time{}, false},
		{"2026-11-22T24:00:00Z", time.Time{}, false},
		{"2026-11-22T04:05:06Zjunk", time.Time{}, false},
		{"", time.Time{}, false},
		{"12ab", time.Time{}, false},
		{"1.", time.Time{}, false},
		{"99999999999999999999999", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseTime(tt.in)
		if ok != tt.ok || ok && !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	// No zone: local time.
	got, ok := ParseTime("2026-11-22 04:05:06")
	if !ok || got.Location() != time.Local || got.Hour() != 4 {
		t.Errorf("zone-less stamp = %v, %v; want 04:05:06 local", got, ok)
	}
}

func TestParseText(t *testing.T) {
	tests := []struct {
		in    string
		level Level
		when  string // RFC 3339 in UTC, or "" for none; syslog/zone-less in local time
	}{
		{"2026-11-22T04:05:06Z ERROR disk full", LevelError, "2026-11-22T04:05:06Z"},
		{"[2026-11-22T04:05:06Z] [warn] slow", LevelWarn, "2026-11-22T04:05:06Z"},
		{"2026-11-22T04:05:06.5+00:00 level=debug msg=x", LevelDebug, "2026-11-22T04:05:06.5Z"},
		{"INFO starting", LevelInfo, ""},
		{"connection error while reading", LevelNone, ""},
		{"ERRORS are not levels", LevelNone, ""},
		{"<Warning> x", LevelWarn, ""},
		{"myERROR: no", LevelNone, ""},
		{"WARNING: low memory", LevelWarn, ""},
		{`time=x lvl="error" boom`, LevelError, ""},
		{"log.level=fatal", LevelFatal, ""},
		{"", LevelNone, ""},
	}
	for _, tt := range tests {
		var l Line
		ParseText(tt.in, ref, &l)
		if l.Level != tt.level || l.Message != tt.in {
			t.Errorf("ParseText(%q): level %v message %q; want %v", tt.in, l.Level, l.Message, tt.level)
		}
		if tt.when != "" {
			want, _ := time.Parse(time.RFC3339Nano, tt.when)
			if !l.Time.Equal(want) {
				t.Errorf("ParseText(%q): time %v, want %v", tt.in, l.Time, want)
			}
		} else if !l.Time.IsZero() {
			t.Errorf("ParseText(%q): time %v, want none", tt.in, l.Time)
		}
	}
	var l Line
	ParseText("Nov 21 23:59:59 web-1 kernel: Out of memory: Killed process 42", ref, &l)
	if want := time.Date(2026, 11, 21, 23, 59, 59, 0, time.Local); !l.Time.Equal(want) {
		t.Errorf("syslog time %v, want %v", l.Time, want)
	}
	ParseText("Dec 31 23:59:59 web-1 app: old", ref, &l)
	if l.Time.Year() != 2025 {
		t.Errorf("December stamp read in November should be last year's: %v", l.Time)
	}
	ParseText("2026-11-22 04:05:06,123 INFO x", ref, &l)
	if l.Time.Location() != time.Local || l.Time.Nanosecond() != 123000000 || l.Level != LevelInfo {
		t.Errorf("common stamp: %v %v", l.Time, l.Level)
	}
}

func TestParseJSON(t *testing.T) {
	var l Line
	raw := `{"time":"2026-11-22T04:05:06Z","level":"WARN","msg":"disk \"/\" at 91%","host":"web-1","n":42,"ok":true,"ctx":{"a":[1,2]},"x":null}`
	if !ParseJSON(raw, Keys{}, &l) {
		t.Fatal("not read as JSON")
	}
	if l.Message != `disk "/" at 91%` || l.Level != LevelWarn || !l.Time.Equal(time.Date(2026, 11, 22, 4, 5, 6, 0, time.UTC)) {
		t.Fatalf("got %+v", l)
	}
	want := []Field{{"host", "web-1"}, {"n", "42"}, {"ok", "true"}, {"ctx", `{"a":[1,2]}`}, {"x", "null"}}
	if !reflect.DeepEqual(l.Fields, want) {
		t.Fatalf("fields %q, want %q", l.Fields, want)
	}

	// journald, pino and docker shapes.
	l = Line{}
	ParseJSON(`{"__REALTIME_TIMESTAMP":"1700000000123456","PRIORITY":"3","MESSAGE":"oops","__CURSOR":"s=1"}`, Keys{}, &l)
	if l.Message != "oops" || l.Level != LevelError || !l.Time.Equal(time.UnixMicro(1700000000123456)) || l.Fields[0].Key != "__CURSOR" {
		t.Fatalf("journald: %+v", l)
	}
	l = Line{}
	ParseJSON(`{"level":50,"time":1700000000123,"msg":"pino"}`, Keys{}, &l)
	if l.Level != LevelError || !l.Time.Equal(time.UnixMilli(1700000000123)) {
		t.Fatalf("pino: %+v", l)
	}
	l = Line{}
	ParseJSON(`{"log":"hello\n","stream":"stdout","time":"2026-11-22T04:05:06.1Z"}`, Keys{}, &l)
	if l.Message != "hello" || len(l.Fields) != 1 {
		t.Fatalf("docker: %+v", l)
	}
	// Overrides replace the usual names.
	l = Line{}
	ParseJSON(`{"msg":"not this","text":"this","sev":"error","at":"1700000000"}`, Keys{Message: "text", Level: "sev", Time: "at"}, &l)
	if l.Message != "this" || l.Level != LevelError || l.Time.Unix() != 1700000000 || l.Fields[0].Key != "msg" {
		t.Fatalf("overrides: %+v", l)
	}
	// An unparsable level or time stays a field.
	l = Line{}
	ParseJSON(`{"level":"chatty","time":"soon"}`, Keys{}, &l)
	if l.Level != LevelNone || len(l.Fields) != 2 {
		t.Fatalf("bad values: %+v", l)
	}
	for _, bad := range []string{``, `{`, `{"a":1,}`, `{"a" 1}`, `[1]`, `{"a":1} x`, `{"a":01}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}", `{"a":tru}`} {
		l = Line{Message: "keep"}
		if ParseJSON(bad, Keys{}, &l) || l.Message != "keep" {
			t.Errorf("ParseJSON(%q) accepted or touched the line", bad)
		}
	}
	l = Line{}
	ParseJSON(`{"s":"\u00e9\ud83d\ude00\ud800x"}`, Keys{}, &l)
	if l.Fields[0].Value != "é😀\uFFFDx" {
		t.Errorf("unicode escapes: %q", l.Fields[0].Value)
	}
}

func TestParseLogfmt(t *testing.T) {
	var l Line
	if !ParseLogfmt(`ts=2026-11-22T04:05:06Z level=error msg="cannot open \"x\"" path=/tmp/x retry dur=1.5s`, Keys{}, &l) {
		t.Fatal("not read as logfmt")
	}
	want := []Field{{"path", "/tmp/x"}, {"retry", ""}, {"dur", "1.5s"}}
	if l.Message != `cannot open "x"` || l.Level != LevelError || l.Time.IsZero() || !reflect.DeepEqual(l.Fields, want) {
		t.Fatalf("got %+v", l)
	}
	for _, bad := range []string{"just text", `a="unterminated`, `=x`, `a=1"b"`, ""} {
		l = Line{Message: "keep"}
		if ParseLogfmt(bad, Keys{}, &l) || l.Message != "keep" {
			t.Errorf("ParseLogfmt(%q) accepted", bad)
		}
	}
}

func TestParserFallsBackToTextAndFlags(t *testing.T) {
	oom, err := NewMarkerRule("oom", "Out of memory|oom-killer")
	if err != nil {
		t.Fatal(err)
	}
	p := &Parser{Format: FormatJSON, Markers: []MarkerRule{oom}}
	var l Line
	p.Parse("Nov 22 04:00:00 web-1 kernel: Out of memory: Killed process 7 (java)", ref, &l)
	if l.Flag != "oom" || l.Message != l.Raw || l.Time.IsZero() {
		t.Fatalf("text line in a JSON source: %+v", l)
	}
	l = Line{}
	p.Parse(`{"msg":"fine"}`, ref, &l)
	if l.Flag != "" || l.Message != "fine" {
		t.Fatalf("json line: %+v", l)
	}
	if _, err := NewMarkerRule("x", "(unclosed"); err == nil {
		t.Fatal("bad marker pattern accepted")
	}
}

func TestLevelNames(t *testing.T) {
	for l := LevelNone; l <= LevelFatal; l++ {
		if l != LevelNone && ParseLevel(l.String()) != l {
			t.Errorf("ParseLevel(%q) != %v", l.String(), l)
		}
	}
	for in, want := range map[string]Level{"WARNING": LevelWarn, "E": LevelError, "crit": LevelFatal, "notice": LevelInfo, "x": LevelNone} {
		if got := ParseLevel(in); got != want {
			t.Errorf("ParseLevel(%q) = %v, want %v", in, got, want)
		}
	}
	if HostColor("web-1", 12) != HostColor("web-1", 12) || HostColor("a", 0) != 0 {
		t.Error("HostColor not stable")
	}
}
