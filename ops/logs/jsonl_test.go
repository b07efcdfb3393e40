package logs

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

func TestAppendRFC3339NanoMatchesTime(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 5*3600+30*60), time.FixedZone("", -7*3600),
		time.FixedZone("", -(3*3600 + 20*60 + 17)), time.FixedZone("", 45)}
	times := []time.Time{time.Unix(0, 0), time.Date(2026, 11, 22, 4, 5, 6, 120000000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(r.Int64N(1<<36)-1<<34, r.Int64N(1e9)))
	}
	for _, tm := range times {
		for _, z := range zones {
			tz := tm.In(z)
			if got, want := string(appendRFC3339Nano(nil, tz)), tz.Format(time.RFC3339Nano); got != want {
				t.Fatalf("%v: %s, want %s", tz, got, want)
			}
		}
	}
}

func TestAppendJSON(t *testing.T) {
	l := Line{Host: "web-1", Source: "app", Received: time.Date(2026, 11, 22, 4, 5, 6, 0, time.UTC),
		Level: LevelWarn, Message: "disk \"/\" at 91%\n", Fields: []Field{{"b", "2"}, {"a", "\x01é\xff"}},
		Raw: `{"msg":"x"}`, Flag: "disk"}
	var got map[string]any
	if err := json.Unmarshal(AppendJSON(nil, &l), &got); err != nil {
		t.Fatal(err)
	}
	if got["time"] != nil || got["received"] != "2026-11-22T04:05:06Z" || got["level"] != "warn" ||
		got["message"] != "disk \"/\" at 91%\n" || got["raw"] != `{"msg":"x"}` || got["flag"] != "disk" || got["marker"] != nil {
		t.Fatalf("%v", got)
	}
	if f := got["fields"].(map[string]any); f["b"] != "2" || f["a"] != "\x01é\uFFFD" {
		t.Fatalf("fields %v", f)
	}
	l.Marker = MarkerGap
	if s := string(AppendJSON(nil, &l)); s[len(s)-len(`"marker":"gap","flag":"disk"}`):] != `"marker":"gap","flag":"disk"}` {
		t.Fatalf("marker: %s", s)
	}
}
