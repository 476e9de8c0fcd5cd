package oncall

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/klaxon-bot/klaxon/bot"
)

// questions answers what people ask about who is on call, in chat and
// on the home tab.
type questions struct{ oc *OnCall }

// Query is what a plain-language on-call question asks.
type Query struct {
	Service string // "" means every service
	When    string // "now", "yesterday", "tomorrow", "tonight", "this weekend", "next week"
	Me      bool   // "am I on call?": about the asker
}

// questionWords start a question; a question can also end with "?".
var questionWords = map[string]bool{"who": true, "whos": true, "whose": true, "which": true, "anyone": true, "anybody": true,
	"is": true, "are": true, "oncall": true, "tell": true, "show": true, "list": true, "get": true, "find": true, "am": true, "was": true, "were": true, "will": true}

// filler words carry no service name.
var filler = map[string]bool{"who": true, "whos": true, "whose": true, "which": true, "is": true, "are": true, "the": true, "for": true,
	"on": true, "oncall": true, "right": true, "now": true, "today": true, "tonight": true, "tomorrow": true, "next": true, "yesterday": true, "was": true, "were": true,
	"week": true, "this": true, "weekend": true, "currently": true, "at": true, "moment": true, "please": true, "pls": true,
	"a": true, "an": true, "of": true, "in": true, "team": true, "service": true, "services": true, "primary": true,
	"secondary": true, "anyone": true, "anybody": true, "tell": true, "me": true, "show": true, "list": true, "and": true,
	"can": true, "you": true, "hey": true, "hi": true, "klaxon": true, "it": true, "s": true, "do": true, "we": true,
	"have": true, "get": true, "find": true, "everyone": true, "all": true, "schedule": true, "rotation": true, "there": true, "what": true}

// words lower-cases text, joins the spellings of on-call into "oncall",
// and splits it into words.
func words(text string) []string {
	t := strings.ToLower(mentionTokens.ReplaceAllString(text, " "))
	for _, s := range []string{"on-call", "on call", "on–call"} {
		t = strings.ReplaceAll(t, s, "oncall")
	}
	t = strings.NewReplacer("who's", "whos", "who’s", "whos", "'s", "", "’s", "").Replace(t)
	return strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' })
}

// mentionTokens are <@U…> and <#C…> in chat text; they name no service.
var mentionTokens = regexp.MustCompile(`<[@#!][^>]*>`)

// greetings may come before the question itself.
var greetings = map[string]bool{"hey": true, "hi": true, "hello": true, "yo": true, "ok": true, "klaxon": true, "please": true, "quick": true, "question": true}

// ParseQuestion reads a question about who is on call. It does not
// take statements ("I'm on call tonight") or anything not about on-call.
func ParseQuestion(text string) (Query, bool) {
	ws := words(text)
	for len(ws) > 0 && greetings[ws[0]] {
		ws = ws[1:]
	}
	if len(ws) == 0 || !slices.Contains(ws, "oncall") {
		return Query{}, false
	}
	asks := questionWords[ws[0]] || strings.HasSuffix(strings.TrimSpace(text), "?")
	if !asks {
		return Query{}, false
	}
	q := Query{When: "now"}
	joined := " " + strings.Join(ws, " ") + " "
	q.Me = strings.HasPrefix(joined, " am i ") || strings.Contains(joined, " am i oncall ") ||
		strings.HasPrefix(joined, " was i ") || strings.HasPrefix(joined, " will i be ")
	switch {
	case strings.Contains(joined, " yesterday "):
		q.When = "yesterday"
	case strings.Contains(joined, " next week "):
		q.When = "next week"
	case strings.Contains(joined, " tomorrow "):
		q.When = "tomorrow"
	case strings.Contains(joined, " tonight "):
		q.When = "tonight"
	case strings.Contains(joined, " weekend "):
		q.When = "this weekend"
	}
	for _, w := range ws {
		if !filler[w] && w != "am" && w != "i" {
			q.Service = w
			break
		}
	}
	return q, true
}

// timeWords are the calendar words /oncall and questions take.
var timeWords = []string{"now", "yesterday", "tomorrow", "tonight", "weekend", "next week", "this weekend"}

// personReport says whether person is on call at when (in loc), on which
// schedules and until when; you says the asker asks about themselves.
func (q *questions) personReport(platform bot.Platform, person bot.Person, when string, loc *time.Location, you bool) bot.Message {
	now := q.oc.clock.Now()
	name := q.oc.cfg.People.Mention(platform, person.ID)
	subject := name + " is"
	if you {
		subject = "You are"
	}
	if when == "yesterday" {
		subject = name + " was"
		if you {
			subject = "You were"
		}
	}
	var lines []string
	for _, s := range q.oc.cfg.Schedules {
		at := instantFor(s, when, now, loc)
		q.oc.mu.RLock()
		ovs := q.oc.overrides[s.ID]
		who, ok := s.OnCall(at, ovs)
		q.oc.mu.RUnlock()
		if !ok || who.Person != person.ID {
			continue
		}
		line := s.Title()
		if sh, ok := shiftAt(s, ovs, at); ok {
			line += fmt.Sprintf(" until %s", when2(sh.End, at.Add(shiftWindow), loc, "after"))
		}
		if who.Override != nil {
			line += " (override)"
		}
		lines = append(lines, line)
	}
	label := when
	if when != "now" {
		label += " (" + instantFor(nil, when, now, loc).In(loc).Format("Mon 2 Jan 15:04") + ")"
	}
	if len(lines) == 0 {
		return bot.Message{Text: fmt.Sprintf("%s not on call %s.", subject, label), Context: "Times in " + loc.String() + " · /oncall help"}
	}
	return bot.Message{Title: fmt.Sprintf("📟 %s on call %s", subject, label), Text: strings.Join(lines, "\n"), Context: "Times in " + loc.String() + " · /oncall help"}
}

// calendarWords takes the calendar words ("tomorrow", "tonight", "this
// weekend", "next week") off the end of a command's arguments.
func calendarWords(args []string) ([]string, string) {
	joined := strings.ToLower(strings.Join(args, " "))
	for _, w := range []string{"next week", "this weekend", "weekend", "yesterday", "tomorrow", "tonight", "now"} {
		if rest, ok := strings.CutSuffix(joined, w); ok && (rest == "" || strings.HasSuffix(rest, " ")) {
			n := len(strings.Fields(w))
			if w == "weekend" {
				w = "this weekend"
			}
			return args[:len(args)-n], w
		}
	}
	return args, "now"
}

// instantFor is when a query's When falls for schedule s, the calendar
// words read in the asker's zone: yesterday, tomorrow and this weekend at noon,
// tonight at 22:00 (on Saturday and Sunday "this weekend" is now, or that
// day's noon), and next week at s's handoff on next Monday (the
// Monday after today, even asked on a Monday morning), so the answer is
// the shift that week starts with.
func instantFor(s *bot.Schedule, when string, now time.Time, loc *time.Location) time.Time {
	today := bot.DateOf(now.In(loc))
	switch when {
	case "yesterday":
		return today.AddDays(-1).At(12*60, loc)
	case "tomorrow":
		return today.AddDays(1).At(12*60, loc)
	case "tonight":
		if t := today.At(22*60, loc); t.After(now) {
			return t
		}
	case "this weekend":
		days := (int(time.Saturday) - int(today.Weekday()) + 7) % 7
		if today.Weekday() == time.Sunday {
			days = 0 // still this weekend, not next
		}
		if t := today.AddDays(days).At(12*60, loc); t.After(now) {
			return t
		}
	case "next week":
		monday := today.AddDays((int(time.Monday)-int(today.Weekday())+6)%7 + 1)
		handoff := bot.TimeOfDay(9 * 60)
		zone := loc
		if s != nil && len(s.Layers) > 0 {
			handoff, zone = s.Layers[0].Rotation.Handoff, s.Location
		}
		return monday.At(handoff, zone)
	}
	return now
}

// reportWhen answers who is on call at a query's When.
func (q *questions) reportWhen(platform bot.Platform, scheds []*bot.Schedule, when string, loc *time.Location) bot.Message {
	now := q.oc.clock.Now()
	if when == "next week" {
		return q.weekReport(platform, scheds, now, loc)
	}
	label := when
	if when != "now" {
		first := instantFor(nil, when, now, loc)
		if len(scheds) > 0 {
			first = instantFor(scheds[0], when, now, loc)
		}
		label += " (" + first.In(loc).Format("Mon 2 Jan 15:04") + ")"
	}
	return q.oc.ReportAt(platform, scheds, func(s *bot.Schedule) time.Time { return instantFor(s, when, now, loc) }, loc, label)
}

// weekReport answers "next week": each schedule's shifts over the seven
// days from its first handoff next week, a person's consecutive shifts
// as one.
func (q *questions) weekReport(platform bot.Platform, scheds []*bot.Schedule, now time.Time, loc *time.Location) bot.Message {
	q.oc.mu.RLock()
	defer q.oc.mu.RUnlock()
	var lines []string
	var first time.Time
	for _, s := range scheds {
		from := instantFor(s, "next week", now, loc)
		if first.IsZero() || from.Before(first) {
			first = from
		}
		label := cmp.Or(s.Service, s.ID)
		var merged []bot.Shift
		for _, sh := range s.Shifts(from, from.AddDate(0, 0, 7), q.oc.overrides[s.ID]) {
			if n := len(merged); n > 0 && merged[n-1].Person == sh.Person && merged[n-1].End.Equal(sh.Start) {
				merged[n-1].End, merged[n-1].Override = sh.End, merged[n-1].Override || sh.Override
				continue
			}
			merged = append(merged, sh)
		}
		if len(merged) == 0 {
			lines = append(lines, fmt.Sprintf("*%s* %s: nobody", label, s.Role))
			continue
		}
		lines = append(lines, fmt.Sprintf("*%s* %s:", label, s.Role))
		for _, sh := range merged {
			line := fmt.Sprintf("  %s – %s  %s", sh.Start.In(loc).Format("Mon 2 Jan 15:04"), sh.End.In(loc).Format("Mon 2 Jan 15:04"),
				q.oc.cfg.People.Mention(platform, sh.Person))
			if sh.Override {
				line += " · override"
			}
			lines = append(lines, line)
		}
	}
	title := "📟 On call next week"
	if !first.IsZero() {
		title += " (from " + first.In(loc).Format("Mon 2 Jan 15:04") + ")"
	}
	return bot.Message{Title: title, Text: strings.Join(lines, "\n"), Context: "Times in " + loc.String() + " · /oncall help"}
}

// Answer replies to a plain-language on-call question, and stays quiet for
// anything else.
func (qs *questions) Answer(ctx context.Context, q bot.Question) (*bot.Response, error) {
	query, ok := ParseQuestion(q.Text)
	if !ok {
		return nil, nil
	}
	if len(qs.oc.cfg.Schedules) == 0 {
		return &bot.Response{InChannel: true, Message: bot.Message{Text: "No on-call schedules are configured yet."}}, nil
	}
	scheds := qs.oc.cfg.Schedules
	if query.Service != "" {
		if scheds = qs.oc.schedulesFor(query.Service); len(scheds) == 0 {
			return &bot.Response{InChannel: true, Message: bot.Message{Text: bot.ErrorMessage(qs.oc.UnknownService(query.Service))}}, nil
		}
	}
	asker, loc := qs.oc.asker(q.Platform, q.User)
	if query.Me {
		if asker.ID == "" {
			return &bot.Response{InChannel: true, Message: bot.Message{Text: "You are not in klaxon's list of people, so you are on no schedule."}}, nil
		}
		return &bot.Response{InChannel: true, Message: qs.personReport(q.Platform, asker, query.When, loc, true)}, nil
	}
	return &bot.Response{InChannel: true, Message: qs.reportWhen(q.Platform, scheds, query.When, loc)}, nil
}
