package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/views/chart"
)

const queryUsage = `usage: opsconsole query 'PROMQL' [--range 1h [--step 30s]] [--time T] [--format text|json]

An instant query prints a table of series and values sorted by labels (unless the
expression sorts with sort or sort_desc); with --range it prints a summary per series and
a chart. --format json prints the API's data as the server sent it. --timeout bounds the
query (default: [prometheus] timeout, 10s).`

// runQuery is `opsconsole query`. Exit codes (DESIGN.md §7):
//   - 2 when the server rejects the expression (errorType bad_data or execution, HTTP 400
//     or 422), with the server's error text as it is: the user has to change what they
//     typed, and a script retrying the same expression would fail again. Credentials
//     refused (401/403), no [prometheus] section, or a bad one are config errors: 2 too.
//   - 1 when the server is unreachable, too slow, or fails internally: the command was
//     right and may work later, which is what a script would retry on.
func runQuery(ctx context.Context, args []string, io stdio) error {
	var c common
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	c.register(fs)
	var rng, step time.Duration
	var at string
	fs.DurationVar(&rng, "range", 0, "query a range ending at --time (e.g. 1h) and chart it")
	fs.DurationVar(&step, "step", 0, "resolution of a --range query (default: the range/250, at least 1s)")
	fs.StringVar(&at, "time", "", "evaluation time, or the end of a --range: RFC 3339 or Unix seconds (default now)")
	pos, rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	pos = append(pos, rest...)
	switch {
	case len(pos) == 0:
		return usagef("query: missing expression\n%s", queryUsage)
	case len(pos) > 1:
		return usagef("query: one expression only, quoted as one argument (got %d words)\n%s", len(pos), queryUsage)
	case strings.TrimSpace(pos[0]) == "":
		return usagef("query: empty expression")
	}
	expr := pos[0]
	if err := c.checkFormat("text", "json"); err != nil {
		return err
	}
	switch {
	case rng < 0:
		return usagef("query: --range must be positive")
	case step < 0:
		return usagef("query: --step must be positive")
	case step > 0 && rng == 0:
		return usagef("query: --step needs --range")
	case rng > 0 && step > rng:
		return usagef("query: --step %v is longer than --range %v", step, rng)
	}
	end := time.Now()
	if at != "" {
		if end, err = parseQueryTime(at); err != nil {
			return usagef("query: --time %q: want RFC 3339 (2026-11-22T14:00:00Z) or Unix seconds", at)
		}
	}
	if rng > 0 && step == 0 {
		step = max(time.Second, (rng / 250).Round(time.Second))
	}

	cfg, err := c.load(io)
	if err != nil {
		return err
	}
	pc, err := prom.Parse(cfg)
	if err != nil {
		return configError{err}
	}
	if pc == nil {
		where := "the config file"
		if len(cfg.Files) > 0 {
			where = cfg.Files[0]
		}
		return configError{fmt.Errorf("query: no Prometheus configured: add [prometheus] url = \"http://HOST:9090\" to %s", where)}
	}
	if c.timeout > 0 {
		pc.Timeout = c.timeout
	}
	client, err := prom.New(pc, io.env)
	if err != nil {
		return configError{err}
	}

	var data json.RawMessage
	var warnings prom.Warnings
	if rng > 0 {
		data, warnings, err = client.QueryRangeData(ctx, expr, end.Add(-rng), end, step)
	} else {
		var t time.Time // the server's now, unless --time
		if at != "" {
			t = end
		}
		data, warnings, err = client.QueryData(ctx, expr, t)
	}
	for _, w := range warnings {
		fmt.Fprintln(io.err, "opsconsole: query: warning:", w)
	}
	if err != nil {
		return queryError(err)
	}
	if c.format == "json" {
		return writeJSON(io, data)
	}
	v, err := prom.DecodeData(data)
	if err != nil {
		return err
	}
	return writeQueryText(io, v, expr, step, c.noColor)
}

// queryError sorts a failed query into exit codes; see runQuery.
func queryError(err error) error {
	var ae *prom.APIError
	if errors.As(err, &ae) {
		switch {
		case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
			return configError{fmt.Errorf("query: %w", err)}
		case ae.Type == "bad_data" || ae.Type == "execution" ||
			ae.Status == http.StatusBadRequest || ae.Status == http.StatusUnprocessableEntity:
			return usagef("query: %v", err)
		}
	}
	return fmt.Errorf("query: %w", err)
}

func parseQueryTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, errors.New("bad time")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// sortingFuncs detects expressions whose result order is their point; their vectors are
// printed in the server's order.
var sortingFuncs = regexp.MustCompile(`\bsort(_desc|_by_label|_by_label_desc)?\s*\(`)

func writeQueryText(io stdio, v model.Value, expr string, step time.Duration, noColor bool) error {
	switch v := v.(type) {
	case model.Vector:
		if len(v) == 0 {
			fmt.Fprintln(io.err, "opsconsole: query: no series")
			return nil
		}
		if !sortingFuncs.MatchString(expr) {
			sort.Stable(v)
		}
		tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SERIES\tVALUE")
		for _, s := range v {
			fmt.Fprintf(tw, "%s\t%s\n", seriesName(s.Metric), sampleValue(s))
		}
		return tw.Flush()
	case *model.Scalar:
		_, err := fmt.Fprintln(io.out, v.Value)
		return err
	case *model.String:
		_, err := fmt.Fprintln(io.out, v.Value)
		return err
	case model.Matrix:
		if len(v) == 0 {
			fmt.Fprintln(io.err, "opsconsole: query: no series")
			return nil
		}
		return writeMatrix(io, v, step, noColor)
	}
	return fmt.Errorf("query: unexpected result type %s", v.Type())
}

func seriesName(m model.Metric) string {
	if len(m) == 0 {
		return "{}"
	}
	return m.String()
}

func sampleValue(s *model.Sample) string {
	if s.Histogram != nil {
		return s.Histogram.String()
	}
	return s.Value.String()
}

// writeMatrix prints one summary line per series, then the chart.
func writeMatrix(io stdio, m model.Matrix, step time.Duration, noColor bool) error {
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIES\tPOINTS\tMIN\tMAX\tAVG\tLAST")
	series := make([]chart.Series, 0, len(m))
	for _, ss := range m {
		cs := chart.Series{Name: seriesName(ss.Metric)}
		lo, hi, sum, n := math.Inf(1), math.Inf(-1), 0.0, 0
		for _, p := range ss.Values {
			f := float64(p.Value)
			cs.Points = append(cs.Points, chart.Point{T: p.Timestamp.Time(), V: f})
			if math.IsNaN(f) {
				continue
			}
			lo, hi, sum, n = math.Min(lo, f), math.Max(hi, f), sum+f, n+1
		}
		series = append(series, cs)
		if n == 0 {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t-\n", cs.Name, len(ss.Values))
			continue
		}
		last := float64(ss.Values[len(ss.Values)-1].Value)
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", cs.Name, len(ss.Values), chart.FormatValue(lo),
			chart.FormatValue(hi), chart.FormatValue(sum/float64(n)), chart.FormatValue(last))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	opt := chart.Options{Width: outputWidth(io), Height: 18 + min(len(series), 8), Step: step, Location: time.Local}
	if io.outTTY && !noColor && io.env("NO_COLOR") == "" {
		opt.Color = ansiColor
	}
	_, err := fmt.Fprintf(io.out, "\n%s\n", chart.Render(series, opt))
	return err
}

// outputWidth is the terminal's width when stdout is one, 80 columns otherwise, so that
// piped output is the same wherever it runs.
func outputWidth(io stdio) int {
	if !io.outTTY {
		return 80
	}
	if f, ok := io.out.(*os.File); ok {
		if w, _, err := term.GetSize(f.Fd()); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(io.env("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

// seriesColors are the ANSI foreground colours of chart series on a terminal.
var seriesColors = []int{32, 33, 34, 35, 36, 31, 92, 93, 94, 95}

func ansiColor(i int, s string) string {
	return "\x1b[" + strconv.Itoa(seriesColors[i%len(seriesColors)]) + "m" + s + "\x1b[0m"
}
