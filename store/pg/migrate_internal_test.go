package pg

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/pgtest"
)

// TestUpgradeKeepsPublicUpdates: incidents written before incidents kept
// their public updates get them from their timeline when the schema moves
// past that migration.
func TestUpgradeKeepsPublicUpdates(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	public := bot.NewEvent(bot.EventUpdate, bot.User{ID: "alice"}, t0.Add(time.Minute), "posted a public update (status page): Card payments fail")
	public.Meta = map[string]string{bot.MetaPublic: "true"}
	err = s.Update(ctx, func(tx bot.Tx) error {
		inc := &bot.Incident{Title: "old", Status: bot.StatusOpen, Severity: bot.DefaultSeverities()[0], Platform: bot.PlatformConsole, DeclaredAt: t0}
		return tx.CreateIncident(inc, bot.NewEvent(bot.EventUpdate, bot.User{ID: "alice"}, t0, "posted an update: internal"), public)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before the migration, as an older klaxon left it.
	at := slices.IndexFunc(migrations, func(m struct{ name, sql string }) bool { return m.name == "public updates on incidents" })
	if at < 0 {
		t.Fatal("the migration is gone")
	}
	if _, err := s.pool.Exec(ctx, `UPDATE klaxon_schema SET version = $1`, at); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inc, err := s.IncidentByNumber(ctx, 1)
	if err != nil || len(inc.PublicUpdates) != 1 || inc.PublicUpdates[0].Text != "Card payments fail" || !inc.PublicUpdates[0].Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("public updates after the upgrade = %+v, %v", inc, err)
	}
}
