// Package loadgen writes the log lines the log benchmarks stream: one writer per host
// appending to the host's file at a steady rate.
package loadgen

import (
	"os"
	"strconv"
	"time"
)

// Tick is how often a writer appends: each write holds the lines due since the last.
const Tick = 10 * time.Millisecond

// WriteLines appends to path, every Tick from start until duration has passed, the lines
// due at rate lines per second, each
//
//	<RFC 3339 stamp> INFO <host> seq=<N> request served method=GET path=/api/v1/items status=200
//
// with N counting from 1, and returns the last N written. The file must exist.
func WriteLines(path, host string, rate int, start time.Time, duration time.Duration) (int, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var buf, stamp []byte
	mid := []byte(" INFO " + host + " seq=")
	const tailText = " request served method=GET path=/api/v1/items status=200\n"
	seq := 0
	tick := time.NewTicker(Tick)
	defer tick.Stop()
	for {
		elapsed := min(time.Since(start), duration)
		due := int(int64(rate) * int64(elapsed) / int64(time.Second))
		buf = buf[:0]
		stamp = time.Now().UTC().AppendFormat(stamp[:0], "2006-01-02T15:04:05.000Z")
		for seq < due {
			seq++
			buf = append(buf, stamp...)
			buf = append(buf, mid...)
			buf = strconv.AppendInt(buf, int64(seq), 10)
			buf = append(buf, tailText...)
		}
		if len(buf) > 0 {
			if _, err := f.Write(buf); err != nil {
				return seq, err
			}
		}
		if elapsed >= duration {
			return seq, nil
		}
		<-tick.C
	}
}
