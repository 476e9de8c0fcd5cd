package commands_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

type reminderEnv struct {
	inc   *commands.Incidents
	mux   *bot.Mux
	con   *console.Console
	clock *bot.FakeClock
	store *bolt.Store
}

func newReminderEnv(t *testing.T, path string, start time.Time) *reminderEnv {
	t.Helper()
	h := commandstest.New(t, commandstest.At(path), commandstest.StartAt(start), commandstest.Channels("general"),
		commandstest.Incidents(func(c *commands.Config) {
			c.UpdateEvery = map[string]time.Duration{"SEV1": 30 * time.Minute, "SEV2": time.Hour}
			c.CommanderNag = 5 * time.Minute
		}))
	return &reminderEnv{inc: h.Incidents, mux: h.Mux, con: h.Console, clock: h.Clock, store: h.Store}
}

func (e *reminderEnv) do(user, channel, text string) {
	e.mux.Dispatch(context.Background(), &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: user}, Channel: bot.ChannelRef{ID: channel}, Text: text})
	e.inc.Outbox().Drain(context.Background())
}

func (e *reminderEnv) at(d time.Duration) int {
	e.clock.Set(t0.Add(d))
	e.inc.Tick(context.Background(), e.clock.Now())
	e.inc.Outbox().Drain(context.Background())
	n := 0
	for _, m := range e.con.Messages("inc-1-db-down") {
		if strings.Contains(m, "⏰") {
			n++
		}
	}
	return n
}

func TestUpdateRemindersFollowTheIncident(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	e := newReminderEnv(t, path, t0)
	e.do("alice", "general", "/incident declare DB down sev:1")
	ch := "inc-1-db-down"
	if n := e.at(29 * time.Minute); n != 0 {
		t.Fatalf("reminded after 29m: %d", n)
	}
	if n := e.at(30 * time.Minute); n != 1 {
		t.Fatalf("not reminded at 30m: %d", n)
	}
	if msgs := e.con.Messages(ch); !strings.Contains(msgs[len(msgs)-1], "@alice: no update on INC-1 for 30m") {
		t.Errorf("reminder text: %s", msgs[len(msgs)-1])
	}
	e.clock.Set(t0.Add(40 * time.Minute))
	e.do("alice", ch, "/incident update failing over")
	if n := e.at(61 * time.Minute); n != 1 {
		t.Errorf("reminded at 61m although the last update was at 40m: %d", n)
	}
	if n := e.at(70 * time.Minute); n != 2 {
		t.Errorf("not reminded 30m after the update: %d", n)
	}

	// A restart loses no reminder. (The console is new and empty; the
	// channel is there on a real platform.)
	e.store.Close()
	e2 := newReminderEnv(t, path, t0.Add(70*time.Minute))
	e2.con.CreateChannel(context.Background(), bot.ChannelSpec{Name: ch})
	// The old summary was message m1 of the old console; keep the new
	// console's m1 for something else, as a real platform never reuses ids.
	e2.con.Post(context.Background(), ch, bot.Message{Text: "before the restart"})
	if n := e2.at(99 * time.Minute); n != 0 {
		t.Errorf("after a restart, reminded early: %d", n)
	}
	if n := e2.at(100 * time.Minute); n != 1 {
		t.Errorf("after a restart: %d reminders; want one at 100m", n)
	}
	e2.do("alice", ch, "/incident resolve")
	if n := e2.at(200 * time.Minute); n != 1 {
		t.Errorf("reminded after the incident was resolved: %d", n)
	}
}

func TestCommanderNag(t *testing.T) {
	e := newReminderEnv(t, filepath.Join(t.TempDir(), "k.db"), t0)
	e.do("alice", "general", "/incident declare DB down sev:3")
	ch := "inc-1-db-down"
	// Declarations make the declarer commander; take the role away to
	// simulate an alert-declared incident.
	inc, _ := e.store.IncidentByNumber(context.Background(), 1)
	inc.Roles = nil
	if err := e.store.Update(context.Background(), func(tx bot.Tx) error { return tx.PutIncident(inc) }); err != nil {
		t.Fatal(err)
	}
	e.do("alice", ch, "/incident update investigating") // reschedules from the new state
	nags := func() int {
		n := 0
		for _, m := range e.con.Messages(ch) {
			if strings.Contains(m, "has had no commander") {
				n++
			}
		}
		return n
	}
	e.clock.Set(t0.Add(4 * time.Minute))
	e.inc.Tick(context.Background(), e.clock.Now())
	e.inc.Outbox().Drain(context.Background())
	if nags() != 0 {
		t.Fatal("nagged before 5 minutes")
	}
	e.clock.Set(t0.Add(5 * time.Minute))
	e.inc.Tick(context.Background(), e.clock.Now())
	e.inc.Outbox().Drain(context.Background())
	if nags() != 1 {
		t.Fatalf("no nag at 5 minutes")
	}
	e.do("bob", ch, "/incident role commander @bob")
	e.clock.Set(t0.Add(time.Hour))
	e.inc.Tick(context.Background(), e.clock.Now())
	e.inc.Outbox().Drain(context.Background())
	if nags() != 1 {
		t.Errorf("nagged although bob took command: %d", nags())
	}
}
