package logs

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchChunk builds ~32 kB of log text in the given format, the size of one read from an
// SSH channel.
func benchChunk(format Format) []byte {
	var b strings.Builder
	levels := []string{"info", "info", "info", "warn", "error", "debug"}
	for i := 0; b.Len() < 32<<10; i++ {
		lv := levels[i%len(levels)]
		switch format {
		case FormatJSON:
			fmt.Fprintf(&b, `{"time":"2026-11-22T04:05:%02d.%03dZ","level":"%s","msg":"request served","method":"GET","path":"/api/v1/items/%d","status":200,"dur_ms":%d}`+"\n",
				i%60, i%1000, lv, i, i%97)
		case FormatLogfmt:
			fmt.Fprintf(&b, `ts=2026-11-22T04:05:%02d.%03dZ level=%s msg="request served" method=GET path=/api/v1/items/%d status=200 dur=%dms`+"\n",
				i%60, i%1000, lv, i, i%97)
		default:
			fmt.Fprintf(&b, "2026-11-22T04:05:%02d.%03dZ %s [%s] request served method=GET path=/api/v1/items/%d status=200 dur=%dms\n",
				i%60, i%1000, strings.ToUpper(lv), "web-1", i, i%97)
		}
	}
	return []byte(b.String())
}

// BenchmarkPipeline measures what every line costs between the network and the screen:
// the string made from a read, splitting, parsing (with a marker rule), the filter, and
// the ring append, as a stream and the pane do it. Reported as lines/s on one core.
func BenchmarkPipeline(b *testing.B) {
	oom, _ := NewMarkerRule("oom", "Out of memory|oom-killer")
	for _, format := range []Format{FormatText, FormatJSON, FormatLogfmt} {
		for _, pattern := range []string{"", "items/1[0-9]+", "(?i)ERROR"} {
			name := format.String() + "/filter=" + map[string]string{"": "none", "items/1[0-9]+": "regexp", "(?i)ERROR": "word"}[pattern]
			b.Run(name, func(b *testing.B) {
				chunk := benchChunk(format)
				nlines := strings.Count(string(chunk), "\n")
				p := &Parser{Format: format, Markers: []MarkerRule{oom}}
				f, err := NewFilter(FilterSpec{Pattern: pattern})
				if err != nil {
					b.Fatal(err)
				}
				ring := NewRing(DefaultRingSize)
				now := time.Now()
				var seq uint64
				matched := 0
				b.SetBytes(int64(len(chunk)))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					data := string(chunk)
					for len(data) > 0 {
						i := strings.IndexByte(data, '\n')
						l := Line{Host: "web-1", Source: "app", Received: now}
						p.Parse(data[:i], now, &l)
						data = data[i+1:]
						seq++
						l.Seq = seq
						if f.Match(l) {
							matched++
						}
						ring.Append(l)
					}
				}
				b.ReportMetric(float64(b.N*nlines)/b.Elapsed().Seconds(), "lines/s")
				b.ReportMetric(0, "MB/s")
				_ = matched
			})
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	var l Line
	p := &Parser{Format: FormatJSON}
	p.Parse(`{"time":"2026-11-22T04:05:06.123Z","level":"info","msg":"request served","method":"GET","path":"/api/v1/items/7","status":200}`, time.Now(), &l)
	l.Host, l.Source, l.Received = "web-1", "app", time.Now()
	var buf []byte
	b.ReportAllocs()
	for range b.N {
		buf = AppendJSON(buf[:0], &l)
	}
}
