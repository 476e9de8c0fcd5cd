package oncall

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
)

const stamp = "Mon 2 Jan 15:04"

// swaps offer shifts and let teammates take them, with the rules /oncall
// override has.
type swaps struct{ oc *OnCall }

// handoffs announce handoffs in a schedule's channel and remind whoever
// comes on call.
type handoffs struct{ oc *OnCall }

// swapChoices is how many upcoming shifts /oncall swap offers to choose
// from on platforms with buttons.
const swapChoices = 5

func (o *swaps) handleSwap(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	asker, loc := o.oc.asker(req.Platform, req.User)
	if asker.ID == "" {
		return nil, bot.Errorf(bot.EINVALID, "You are not in klaxon's list of people, so you have no shifts to offer.")
	}
	// [schedule] [date]: a date picks the shift on call that day instead
	// of the next one.
	args := req.Args
	var day time.Time
	if n := len(args); n > 0 {
		if d, err := bot.ParseDate(args[n-1]); err == nil {
			day, args = d.At(0, loc), args[:n-1]
		}
	}
	if len(args) > 1 {
		return nil, bot.Errorf(bot.EINVALID, "Name at most one schedule, and a date like 2026-12-01 for a later shift.")
	}
	name := ""
	if len(args) == 1 {
		name = args[0]
	}
	s, err := o.oc.pickSchedule(name, asker.ID)
	if err != nil {
		return nil, err
	}
	if !o.oc.connected(req.Platform) {
		return nil, bot.Errorf(bot.EUNSUPPORTED, "klaxon cannot post offers on %s.", req.Platform)
	}
	shifts := o.upcoming(s, asker.ID, day)
	if len(shifts) == 0 {
		if !day.IsZero() {
			return nil, bot.Errorf(bot.ENOTFOUND, "You have no shift on %s starting later on %s.", s.Title(), day.Format("Mon 2 Jan"))
		}
		return nil, bot.Errorf(bot.ENOTFOUND, "You have no upcoming shift on %s in the next 60 days.", s.Title())
	}
	// With buttons and no date, the asker picks among the next shifts.
	if day.IsZero() && req.Platform != bot.PlatformConsole && len(shifts) > 1 {
		m := bot.Message{Text: fmt.Sprintf("Which %s shift do you offer? (%s)", s.Title(), loc)}
		for i, sh := range shifts[:min(swapChoices, len(shifts))] {
			m.Text += fmt.Sprintf("\n%d. %s", i+1, describeStretches(sh, loc))
			m.Buttons = append(m.Buttons, bot.Button{ActionID: bot.ActionOfferShift, Label: fmt.Sprintf("%d. %s", i+1, sh[0].Start.In(loc).Format("Mon 2 Jan 15:04")),
				Value: s.ID + "|" + sh[0].Start.UTC().Format(time.RFC3339)})
		}
		return &bot.Response{Message: m}, nil
	}
	return o.offer(ctx, req.Platform, req.User, req.Channel.ID, s, asker.ID, shifts[0], loc)
}

// upcoming lists person's shifts on s that start after now (from day on,
// when given), each as its stretches: a shift a restricted layer cuts
// into pieces is one.
func (o *swaps) upcoming(s *bot.Schedule, person string, day time.Time) [][]bot.Stretch {
	now := o.oc.clock.Now()
	o.oc.mu.RLock()
	defer o.oc.mu.RUnlock()
	ovs := o.oc.overrides[s.ID]
	var out [][]bot.Stretch
	var last time.Time
	for _, sh := range s.Shifts(now, now.Add(60*24*time.Hour), ovs) {
		if sh.Person != person || !sh.Start.After(now) || sh.Start.Before(last) {
			continue
		}
		// With a date: the shift on call that day (its first one).
		if !day.IsZero() && !sh.End.After(day) {
			continue
		}
		if !day.IsZero() && !sh.Start.Before(day.AddDate(0, 0, 1)) {
			break
		}
		whole := []bot.Stretch{{Start: sh.Start, End: sh.End}}
		if pieces := s.WholeShift(person, sh.Start, ovs); len(pieces) > 1 {
			whole = whole[:0]
			for _, p := range pieces {
				whole = append(whole, bot.Stretch{Start: p.Start, End: p.End})
			}
		}
		last = whole[len(whole)-1].End
		out = append(out, whole)
		if !day.IsZero() || len(out) == swapChoices {
			break
		}
	}
	return out
}

// offer offers person's shift (its stretches) on s, posting the offer in
// channel on platform.
func (o *swaps) offer(ctx context.Context, platform bot.Platform, user bot.User, channel string, s *bot.Schedule, person string, shift []bot.Stretch, loc *time.Location) (*bot.Response, error) {
	now := o.oc.clock.Now()
	offer := &bot.SwapOffer{Schedule: s.ID, Person: person, Start: shift[0].Start, End: shift[len(shift)-1].End, Platform: platform}
	if len(shift) > 1 {
		offer.Pieces = shift
	}
	o.oc.mu.RLock()
	open := o.oc.history.OpenOffers()
	o.oc.mu.RUnlock()
	for _, c := range open {
		if c.Offer.Schedule == s.ID && c.Offer.Person == person && c.Offer.Start.Before(offer.End) && offer.Start.Before(c.Offer.End) {
			return nil, bot.Errorf(bot.ECONFLICT, "You already offered your %s shift starting %s. Withdraw it with `/oncall undo`.", s.Title(), c.Offer.Start.In(loc).Format(stamp))
		}
	}
	c := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeOffer, Author: user, At: now, Offer: offer}
	// From the web console there is no channel: the offer goes to the
	// schedule's handoff channel, if it has one there.
	if n, ok := o.oc.cfg.Handoffs[s.ID]; channel == "" && ok && n.Platform == platform && o.oc.connected(platform) {
		channel = n.Channel
	}
	if channel == "" {
		offer.Unposted = true
		if err := o.oc.commit(ctx, c); err != nil {
			return nil, err
		}
		return bot.Reply("Offered: your %s shift, %s (%s). Teammates on the rotation can take it on the schedule's page in the web console (the schedule has no handoff channel to post it in). You stay on call for it unless someone takes it.",
			s.Title(), describeStretches(offer.Stretches(), loc), loc), nil
	}
	text := fmt.Sprintf("🔁 %s offers their %s shift, %s (%s). It can be taken until it starts.", user.Mention(), s.Title(),
		describeStretches(offer.Stretches(), loc), loc)
	// The offer and its message commit together; the outbox posts it and
	// records where, for the update that settles it.
	post := bot.ChatJob(platform, offerName(c.ID), bot.OpPost, now)
	post.Channel, post.Name = channel, offerName(c.ID)
	post.Message = bot.Message{Text: text,
		Buttons: []bot.Button{{ActionID: bot.ActionTakeShift, Label: "Take this shift", Value: c.ID.String(), Style: bot.ButtonPrimary}}}
	if err := o.oc.commit(ctx, c, post); err != nil {
		return nil, err
	}
	return bot.Reply("Offered. You stay on call for it unless someone takes it."), nil
}

// actOffer offers the shift a button of /oncall swap's choices names.
func (o *swaps) actOffer(ctx context.Context, a bot.Action) (*bot.Response, error) {
	id, at, _ := strings.Cut(a.Value, "|")
	start, err := time.Parse(time.RFC3339, at)
	var s *bot.Schedule
	for _, sc := range o.oc.cfg.Schedules {
		if sc.ID == id {
			s = sc
		}
	}
	if err != nil || s == nil {
		return nil, bot.Errorf(bot.EINVALID, "That button does not name a shift.")
	}
	asker, loc := o.oc.asker(a.Platform, a.User)
	for _, sh := range o.upcoming(s, asker.ID, time.Time{}) {
		if sh[0].Start.Equal(start) {
			return o.offer(ctx, a.Platform, a.User, a.Channel.ID, s, asker.ID, sh, loc)
		}
	}
	return nil, bot.Errorf(bot.ECONFLICT, "That shift is no longer yours to offer, or it has started.")
}

func (o *swaps) actTake(ctx context.Context, a bot.Action) (*bot.Response, error) {
	id, err := uuid.Parse(a.Value)
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "That button does not name an offer.")
	}
	taker, loc := o.oc.asker(a.Platform, a.User)
	o.oc.mu.RLock()
	offerChange, state, found := o.oc.history.Offer(id)
	o.oc.mu.RUnlock()
	if !found {
		return nil, bot.Errorf(bot.ENOTFOUND, "That offer does not exist.")
	}
	offer := offerChange.Offer
	now := o.oc.clock.Now()
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
		return nil, bot.Errorf(bot.EFORBIDDEN, "Only people on the %s rotation can take its shifts.", o.oc.scheduleTitle(offer.Schedule))
	}
	c := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeTake, Author: a.User, At: now, OfferID: id}
	for i, p := range offer.Stretches() {
		ov := bot.Override{ID: bot.NewID(), Schedule: offer.Schedule, Person: taker.ID, Start: p.Start, End: p.End}
		if i == 0 {
			c.Override = &ov
		} else {
			c.More = append(c.More, ov)
		}
	}
	text := fmt.Sprintf("✅ %s took %s's %s shift, %s (%s).", a.User.Mention(), o.oc.cfg.People.Mention(offer.Platform, offer.Person),
		o.oc.scheduleTitle(offer.Schedule), describeStretches(offer.Stretches(), loc), loc)
	if err := o.oc.commit(ctx, c, o.settle(offerChange, text, now)...); err != nil {
		return nil, err
	}
	if offer.Unposted { // made in the web console: no message shows it
		return bot.Reply("%s", strings.TrimPrefix(text, "✅ ")), nil
	}
	return nil, nil
}

func (o *swaps) participates(schedule, person string) bool {
	for _, s := range o.oc.cfg.Schedules {
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

// describeStretches shows a shift: "Mon 7 Dec 09:00 – Mon 14 Dec 09:00",
// or for one in pieces its span and how many, with the first and last.
func describeStretches(ps []bot.Stretch, loc *time.Location) string {
	first, last := ps[0], ps[len(ps)-1]
	span := first.Start.In(loc).Format(stamp) + " – " + last.End.In(loc).Format(stamp)
	if len(ps) == 1 {
		return span
	}
	return fmt.Sprintf("%s in %d stretches (the hours another layer covers stay theirs)", span, len(ps))
}

// offerName names an offer's message and the queue of its chat jobs.
func offerName(id uuid.UUID) string { return "offer:" + id.String() }

// settle is the job that replaces an offer's message (and its button)
// with text, after the job that posted it; none for an offer made
// without a message.
func (o *swaps) settle(offer bot.OnCallChange, text string, now time.Time) []bot.Job {
	if offer.Offer.Unposted {
		return nil
	}
	j := bot.ChatJob(offer.Offer.Platform, offerName(offer.ID), bot.OpUpdate, now)
	j.Ref, j.Message = offer.Offer.Message, bot.Message{Text: text} // offers made before the outbox name their message
	if j.Ref.IsZero() {
		j.Name = offerName(offer.ID)
	}
	return []bot.Job{j}
}

// Tick does what is due at now: it expires offers whose shift started,
// announces handoffs, reminds people of shifts about to start, and keeps
// the on-call groups in step. Call it every second; each job remembers in
// the store how far it got.
func (o *OnCall) Tick(ctx context.Context, now time.Time) {
	o.mu.RLock()
	open := o.history.OpenOffers()
	o.mu.RUnlock()
	for _, c := range open {
		if now.Before(c.Offer.Start) {
			continue
		}
		exp := &bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeExpire, Author: bot.User{ID: "klaxon"}, At: now, OfferID: c.ID}
		settle := o.swaps.settle(c, fmt.Sprintf("⌛ Nobody took %s's %s shift before it started; it stays theirs.",
			o.cfg.People.Mention(c.Offer.Platform, c.Offer.Person), o.scheduleTitle(c.Offer.Schedule)), now)
		if err := o.commit(ctx, exp, settle...); err != nil {
			o.log.Error().Err(err).Msg("expiring a swap offer")
		}
	}
	o.groups.keepGroups(ctx, now)
	for _, s := range o.cfg.Schedules {
		n, ok := o.cfg.Handoffs[s.ID]
		if !ok {
			continue
		}
		if !o.connected(n.Platform) {
			continue
		}
		if n.Channel != "" {
			o.handoffs.job(ctx, "handoff:"+s.ID, now, func(from time.Time) []bot.Job { return o.handoffs.announce(n, s, from, now) })
		}
		if n.Remind > 0 {
			o.handoffs.job(ctx, "remind:"+s.ID, now, func(from time.Time) []bot.Job { return o.handoffs.remind(n, s, from, now) })
		}
	}
}

// job queues what fn finds to say over (cursor, now] and moves the cursor,
// in one transaction: a crash neither repeats nor loses a notice. A job
// that has never run starts now: klaxon does not announce the past.
func (o *handoffs) job(ctx context.Context, key string, now time.Time, fn func(from time.Time) []bot.Job) {
	from, ok, err := o.oc.store.Cursor(ctx, key)
	if err != nil {
		o.oc.log.Error().Err(err).Str("job", key).Msg("reading a job cursor")
		return
	}
	var jobs []bot.Job
	if ok {
		jobs = fn(from)
	}
	err = o.oc.store.Update(ctx, func(tx bot.Tx) error {
		if err := tx.Enqueue(jobs...); err != nil {
			return err
		}
		return tx.SetCursor(key, now)
	})
	if err != nil {
		o.oc.log.Error().Err(err).Str("job", key).Msg("queueing on-call notices")
		return
	}
	o.oc.poke(jobs)
}

// announce is a post for each handoff in (from, now].
func (o *handoffs) announce(n HandoffNotice, s *bot.Schedule, from, now time.Time) []bot.Job {
	var jobs []bot.Job
	o.oc.mu.RLock()
	shifts := s.Shifts(from.Add(-24*time.Hour), now.Add(time.Second), o.oc.overrides[s.ID])
	o.oc.mu.RUnlock()
	for i, sh := range shifts {
		if !sh.Start.After(from) || sh.Start.After(now) {
			continue
		}
		prev := "nobody"
		if i > 0 && shifts[i-1].End.Equal(sh.Start) {
			if shifts[i-1].Person == sh.Person {
				continue
			}
			prev = o.oc.cfg.People.Mention(n.Platform, shifts[i-1].Person)
		}
		end := sh.End
		if whole, ok := o.wholeShift(s, sh.Start); ok {
			end = whole.End
		}
		text := fmt.Sprintf("📟 %s %s: %s hands over to %s until %s.", s.Title(), s.Role, prev, o.oc.cfg.People.Mention(n.Platform, sh.Person),
			end.In(s.Location).Format(stamp+" MST"))
		j := bot.ChatJob(n.Platform, "channel:"+n.Channel, bot.OpPost, now)
		j.Channel, j.Message, j.ReportTo = n.Channel, bot.Message{Text: text}, n.ReportTo
		jobs = append(jobs, j)
	}
	return jobs
}

// wholeShift is the shift containing t, not cut at a query's edges.
func (o *handoffs) wholeShift(s *bot.Schedule, t time.Time) (bot.Shift, bool) {
	o.oc.mu.RLock()
	defer o.oc.mu.RUnlock()
	return shiftAt(s, o.oc.overrides[s.ID], t)
}

// remind is a DM for each person whose shift starts within the reminder
// lead.
func (o *handoffs) remind(n HandoffNotice, s *bot.Schedule, from, now time.Time) []bot.Job {
	var jobs []bot.Job
	o.oc.mu.RLock()
	shifts := s.Shifts(from.Add(n.Remind), now.Add(n.Remind).Add(time.Second), o.oc.overrides[s.ID])
	o.oc.mu.RUnlock()
	for _, sh := range shifts {
		start := sh.Start
		if !start.After(from.Add(n.Remind)) || start.After(now.Add(n.Remind)) {
			continue
		}
		var person bot.Person
		for _, p := range o.oc.cfg.People {
			if p.ID == sh.Person {
				person = p
			}
		}
		uid := person.UserID(n.Platform)
		if uid == "" {
			continue
		}
		loc := person.Location()
		end := sh.End
		if whole, ok := o.wholeShift(s, start); ok {
			end = whole.End
		}
		text := fmt.Sprintf("📟 Heads-up: you are on call for %s (%s) from %s until %s (%s).", s.Title(), s.Role,
			start.In(loc).Format(stamp), end.In(loc).Format(stamp), loc)
		j := bot.ChatJob(n.Platform, "dm:"+uid, bot.OpDM, now)
		j.Users, j.Message, j.ReportTo = []string{uid}, bot.Message{Text: text}, n.ReportTo
		jobs = append(jobs, j)
	}
	return jobs
}
