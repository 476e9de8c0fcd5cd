package pg_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// fill writes a bit of everything a store holds.
func fill(t *testing.T, s store.Backend) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	err := s.Update(ctx, func(tx bot.Tx) error {
		for i := range 3 {
			inc := &bot.Incident{Title: fmt.Sprint("incident ", i), Status: bot.StatusOpen, Platform: bot.PlatformSlack,
				Channel: bot.ChannelRef{ID: fmt.Sprint("C", i), Name: fmt.Sprint("inc-", i)}, DeclaredAt: t0}
			if i == 2 {
				inc.Status = bot.StatusResolved
			}
			ev := bot.NewEvent(bot.EventMessage, bot.User{ID: "U1"}, t0, "hello")
			ev.SourceID = fmt.Sprint("slack:Ev", i)
			if err := tx.CreateIncident(inc, bot.NewEvent(bot.EventDeclared, bot.User{ID: "U1"}, t0, "declared"), ev); err != nil {
				return err
			}
			p := &bot.Page{IncidentID: inc.ID, Status: bot.PageTriggered, NextAt: t0.Add(5 * time.Minute), Created: t0}
			if err := tx.PutPage(p); err != nil {
				return err
			}
			if err := tx.PutDelivery(&bot.Delivery{PageID: p.ID, Key: "k", Status: bot.DeliverySent}); err != nil {
				return err
			}
			if err := tx.LinkPage(bot.PlatformSlack, bot.MessageRef{Channel: "D1", ID: fmt.Sprint(i)}, p.ID); err != nil {
				return err
			}
			if err := tx.SetReminder(bot.Reminder{IncidentID: inc.ID, Kind: bot.RemindUpdate, At: t0.Add(time.Hour)}); err != nil {
				return err
			}
			if err := tx.AddFollowUp(&bot.FollowUp{IncidentID: inc.ID, Text: "fix it", Created: t0}, bot.NewEvent(bot.EventFollowUp, bot.User{}, t0, "f")); err != nil {
				return err
			}
			if err := tx.PutPostmortem(inc.ID, []byte("# PM")); err != nil {
				return err
			}
			if err := tx.AddPostmortemVersion(&bot.PostmortemVersion{IncidentID: inc.ID, By: "alice", At: t0, Markdown: "# PM, edited"}); err != nil {
				return err
			}
			if err := tx.SetAlertIncident(fmt.Sprint("am:", i), inc.ID); err != nil {
				return err
			}
			q := inc.ID.String()
			if err := tx.Enqueue(
				bot.Job{Queue: q, Platform: bot.PlatformSlack, Op: bot.OpPost, NextAttempt: t0, Created: t0},
				bot.Job{Queue: q, Platform: bot.PlatformSlack, Op: bot.OpSummary, NextAttempt: t0, Created: t0},
				bot.Job{Queue: "page:" + q, Op: bot.OpPage, Delivery: &bot.Delivery{Pager: "pd"}, NextAttempt: t0.Add(time.Second), Created: t0},
			); err != nil {
				return err
			}
		}
		if err := tx.AddOnCallChange(&bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeOverride, At: t0,
			Override: &bot.Override{ID: bot.NewID(), Schedule: "s", Person: "a", Start: t0, End: t0.Add(time.Hour)}}); err != nil {
			return err
		}
		if err := tx.SetCursor("handoff:s", t0); err != nil {
			return err
		}
		if err := tx.PutProfile(&bot.Profile{Person: "alice", Contacts: []bot.Contact{{Method: bot.MethodPush, To: "alice-pager", FromChat: true, Verified: true}}}); err != nil {
			return err
		}
		if err := tx.PutSubscriber(&bot.Subscriber{ID: bot.SubscriberID("ann@example.com"), Email: "ann@example.com", Services: []string{"payments"}, Confirmed: t0}); err != nil {
			return err
		}
		return tx.NameMessage("offer:1", bot.MessageRef{Channel: "C1", ID: "1.1"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutHeartbeat(ctx, bot.HeartbeatState{Name: "etl", Due: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateBboltToPostgresAndBack: a bbolt store copied to PostgreSQL
// and back holds the same records (counts and digest), and the copies
// carry on where the original was: numbers, due work, timelines.
func TestMigrateBboltToPostgresAndBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, err := bolt.Open(filepath.Join(dir, "src.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fill(t, src)
	pgs := open(t)
	tally, err := store.Copy(ctx, src, pgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range store.Kinds {
		if tally.Counts[kind] == 0 {
			t.Errorf("the fixture has no %s record: the copy of that table is not checked", kind)
		}
	}
	if tally.Counts[store.KindIncident] != 3 || tally.Counts[store.KindEvent] != 9 || tally.Counts[store.KindJob] != 9 || tally.Counts[store.KindSeen] != 3 {
		t.Errorf("copied %v", tally.Counts)
	}
	back, err := bolt.Open(filepath.Join(dir, "back.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	again, err := store.Copy(ctx, pgs, back)
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != tally.Digest {
		t.Errorf("round trip digest %s; want %s", again.Digest, tally.Digest)
	}
	for name, s := range map[string]store.Backend{"postgres": pgs, "bbolt again": back} {
		due, err := s.DueJobs(ctx, time.Now().Add(time.Hour), 0, nil)
		if err != nil || len(due) != 6 {
			t.Errorf("%s: %d due jobs, %v; want 6 (a page and a post for each incident)", name, len(due), err)
		}
		pages, _ := s.DuePages(ctx, time.Now().Add(time.Hour))
		if len(pages) != 3 {
			t.Errorf("%s: %d due pages", name, len(pages))
		}
		var inc *bot.Incident
		if err := s.Update(ctx, func(tx bot.Tx) error {
			inc = &bot.Incident{Title: "next", Status: bot.StatusOpen}
			ev := bot.NewEvent(bot.EventMessage, bot.User{}, time.Now(), "dup")
			ev.SourceID = "slack:Ev1" // seen before the move: not recorded again
			return tx.CreateIncident(inc, ev)
		}); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountEvents(ctx, inc.ID); inc.Number != 4 || n != 0 {
			t.Errorf("%s: the next incident is INC-%d with %d events; want INC-4, the redelivery dropped", name, inc.Number, n)
		}
		if err := s.Check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := store.Copy(ctx, src, pgs); err == nil {
		t.Error("copying into a store that is not empty succeeded")
	}
}
