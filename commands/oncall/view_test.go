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
		ics, _ := oc.Feed("schedule", "db", "t", at, 1)
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
