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
	if _, err := Parse(strings.NewReader("BenchmarkX-2 10 fast ns/op\n")); err == nil {
		t.Error("a non-number metric was accepted")
	}
}
