package oncall

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxon-bot/klaxon/bot"
)

// CalendarEvent is one shift in a calendar feed.
type CalendarEvent struct {
	UID        string
	Summary    string
	Start, End time.Time
}

// icsTime formats t as a UTC date-time (RFC 5545 3.3.5, form 2).
func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsText escapes a TEXT value (RFC 5545 3.3.11).
func icsText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`).Replace(s)
}

// fold writes one content line, folded at 75 octets without splitting a
// UTF-8 character (RFC 5545 3.1).
func fold(b *strings.Builder, line string) {
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		b.WriteString(line[:cut] + "\r\n ")
		line = line[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(line + "\r\n")
}

// Calendar renders events as an RFC 5545 calendar.
func Calendar(name string, events []CalendarEvent) []byte {
	var b strings.Builder
	for _, l := range []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//klaxon//on-call//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
		"X-WR-CALNAME:" + icsText(name), "REFRESH-INTERVAL;VALUE=DURATION:PT1H"} {
		fold(&b, l)
	}
	for _, e := range events {
		// DTSTAMP is the event's, not the fetch's: an unchanged shift reads
		// the same on every fetch.
		for _, l := range []string{"BEGIN:VEVENT", "UID:" + e.UID, "DTSTAMP:" + icsTime(e.Start), "DTSTART:" + icsTime(e.Start),
			"DTEND:" + icsTime(e.End), "SUMMARY:" + icsText(e.Summary), "TRANSP:TRANSPARENT", "END:VEVENT"} {
			fold(&b, l)
		}
	}
	fold(&b, "END:VCALENDAR")
	return []byte(b.String())
}

// eventUID names a shift by schedule, person and start, so a shift keeps
// its UID when an edit moves its end, and calendars update it in place.
func eventUID(schedule, person string, start time.Time) string {
	sum := sha256.Sum256([]byte(schedule + "|" + person + "|" + start.UTC().Format(time.RFC3339)))
	return hex.EncodeToString(sum[:12]) + "@klaxon"
}

// FeedWeeks is how far ahead calendar feeds reach by default.
const FeedWeeks = 8

// Feeds serves the calendar feeds of an OnCall's schedules and people.
type Feeds struct{ oc *OnCall }

// CalendarFeeds returns o's calendar feeds.
func CalendarFeeds(o *OnCall) *Feeds { return &Feeds{oc: o} }

// Feed renders the calendar feed of a schedule (kind "schedule") or a
// person (kind "person") from now for weeks weeks. It reports false for an
// unknown feed or a wrong token alike, so feeds cannot be discovered.
func (f *Feeds) Feed(kind, id, token string, now time.Time, weeks int) ([]byte, bool) {
	want, ok := f.oc.cfg.FeedTokens[kind+":"+id]
	if !ok || want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(token)) != 1 {
		return nil, false
	}
	if weeks <= 0 || weeks > 52 {
		weeks = FeedWeeks
	}
	from, to := now.Add(-24*time.Hour), now.Add(time.Duration(weeks)*7*24*time.Hour)
	f.oc.mu.RLock()
	defer f.oc.mu.RUnlock()
	var events []CalendarEvent
	name := ""
	for _, s := range f.oc.cfg.Schedules {
		if kind == "schedule" && s.ID != id {
			continue
		}
		shifts := s.Shifts(from, to, f.oc.overrides[s.ID])
		for i, sh := range shifts {
			if kind == "person" && sh.Person != id {
				continue
			}
			// The query's edges cut the first and last shifts: show them
			// whole, so every fetch shows the same events.
			if i == 0 || i == len(shifts)-1 {
				sh = stretch(s, f.oc.overrides[s.ID], sh)
			}
			events = append(events, CalendarEvent{UID: eventUID(s.ID, sh.Person, sh.Start), Start: sh.Start, End: sh.End,
				Summary: fmt.Sprintf("On call: %s (%s %s)", personName(f.oc.cfg.People, sh.Person), cmp.Or(s.Name, s.ID), s.Role)})
		}
		name = "On call: " + cmp.Or(s.Name, s.ID)
	}
	if kind == "person" {
		name = "On call: " + personName(f.oc.cfg.People, id)
	}
	return Calendar(name, events), true
}

// stretchLook bounds how far stretch looks for a shift's edges.
const stretchLook = 366 * 24 * time.Hour

// stretch is the whole unbroken stretch of sh's person that contains sh,
// looking back and ahead a week at a time, at most stretchLook each way.
func stretch(s *bot.Schedule, ovs *bot.Overrides, sh bot.Shift) bot.Shift {
	const week = 7 * 24 * time.Hour
	for limit := sh.Start.Add(-stretchLook); sh.Start.After(limit); {
		from := sh.Start.Add(-week)
		prev := s.Shifts(from, sh.Start, ovs)
		if len(prev) == 0 {
			break
		}
		last := prev[len(prev)-1]
		if last.Person != sh.Person || !last.End.Equal(sh.Start) {
			break // the stretch begins at sh.Start
		}
		sh.Start = last.Start
		if last.Start.After(from) {
			break // its real start, not the window's edge
		}
	}
	for limit := sh.End.Add(stretchLook); sh.End.Before(limit); {
		to := sh.End.Add(week)
		next := s.Shifts(sh.End, to, ovs)
		if len(next) == 0 {
			break
		}
		first := next[0]
		if first.Person != sh.Person || !first.Start.Equal(sh.End) {
			break
		}
		sh.End = first.End
		if first.End.Before(to) {
			break
		}
	}
	return sh
}

func personName(people bot.People, id string) string {
	for _, p := range people {
		if p.ID == id {
			return p.Name
		}
	}
	return id
}
