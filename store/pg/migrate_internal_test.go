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

// TestUpgradeGivesDeliveriesRowsOfTheirOwn: pages written when a page
// kept its deliveries in its body have them in rows of their own after
// the upgrade, counted as before, and the body no longer carries them.
func TestUpgradeGivesDeliveriesRowsOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := slices.IndexFunc(migrations, func(m struct{ name, sql string }) bool { return m.name == "deliveries of their own" })
	if at < 0 {
		t.Fatal("the migration is gone")
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	page := &bot.Page{Status: bot.PageTriggered, Created: t0}
	err = s.Update(ctx, func(tx bot.Tx) error {
		inc := &bot.Incident{Title: "old", Status: bot.StatusOpen, Severity: bot.DefaultSeverities()[0], Platform: bot.PlatformConsole, DeclaredAt: t0}
		if err := tx.CreateIncident(inc); err != nil {
			return err
		}
		page.IncidentID = inc.ID
		return tx.PutPage(page)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before the migration, as an older klaxon left it.
	old := `[{"key":"k1","page_id":"` + page.ID.String() + `","pager":"pd","person":"alice","status":"sent","attempts":2},
		{"key":"k2","page_id":"` + page.ID.String() + `","pager":"sms","person":"bob","to":"+1","status":"pending"}]`
	if _, err := s.pool.Exec(ctx, `DROP TABLE deliveries`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE pages SET body = jsonb_set(body, '{deliveries}', $1::jsonb)`, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE klaxon_schema SET version = $1`, at); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ds, err := s.PageDeliveries(ctx, page.ID)
	if err != nil || len(ds) != 2 || ds[0].Key != "k1" || ds[0].Attempts != 2 || ds[1].To != "+1" || ds[1].Status != bot.DeliveryPending {
		t.Fatalf("deliveries after the upgrade = %+v, %v", ds, err)
	}
	c, err := s.Counts(ctx)
	if err != nil || c.Deliveries[bot.DeliverySent] != 1 || c.Deliveries[bot.DeliveryPending] != 1 {
		t.Errorf("counts after the upgrade = %v, %v", c.Deliveries, err)
	}
	var left bool
	if err := s.pool.QueryRow(ctx, `SELECT body ? 'deliveries' FROM pages WHERE id = $1`, page.ID).Scan(&left); err != nil || left {
		t.Errorf("the page's body still has its deliveries (%v, %v)", left, err)
	}
}
