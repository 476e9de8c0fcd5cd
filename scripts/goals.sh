#!/usr/bin/env bash
# Measures the performance goals (README, Performance) ROUNDS times (default
# 3) on this machine, one benchmark after another, and prints each goal with
# every round's result, their median and how many rounds met it. A ratio is
# to the raw baseline measured in the same round. Goal 1 needs PostgreSQL
# (scripts/test-deps.sh); goal 8, the one-hour soak, is `make soak`.
# Raw output goes to goals.out.
#
#	make goals [ROUNDS=3]
set -euo pipefail
rounds=${1:-3}
out=goals.out
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/pg.test" ./store/pg
go test -c -o "$bin/bolt.test" ./store/bolt
go test -c -o "$bin/paging.test" ./commands/paging
go test -c -o "$bin/klaxon.test" ./cmd/klaxon
go test -c -tags chaos -o "$bin/chaos.test" ./cmd/klaxon

# bench DIR BINARY REGEXP [BENCHTIME] runs one test binary's benchmarks in
# its package's directory, as go test would.
bench() {
	(cd "$1" && "$bin/$2" -test.run '^$' -test.bench "$3" -test.benchtime "${4:-1s}")
}

for r in $(seq "$rounds"); do
	echo "goals: round $r of $rounds, $(date -u '+%Y-%m-%d %H:%M UTC')" >&2
	bench store/pg pg.test '^BenchmarkPG(AppendEvent|RawInsert)(Parallel)?$' 3s
	bench store/bolt bolt.test '^Benchmark(RawPut|AppendEvent)$' 3s
	bench commands/paging paging.test '^BenchmarkOutbox1000Pages$'
	bench cmd/klaxon klaxon.test '^Benchmark(StatusPageBuild|TenThousandIncidents)$'
	bench store/bolt bolt.test '^BenchmarkOpen1GB$'
	(cd cmd/klaxon && "$bin/chaos.test" -test.run '^TestStorm$' -test.v) | grep -E 'storm:|^(--- |ok|FAIL)'
done > "$out"
go run ./cmd/benchtable -goals < "$out"
