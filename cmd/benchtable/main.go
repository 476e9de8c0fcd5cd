// Command benchtable turns `go test -bench` output on stdin into one
// Markdown table: every benchmark's reported metrics, and each klaxon
// path's ratio to its raw baseline measured in the same run. With -goals
// it says instead, for each performance goal, what every run measured,
// the median, and how many runs met it (make goals).
//
//	go test -run '^$' -bench . ./... | go run ./cmd/benchtable
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Result is one benchmark line.
type Result struct {
	Name    string
	Metrics []Metric // in the order reported
	Run     int      // which test binary's run (its "goos:" header) printed it
}

// Metric is one value and its unit, e.g. 3015 events/s.
type Metric struct {
	Value float64
	Unit  string
}

// baselines pairs a klaxon benchmark with the raw baseline it is measured against.
var baselines = map[string]string{
	"BenchmarkAppendEvent":           "BenchmarkRawPut",
	"BenchmarkAppendEventParallel":   "BenchmarkRawBatchParallel",
	"BenchmarkPGAppendEvent":         "BenchmarkPGRawInsert",
	"BenchmarkPGAppendEventParallel": "BenchmarkPGRawInsertParallel",
}

// Parse reads benchmark lines ("BenchmarkX-2  100  123 ns/op  45 events/s"),
// dropping the GOMAXPROCS suffix, and the storm test's verbose line
// ("storm: 30 incidents complete in 1m11s …") as a result named Storm in
// seconds; everything else is ignored.
func Parse(r io.Reader) ([]Result, error) {
	var out []Result
	run := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "goos:") {
			run++
		}
		if res, ok := storm(line); ok {
			res.Run = run
			out = append(out, res)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // not a result line (e.g. a log line starting with the name)
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		res := Result{Name: name, Run: run}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not a number", name, f[i])
			}
			res.Metrics = append(res.Metrics, Metric{Value: v, Unit: f[i+1]})
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

func (r Result) metric(unit string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// stormPrefix starts the storm test's verbose result line.
const stormPrefix = "storm: "

// storm reads the storm test's result line as a result in seconds.
func storm(line string) (Result, bool) {
	_, rest, ok := strings.Cut(line, stormPrefix)
	if !ok {
		return Result{}, false
	}
	_, rest, ok = strings.Cut(rest, " complete in ")
	if !ok {
		return Result{}, false
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return Result{}, false
	}
	d, err := time.ParseDuration(f[0])
	if err != nil {
		return Result{}, false
	}
	return Result{Name: "Storm", Metrics: []Metric{{Value: d.Seconds(), Unit: "s"}}}, true
}

// ratio is r's events/s over its baseline's in the same run.
func ratio(results []Result, r Result) (float64, string, bool) {
	want, ok := baselines[r.Name]
	if !ok {
		return 0, "", false
	}
	for _, base := range results {
		if base.Name != want || base.Run != r.Run {
			continue
		}
		x, ok1 := r.metric("events/s")
		y, ok2 := base.metric("events/s")
		if ok1 && ok2 && y > 0 {
			return x / y, strings.TrimPrefix(base.Name, "Benchmark"), true
		}
	}
	return 0, "", false
}

// Table renders results as Markdown, with the baseline ratios.
func Table(results []Result) string {
	var b strings.Builder
	b.WriteString("| benchmark | results | vs. raw baseline |\n|---|---|---|\n")
	for _, r := range results {
		var parts []string
		for _, m := range r.Metrics {
			parts = append(parts, strconv.FormatFloat(m.Value, 'g', 4, 64)+" "+m.Unit)
		}
		against := ""
		if x, base, ok := ratio(results, r); ok {
			against = fmt.Sprintf("%.2f× %s", x, base)
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.TrimPrefix(r.Name, "Benchmark"), strings.Join(parts, ", "), against)
	}
	return b.String()
}

func main() {
	goals := flag.Bool("goals", false, "say, for each performance goal, what each run measured and whether it met the goal")
	flag.Parse()
	results, err := Parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on stdin")
		os.Exit(1)
	}
	if *goals {
		fmt.Print(GoalTable(results))
		return
	}
	fmt.Print(Table(results))
}
