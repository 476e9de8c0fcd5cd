package bolt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// BenchmarkOpen1GB: open a store of over 1 GB (500 incidents of 1,000
// timeline events each) until it takes writes: the integrity walk over
// every page, bbolt's own walk (it rebuilds the free list), migrations.
// The file is warm in the page cache, as after a restart.
func BenchmarkOpen1GB(b *testing.B) {
	path := filepath.Join(b.TempDir(), "klaxon.db")
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("x", 800)
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for i := range 500 {
		inc := &bot.Incident{Title: fmt.Sprint("incident ", i), Status: bot.StatusResolved, Severity: bot.DefaultSeverities()[0], Platform: bot.PlatformConsole, DeclaredAt: t0}
		evs := make([]bot.Event, 1000)
		for j := range evs {
			evs[j] = bot.NewEvent(bot.EventMessage, bot.User{ID: "u"}, t0, text)
			evs[j].SourceID = fmt.Sprintf("m-%d-%d", i, j)
		}
		if err := s.Update(context.Background(), func(tx bot.Tx) error { return tx.CreateIncident(inc, evs...) }); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Size() < 1<<30 {
		b.Fatalf("the store is %d bytes, want over 1 GB: %v", fi.Size(), err)
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Ready(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(fi.Size()>>20), "MB")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/open")
}
