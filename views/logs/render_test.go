package logs

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"

	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// markPalette paints with visible brackets instead of escape codes, so tests can see
// which run got which ink.
func markPalette() *palette {
	p := &palette{
		match: ink{open: "[", close: "]"},
		faint: ink{open: "<", close: ">"},
	}
	return p
}

func TestRenderLineMarksMatchesAndKeys(t *testing.T) {
	re, err := logs.NewFilter(logs.FilterSpec{Pattern: "timeout|10\\.0", IgnoreCase: true})
	if err != nil {
		t.Fatal(err)
	}
	b := &lb{at: t0}
	l := b.json("web-1", logs.LevelError, "upstream Timeout", "upstream", "10.0.1.11:5432", "err", "i/o timeout")
	r := row{line: &l, host: newHostInfo("web-1")}
	r.text, r.fieldsAt, r.cut = displayText(&l)
	c := rowCtx{lay: computeLayout(160, 5), pal: markPalette(), hl: []*logs.Filter{re}}
	got := renderLine(&r, &c, false, false, 1)
	if len(got) != 1 {
		t.Fatalf("%d rows", len(got))
	}
	want := `ERROR upstream [Timeout]  <upstream=>[10.0].1.11:5432 <err=>"i/o [timeout]"`
	if !strings.HasSuffix(got[0], want) {
		t.Errorf("row\n%q\nwant it to end with\n%q", got[0], want)
	}
	if !strings.HasPrefix(got[0], " <12:00:00.250> web-1 ") {
		t.Errorf("row prefix: %q", got[0])
	}
}

func TestDisplayText(t *testing.T) {
	cases := []struct {
		name     string
		line     logs.Line
		want     string
		fieldsAt int
	}{
		{"text", logs.Line{Message: "plain text", Raw: "2026 INFO plain text"}, "plain text", 10},
		{"text without message", logs.Line{Raw: "raw only"}, "raw only", 8},
		{"fields", logs.Line{Message: "msg", Fields: []logs.Field{{Key: "a", Value: "1"}, {Key: "b c", Value: "x y"}, {Key: "e", Value: ""}}},
			`msg  a=1 "b c"="x y" e=""`, 5},
		{"fields, no message", logs.Line{Fields: []logs.Field{{Key: "a", Value: "1"}}}, "a=1", 0},
		{"escapes in a value", logs.Line{Message: "m", Fields: []logs.Field{{Key: "k", Value: "\x1b[2Jx"}}}, `m  k="\x1b[2Jx"`, 3},
		{"marker", logs.Line{Marker: logs.MarkerGap, Raw: "lost 3 lines", Message: "ignored"}, "lost 3 lines", 12},
	}
	for _, c := range cases {
		got, at, cut := displayText(&c.line)
		if got != c.want || at != c.fieldsAt || cut {
			t.Errorf("%s: %q at %d cut %v, want %q at %d", c.name, got, at, cut, c.want, c.fieldsAt)
		}
	}
	long := logs.Line{Message: strings.Repeat("é", maxDisplay)}
	got, _, cut := displayText(&long)
	if !cut || len(got) > maxDisplay || !utf8.ValidString(got) {
		t.Errorf("a long line should be cut on a rune boundary: %d bytes, cut %v", len(got), cut)
	}
}

func TestCleanMakesTextInert(t *testing.T) {
	cases := map[string]string{
		"plain":                               "plain",
		"tab\there":                           "tab     here",
		"\x1b[31mred\x1b[0m":                  "red",
		"\x1b]0;title\x07after":               "after",
		"\x1b]52;c;ZXZpbA==\x1b\\after":       "after",
		"\x1bPdcs\x1b\\after":                 "after",
		"\u009b2Jc1":                          "c1",         // C1 CSI, as UTF-8
		"\x9b2Jc1":                            "\ufffd2Jc1", // a raw 8-bit CSI byte is not UTF-8: inert
		"bell\a":                              "bell␇",
		"nul\x00del\x7f":                      "nul␀del␡",
		"a\nb\r\nc\rd":                        "a⏎b⏎c␍d",
		"\u202eevil":                          "\ufffdevil",
		"bad \xff utf8":                       "bad \ufffd utf8",
		"日本語 ok":                              "日本語 ok",
		"unterminated \x1b]8;;http://x\nrest": "unterminated ⏎rest",
		"lone esc \x1b":                       "lone esc ",
	}
	for in, want := range cases {
		if got := termsafe.Line(in); got != want {
			t.Errorf("termsafe.Line(%q) = %q, want %q", in, got, want)
		}
	}
	// Clean text is returned as is, without a copy.
	s := "GET /healthz 200 — ok ✓"
	if got := termsafe.Line(s); got != s {
		t.Errorf("clean changed clean text: %q", got)
	}
}

func TestPadCutAndCount(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"web-1", 8, "web-1   "},
		{"analytics-warehouse", 8, "analyti…"},
		{"日本語ホスト", 7, "日本語…"},
		{"x", 0, ""},
	} {
		got := padCut(c.in, c.w)
		if got != c.want || lipgloss.Width(got) != c.w {
			t.Errorf("padCut(%q, %d) = %q (width %d), want %q", c.in, c.w, got, lipgloss.Width(got), c.want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWrapRowsMatchesRender(t *testing.T) {
	b := &lb{at: t0}
	texts := []string{"short", strings.Repeat("abcdefghij", 30), strings.Repeat("日本語", 40), strings.Repeat("x", 8000) + " end"}
	for _, width := range []int{40, 80, 160} {
		lay := computeLayout(width, 5)
		c := rowCtx{lay: lay, pal: newPalette(styles(t))}
		for _, text := range texts {
			l := b.text("web-1", logs.LevelInfo, text)
			r := row{line: &l, host: newHostInfo("web-1")}
			r.text, r.fieldsAt, r.cut = displayText(&l)
			for _, maxRows := range []int{1, 3, 100} {
				rows := renderLine(&r, &c, false, true, maxRows)
				if want := wrapRows(r.text, lay.msgW, maxRows); len(rows) != want {
					t.Errorf("width %d, %d bytes, max %d: %d rows drawn, wrapRows says %d", width, len(text), maxRows, len(rows), want)
				}
				for _, row := range rows {
					if lipgloss.Width(row) > width {
						t.Errorf("width %d: row %d wide", width, lipgloss.Width(row))
					}
				}
			}
		}
	}
}

func TestRenderDetailKeepsEverything(t *testing.T) {
	long := strings.Repeat("0123456789", 50)
	l := logs.Line{
		Seq: 9, Host: "web-1", Source: "app", Level: logs.LevelWarn, Time: t0, Received: t0.Add(time.Second),
		Message: "first line\nsecond line", Fields: []logs.Field{{Key: "blob", Value: long}},
		Raw: `{"msg":"first line\nsecond line","blob":"` + long + `"}`,
	}
	rows := renderDetail(&l, newHostInfo("web-1"), newPalette(styles(t)), 60)
	all := strings.Join(rows, "\n")
	for _, want := range []string{"message   first line", "          second line", `"msg": "first line\nsecond line",`} {
		if !strings.Contains(all, want) {
			t.Errorf("detail lacks %q:\n%s", want, all)
		}
	}
	// The long value is wrapped, not cut: all of it is there.
	var joined strings.Builder
	for _, r := range rows {
		if lipgloss.Width(r) > 60 {
			t.Errorf("row wider than 60: %q", r)
		}
		joined.WriteString(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r), "blob")))
	}
	if strings.Count(joined.String(), long) < 1 {
		t.Error("the long field value is not whole in the detail view")
	}
}
