//go:build icalendar

package commands_test

// This test parses klaxon's feed with a real iCalendar parser (Debian's
// python3-icalendar). .ci/run installs it and runs this file with
// -tags icalendar; `make test-ics` does the same locally.

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
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
	oc, err := commands.NewOnCall(context.Background(), e.store, clock, zerolog.Nop(), cfg)
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
	ics, ok := oc.Feed("schedule", "platform", "tok", clock.Now(), 6)
	if !ok {
		t.Fatal("no feed")
	}

	cmd := exec.Command("/usr/bin/python3", "-c", parseICS)
	cmd.Stdin = strings.NewReader(string(ics))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3-icalendar could not parse the feed (install it: apt-get install python3-icalendar): %v\n%s", err, ics)
	}
	var events []struct{ UID, Summary, Transp, Start, End, Stamp string }
	if err := json.Unmarshal(out, &events); err != nil {
		t.Fatal(err)
	}
	if len(events) < 20 {
		t.Fatalf("parsed %d events", len(events))
	}
	type span struct {
		start, end time.Time
		who        string
	}
	var spans []span
	uids := map[string]bool{}
	names := map[string]string{"Alice": "alice", "Bob": "bob", "Carol": "carol"}
	for _, ev := range events {
		s, err1 := time.Parse(time.RFC3339, ev.Start)
		en, err2 := time.Parse(time.RFC3339, ev.End)
		if err1 != nil || err2 != nil || !strings.HasSuffix(ev.Start, "+00:00") {
			t.Fatalf("event times %s – %s are not UTC date-times", ev.Start, ev.End)
		}
		if ev.Transp != "TRANSPARENT" || ev.Stamp == "" || uids[ev.UID] {
			t.Errorf("event %+v: want TRANSP TRANSPARENT, a DTSTAMP and a unique UID", ev)
		}
		uids[ev.UID] = true
		name := strings.TrimPrefix(ev.Summary, "On call: ")
		name = name[:strings.Index(name, " (")]
		spans = append(spans, span{s, en, names[name]})
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
