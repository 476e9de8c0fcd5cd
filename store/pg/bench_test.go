package pg_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/pg"
	"github.com/klaxon-bot/klaxon/store/pgtest"
)

// Timeline appends on PostgreSQL against raw pgx inserts of the same rows
// into the same table, each committed before the next (synchronous_commit
// on, as klaxon runs it), with one writer and with 32.

func benchStore(b *testing.B) (*pg.Store, *bot.Incident, string) {
	b.Helper()
	dsn := pgtest.NewDatabase(b)
	s, err := pg.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	inc := &bot.Incident{Title: "bench", Status: bot.StatusOpen}
	if err := s.Update(context.Background(), func(tx bot.Tx) error { return tx.CreateIncident(inc) }); err != nil {
		b.Fatal(err)
	}
	return s, inc, dsn
}

func event(inc *bot.Incident, n int64) bot.Event {
	ev := bot.NewEvent(bot.EventMessage, bot.User{ID: "U0ALICE", Name: "alice"}, time.Now(), "rolling back the deploy to v2026.11.27; error rate falling")
	ev.IncidentID, ev.SourceID = inc.ID, fmt.Sprint("slack:Ev", n)
	return ev
}

func appendOne(b *testing.B, s *pg.Store, inc *bot.Incident, n int64) {
	ev := event(inc, n)
	if err := s.Update(context.Background(), func(tx bot.Tx) error { return tx.AppendEvents(inc.ID, ev) }); err != nil {
		b.Error(err)
	}
}

// rawInsert writes the row klaxon would, the way a hand-written program
// would: one INSERT, committed.
func rawInsert(b *testing.B, pool *pgxpool.Pool, inc *bot.Incident, n int64) {
	ev := event(inc, n)
	ev.Seq = uint64(n)
	body, _ := json.Marshal(ev)
	if _, err := pool.Exec(context.Background(), `INSERT INTO events (incident_id, seq, body) VALUES ($1, $2, $3)`, inc.ID, n, body); err != nil {
		b.Error(err)
	}
}

func BenchmarkPGAppendEvent(b *testing.B) {
	s, inc, _ := benchStore(b)
	var n atomic.Int64
	for b.Loop() {
		appendOne(b, s, inc, n.Add(1))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkPGAppendEventParallel(b *testing.B) {
	s, inc, _ := benchStore(b)
	var n atomic.Int64
	b.SetParallelism(16) // × GOMAXPROCS (2 here): 32 writers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			appendOne(b, s, inc, n.Add(1))
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func rawPool(b *testing.B, dsn string) *pgxpool.Pool {
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}

func BenchmarkPGRawInsert(b *testing.B) {
	_, inc, dsn := benchStore(b)
	pool := rawPool(b, dsn)
	var n atomic.Int64
	for b.Loop() {
		rawInsert(b, pool, inc, 1000+n.Add(1))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkPGRawInsertParallel(b *testing.B) {
	_, inc, dsn := benchStore(b)
	pool := rawPool(b, dsn)
	var n atomic.Int64
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rawInsert(b, pool, inc, 1000+n.Add(1))
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
