package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/storetest"
)

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	reopen := func(ms []migration) (*Store, error) { return open(path, Options{}, ms) }

	s, err := reopen(migrations)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.schemaVersion(); v != SchemaVersion() {
		t.Errorf("fresh file at schema %d; want %d", v, SchemaVersion())
	}
	s.Close()

	// A newer build adds a migration: it runs once, in order.
	runs := 0
	next := append(append([]migration(nil), migrations...), migration{"add widgets", func(tx *bbolt.Tx) error {
		runs++
		_, err := tx.CreateBucket([]byte("widgets")) // fails if run twice
		return err
	}})
	for range 2 {
		s, err = reopen(next)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if runs != 1 {
		t.Errorf("new migration ran %d times; want 1", runs)
	}

	// A failing migration leaves the file at its old version.
	broken := append(append([]migration(nil), next...), migration{"broken", func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucket([]byte("half-done")); err != nil {
			return err
		}
		return errBroken
	}})
	if _, err := reopen(broken); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("migration %d (broken)", len(broken))) {
		t.Fatalf("broken migration: err = %v", err)
	}
	s, err = reopen(next)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.schemaVersion(); v != len(next) {
		t.Errorf("after failed migration schema = %d; want %d", v, len(next))
	}
	s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket([]byte("half-done")) != nil {
			t.Error("failed migration left a bucket behind")
		}
		return nil
	})
	s.Close()

	// An older build refuses a file a newer build wrote.
	if _, err := reopen(migrations); err == nil || !strings.Contains(err.Error(), "newer than this klaxon") {
		t.Errorf("old build on new file: err = %v", err)
	}
}

var errBroken = errorString("boom")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestUpgradeFromSchemaV1 opens a file written by the first schema with the
// current build: the data is kept and the on-call history bucket appears.
func TestUpgradeFromSchemaV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	old, err := open(path, Options{}, migrations[:1])
	if err != nil {
		t.Fatal(err)
	}
	inc := &bot.Incident{Title: "from v1", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen}
	if err := old.Update(ctx, func(tx bot.Tx) error { return tx.CreateIncident(inc) }); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.schemaVersion(); v != SchemaVersion() {
		t.Errorf("upgraded file at schema %d; want %d", v, SchemaVersion())
	}
	if got, err := s.IncidentByNumber(ctx, 1); err != nil || got.Title != "from v1" {
		t.Errorf("incident after upgrade = %+v, %v", got, err)
	}
	if err := s.Update(ctx, func(tx bot.Tx) error {
		return tx.AddOnCallChange(&bot.OnCallChange{Kind: bot.ChangeOverride, Override: &bot.Override{Schedule: "x", Person: "a"}})
	}); err != nil {
		t.Errorf("on-call history after upgrade: %v", err)
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
}

// upgradeFrom writes a file at the schema before migration name through
// write, then opens it with every migration, as an upgraded klaxon would.
func upgradeFrom(t *testing.T, name string, write func(tx *bbolt.Tx) error) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	before := slices.IndexFunc(migrations, func(m migration) bool { return m.name == name })
	if before < 0 {
		t.Fatalf("migration %q is gone", name)
	}
	old, err := open(path, Options{}, migrations[:before])
	if err != nil {
		t.Fatal(err)
	}
	err = old.db.Update(write)
	old.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A file written before "one outbox" keeps its unfinished page deliveries
// and hook events: they become jobs, and each page keeps its deliveries.
func TestUpgradeFoldsThePageAndHookOutboxesIntoJobs(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	inc := &bot.Incident{ID: bot.NewID(), Title: "db down", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen}
	page := bot.Page{ID: bot.NewID(), IncidentID: inc.ID, Incident: "INC-1", Status: bot.PageTriggered, Created: t0}
	legacy := func(key string, status bot.DeliveryStatus, next time.Time) map[string]any {
		return map[string]any{"key": key, "dedup_key": key, "page_id": page.ID, "incident_id": inc.ID, "pager": "pd", "person": "alice",
			"kind": "trigger", "status": status, "attempts": 1, "next_attempt": next, "created": t0}
	}
	sent, pending := page.ID.String()+":0:0:alice:pd", page.ID.String()+":1:0:alice:pd"
	s := upgradeFrom(t, "one outbox", func(tx *bbolt.Tx) error {
		if err := (txn{tx}).CreateIncident(inc); err != nil {
			return err
		}
		data, _ := json.Marshal(page)
		if err := tx.Bucket(bucketPages).Put(page.ID[:], data); err != nil {
			return err
		}
		for _, d := range []map[string]any{legacy(sent, bot.DeliverySent, t0), legacy(pending, bot.DeliveryPending, t0.Add(time.Minute))} {
			data, _ := json.Marshal(d)
			if err := tx.Bucket(legacyOutbox).Put([]byte(d["key"].(string)), data); err != nil {
				return err
			}
		}
		hook := map[string]any{"key": "h1", "hook": "audit", "event": "incident.declared", "body": map[string]string{"a": "b"},
			"status": "pending", "attempts": 3, "next_attempt": t0.Add(time.Hour), "created": t0}
		data, _ = json.Marshal(hook)
		return tx.Bucket(legacyHooks).Put([]byte("h1"), data)
	})
	pages, err := s.PagesForIncident(ctx, inc.ID)
	if err != nil || len(pages) != 1 {
		t.Fatalf("pages = %+v, %v; want the page", pages, err)
	}
	ds, err := s.PageDeliveries(ctx, page.ID)
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries = %+v, %v; want the page's two", ds, err)
	}
	if i := slices.IndexFunc(ds, func(d bot.Delivery) bool { return d.Key == sent }); i < 0 || ds[i].Status != bot.DeliverySent {
		t.Errorf("the sent delivery is not among %+v", ds)
	}
	due, err := s.DueJobs(ctx, t0.Add(2*time.Hour), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range due {
		got = append(got, fmt.Sprintf("%s %s %d", j.Op, j.Destination(), j.Attempts))
	}
	if strings.Join(got, ",") != "page pager:pd 1,hook hook:audit 3" {
		t.Errorf("due jobs = %v; want the pending page first, then the hook event", got)
	}
	if due, _ := s.DueJobs(ctx, t0.Add(30*time.Second), 0, nil); len(due) != 0 {
		t.Errorf("jobs due before their next attempt: %+v", due)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{legacyOutbox, legacyOutboxDue, legacyHooks, legacyHooksDue} {
			if tx.Bucket(b) != nil {
				return fmt.Errorf("bucket %s is still there", b)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestUpgradeKeepsPublicUpdatesAndIndexes: a store written before
// incidents kept their public updates, counts and indexes gets them all
// from what it holds.
func TestUpgradeKeepsPublicUpdatesAndIndexes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	idx := slices.IndexFunc(migrations, func(m migration) bool { return m.name == "public updates on incidents" })
	before := migrations[:slices.IndexFunc(migrations, func(m migration) bool { return m.name == "active incidents and incident classes" })]
	if idx < 0 || len(before) == 0 {
		t.Fatal("the migrations this test upgrades through are gone")
	}
	s, err := open(path, Options{}, before)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	public := bot.NewEvent(bot.EventUpdate, bot.User{ID: "alice"}, t0.Add(time.Minute), "posted a public update (status page): Card payments fail")
	public.Meta = map[string]string{bot.MetaPublic: "true"}
	err = s.Update(context.Background(), func(tx bot.Tx) error {
		for i, st := range []bot.Status{bot.StatusOpen, bot.StatusResolved} {
			inc := &bot.Incident{Title: fmt.Sprint("old ", i), Status: st, Severity: bot.DefaultSeverities()[0], Platform: bot.PlatformConsole, DeclaredAt: t0}
			evs := []bot.Event{bot.NewEvent(bot.EventUpdate, bot.User{ID: "alice"}, t0, "posted an update: internal")}
			if i == 0 {
				evs = append(evs, public)
			}
			if err := tx.CreateIncident(inc, evs...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inc, err := s.IncidentByNumber(context.Background(), 1)
	if err != nil || len(inc.PublicUpdates) != 1 || inc.PublicUpdates[0].Text != "Card payments fail" || !inc.PublicUpdates[0].Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("INC-1's public updates = %+v, %v", inc, err)
	}
	active, err := s.ListIncidents(context.Background(), bot.IncidentFilter{ActiveOnly: true})
	if err != nil || len(active) != 1 || active[0].Number != 1 {
		t.Errorf("active after the upgrade = %v, %v", active, err)
	}
	c, err := s.Counts(context.Background())
	if err != nil || len(c.Incidents) != 2 {
		t.Errorf("incident classes after the upgrade = %v, %v", c.Incidents, err)
	}
}

// A file written when a page kept its deliveries in its own record has
// them in rows of their own after the upgrade, counted as before, and the
// page's record no longer carries them.
func TestUpgradeGivesDeliveriesRowsOfTheirOwn(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	inc := &bot.Incident{ID: bot.NewID(), Title: "db down", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen}
	page := legacyPage{Page: bot.Page{ID: bot.NewID(), IncidentID: inc.ID, Incident: "INC-1", Status: bot.PageTriggered, Created: t0}}
	page.Deliveries = storetest.LegacyDeliveries(page.ID)
	s := upgradeFrom(t, "deliveries of their own", func(tx *bbolt.Tx) error {
		if err := (txn{tx}).CreateIncident(inc); err != nil {
			return err
		}
		if err := putPage(tx, &page.Page); err != nil {
			return err
		}
		data, _ := json.Marshal(page)
		if err := tx.Bucket(bucketPages).Put(page.ID[:], data); err != nil {
			return err
		}
		return countDeliveries(tx, map[bot.DeliveryStatus]int64{bot.DeliverySent: 1, bot.DeliveryPending: 1})
	})
	storetest.CheckUpgradedDeliveries(t, s, page.ID)
	err := s.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketPages).Get(page.ID[:]); bytes.Contains(v, []byte(`"deliveries"`)) {
			return fmt.Errorf("the page's record still has its deliveries: %s", v)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
