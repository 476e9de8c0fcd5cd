package pg

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/pgtest"
	"github.com/klaxon-bot/klaxon/store/storetest"
)

// fresh opens a new database at this klaxon's schema, and says where it is.
func fresh(t *testing.T) (*Store, string) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	return openAt(t, dsn), dsn
}

// openAt opens the database at dsn with every migration; the store
// closes with the test (closing it earlier is allowed).
func openAt(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// downgrade takes s's database back to the schema before migration name,
// as an older klaxon left it, running the statements undo there, and
// opens it again with every migration. s is closed.
func downgrade(t *testing.T, s *Store, dsn, name string, undo ...string) *Store {
	t.Helper()
	ctx := context.Background()
	at := slices.IndexFunc(migrations, func(m migration) bool { return m.name == name })
	if at < 0 {
		t.Fatalf("migration %q is gone", name)
	}
	for _, q := range append(undo, fmt.Sprintf(`UPDATE klaxon_schema SET version = %d`, at)) {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	s.Close()
	return openAt(t, dsn)
}

// TestUpgradeKeepsPublicUpdates: incidents written before incidents kept
// their public updates get them from their timeline when the schema moves
// past that migration.
func TestUpgradeKeepsPublicUpdates(t *testing.T) {
	ctx := context.Background()
	s, dsn := fresh(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	public := bot.NewEvent(bot.EventUpdate, bot.User{ID: "alice"}, t0.Add(time.Minute), "posted a public update (status page): Card payments fail")
	public.Meta = map[string]string{bot.MetaPublic: "true"}
	err := s.Update(ctx, func(tx bot.Tx) error {
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
	s, dsn := fresh(t)
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	page := &bot.Page{Status: bot.PageTriggered, Created: t0}
	err := s.Update(ctx, func(tx bot.Tx) error {
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

// TestUpgradeGivesJobsTheirDueFields: jobs written before jobs kept their
// priority and next attempt get them, to the nanosecond, so the job after
// a finished one becomes due as it would have.
func TestUpgradeGivesJobsTheirDueFields(t *testing.T) {
	ctx := context.Background()
	s, dsn := fresh(t)
	at := time.Date(2026, 11, 1, 9, 0, 0, 123456789, time.UTC) // nanoseconds a timestamptz would lose
	page := bot.Job{Queue: "q", Op: bot.OpPage, Delivery: &bot.Delivery{Pager: "pd"}, NextAttempt: at, Created: at}
	post := bot.Job{Queue: "q", Platform: bot.PlatformSlack, Op: bot.OpPost, NextAttempt: at.Add(time.Second + 7), Created: at}
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.Enqueue(page, post) }); err != nil {
		t.Fatal(err)
	}
	s = downgrade(t, s, dsn, "jobs keep their due fields", `ALTER TABLE jobs DROP COLUMN priority, DROP COLUMN next_attempt`)

	rows, err := s.pool.Query(ctx, `SELECT body->>'op', priority, next_attempt FROM jobs ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var op string
		var priority int
		var next int64
		if err := rows.Scan(&op, &priority, &next); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(op, " ", priority, " ", next))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprint(bot.OpPage, " ", int(page.Priority()), " ", at.UnixNano()),
		fmt.Sprint(bot.OpPost, " ", int(post.Priority()), " ", post.NextAttempt.UnixNano()),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("jobs after the upgrade: %q, want %q", got, want)
	}

	due, err := s.DueJobs(ctx, at.Add(time.Hour), 0, nil)
	if err != nil || len(due) != 1 || due[0].Op != bot.OpPage {
		t.Fatalf("due after the upgrade: %+v %v", due, err)
	}
	done := due[0]
	done.Status, done.Done = bot.JobDone, at.Add(time.Minute)
	if err := s.FinishJob(ctx, done, nil); err != nil {
		t.Fatal(err)
	}
	due, err = s.DueJobs(ctx, at.Add(time.Hour), 0, nil)
	if err != nil || len(due) != 1 || due[0].Op != bot.OpPost {
		t.Fatalf("due after the page finished: %+v %v", due, err)
	}
	if ok, err := s.StillDue(ctx, due[0]); !ok || err != nil {
		t.Errorf("the next job is not still due (%v): its due row lost its next attempt", err)
	}
}

// TestOlderKlaxonCannotQueueWithoutDueFields: a job written the way a
// klaxon before the due fields wrote it is refused, naming the column,
// instead of being queued with no time and no priority.
func TestOlderKlaxonCannotQueueWithoutDueFields(t *testing.T) {
	ctx := context.Background()
	s, _ := fresh(t)
	_, err := s.pool.Exec(ctx, `INSERT INTO jobs (key, queue, status, destination, body) VALUES ('q/01', 'q', 'pending', 'chat:slack', '{}')`)
	if err == nil || !strings.Contains(err.Error(), "priority") {
		t.Errorf("an older klaxon's job insert: %v, want refused for its priority", err)
	}
}
