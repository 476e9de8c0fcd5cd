//go:build icalendar

package oncall_test

// This test parses klaxon's feed with a real iCalendar parser (Debian's
// python3-icalendar). .ci/run installs it and runs this file with
// -tags icalendar; `make test-ics` does the same locally.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/commands/oncall"
)

const parseICS = `
import json, sys, icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
out = []
for ev in cal.walk("VEVENT"):
    out.append({"uid": str(ev["UID"]), "summary": str(ev["SUMMARY"]), "transp": str(ev["TRANSP"]),
                "start": ev.decoded("DTSTART").isoformat(), "end": ev.decoded("DTEND").isoformat(),
                "stamp": ev.decoded("DTSTAMP").isoformat()})
json.dump(out, sys.stdout)
`

// icsEvent is one event as python3-icalendar read it.
type icsEvent struct{ UID, Summary, Transp, Start, End, Stamp string }

// parseWithICalendar parses a feed with python3-icalendar.
func parseWithICalendar(t *testing.T, ics []byte) []icsEvent {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", "-c", parseICS)
	cmd.Stdin = strings.NewReader(string(ics))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3-icalendar could not parse the feed (install it: apt-get install python3-icalendar): %v\n%s", err, ics)
	}
	var events []icsEvent
	if err := json.Unmarshal(out, &events); err != nil {
		t.Fatal(err)
	}
	return events
}

// span is who an event puts on call, and when.
type span struct {
	start, end time.Time
	who        string // person id: the summary's name, lower-cased
}

func spanOf(t *testing.T, ev icsEvent) span {
	t.Helper()
	s, err1 := time.Parse(time.RFC3339, ev.Start)
	en, err2 := time.Parse(time.RFC3339, ev.End)
	if err1 != nil || err2 != nil || !strings.HasSuffix(ev.Start, "+00:00") {
		t.Fatalf("event times %s – %s are not UTC date-times", ev.Start, ev.End)
	}
	name := strings.TrimPrefix(ev.Summary, "On call: ")
	return span{s, en, strings.ToLower(name[:strings.Index(name, " (")])}
}

func TestFeedParsesWithICalendar(t *testing.T) {
	e := newOnCallEnv(t, "")
	cfg := onCallConfig(t)
	// A schedule across Berlin's DST change with business hours and an override.
	berlin := mustLoc(t, "Europe/Berlin")
	start, _ := bot.ParseDate("2026-10-12")
	cfg.Schedules = append(cfg.Schedules, &bot.Schedule{ID: "platform", Role: "primary", Location: berlin, Layers: []bot.Layer{
		{Rotation: bot.Rotation{Kind: bot.RotationWeekly, Days: 7, Start: start, Handoff: 2*60 + 30, Participants: []string{"alice", "bob", "carol"}}},
		{Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1, Start: start, Handoff: 9 * 60, Participants: []string{"bob", "carol"}},
			Restrictions: []bot.Restriction{{Days: [7]bool{false, true, true, true, true, true, false}, From: 9 * 60, To: 17 * 60}}},
	}})
	cfg.FeedTokens = map[string]string{"schedule:platform": "tok"}
	clock := bot.NewFakeClock(time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC))
	oc, err := oncall.New(context.Background(), e.store, clock, zerolog.Nop(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := bot.NewMux(zerolog.Nop())
	oc.Register(mux)
	resp := mux.Dispatch(context.Background(), &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: "alice"},
		Text: "/oncall override @carol 2026-10-24T20:00 2026-10-26T08:00 platform"})
	if !strings.Contains(resp.Text, "on call for *platform*") {
		t.Fatalf("override: %s", resp.Text)
	}
	ics, ok := oncall.CalendarFeeds(oc).Feed("schedule", "platform", "tok", clock.Now(), 6)
	if !ok {
		t.Fatal("no feed")
	}

	events := parseWithICalendar(t, ics)
	if len(events) < 20 {
		t.Fatalf("parsed %d events", len(events))
	}
	var spans []span
	uids := map[string]bool{}
	for _, ev := range events {
		if ev.Transp != "TRANSPARENT" || ev.Stamp == "" || uids[ev.UID] {
			t.Errorf("event %+v: want TRANSP TRANSPARENT, a DTSTAMP and a unique UID", ev)
		}
		uids[ev.UID] = true
		spans = append(spans, spanOf(t, ev))
	}
	from, to := spans[0].start, spans[len(spans)-1].end
	rng := rand.New(rand.NewPCG(3, 4))
	var platform *bot.Schedule
	for _, s := range cfg.Schedules {
		if s.ID == "platform" {
			platform = s
		}
	}
	ovs := bot.NewOverrides([]bot.Override{{Person: "carol", Start: time.Date(2026, 10, 24, 18, 0, 0, 0, time.UTC), End: time.Date(2026, 10, 26, 7, 0, 0, 0, time.UTC)}})
	for range 200 {
		at := from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)))))
		want, _ := platform.OnCall(at, ovs)
		got := ""
		for _, sp := range spans {
			if !at.Before(sp.start) && at.Before(sp.end) {
				got = sp.who
			}
		}
		if got != want.Person {
			t.Fatalf("at %s the parsed calendar says %q, OnCall says %q", at.In(berlin), got, want.Person)
		}
	}
}

// TestOnCallAnswersAgreeWithICalendar is a property test: for random
// schedules (one or two layers, business-hours restrictions, overrides, a
// 02:30 handoff, zones down to Lord Howe's half-hour DST) and random
// instants over two years, the chat answer (/oncall), the JSON API
// (OnCall.Now), the calendar feed, parsed by python3-icalendar, and the
// on-call user group (what the outbox's group job sets) name the same
// person.
func TestOnCallAnswersAgreeWithICalendar(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 14))
	zones := []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "UTC"}
	handoffs := []bot.TimeOfDay{0, 2*60 + 30, 9 * 60, 17*60 + 15}
	people := []string{"alice", "bob", "carol"}
	for round := range 6 {
		e := newOnCallEnv(t, "")
		cfg := onCallConfig(t)
		loc := mustLoc(t, zones[rng.IntN(len(zones))])
		start, _ := bot.ParseDate("2026-01-05")
		parts := slices.Clone(people)
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		parts = parts[:1+rng.IntN(3)]
		kind, days := bot.RotationWeekly, 7
		if rng.IntN(2) == 0 {
			kind, days = bot.RotationDaily, 1
		}
		s := &bot.Schedule{ID: "prop", Service: "prop", Role: "primary", Location: loc, Layers: []bot.Layer{
			{Rotation: bot.Rotation{Kind: kind, Days: days, Start: start, Handoff: handoffs[rng.IntN(len(handoffs))], Participants: parts}}}}
		if rng.IntN(2) == 0 {
			s.Layers = append(s.Layers, bot.Layer{Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1, Start: start, Handoff: 9 * 60, Participants: []string{"carol", "bob"}},
				Restrictions: []bot.Restriction{{Days: [7]bool{false, true, true, true, true, true, false}, From: 9 * 60, To: 17 * 60}}})
		}
		cfg.Schedules = []*bot.Schedule{s}
		cfg.FeedTokens = map[string]string{"schedule:prop": "tok"}
		cfg.Admins = []string{"alice"} // she puts anyone on call (the rules have their own test)
		for i := range cfg.People {
			cfg.People[i].Accounts = map[bot.Platform]string{bot.PlatformSlack: "U" + cfg.People[i].ID}
		}
		keeper := &groupRecorder{Console: console.New(io.Discard)}
		cfg.Chats = []bot.Chat{keeper}
		cfg.Groups = []oncall.Group{{Platform: bot.PlatformSlack, Group: "prop-oncall", Schedules: []string{"prop"}}}
		clock := bot.NewFakeClock(time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC))
		oc, err := oncall.New(context.Background(), e.store, clock, zerolog.Nop(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		mux := bot.NewMux(zerolog.Nop())
		oc.Register(mux)
		ask := func(text string) string {
			resp := mux.Dispatch(context.Background(), &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: "alice"}, Text: text, Time: clock.Now()})
			return console.Plain(console.RenderMessage(resp.Message))
		}
		for range rng.IntN(4) {
			from := clock.Now().Add(time.Duration(rng.Int64N(int64(600 * 24 * time.Hour))))
			length := time.Duration(1+rng.Int64N(72)) * time.Hour
			who := people[rng.IntN(len(people))]
			if got := ask(fmt.Sprintf("/oncall override @%s %s %s prop", who, from.UTC().Format(time.RFC3339), from.Add(length).UTC().Format(time.RFC3339))); !strings.Contains(got, "on call for *prop*") {
				t.Fatalf("override: %s", got)
			}
		}
		// Two feeds, a year apart, cover two years.
		for _, fetch := range []time.Time{clock.Now(), clock.Now().AddDate(1, 0, 0)} {
			clock.Set(fetch)
			ics, ok := oncall.CalendarFeeds(oc).Feed("schedule", "prop", "tok", fetch, 52)
			if !ok {
				t.Fatal("no feed")
			}
			var spans []span
			for _, ev := range parseWithICalendar(t, ics) {
				spans = append(spans, spanOf(t, ev))
			}
			for range 150 {
				at := fetch.Add(time.Duration(rng.Int64N(int64(52 * 7 * 24 * time.Hour))))
				fromFeed := ""
				for _, sp := range spans {
					if !at.Before(sp.start) && at.Before(sp.end) {
						fromFeed = sp.who
					}
				}
				fromAPI := ""
				for _, entry := range oc.Now(at) {
					fromAPI = entry.Person
				}
				clock.Set(at)
				answer := ask("/oncall prop")
				fromChat := "nobody"
				if i := strings.Index(answer, "primary: @"); i >= 0 {
					fromChat = strings.Fields(answer[i+len("primary: @"):])[0]
				}
				if _, err := oncall.GroupSender(oc).Send(context.Background(), bot.Job{Platform: bot.PlatformSlack, Op: bot.OpSetGroup, Group: "prop-oncall"}, false); err != nil {
					t.Fatal(err)
				}
				fromGroup := "nobody"
				if m := keeper.members["prop-oncall"]; len(m) == 1 {
					fromGroup = strings.TrimPrefix(m[0], "U")
				} else if len(m) > 1 {
					fromGroup = strings.Join(m, "+")
				}
				if fromAPI == "" {
					fromAPI = "nobody"
				}
				if fromFeed == "" {
					fromFeed = "nobody"
				}
				if fromFeed != fromAPI || fromChat != fromAPI || fromGroup != fromAPI {
					for _, sp := range spans {
						if sp.end.After(at.Add(-10*24*time.Hour)) && sp.start.Before(at.Add(10*24*time.Hour)) {
							t.Logf("  feed: %s – %s %s", sp.start.In(loc).Format(time.RFC3339), sp.end.In(loc).Format(time.RFC3339), sp.who)
						}
					}
					t.Logf("  feed fetched at %s, %d events, first %s", fetch.Format(time.RFC3339), len(spans), spans[0].start.Format(time.RFC3339))
					t.Fatalf("round %d (%s, %d layer(s), handoff %v): at %s the feed says %s, the API %s, the chat %s, the group %s\n%s",
						round, loc, len(s.Layers), s.Layers[0].Rotation.Handoff, at.In(loc).Format(time.RFC3339), fromFeed, fromAPI, fromChat, fromGroup, answer)
				}
			}
			clock.Set(fetch)
		}
	}
}

// groupRecorder is a chat on "Slack" that records what its groups were
// set to.
type groupRecorder struct {
	*console.Console
	members map[string][]string
}

func (g *groupRecorder) Platform() bot.Platform { return bot.PlatformSlack }

func (g *groupRecorder) GroupMention(group string) string { return "@" + group }

var _ bot.GroupKeeper = (*groupRecorder)(nil)

func (g *groupRecorder) SetGroup(_ context.Context, group string, userIDs []string) error {
	if g.members == nil {
		g.members = map[string][]string{}
	}
	g.members[group] = slices.Clone(userIDs)
	return nil
}
