package oncall_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/oncall"
)

func TestCalendarFormat(t *testing.T) {
	start := time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)
	long := "On call: Zoë Ångström-Øvergaard, the very long named responder (payments-primary, secondary; backup)"
	ics := string(oncall.Calendar("On call: payments", []oncall.CalendarEvent{{UID: "u1@klaxon", Summary: long, Start: start, End: start.Add(time.Hour)}}))
	if !strings.HasSuffix(ics, "END:VCALENDAR\r\n") || strings.Contains(strings.ReplaceAll(ics, "\r\n", ""), "\n") {
		t.Fatalf("lines must end in CRLF:\n%q", ics)
	}
	for _, line := range strings.Split(strings.TrimSuffix(ics, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line longer than 75 octets: %q", line)
		}
		if !utf8.ValidString(line) {
			t.Errorf("folding split a character: %q", line)
		}
	}
	unfolded := strings.ReplaceAll(ics, "\r\n ", "")
	for _, want := range []string{"DTSTART:20261116T080000Z", "DTEND:20261116T090000Z", "DTSTAMP:20261116T080000Z", "TRANSP:TRANSPARENT",
		`SUMMARY:On call: Zoë Ångström-Øvergaard\, the very long named responder (payments-primary\, secondary\; backup)`} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("calendar lacks %q:\n%s", want, unfolded)
		}
	}
}

func TestFeedsNeedTheirToken(t *testing.T) {
	e := newOnCallEnv(t, "")
	cfg := onCallConfig(t)
	cfg.FeedTokens = map[string]string{"schedule:db": "s3cret", "person:bob": "b0b"}
	oc, err := oncall.New(context.Background(), e.store, e.clock, zerolog.Nop(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	for _, c := range []struct{ kind, id, token string }{
		{"schedule", "db", "wrong"}, {"schedule", "db", ""}, {"schedule", "payments-primary", "s3cret"}, {"person", "alice", "b0b"}, {"person", "bob", "s3cret"},
	} {
		if _, ok := oncall.CalendarFeeds(oc).Feed(c.kind, c.id, c.token, now, 2); ok {
			t.Errorf("Feed(%s, %s, %q) was served", c.kind, c.id, c.token)
		}
	}
	db, ok := oncall.CalendarFeeds(oc).Feed("schedule", "db", "s3cret", now, 2)
	if !ok || strings.Count(string(db), "BEGIN:VEVENT") < 14 {
		t.Errorf("db feed for 2 weeks has %d events; want a daily rotation's worth", strings.Count(string(db), "BEGIN:VEVENT"))
	}
	bob, ok := oncall.CalendarFeeds(oc).Feed("person", "bob", "b0b", now, 2)
	if !ok || !strings.Contains(string(bob), "payments-primary primary") || !strings.Contains(string(bob), "(db primary)") || strings.Contains(string(bob), "Carol") {
		t.Errorf("bob's feed:\n%s", bob)
	}
}

func TestFeedUIDsSurviveEdits(t *testing.T) {
	e := newOnCallEnv(t, "")
	cfg := onCallConfig(t)
	cfg.FeedTokens = map[string]string{"schedule:db": "t"}
	oc, _ := oncall.New(context.Background(), e.store, e.clock, zerolog.Nop(), cfg)
	oc.Register(bot.NewMux(zerolog.Nop()))
	before, _ := oncall.CalendarFeeds(oc).Feed("schedule", "db", "t", e.clock.Now(), 1)
	// Shorten today's shift with an override at its end: the shift keeps its UID.
	mux := bot.NewMux(zerolog.Nop())
	oc.Register(mux)
	resp := mux.Dispatch(context.Background(), &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: "carol"},
		Text: "/oncall override @carol 2026-11-17T20:00 2026-11-18T00:00 db"})
	if !strings.Contains(resp.Text, "on call for *db*") {
		t.Fatalf("override: %s", resp.Text)
	}
	after, _ := oncall.CalendarFeeds(oc).Feed("schedule", "db", "t", e.clock.Now(), 1)
	uid := func(ics []byte, start string) string {
		for _, ev := range strings.Split(string(ics), "BEGIN:VEVENT")[1:] {
			if strings.Contains(ev, "DTSTART:"+start) {
				return ev[strings.Index(ev, "UID:")+4 : strings.Index(ev, "@klaxon")]
			}
		}
		return ""
	}
	b, a := uid(before, "20261117T000000Z"), uid(after, "20261117T000000Z")
	if b == "" || a != b {
		t.Errorf("UID of the shift starting 17 Nov 00:00 was %q, now %q; want it unchanged", b, a)
	}
	if !strings.Contains(string(after), "DTEND:20261117T200000Z") || !strings.Contains(string(after), "On call: Carol (db primary)") {
		t.Errorf("the edited feed does not show the shorter shift and the override:\n%s", after)
	}
}

// A feed fetched twice shows the shifts both fetches cover identically:
// the same UID, start, end and stamp, whatever the time of the fetch.
func TestFeedsAreStableAcrossFetches(t *testing.T) {
	e := newOnCallEnv(t, "")
	cfg := onCallConfig(t)
	cfg.FeedTokens = map[string]string{"schedule:payments-primary": "t"}
	oc, _ := oncall.New(context.Background(), e.store, e.clock, zerolog.Nop(), cfg)
	events := func(at time.Time) map[string]string {
		ics, ok := oncall.CalendarFeeds(oc).Feed("schedule", "payments-primary", "t", at, 2)
		if !ok {
			t.Fatal("no feed")
		}
		out := map[string]string{}
		for _, ev := range strings.Split(string(ics), "BEGIN:VEVENT")[1:] {
			uid, _, _ := strings.Cut(ev[strings.Index(ev, "UID:")+4:], "\r\n")
			out[uid] = ev
		}
		return out
	}
	first := events(e.clock.Now())
	later := events(e.clock.Now().Add(3*time.Hour + 17*time.Minute))
	same := 0
	for uid, ev := range later {
		if prev, ok := first[uid]; ok {
			same++
			if prev != ev {
				t.Errorf("event %s changed between fetches:\n%s\nthen\n%s", uid, prev, ev)
			}
		}
	}
	if same == 0 || len(first) == 0 {
		t.Fatalf("the fetches share no event: %d and %d events", len(first), len(later))
	}
	// The shift on call now is shown whole, from its handoff.
	if !strings.Contains(strings.Join(mapsValues(first), ""), "DTSTART:20261116T080000Z") {
		t.Errorf("the current shift is not shown from its start (Mon 16 Nov 09:00 Berlin):\n%v", first)
	}
}

func mapsValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
