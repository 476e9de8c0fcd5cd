package oncall_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/oncall"
	"github.com/klaxon-bot/klaxon/commands/outbox"
)

// swapEnv is the on-call commands with the console as their chat, and
// the outbox that posts what they queue.
type swapEnv struct {
	*oncallEnv
	con    *console.Console
	oc     *oncall.OnCall
	outbox *outbox.Outbox
}

func newSwapEnv(t *testing.T, path string, handoffs map[string]oncall.HandoffNotice) *swapEnv {
	t.Helper()
	return newSwapEnvWith(t, path, handoffs, nil)
}

// newSwapEnvWith is newSwapEnv with the on-call configuration changed by
// change.
func newSwapEnvWith(t *testing.T, path string, handoffs map[string]oncall.HandoffNotice, change func(*oncall.Config), extra ...commandstest.Option) *swapEnv {
	t.Helper()
	cfg := onCallConfig(t)
	cfg.Handoffs = handoffs
	if change != nil {
		change(&cfg)
	}
	opts := []commandstest.Option{commandstest.OnCall(cfg), commandstest.OnCallAlone(), commandstest.PollEvery(0), commandstest.Channels("general", "oncall-db")}
	if path != "" {
		opts = append(opts, commandstest.At(path))
	}
	h := commandstest.New(t, append(opts, extra...)...)
	e := &oncallEnv{Env: h, t: t, store: h.Store, clock: h.Clock, mux: h.Mux, cfg: cfg}
	return &swapEnv{oncallEnv: e, con: h.Console, oc: h.OnCall, outbox: h.Outbox}
}

// do runs an on-call command and what it queued in chat.
func (e *swapEnv) do(user, text string) string {
	e.t.Helper()
	out := e.oncallEnv.do(user, text)
	e.outbox.Drain(context.Background())
	return out
}

func (e *swapEnv) click(user, value string) string {
	r := e.mux.Act(context.Background(), bot.Action{Platform: bot.PlatformConsole, ActionID: bot.ActionTakeShift, Value: value, User: bot.User{ID: user}})
	e.outbox.Drain(context.Background())
	return r.Text
}

// tick runs the on-call jobs due at now and posts what they queue.
func (e *swapEnv) tick(now time.Time) {
	e.oc.Tick(context.Background(), now)
	e.outbox.Drain(context.Background())
}

// offer returns the offer message's text and its button value.
func (e *swapEnv) offer() (string, string) {
	msgs := e.con.Messages("general")
	if len(msgs) == 0 {
		e.t.Fatal("no offer was posted")
	}
	last := msgs[len(msgs)-1]
	return last, e.offerValue()
}

func (e *swapEnv) offerValue() string {
	h, _ := e.store.OnCallChanges(context.Background())
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Kind == bot.ChangeOffer {
			return h[i].ID.String()
		}
	}
	return ""
}

func TestSwapOfferTakenByATeammate(t *testing.T) {
	e := newSwapEnv(t, "", nil)
	// payments-primary alternates weekly: alice 16 Nov, bob 23 Nov, alice 30 Nov.
	if got := e.do("alice", "/oncall swap payments-primary"); !strings.Contains(got, "Offered") {
		t.Fatalf("swap: %s", got)
	}
	text, id := e.offer()
	if !strings.Contains(text, "@alice offers their *payments-primary* shift, Mon 30 Nov 09:00 – Mon 7 Dec 09:00") || !strings.Contains(text, "[Take this shift]") {
		t.Errorf("offer message:\n%s", text)
	}
	if got := e.click("carol", id); !strings.Contains(got, "Only people on the *payments-primary* rotation") {
		t.Errorf("carol (not on the rotation): %s", got)
	}
	if got := e.click("alice", id); !strings.Contains(got, "your own offer") {
		t.Errorf("alice takes her own: %s", got)
	}
	if got := e.click("bob", id); got != "" {
		t.Errorf("bob takes it: %q", got)
	}
	if text, _ := e.offer(); !strings.Contains(text, "@bob took @alice's *payments-primary* shift") || strings.Contains(text, "[Take") {
		t.Errorf("the offer was not settled:\n%s", text)
	}
	if got := e.click("bob", id); !strings.Contains(got, "already took") {
		t.Errorf("second take: %s", got)
	}
	e.clock.Set(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	if got := e.do("alice", "/oncall payments"); !strings.Contains(got, "primary: @bob") {
		t.Errorf("during the swapped shift:\n%s", got)
	}
}

func TestSwapOfferExpiresAndCanBeWithdrawn(t *testing.T) {
	e := newSwapEnv(t, "", nil)
	e.do("bob", "/oncall swap payments-primary") // bob's next shift starts Mon 23 Nov 08:00 UTC
	_, id := e.offer()
	e.clock.Set(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	e.tick(e.clock.Now())
	if text, _ := e.offer(); !strings.Contains(text, "Nobody took @bob's *payments-primary* shift") {
		t.Errorf("expired offer:\n%s", text)
	}
	if got := e.click("alice", id); !strings.Contains(got, "expired") {
		t.Errorf("taking an expired offer: %s", got)
	}
	if got := e.do("alice", "/oncall payments"); !strings.Contains(got, "primary: @bob") {
		t.Errorf("the untaken shift should stay bob's:\n%s", got)
	}

	e2 := newSwapEnv(t, "", nil)
	e2.do("alice", "/oncall swap payments-primary")
	_, id2 := e2.offer()
	if got := e2.do("alice", "/oncall swap payments-primary"); !strings.Contains(got, "You already offered your *payments-primary* shift") {
		t.Errorf("offering the same shift twice: %s", got)
	}
	if n := strings.Count(strings.Join(e2.con.Messages("general"), "\n"), "Take this shift"); n != 1 {
		t.Errorf("%d offers with a button for one shift", n)
	}
	if got := e2.do("alice", "/oncall undo"); !strings.Contains(got, "undid their offer: @alice's *payments-primary* shift") {
		t.Errorf("withdrawing: %s", got)
	}
	// The withdrawn offer's message loses its button.
	if text, _ := e2.offer(); !strings.Contains(text, "withdrew this offer") || strings.Contains(text, "Take this shift") {
		t.Errorf("the withdrawn offer still shows:\n%s", text)
	}
	if got := e2.click("bob", id2); !strings.Contains(got, "withdrawn") {
		t.Errorf("taking a withdrawn offer: %s", got)
	}
	// The history names the shift, and a schedule's history keeps its offers and undos.
	hist := e2.do("alice", "/oncall history payments-primary")
	if !strings.Contains(hist, "offer · @alice's *payments-primary* shift") || !strings.Contains(hist, "undo · reverted @alice's *payments-primary* shift") {
		t.Errorf("history:\n%s", hist)
	}
}

func TestHandoffNoticesAndReminders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	handoffs := map[string]oncall.HandoffNotice{"db": {Platform: bot.PlatformConsole, Channel: "oncall-db", Remind: time.Hour}}
	e := newSwapEnv(t, path, handoffs)
	e.tick(e.clock.Now()) // first run: starts now, announces nothing past
	if n := len(e.con.Messages("oncall-db")); n != 0 {
		t.Fatalf("the first tick announced %d old handoffs", n)
	}
	// db is daily at 00:00 UTC: carol 16th, bob 17th, carol 18th.
	e.clock.Set(time.Date(2026, 11, 17, 23, 30, 0, 0, time.UTC))
	e.tick(e.clock.Now())
	if dms := e.con.DMs("carol"); len(dms) != 1 || !strings.Contains(dms[0], "you are on call for *db* (primary) from Wed 18 Nov 00:00 until Thu 19 Nov 00:00 (UTC)") {
		t.Errorf("reminder DMs to carol: %q", dms)
	}
	e.clock.Set(time.Date(2026, 11, 18, 0, 0, 30, 0, time.UTC))
	e.tick(e.clock.Now())
	e.tick(e.clock.Now().Add(time.Second))
	msgs := e.con.Messages("oncall-db")
	if len(msgs) != 1 || !strings.Contains(msgs[0], "*db* primary: @bob hands over to @carol until Thu 19 Nov 00:00 UTC") {
		t.Errorf("handoff notices: %q", msgs)
	}
	if dms := e.con.DMs("carol"); len(dms) != 1 {
		t.Errorf("carol was reminded %d times", len(dms))
	}

	// After a restart (klaxon was down for a day), the missed handoff is
	// announced once and nothing is repeated.
	e.store.Close()
	e2 := newSwapEnv(t, path, handoffs)
	e2.clock.Set(time.Date(2026, 11, 19, 0, 10, 0, 0, time.UTC))
	e2.tick(e2.clock.Now())
	msgs = e2.con.Messages("oncall-db")
	if len(msgs) != 1 || !strings.Contains(msgs[0], "@carol hands over to @bob") {
		t.Errorf("after the restart: %q", msgs)
	}
}

// noDMs is a chat that cannot reach one person directly (a user who left
// the workspace).
type noDMs struct {
	bot.Chat
	who string
}

func (c noDMs) DM(ctx context.Context, userID string, m bot.Message) (bot.MessageRef, error) {
	if userID == c.who {
		return bot.MessageRef{}, bot.Errorf(bot.EREFUSED, "user_not_found")
	}
	return c.Chat.DM(ctx, userID, m)
}

func TestRefusedHandoffNoticesAreReported(t *testing.T) {
	// The handoff channel does not exist and carol cannot be DMed: both
	// notices are reported, with their text, in the announcement channel.
	handoffs := map[string]oncall.HandoffNotice{"db": {Platform: bot.PlatformConsole, Channel: "oncall-gone", Remind: time.Hour, ReportTo: "general"}}
	e := newSwapEnvWith(t, "", handoffs, nil, commandstest.WrapChat(func(c bot.Chat) bot.Chat { return noDMs{c, "carol"} }))
	e.tick(e.clock.Now())
	e.clock.Set(time.Date(2026, 11, 17, 23, 30, 0, 0, time.UTC))
	e.tick(e.clock.Now())
	e.clock.Set(time.Date(2026, 11, 18, 0, 0, 30, 0, time.UTC))
	e.tick(e.clock.Now())
	got := strings.Join(e.con.Messages("general"), "\n---\n")
	for _, want := range []string{
		"⚠️ klaxon could not send a direct message to @carol: user_not_found\n  It said:\n  > 📟 Heads-up: you are on call for *db* (primary) from Wed 18 Nov 00:00",
		"⚠️ klaxon could not post a message in #oncall-gone: There is no channel #oncall-gone.\n  It said:\n  > 📟 *db* primary: @bob hands over to @carol until Thu 19 Nov 00:00 UTC",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("#general lacks %q; it has:\n%q", want, got)
		}
	}
	if n := strings.Count(got, "⚠️"); n != 2 {
		t.Errorf("%d reports, want 2 (each refusal once):\n%s", n, got)
	}

	// Without an announcement channel a refusal is only logged: nothing
	// is posted anywhere else.
	handoffs["db"] = oncall.HandoffNotice{Platform: bot.PlatformConsole, Channel: "oncall-gone"}
	e2 := newSwapEnv(t, "", handoffs)
	e2.tick(e2.clock.Now())
	e2.clock.Set(time.Date(2026, 11, 18, 0, 0, 30, 0, time.UTC))
	e2.tick(e2.clock.Now())
	if msgs := e2.con.Messages("general"); len(msgs) != 0 {
		t.Errorf("#general got %q", msgs)
	}
}

func TestOpenOfferSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	e := newSwapEnv(t, path, nil)
	e.do("alice", "/oncall swap payments-primary")
	id := e.offerValue()
	e.store.Close()

	e2 := newSwapEnv(t, path, nil)
	if got := e2.click("bob", id); got != "" {
		t.Fatalf("taking the offer after a restart: %q", got)
	}
	// The taken shift is exactly the offered one: Mon 30 Nov 08:00 – Mon 7 Dec 08:00 UTC.
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 30, 7, 59, 0, 0, time.UTC), "@bob"}, // bob's own week
		{time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), "@bob"},  // taken from alice
		{time.Date(2026, 12, 7, 7, 59, 0, 0, time.UTC), "@bob"},
		{time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), "@bob"}, // bob's week again
		{time.Date(2026, 12, 14, 8, 0, 0, 0, time.UTC), "@alice"},
	} {
		e2.clock.Set(c.at)
		if got := e2.do("carol", "/oncall payments-primary"); !strings.Contains(got, "primary: "+c.want) {
			t.Errorf("at %s: %s", c.at, got)
		}
	}
	h, _ := e2.store.OnCallChanges(context.Background())
	for _, c := range h {
		if c.Offer != nil && (c.Offer.End.IsZero() || !c.Offer.End.After(c.Offer.Start)) {
			t.Errorf("stored offer lost its end: %+v", c.Offer)
		}
	}
}

// A date picks a later shift to offer: the asker's shift on call that day.
func TestSwapOfferOfALaterShift(t *testing.T) {
	e := newSwapEnv(t, "", nil)
	// payments-primary is weekly from Mon 16 Nov 09:00 Berlin: alice, bob, alice…
	if got := e.do("alice", "/oncall swap payments-primary 2026-12-02"); !strings.Contains(got, "Offered") {
		t.Fatalf("offering the shift of 2 Dec: %s", got)
	}
	if text, _ := e.offer(); !strings.Contains(text, "Mon 30 Nov 09:00 – Mon 7 Dec 09:00") {
		t.Errorf("the offer is not alice's week of 30 Nov:\n%s", text)
	}
	if got := e.do("alice", "/oncall swap payments-primary 2026-11-25"); !strings.Contains(got, "no shift on *payments-primary* starting later on Wed 25 Nov") {
		t.Errorf("offering a day bob is on call: %s", got)
	}
	if got := e.do("alice", "/oncall swap payments-primary db"); !strings.Contains(got, "Name at most one schedule") {
		t.Errorf("two schedules: %s", got)
	}
}

// TestSwapOffersTheWholeShift: a business-hours layer (carol, weekdays
// 09:00–17:00) cuts bob's week into pieces. His offer is the whole week,
// every piece of it; taking it takes every piece and leaves carol's hours
// to carol, and a second offer of the same week is refused.
func TestSwapOffersTheWholeShift(t *testing.T) {
	e := newSwapEnvWith(t, "", nil, func(cfg *oncall.Config) {
		s := cfg.Schedules[0] // payments-primary: alice, bob weekly from Mon 16 Nov 09:00 Berlin
		start, _ := bot.ParseDate("2026-11-16")
		hours := bot.Restriction{From: 9 * 60, To: 17 * 60}
		for d := time.Monday; d <= time.Friday; d++ {
			hours.Days[d] = true
		}
		s.Layers = append(s.Layers, bot.Layer{Name: "business hours", Restrictions: []bot.Restriction{hours},
			Rotation: bot.Rotation{Kind: bot.RotationWeekly, Days: 7, Start: start, Handoff: 9 * 60, Participants: []string{"carol"}}})
	})
	if got := e.do("bob", "/oncall swap payments-primary"); !strings.Contains(got, "Offered") {
		t.Fatalf("swap: %s", got)
	}
	text, value := e.offer()
	// Bob's week: Mon 23 Nov 17:00 Berlin (09:00–17:00 is carol's) to Mon 30 Nov 09:00, in 5
	// stretches (four weeknights, then Friday 17:00 through the weekend), in bob's New York time.
	if !strings.Contains(text, "Mon 23 Nov 11:00 – Mon 30 Nov 03:00 in 5 stretches") {
		t.Errorf("the offer is not the whole week in its pieces:\n%s", text)
	}
	if got := e.do("bob", "/oncall swap payments-primary 2026-11-26"); !strings.Contains(got, "already offered") {
		t.Errorf("a second offer of a piece of the same week: %s", got)
	}
	if got := e.click("alice", value); got != "" {
		t.Fatalf("take: %s", got)
	}
	berlin := mustLoc(t, "Europe/Berlin")
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 11, 23, 20, 0, 0, 0, berlin), "alice"}, // Monday night: bob's piece, now alice's
		{time.Date(2026, 11, 25, 12, 0, 0, 0, berlin), "carol"}, // Wednesday noon: carol's hours stay hers
		{time.Date(2026, 11, 28, 12, 0, 0, 0, berlin), "alice"}, // Saturday: the weekend piece
		{time.Date(2026, 11, 30, 20, 0, 0, 0, berlin), "alice"}, // the week after: alice's own turn
	} {
		who := e.oc.Now(c.at)[0]
		if who.Person != c.want {
			t.Errorf("at %s: %s is on call; want %s", c.at.Format(time.RFC3339), who.Person, c.want)
		}
	}
	if who := e.oc.Now(time.Date(2026, 11, 30, 12, 0, 0, 0, berlin))[0]; who.Person != "carol" {
		t.Errorf("Monday noon after the week is %s's; want carol's", who.Person)
	}
	// Undoing the take gives every piece back.
	e.do("alice", "/oncall undo")
	for _, at := range []time.Time{time.Date(2026, 11, 23, 20, 0, 0, 0, berlin), time.Date(2026, 11, 28, 12, 0, 0, 0, berlin)} {
		if who := e.oc.Now(at)[0]; who.Person != "bob" {
			t.Errorf("after the undo, %s is %s's; want bob's", at.Format(time.RFC3339), who.Person)
		}
	}
}

// A schedule with a name is called by it, with the id people type beside
// it; one without is called by its id.
func TestNamedSchedulesAreCalledByName(t *testing.T) {
	handoffs := map[string]oncall.HandoffNotice{"db": {Platform: bot.PlatformConsole, Channel: "oncall-db", Remind: time.Hour}}
	e := newSwapEnvWith(t, "", handoffs, func(c *oncall.Config) {
		for i, s := range c.Schedules {
			if s.ID == "db" {
				named := *s
				named.Name = "Database primary"
				c.Schedules[i] = &named
			}
		}
	})
	e.tick(e.clock.Now())
	e.clock.Set(time.Date(2026, 11, 18, 0, 0, 30, 0, time.UTC))
	e.tick(e.clock.Now())
	if msgs := e.con.Messages("oncall-db"); len(msgs) != 1 || !strings.Contains(msgs[0], "📟 *Database primary* (`db`) primary: @bob hands over to @carol") {
		t.Errorf("handoff: %q", msgs)
	}
	if got := e.do("carol", "/oncall override @carol now 1h db"); !strings.Contains(got, "@carol is on call for *Database primary* (`db`) from") {
		t.Errorf("override: %s", got)
	}
	if got := e.do("alice", "/oncall override @alice now 1h payments-primary"); !strings.Contains(got, "on call for *payments-primary* from") {
		t.Errorf("an unnamed schedule: %s", got)
	}
}

// TestSwapOfferFromTheWeb: an offer made with no channel (the web
// console's button) is posted in the schedule's handoff channel when it
// has one, and otherwise kept without a message; taking or withdrawing
// it then settles no message.
func TestSwapOfferFromTheWeb(t *testing.T) {
	offerFromWeb := func(e *swapEnv, user string) string {
		shifts := e.oc.Offerable("payments-primary", user)
		if len(shifts) == 0 {
			t.Fatalf("%s has no shift to offer", user)
		}
		r := e.mux.Act(context.Background(), bot.Action{Platform: bot.PlatformConsole, ActionID: bot.ActionOfferShift, User: bot.User{ID: user},
			Value: "payments-primary|" + shifts[0][0].Start.UTC().Format(time.RFC3339)})
		e.outbox.Drain(context.Background())
		return r.Text
	}

	withChannel := newSwapEnv(t, "", map[string]oncall.HandoffNotice{"payments-primary": {Platform: bot.PlatformConsole, Channel: "oncall-db"}})
	if got := offerFromWeb(withChannel, "alice"); !strings.Contains(got, "Offered. You stay on call") {
		t.Fatalf("offer: %s", got)
	}
	msgs := withChannel.con.Messages("oncall-db")
	if len(msgs) != 1 || !strings.Contains(msgs[0], "@alice offers their *payments-primary* shift") {
		t.Fatalf("the handoff channel has %q", msgs)
	}

	without := newSwapEnv(t, "", nil)
	got := offerFromWeb(without, "alice")
	if !strings.Contains(got, "Offered: your *payments-primary* shift, Mon 30 Nov 09:00 – Mon 7 Dec 09:00") || !strings.Contains(got, "web console") {
		t.Fatalf("offer with no channel: %s", got)
	}
	v, _ := without.oc.View("payments-primary", without.clock.Now(), without.clock.Now().Add(30*24*time.Hour))
	if len(v.Offers) != 1 || v.Offers[0].Offer.Person != "alice" || !v.Offers[0].Offer.Unposted {
		t.Fatalf("open offers = %+v", v.Offers)
	}
	r := without.mux.Act(context.Background(), bot.Action{Platform: bot.PlatformConsole, ActionID: bot.ActionTakeShift, User: bot.User{ID: "bob"}, Value: v.Offers[0].ID.String()})
	without.outbox.Drain(context.Background())
	if !strings.Contains(r.Text, "<@bob> took <@alice>'s *payments-primary* shift") {
		t.Fatalf("take from the web: %q", r.Text)
	}
	if v, _ := without.oc.View("payments-primary", without.clock.Now(), without.clock.Now().Add(30*24*time.Hour)); len(v.Offers) != 0 {
		t.Errorf("a taken offer is still open: %+v", v.Offers)
	}
	jobs, err := without.store.CountJobs(context.Background())
	if err != nil || len(jobs) != 0 {
		t.Errorf("jobs left = %v %v (an unposted offer settles no message)", jobs, err)
	}
}
