package oncall_test

import (
	"context"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/oncall"
)

var feedEvent = regexp.MustCompile(`DTSTART:(\d{8}T\d{6}Z)\r\nDTEND:(\d{8}T\d{6}Z)\r\n(?:[^\r]*\r\n)*?SUMMARY:On call: ([^\\(]+?)\\? ?\(`)

// TestCalendarAgreesWithOnCallTheAPIAndTheFeed: at random instants over
// two years (DST changes included), the calendar's view names the same
// person as /oncall's answer (Who), the API's (Now) and the ICS feed.
func TestCalendarAgreesWithOnCallTheAPIAndTheFeed(t *testing.T) {
	e := newOnCallEnv(t, "")
	cfg := onCallConfig(t)
	cfg.FeedTokens = map[string]string{"schedule:db": "t"}
	oc, err := oncall.New(context.Background(), e.store, e.clock, zerolog.Nop(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	start := e.clock.Now()
	var db *bot.Schedule
	for _, s := range oc.Schedules() {
		if s.ID == "db" {
			db = s
		}
	}
	names := map[string]string{}
	for _, p := range cfg.People {
		names[p.ID] = p.Name
	}
	for range 300 {
		at := start.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
		who, ok := oc.Who(db, at)
		// The calendar draws the day around at.
		day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, db.Location)
		v, _ := oc.View("db", day, day.AddDate(0, 0, 1))
		drawn := ""
		for _, sh := range v.Final {
			if !sh.Start.After(at) && sh.End.After(at) {
				drawn = sh.Person
			}
		}
		if !ok || drawn != who {
			t.Fatalf("at %s the calendar draws %q, /oncall says %q (%v)", at, drawn, who, ok)
		}
		api := ""
		for _, en := range oc.Now(at) {
			if en.Schedule == "db" {
				api = en.Person
			}
		}
		if api != who {
			t.Fatalf("at %s the API says %q, /oncall %q", at, api, who)
		}
		ics, _ := oncall.CalendarFeeds(oc).Feed("schedule", "db", "t", at, 1)
		feed := ""
		for _, m := range feedEvent.FindAllStringSubmatch(strings.ReplaceAll(string(ics), "\r\n ", ""), -1) {
			s, _ := time.Parse("20060102T150405Z", m[1])
			en, _ := time.Parse("20060102T150405Z", m[2])
			if !s.After(at) && en.After(at) {
				feed = strings.TrimSpace(m[3])
			}
		}
		if feed != names[who] {
			t.Fatalf("at %s the feed names %q, /oncall %q", at, feed, names[who])
		}
	}
}

// TestStrandedChangesOfAGoneSchedule: after the configuration drops a
// schedule, its open overrides and offers are reported, past ones not.
func TestStrandedChangesOfAGoneSchedule(t *testing.T) {
	e := newSwapEnv(t, "", nil)
	now := e.clock.Now()
	ctx := context.Background()
	for _, ov := range []bot.Override{
		{ID: bot.NewID(), Schedule: "gone", Person: "alice", Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)},
		{ID: bot.NewID(), Schedule: "gone", Person: "bob", Start: now.Add(-3 * time.Hour), End: now.Add(-2 * time.Hour)}, // over
		{ID: bot.NewID(), Schedule: "payments-primary", Person: "bob", Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)},
	} {
		c := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeOverride, Author: bot.User{ID: "alice"}, At: now, Override: &ov}
		if err := e.store.Update(ctx, func(tx bot.Tx) error { return tx.AddOnCallChange(c) }); err != nil {
			t.Fatal(err)
		}
	}
	offer := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeOffer, Author: bot.User{ID: "bob"}, At: now,
		Offer: &bot.SwapOffer{Schedule: "gone", Person: "bob", Start: now.Add(24 * time.Hour), End: now.Add(48 * time.Hour), Unposted: true}}
	if err := e.store.Update(ctx, func(tx bot.Tx) error { return tx.AddOnCallChange(offer) }); err != nil {
		t.Fatal(err)
	}
	oc, err := oncall.New(ctx, e.store, e.clock, zerolog.Nop(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(oc.Stranded(now), "\n")
	want := "schedule \"gone\" is gone: its 1 open override(s) no longer apply (they apply again if it comes back)\n" +
		"schedule \"gone\" is gone: its 1 open swap offer(s) cannot be taken"
	if got != want {
		t.Errorf("Stranded =\n%s\nwant\n%s", got, want)
	}
}
