package bolt_test

import (
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// The benchmarks compare the store's timeline append with a raw bbolt put of
// a value of the same size, in the same run, so the ratio shows klaxon's
// overhead on this machine's disk. Every write is durable (fsync) before it
// returns, as in production.

// benchEvent is a typical chat message event.
func benchEvent() bot.Event {
	ev := bot.NewEvent(bot.EventMessage, bot.User{ID: "U024BE7LH", Name: "alice"}, t0, strings.Repeat("the load balancer health checks are flapping ", 3))
	ev.Ref = bot.MessageRef{Channel: "C0123456789", ID: "1732158000.000100"}
	return ev
}

func benchValueSize(b *testing.B) int {
	ev := benchEvent()
	ev.IncidentID, ev.Seq, ev.SourceID = bot.NewID(), 1, "slack:Ev0123456789"
	data, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	return len(data)
}

func openRaw(b *testing.B) *bbolt.DB {
	b.Helper()
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, bolt.BoltOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("t")); return err }); err != nil {
		b.Fatal(err)
	}
	return db
}

func rawPut(tx *bbolt.Tx, value []byte) error {
	bk := tx.Bucket([]byte("t"))
	seq, _ := bk.NextSequence()
	key := binary.BigEndian.AppendUint64(nil, seq)
	return bk.Put(key, value)
}

// BenchmarkRawPut: one bbolt transaction (one fsync) per put.
func BenchmarkRawPut(b *testing.B) {
	db := openRaw(b)
	value := make([]byte, benchValueSize(b))
	for b.Loop() {
		if err := db.Update(func(tx *bbolt.Tx) error { return rawPut(tx, value) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawBatchParallel: concurrent puts through bbolt's Batch.
func BenchmarkRawBatchParallel(b *testing.B) {
	db := openRaw(b)
	value := make([]byte, benchValueSize(b))
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := db.Batch(func(tx *bbolt.Tx) error { return rawPut(tx, value) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func benchIncident(b *testing.B) (*bolt.Store, bot.Event) {
	s := openTemp(b)
	inc := newIncident("bench")
	if err := create(s, inc); err != nil {
		b.Fatal(err)
	}
	ev := benchEvent()
	ev.IncidentID = inc.ID
	return s, ev
}

// BenchmarkAppendEvent: one writer appending timeline events with
// de-duplication ids, each durable before the next.
func BenchmarkAppendEvent(b *testing.B) {
	s, tmpl := benchIncident(b)
	var n atomic.Int64
	for b.Loop() {
		ev := tmpl
		ev.ID = bot.NewID()
		ev.SourceID = sourceID(n.Add(1))
		if _, err := appendEvent(s, &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendEventParallel: many writers, as when a busy incident
// channel and alert intake write at once.
func BenchmarkAppendEventParallel(b *testing.B) {
	s, tmpl := benchIncident(b)
	var n atomic.Int64
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ev := tmpl
			ev.ID = bot.NewID()
			ev.SourceID = sourceID(n.Add(1))
			if _, err := appendEvent(s, &ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func sourceID(n int64) string {
	return "slack:Ev" + string(binary.BigEndian.AppendUint64(nil, uint64(n)))
}
