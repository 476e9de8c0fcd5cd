package paging

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Phone acknowledges pages from outside chat (a text back, a pressed 1,
// a push's action, an email's link) and records what the providers say
// became of each delivery. It makes the same changes paging does, as the
// person, through the incident lifecycle.
type Phone struct {
	store     Store
	incidents Incidents
	clock     bot.Clock
	log       zerolog.Logger
	people    bot.People
	wake      *bot.Wake
	notice    func(inc *bot.Incident, pageID uuid.UUID, m bot.Message, link bool, now time.Time) bot.Job
}

// NewPhone returns the phone side of p.
func NewPhone(p *Paging) *Phone {
	return &Phone{store: p.store, incidents: p.incidents, clock: p.clock, log: p.log,
		people: p.cfg.People, wake: p.cfg.Wake, notice: p.notice}
}

// What a person may text back to acknowledge: "1", "ack", "ack 7",
// "ack INC-7" (any case).
var ackReply = regexp.MustCompile(`(?i)^\s*(?:1|ack(?:nowledge)?(?:\s+(?:inc-)?(\d+))?)\s*[.!]?\s*$`)

// AckPage acknowledges page id as person, from their phone (a pressed 1,
// a push's action, an email's link): the same change as ✅ in chat, made
// as that person, so it stops every rule and step and shows in the
// channel and the timeline. It returns what to tell them.
func (p *Phone) AckPage(ctx context.Context, id uuid.UUID, person, via string) (string, error) {
	page, err := p.store.Page(ctx, id)
	if err != nil {
		return "", err
	}
	return p.ackAs(ctx, page, person, via)
}

func (p *Phone) ackAs(ctx context.Context, page *bot.Page, person, via string) (string, error) {
	who, ok := p.people.Get(person)
	if !ok {
		return "", bot.Errorf(bot.EFORBIDDEN, "%s is not among klaxon's people any more.", person)
	}
	inc, err := p.store.Incident(ctx, page.IncidentID)
	if err != nil {
		return "", err
	}
	platform := inc.Platform
	uid := who.UserID(platform)
	if uid == "" {
		// Someone with no account where the incident runs is named by
		// their klaxon id, as on the console.
		uid = who.ID
	}
	if page.Status == bot.PageAcknowledged {
		by := page.AckBy
		if q, ok := p.people.Get(by); ok {
			by = q.Name
		}
		return fmt.Sprintf("%s was already acknowledged by %s at %s.", page.Incident, by, bot.ChatTime(page.AckAt)), nil
	}
	if !page.Active() && page.Status != bot.PageExhausted {
		return fmt.Sprintf("%s's page is over: the incident is %s.", page.Incident, inc.Status), nil
	}
	_, err = p.incidents.Acknowledge(ctx, bot.Actor{User: bot.User{ID: uid, Name: who.Name}, Platform: platform}, page.IncidentID)
	if err != nil {
		return "", err
	}
	p.log.Info().Str("incident", page.Incident).Str("person", person).Str("via", via).Msg("acknowledged from a phone")
	return fmt.Sprintf("Acknowledged %s. Thank you, %s: the escalation has stopped. Join %s.", page.Incident, who.Name, chatPlace(inc)), nil
}

// chatPlace names the incident's channel in plain text for a phone; a
// private incident's channel name carries its title, which never goes
// to a lock screen.
func chatPlace(inc *bot.Incident) string {
	if inc.Channel.Name != "" && !inc.Private {
		return "#" + inc.Channel.Name
	}
	return "the incident's channel"
}

// PersonByPhone is the person whose verified sms or voice contact is
// phone, as configured or as they set it in chat.
func (p *Phone) PersonByPhone(ctx context.Context, phone string) (bot.Person, bool) {
	match := func(cs []bot.Contact) bool {
		return slices.ContainsFunc(cs, func(c bot.Contact) bool {
			return (c.Method == bot.MethodSMS || c.Method == bot.MethodVoice) && c.To == phone && c.Verified
		})
	}
	for _, who := range p.people {
		if match(who.Reach.Contacts) {
			return who, true
		}
	}
	profiles, err := p.store.Profiles(ctx)
	if err != nil {
		p.log.Error().Err(err).Msg("reading profiles")
		return bot.Person{}, false
	}
	for _, prof := range profiles {
		if who, ok := p.people.Get(prof.Person); ok && match(prof.Contacts) {
			return who, true
		}
	}
	return bot.Person{}, false
}

// Reply answers a text a person sent klaxon's number: "1" or "ack"
// acknowledges the newest open page that paged them, "ack 7" the page of
// INC-7. Anything else gets how to answer.
func (p *Phone) Reply(ctx context.Context, phone, body string) string {
	who, ok := p.PersonByPhone(ctx, phone)
	if !ok {
		return "klaxon does not know this number. Acknowledge in chat."
	}
	m := ackReply.FindStringSubmatch(body)
	if m == nil {
		return "Reply 1 to acknowledge your newest page, or ACK and the incident's number (ACK 7)."
	}
	page, err := p.openPageFor(ctx, who.ID, m[1])
	if err != nil {
		return bot.ErrorMessage(err)
	}
	text, err := p.ackAs(ctx, page, who.ID, "sms")
	if err != nil {
		return bot.ErrorMessage(err)
	}
	return text
}

// openPageFor finds the page to acknowledge for person: of incident
// number n, or (n empty) the newest open page that paged them.
func (p *Phone) openPageFor(ctx context.Context, person, n string) (*bot.Page, error) {
	var pages []*bot.Page
	if n != "" {
		num, _ := strconv.ParseInt(n, 10, 64)
		inc, err := p.store.IncidentByNumber(ctx, num)
		if err != nil {
			return nil, bot.Errorf(bot.ENOTFOUND, "There is no INC-%s.", n)
		}
		if pages, err = p.store.PagesForIncident(ctx, inc.ID); err != nil {
			return nil, err
		}
	} else {
		// Every escalating page has a timer: those are the open ones.
		ids, err := p.store.DuePages(ctx, p.clock.Now().Add(100*365*24*time.Hour))
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			pg, err := p.store.Page(ctx, id)
			if err != nil {
				return nil, err
			}
			pages = append(pages, pg)
		}
	}
	var best *bot.Page
	for _, pg := range pages {
		if (pg.Active() || pg.Status == bot.PageExhausted || n != "") && pg.WasPaged(person) && (best == nil || pg.Created.After(best.Created)) {
			best = pg
		}
	}
	if best == nil {
		if n != "" {
			return nil, bot.Errorf(bot.ENOTFOUND, "INC-%s did not page you.", n)
		}
		return nil, bot.Errorf(bot.ENOTFOUND, "Nothing is paging you now.")
	}
	return best, nil
}

// Progress records a provider's word on what it sent for the delivery
// key (a Twilio status callback): queued, sent, delivered, undelivered,
// failed; a call's ringing, in-progress, completed, busy, no-answer. The
// summary shows it; a text or call that did not get through is said in
// the channel, once.
func (p *Phone) Progress(ctx context.Context, key, ref, status string) error {
	idPart, _, _ := strings.Cut(key, ":")
	id, err := uuid.Parse(idPart)
	if err != nil {
		return bot.Errorf(bot.EINVALID, "%q is not a delivery of klaxon's.", key)
	}
	status = strings.ToLower(strings.TrimSpace(status))
	if status == "" || len(status) > 32 {
		return bot.Errorf(bot.EINVALID, "the status is missing")
	}
	now := p.clock.Now()
	err = p.store.Update(ctx, func(tx bot.Tx) error {
		d, err := tx.Delivery(id, key)
		if err != nil {
			return err
		}
		if d == nil || d.To == "" {
			return bot.Errorf(bot.ENOTFOUND, "%q is not a delivery of klaxon's.", key)
		}
		if d.Ref != "" && ref != "" && d.Ref != ref {
			return bot.Errorf(bot.EINVALID, "%s is not what klaxon sent for that delivery.", ref)
		}
		if d.Progress == status {
			return nil // a repeated callback
		}
		wasBad := failedProgress(d.Progress)
		d.Progress, d.ProgressAt = status, now
		if d.Ref == "" {
			d.Ref = ref
		}
		if err := tx.PutDelivery(d); err != nil {
			return err
		}
		inc, err := tx.Incident(d.IncidentID)
		if err != nil {
			return err
		}
		jobs := []bot.Job{bot.IncidentJob(inc, bot.OpSummary, now)}
		if failedProgress(status) && !wasBad {
			next, err := nextRule(tx, *d)
			if err != nil {
				return err
			}
			text := fmt.Sprintf("⚠️ The %s to %s did not get through (%s).%s", bot.Method(d.Pager).Label(), p.people.Mention(inc.Platform, d.Person), status, next)
			jobs = append(jobs, p.notice(inc, id, bot.Message{Text: text}, false, now))
			if err := tx.AppendEvents(inc.ID, bot.NewEvent(bot.EventDelivery, bot.User{}, now, fmt.Sprintf("%s for %s: %s", d.Pager, d.Person, status))); err != nil {
				return err
			}
		}
		return tx.Enqueue(jobs...)
	})
	if err == nil {
		p.wake.Jobs()
	}
	return err
}

// failedProgress reports whether a provider's status means the text or
// call did not reach the person.
func failedProgress(s string) bool {
	switch s {
	case "failed", "undelivered", "busy", "no-answer", "canceled":
		return true
	}
	return false
}
