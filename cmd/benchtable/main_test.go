package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/klaxon-bot/klaxon/store/bolt
BenchmarkRawPut-2        	     200	    226395 ns/op	      4000 events/s
BenchmarkAppendEvent-2   	     200	    336345 ns/op	      3000 events/s	     512 B/op
BenchmarkSlashCommandAck/webapi=0s-2 	 2000	 2235512 ns/op	 0.34 p50-ms	 1.491 p99-ms
BenchmarkAppendEvent is logging something
PASS
`

func TestParseAndTable(t *testing.T) {
	rs, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 || rs[1].Name != "BenchmarkAppendEvent" || len(rs[1].Metrics) != 3 || rs[2].Name != "BenchmarkSlashCommandAck/webapi=0s" {
		t.Fatalf("parsed %+v", rs)
	}
	table := Table(rs)
	for _, want := range []string{"| AppendEvent | 3.363e+05 ns/op, 3000 events/s, 512 B/op | 0.75× RawPut |",
		"| SlashCommandAck/webapi=0s | 2.236e+06 ns/op, 0.34 p50-ms, 1.491 p99-ms |  |"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if rs, err := Parse(strings.NewReader("    storm_test.go:63: storm: 30 incidents complete in \n")); err != nil || len(rs) != 0 {
		t.Errorf("a storm line without its time: %+v, %v", rs, err)
	}
	if _, err := Parse(strings.NewReader("BenchmarkX-2 10 fast ns/op\n")); err == nil {
		t.Error("a non-number metric was accepted")
	}
}

// Two rounds of the same binaries: each ratio is to the baseline of its
// own run, and a goal is met only when every run meets it.
const rounds = `goos: linux
pkg: github.com/klaxon-bot/klaxon/store/pg
BenchmarkPGAppendEvent-2   	    9790	    319202 ns/op	      3200 events/s
BenchmarkPGRawInsert-2     	   14949	    244286 ns/op	      4000 events/s
PASS
goos: linux
pkg: github.com/klaxon-bot/klaxon/store/pg
BenchmarkPGAppendEvent-2   	    9790	    319202 ns/op	      3000 events/s
BenchmarkPGRawInsert-2     	   14949	    244286 ns/op	      4000 events/s
PASS
goos: linux
pkg: github.com/klaxon-bot/klaxon/store/bolt
BenchmarkOpen1GB-2   	       1	 412000000 ns/op	      1052 MB	       412.0 ms/open
PASS
=== RUN   TestStorm
    storm_test.go:63: storm: 30 incidents complete in 1m11s under Slack's tiers; 429s answered 0; slowest ack 1ms
--- PASS: TestStorm (75.20s)
`

func TestGoals(t *testing.T) {
	rs, err := Parse(strings.NewReader(rounds))
	if err != nil {
		t.Fatal(err)
	}
	table := GoalTable(rs)
	for _, want := range []string{
		"| 1 | PGAppendEvent | ≥ 0.8× PGRawInsert | 0.80, 0.75 | 0.78 | **in 1 of 2 runs** |",
		"| 7 | Open1GB | < 1000 ms/open | 412 | 412 | yes |",
		"| 4 | Storm | < 76 s | 71 | 71 | yes |",
		"| 3 | Outbox1000Pages | ≥ 3000 pages/s |  |  | not measured |",
		"| 6 | TenThousandIncidents/metrics | < 50 ms (p99) |  |  | not measured |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("goals lack %q:\n%s", want, table)
		}
	}
	if got := Table(rs); !strings.Contains(got, "| PGAppendEvent | 3.192e+05 ns/op, 3000 events/s | 0.75× PGRawInsert |") {
		t.Errorf("the second run's ratio is not to its own baseline:\n%s", got)
	}
}
