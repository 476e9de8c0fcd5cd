package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// BenchmarkStatusPageBuild builds the public status page while a public
// incident has 100,000 timeline events (20 of them public updates): the
// cost that web.Status.Reuse pays once per period instead of per visitor.
func BenchmarkStatusPageBuild(b *testing.B) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "k.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	inc := &bot.Incident{Title: "Checkout is down", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen, Platform: bot.PlatformConsole,
		DeclaredAt: t0, DetectedAt: t0, DeclaredBy: bot.User{ID: "alice"}}
	events := make([]bot.Event, 0, 100_000)
	for i := range 100_000 {
		ev := bot.NewEvent(bot.EventMessage, bot.User{ID: fmt.Sprint("user", i%50)}, t0.Add(time.Duration(i)*100*time.Millisecond), fmt.Sprintf("message %d", i))
		if i%5000 == 0 {
			ev = bot.NewEvent(bot.EventUpdate, bot.User{ID: "alice"}, ev.Time, fmt.Sprintf("posted a public update (status page): update %d", i))
			ev.Meta = map[string]string{bot.MetaPublic: "true"}
			inc.PublicUpdates = append(inc.PublicUpdates, bot.PublicUpdate{Time: ev.Time, Text: fmt.Sprintf("update %d", i)})
		}
		events = append(events, ev)
	}
	if err := s.Update(context.Background(), func(tx bot.Tx) error { return tx.CreateIncident(inc, events...) }); err != nil {
		b.Fatal(err)
	}
	build := statusPage(s, commands.Config{Severities: bot.DefaultSeverities()}, bot.NewFakeClock(t0.Add(3*time.Hour)))
	for b.Loop() {
		p, err := build(context.Background())
		if err != nil || len(p.Active) != 1 || len(p.Active[0].Updates) != 20 || p.Active[0].Updates[0].Text != "update 95000" {
			b.Fatalf("page %+v, %v", p.Active, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/build")
}
