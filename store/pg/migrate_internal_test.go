package pg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/pgtest"
	"github.com/klaxon-bot/klaxon/store/storetest"
)

// downgrade takes s's database back to the schema before migration name,
// as an older klaxon left it, running the statements undo there, and
// opens it again with every migration. s is closed.
func downgrade(t *testing.T, s *Store, dsn, name string, undo ...string) *Store {
	t.Helper()
	ctx := context.Background()
	at := slices.IndexFunc(migrations, func(m struct{ name, sql string }) bool { return m.name == name })
	if at < 0 {
		t.Fatalf("migration %q is gone", name)
	}
	for _, q := range append(undo, fmt.Sprintf(`UPDATE klaxon_schema SET version = %d`, at)) {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	s.Close()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

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
	s = downgrade(t, s, dsn, "public updates on incidents")
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
	old, err := json.Marshal(storetest.LegacyDeliveries(page.ID))
	if err != nil {
		t.Fatal(err)
	}
	s = downgrade(t, s, dsn, "deliveries of their own", `DROP TABLE deliveries`,
		fmt.Sprintf(`UPDATE pages SET body = jsonb_set(body, '{deliveries}', '%s'::jsonb)`, old))
	storetest.CheckUpgradedDeliveries(t, s, page.ID)
	var left bool
	if err := s.pool.QueryRow(ctx, `SELECT body ? 'deliveries' FROM pages WHERE id = $1`, page.ID).Scan(&left); err != nil || left {
		t.Errorf("the page's body still has its deliveries (%v, %v)", left, err)
	}
}
