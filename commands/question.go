package commands

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/klaxon-bot/klaxon/bot"
)

// OnCallQuery is what a plain-language on-call question asks.
type OnCallQuery struct {
	Service string // "" means every service
	When    string // "now", "tomorrow", "tonight", "this weekend", "next week"
}

// questionWords start a question; a question can also end with "?".
var questionWords = map[string]bool{"who": true, "whos": true, "whose": true, "which": true, "anyone": true, "anybody": true,
	"is": true, "are": true, "oncall": true, "tell": true, "show": true, "list": true, "get": true, "find": true}

// filler words carry no service name.
var filler = map[string]bool{"who": true, "whos": true, "whose": true, "which": true, "is": true, "are": true, "the": true, "for": true,
	"on": true, "oncall": true, "right": true, "now": true, "today": true, "tonight": true, "tomorrow": true, "next": true,
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

// ParseOnCallQuestion reads a question about who is on call. It does not
// take statements ("I'm on call tonight") or anything not about on-call.
func ParseOnCallQuestion(text string) (OnCallQuery, bool) {
	ws := words(text)
	for len(ws) > 0 && greetings[ws[0]] {
		ws = ws[1:]
	}
	if len(ws) == 0 || !slices.Contains(ws, "oncall") {
		return OnCallQuery{}, false
	}
	asks := questionWords[ws[0]] || strings.HasSuffix(strings.TrimSpace(text), "?")
	if !asks {
		return OnCallQuery{}, false
	}
	q := OnCallQuery{When: "now"}
	joined := " " + strings.Join(ws, " ") + " "
	switch {
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
		if !filler[w] {
			q.Service = w
			break
		}
	}
	return q, true
}

// instant turns a query's When into a time, in the asker's zone.
func instant(when string, now time.Time, loc *time.Location) time.Time {
	today := bot.DateOf(now.In(loc))
	switch when {
	case "tomorrow":
		return today.AddDays(1).At(12*60, loc)
	case "tonight":
		if t := today.At(22*60, loc); t.After(now) {
			return t
		}
	case "this weekend":
		days := (int(time.Saturday) - int(today.Weekday()) + 7) % 7
		if t := today.AddDays(days).At(12*60, loc); t.After(now) {
			return t
		}
	case "next week":
		return now.Add(7 * 24 * time.Hour)
	}
	return now
}

// Answer replies to a plain-language on-call question, and stays quiet for
// anything else.
func (o *OnCall) Answer(ctx context.Context, q bot.Question) (*bot.Response, error) {
	query, ok := ParseOnCallQuestion(q.Text)
	if !ok {
		return nil, nil
	}
	if len(o.cfg.Schedules) == 0 {
		return &bot.Response{InChannel: true, Message: bot.Message{Text: "No on-call schedules are configured yet."}}, nil
	}
	scheds := o.cfg.Schedules
	if query.Service != "" {
		if scheds = o.schedulesFor(query.Service); len(scheds) == 0 {
			return &bot.Response{InChannel: true, Message: bot.Message{Text: bot.ErrorMessage(o.unknownService(query.Service))}}, nil
		}
	}
	_, loc := o.asker(q.Platform, q.User)
	at := instant(query.When, o.clock.Now(), loc)
	label := query.When
	if query.When != "now" {
		label += " (" + at.In(loc).Format("Mon 2 Jan 15:04") + ")"
	}
	return &bot.Response{InChannel: true, Message: o.Report(q.Platform, scheds, at, loc, label)}, nil
}
