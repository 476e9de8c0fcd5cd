// Command benchtable turns `go test -bench` output on stdin into one
// Markdown table: every benchmark's reported metrics, and each klaxon
// path's ratio to its raw bbolt baseline measured in the same run.
//
//	go test -run '^$' -bench . ./... | go run ./cmd/benchtable
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Result is one benchmark line.
type Result struct {
	Name    string
	Metrics []Metric // in the order reported
}

// Metric is one value and its unit, e.g. 3015 events/s.
type Metric struct {
	Value float64
	Unit  string
}

// baselines pairs a klaxon benchmark with the raw baseline it is measured against.
var baselines = map[string]string{
	"BenchmarkAppendEvent":         "BenchmarkRawPut",
	"BenchmarkAppendEventParallel": "BenchmarkRawBatchParallel",
}

// Parse reads benchmark lines ("BenchmarkX-2  100  123 ns/op  45 events/s"),
// dropping the GOMAXPROCS suffix; everything else is ignored.
func Parse(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
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
		res := Result{Name: name}
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

// Table renders results as Markdown, with the baseline ratios.
func Table(results []Result) string {
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	var b strings.Builder
	b.WriteString("| benchmark | results | vs. raw baseline |\n|---|---|---|\n")
	for _, r := range results {
		var parts []string
		for _, m := range r.Metrics {
			parts = append(parts, strconv.FormatFloat(m.Value, 'g', 4, 64)+" "+m.Unit)
		}
		ratio := ""
		if base, ok := byName[baselines[r.Name]]; ok {
			if x, ok1 := r.metric("events/s"); ok1 {
				if y, ok2 := base.metric("events/s"); ok2 && y > 0 {
					ratio = fmt.Sprintf("%.2f× %s", x/y, strings.TrimPrefix(base.Name, "Benchmark"))
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", strings.TrimPrefix(r.Name, "Benchmark"), strings.Join(parts, ", "), ratio)
	}
	return b.String()
}

func main() {
	results, err := Parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(results) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on stdin")
		os.Exit(1)
	}
	fmt.Print(Table(results))
}
