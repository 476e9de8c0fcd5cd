package commands

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
)

// ActionTakeShift is the button on a swap offer.
const ActionTakeShift = "klaxon.swap.take"

const stamp = "Mon 2 Jan 15:04"

func (o *OnCall) handleSwap(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Args) > 1 {
		return nil, bot.Errorf(bot.EINVALID, "Name at most one schedule.")
	}
	asker, loc := o.asker(req.Platform, req.User)
	if asker.ID == "" {
		return nil, bot.Errorf(bot.EINVALID, "You are not in klaxon's list of people, so you have no shifts to offer.")
	}
	name := ""
	if len(req.Args) == 1 {
		name = req.Args[0]
	}
	s, err := o.pickSchedule(name, asker.ID)
	if err != nil {
		return nil, err
	}
	chat, ok := o.chat(req.Platform)
	if !ok {
		return nil, bot.Errorf(bot.EUNSUPPORTED, "klaxon cannot post offers on %s.", req.Platform)
	}
	now := o.clock.Now()
	o.mu.RLock()
	shifts := s.Shifts(now, now.Add(60*24*time.Hour), o.overrides[s.ID])
	o.mu.RUnlock()
	var next *bot.Shift
	for i := range shifts {
		if shifts[i].Person == asker.ID && shifts[i].Start.After(now) {
			next = &shifts[i]
			break
		}
	}
	if next == nil {
		return nil, bot.Errorf(bot.ENOTFOUND, "You have no upcoming shift on *%s* in the next 60 days.", s.ID)
	}
	offer := &bot.SwapOffer{Schedule: s.ID, Person: asker.ID, Start: next.Start, End: next.End, Platform: req.Platform}
	c := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeOffer, Author: req.User, At: now, Offer: offer}
	text := fmt.Sprintf("🔁 %s offers their *%s* shift, %s – %s (%s). It can be taken until it starts.", req.User.Mention(), s.ID,
		next.Start.In(loc).Format(stamp), next.End.In(loc).Format(stamp), loc)
	ref, err := chat.Post(ctx, req.Channel.ID, bot.Message{Text: text,
		Buttons: []bot.Button{{ActionID: ActionTakeShift, Label: "Take this shift", Value: c.ID.String(), Style: bot.ButtonPrimary}}})
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not post the offer; nothing was offered.")
	}
	offer.Message = ref
	if err := o.commit(ctx, c); err != nil {
		return nil, err
	}
	return bot.Reply("Offered. You stay on call for it unless someone takes it."), nil
}

func (o *OnCall) actTake(ctx context.Context, a bot.Action) (*bot.Response, error) {
	id, err := uuid.Parse(a.Value)
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "That button does not name an offer.")
	}
	taker, loc := o.asker(a.Platform, a.User)
	o.mu.RLock()
	offerChange, state, found := o.history.Offer(id)
	o.mu.RUnlock()
	if !found {
		return nil, bot.Errorf(bot.ENOTFOUND, "That offer does not exist.")
	}
	offer := offerChange.Offer
	now := o.clock.Now()
	switch {
	case state == bot.OfferTaken:
		return nil, bot.Errorf(bot.ECONFLICT, "Someone already took that shift.")
	case state == bot.OfferWithdrawn:
		return nil, bot.Errorf(bot.ECONFLICT, "That offer was withdrawn.")
	case state == bot.OfferExpired || !now.Before(offer.Start):
		return nil, bot.Errorf(bot.ECONFLICT, "That offer expired when the shift started.")
	case taker.ID == "":
		return nil, bot.Errorf(bot.EFORBIDDEN, "You are not in klaxon's list of people, so you cannot take shifts.")
	case taker.ID == offer.Person:
		return nil, bot.Errorf(bot.ECONFLICT, "That is your own offer. Withdraw it with `/oncall undo`.")
	case !o.participates(offer.Schedule, taker.ID):
		return nil, bot.Errorf(bot.EFORBIDDEN, "Only people on the *%s* rotation can take its shifts.", offer.Schedule)
	}
	c := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeTake, Author: a.User, At: now, OfferID: id,
		Override: &bot.Override{ID: bot.NewID(), Schedule: offer.Schedule, Person: taker.ID, Start: offer.Start, End: offer.End}}
	if err := o.commit(ctx, c); err != nil {
		return nil, err
	}
	text := fmt.Sprintf("✅ %s took %s's *%s* shift, %s – %s (%s).", a.User.Mention(), mention(offer.Platform, o.cfg.People, offer.Person),
		offer.Schedule, offer.Start.In(loc).Format(stamp), offer.End.In(loc).Format(stamp), loc)
	o.settle(ctx, offer, text)
	return nil, nil
}

func (o *OnCall) participates(schedule, person string) bool {
	for _, s := range o.cfg.Schedules {
		if s.ID == schedule {
			for _, l := range s.Layers {
				if slices.Contains(l.Rotation.Participants, person) {
					return true
				}
			}
		}
	}
	return false
}

// settle replaces an offer's message (and its button) with text.
func (o *OnCall) settle(ctx context.Context, offer *bot.SwapOffer, text string) {
	chat, ok := o.chat(offer.Platform)
	if !ok || offer.Message.IsZero() {
		return
	}
	if err := chat.Update(ctx, offer.Message, bot.Message{Text: text}); err != nil {
		o.log.Warn().Err(err).Msg("updating a swap offer")
	}
}

// Tick does what is due at now: it expires offers whose shift started,
// announces handoffs, and reminds people of shifts about to start. Call it
// every second; each job remembers in the store how far it got.
func (o *OnCall) Tick(ctx context.Context, now time.Time) {
	o.mu.RLock()
	open := o.history.OpenOffers()
	o.mu.RUnlock()
	for _, c := range open {
		if now.Before(c.Offer.Start) {
			continue
		}
		exp := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeExpire, Author: bot.User{ID: "klaxon"}, At: now, OfferID: c.ID}
		if err := o.commit(ctx, exp); err != nil {
			o.log.Error().Err(err).Msg("expiring a swap offer")
			continue
		}
		o.settle(ctx, c.Offer, fmt.Sprintf("⌛ Nobody took %s's *%s* shift before it started; it stays theirs.",
			mention(c.Offer.Platform, o.cfg.People, c.Offer.Person), c.Offer.Schedule))
	}
	for _, s := range o.cfg.Schedules {
		n, ok := o.cfg.Handoffs[s.ID]
		if !ok {
			continue
		}
		chat, ok := o.chat(n.Platform)
		if !ok {
			continue
		}
		if n.Channel != "" {
			o.job(ctx, "handoff:"+s.ID, now, func(from time.Time) error { return o.announce(ctx, chat, n, s, from, now) })
		}
		if n.Remind > 0 {
			o.job(ctx, "remind:"+s.ID, now, func(from time.Time) error { return o.remind(ctx, chat, n, s, from, now) })
		}
	}
}

// job runs fn over (cursor, now] and moves the cursor on success. A job
// that has never run starts now: klaxon does not announce the past.
func (o *OnCall) job(ctx context.Context, key string, now time.Time, fn func(from time.Time) error) {
	from, ok, err := o.store.Cursor(ctx, key)
	if err != nil {
		o.log.Error().Err(err).Str("job", key).Msg("reading a job cursor")
		return
	}
	if ok {
		if err := fn(from); err != nil {
			o.log.Warn().Err(err).Str("job", key).Msg("on-call notice failed; will retry")
			return
		}
	}
	if err := o.store.SetCursor(ctx, key, now); err != nil {
		o.log.Error().Err(err).Str("job", key).Msg("saving a job cursor")
	}
}

// announce posts each handoff in (from, now].
func (o *OnCall) announce(ctx context.Context, chat bot.Chat, n HandoffNotice, s *bot.Schedule, from, now time.Time) error {
	o.mu.RLock()
	shifts := s.Shifts(from.Add(-24*time.Hour), now.Add(time.Second), o.overrides[s.ID])
	o.mu.RUnlock()
	for i, sh := range shifts {
		if !sh.Start.After(from) || sh.Start.After(now) {
			continue
		}
		prev := "nobody"
		if i > 0 && shifts[i-1].End.Equal(sh.Start) {
			if shifts[i-1].Person == sh.Person {
				continue
			}
			prev = mention(n.Platform, o.cfg.People, shifts[i-1].Person)
		}
		end := sh.End
		if whole, ok := o.wholeShift(s, sh.Start); ok {
			end = whole.End
		}
		text := fmt.Sprintf("📟 *%s* %s: %s hands over to %s until %s.", s.ID, s.Role, prev, mention(n.Platform, o.cfg.People, sh.Person),
			end.In(s.Location).Format(stamp+" MST"))
		if _, err := chat.Post(ctx, n.Channel, bot.Message{Text: text}); err != nil {
			return err
		}
	}
	return nil
}

// wholeShift is the shift containing t, not cut at a query's edges.
func (o *OnCall) wholeShift(s *bot.Schedule, t time.Time) (bot.Shift, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return shiftAt(s, o.overrides[s.ID], t)
}

// remind DMs each person whose shift starts within the reminder lead.
func (o *OnCall) remind(ctx context.Context, chat bot.Chat, n HandoffNotice, s *bot.Schedule, from, now time.Time) error {
	o.mu.RLock()
	shifts := s.Shifts(from.Add(n.Remind), now.Add(n.Remind).Add(time.Second), o.overrides[s.ID])
	o.mu.RUnlock()
	for _, sh := range shifts {
		start := sh.Start
		if !start.After(from.Add(n.Remind)) || start.After(now.Add(n.Remind)) {
			continue
		}
		var person bot.Person
		for _, p := range o.cfg.People {
			if p.ID == sh.Person {
				person = p
			}
		}
		uid := person.UserID(n.Platform)
		if uid == "" {
			continue
		}
		loc := time.UTC
		if l, err := time.LoadLocation(person.TimeZone); err == nil && person.TimeZone != "" {
			loc = l
		}
		end := sh.End
		if whole, ok := o.wholeShift(s, start); ok {
			end = whole.End
		}
		text := fmt.Sprintf("📟 Heads-up: you are on call for *%s* (%s) from %s until %s (%s).", s.ID, s.Role,
			start.In(loc).Format(stamp), end.In(loc).Format(stamp), loc)
		if _, err := chat.DM(ctx, uid, bot.Message{Text: text}); err != nil {
			return err
		}
	}
	return nil
}
