package commands

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// ActionAckPage is the Acknowledge button on a page notice or page DM.
const ActionAckPage = "klaxon.page.ack"

// PagingConfig is the paging setup from the configuration.
type PagingConfig struct {
	Policies       map[string]bot.Policy // by id
	ServicePolicy  map[string]string     // service id → policy id
	Pagers         map[string]bot.Sender // pager id → sender
	PagerPeople    map[string][]string   // pager id → only these people (none: everyone)
	AcksSupported  map[string]bool       // pager id → it understands acknowledge and resolve
	AckEmoji       []string
	ServiceHours   map[string]bot.Hours // service id → when its low-priority pages may go out
	DefaultDelay   time.Duration        // between steps of a derived policy, high priority (5m)
	LowPriorityAck time.Duration        // between steps of a derived policy, low priority (8h)
	// Poke, when set, is called when work is due now (a page was
	// triggered, acknowledged or resolved), so the caller can Tick at once
	// instead of at its next interval. It must not block.
	Poke func()
}

// Paging pages people for incidents and escalates until someone
// acknowledges. Its timers and deliveries are rows in the store, so a
// restart loses nothing.
type Paging struct {
	store     bot.PageStore
	incidents *Incidents
	oncall    *OnCall
	clock     bot.Clock
	log       zerolog.Logger
	cfg       PagingConfig
	rng       *rand.Rand
	rngMu     sync.Mutex
	backlog   backlog // pagers that may have deliveries held back by an outage
}

// NewPaging wires paging to the incidents and on-call use cases.
func NewPaging(store bot.PageStore, incidents *Incidents, oncall *OnCall, clock bot.Clock, log zerolog.Logger, cfg PagingConfig) *Paging {
	if cfg.DefaultDelay == 0 {
		cfg.DefaultDelay = 5 * time.Minute
	}
	if cfg.LowPriorityAck == 0 {
		cfg.LowPriorityAck = 8 * time.Hour
	}
	p := &Paging{store: store, incidents: incidents, oncall: oncall, clock: clock, log: log, cfg: cfg, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))}
	incidents.paging = p
	return p
}

// Register adds /incident page and the Acknowledge button.
func (p *Paging) Register(m *bot.Mux) {
	m.Register(bot.Command{Name: "incident page", Params: []bot.Param{bot.IncidentParam,
		{Name: "who", Desc: "@person or a service", Required: true, Usage: "@person|<service>"}}, Summary: "Page more people: a person, or a service's on-call.", Handler: p.handlePage})
	m.HandleAction(ActionAckPage, p.actAck)
}

// policyFor is the policy for an incident's service, copied; a service
// without one gets primary → secondary → team from its schedules.
func (p *Paging) policyFor(service string, sev bot.Severity) (bot.Policy, bool) {
	if id, ok := p.cfg.ServicePolicy[service]; ok {
		if pol, ok := p.cfg.Policies[id]; ok {
			pol.Steps = slices.Clone(pol.Steps)
			return pol, true
		}
	}
	if p.oncall == nil {
		return bot.Policy{}, false
	}
	delay := p.cfg.DefaultDelay
	if sev.Priority == bot.PriorityLow {
		delay = p.cfg.LowPriorityAck
	}
	var primary, secondary, team []bot.Target
	for _, s := range p.oncall.cfg.Schedules {
		if service == "" || s.Service != service {
			continue
		}
		if s.Role == "secondary" {
			secondary = append(secondary, bot.Target{Kind: bot.TargetSchedule, ID: s.ID})
		} else {
			primary = append(primary, bot.Target{Kind: bot.TargetSchedule, ID: s.ID})
			team = append(team, bot.Target{Kind: bot.TargetTeam, ID: s.ID})
		}
	}
	pol := bot.Policy{ID: "default:" + service}
	for _, ts := range [][]bot.Target{primary, secondary, team} {
		if len(ts) > 0 {
			pol.Steps = append(pol.Steps, bot.Step{Targets: ts, Delay: delay})
		}
	}
	return pol, len(pol.Steps) > 0
}

// newPage is the page that pages pol for inc, its first step due now
// (within business hours for low-priority incidents).
func (p *Paging) newPage(inc *bot.Incident, pol bot.Policy) *bot.Page {
	now := p.clock.Now()
	page := &bot.Page{ID: bot.NewID(), IncidentID: inc.ID, Incident: inc.Key(), Title: inc.Title, Severity: inc.Severity,
		Policy: pol, Status: bot.PageTriggered, NextAt: now, Created: now}
	if hours, ok := p.cfg.ServiceHours[inc.Service]; ok && inc.Severity.Priority == bot.PriorityLow {
		page.Hours = &hours
		page.NextAt = hours.Next(now)
	}
	return page
}

// Trigger starts paging for inc with policy; the first step fires at once.
func (p *Paging) Trigger(ctx context.Context, inc *bot.Incident, pol bot.Policy) (*bot.Page, error) {
	page := p.newPage(inc, pol)
	if err := p.store.CreatePage(ctx, page); err != nil {
		return nil, bot.Internal(err, "klaxon could not start paging. Page people with /incident page.")
	}
	p.log.Info().Str("incident", inc.Key()).Str("policy", pol.ID).Msg("paging")
	p.poke()
	return page, nil
}

// plan returns the page a newly declared incident starts, to commit with
// the declaration, and what to tell the declarer; nil when its service
// has nobody to page.
func (p *Paging) plan(inc *bot.Incident) (*bot.Page, string) {
	if p == nil {
		return nil, ""
	}
	pol, ok := p.policyFor(inc.Service, inc.Severity)
	if !ok {
		return nil, ""
	}
	page := p.newPage(inc, pol)
	if page.NextAt.After(p.clock.Now()) {
		return page, "\n📟 " + inc.Severity.Name + " is low priority: the on-call for " + inc.Service + " will be paged at " + Stamp(page.NextAt) + ", within business hours."
	}
	return page, "\n📟 Paging the on-call for " + inc.Service + "."
}

// resolve people for targets at now.
func (p *Paging) resolve(targets []bot.Target, now time.Time) []string {
	var out []string
	add := func(id string) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	for _, t := range targets {
		switch t.Kind {
		case bot.TargetPerson:
			add(t.ID)
		case bot.TargetSchedule, bot.TargetTeam:
			if p.oncall == nil {
				continue
			}
			for _, s := range p.oncall.cfg.Schedules {
				if s.ID != t.ID {
					continue
				}
				if t.Kind == bot.TargetTeam {
					for _, l := range s.Layers {
						for _, who := range l.Rotation.Participants {
							add(who)
						}
					}
					continue
				}
				p.oncall.mu.RLock()
				who, ok := s.OnCall(now, p.oncall.overrides[s.ID])
				p.oncall.mu.RUnlock()
				if ok {
					add(who.Person)
				}
			}
		}
	}
	return out
}

// onPolicy reports whether person is a target of any step of pol.
func (p *Paging) onPolicy(pol bot.Policy, person string) bool {
	for _, st := range pol.Steps {
		for _, t := range st.Targets {
			switch t.Kind {
			case bot.TargetPerson:
				if t.ID == person {
					return true
				}
			case bot.TargetSchedule, bot.TargetTeam:
				if p.oncall != nil && p.oncall.participates(t.ID, person) {
					return true
				}
			}
		}
	}
	return false
}

// Tick fires due escalation steps and sends due deliveries.
func (p *Paging) Tick(ctx context.Context, now time.Time) {
	ids, err := p.store.DuePages(ctx, now)
	if err != nil {
		p.log.Error().Err(err).Msg("reading due pages")
	}
	// Steps fire in parallel: their writes share commits (and fsyncs).
	parallel(ids, 16, func(id uuid.UUID) { p.fire(ctx, id, now) })
	p.deliver(ctx, now)
}

// fire runs the page's due step in one write transaction that re-checks
// the page: an acknowledgement that raced the timer wins.
func (p *Paging) fire(ctx context.Context, id uuid.UUID, now time.Time) {
	// The "paged" timeline event commits with the step, so a crash cannot
	// page anyone without the timeline saying so. Mentions need the
	// incident's platform, read before the write.
	platform := bot.PlatformConsole
	if pg, err := p.store.Page(ctx, id); err == nil {
		if inc, err := p.incidents.store.Incident(ctx, pg.IncidentID); err == nil {
			platform = inc.Platform
		}
	}
	var paged, who []string
	var step, loop, steps int
	var fired, exhausted bool
	page, err := p.store.UpdatePage(ctx, id, func(pg *bot.Page) ([]bot.Delivery, []bot.Event, error) {
		paged, who, fired, exhausted = nil, nil, false, false
		if !pg.Active() || pg.NextAt.IsZero() || pg.NextAt.After(now) {
			return nil, nil, nil
		}
		fired = true
		step, loop, steps = pg.Step, pg.Loop, len(pg.Policy.Steps)
		var ds []bot.Delivery
		for _, person := range p.resolve(pg.Policy.Steps[pg.Step].Targets, now) {
			pg.Paged = append(pg.Paged, bot.Paged{Person: person, Step: pg.Step, Loop: pg.Loop, At: now})
			paged = append(paged, person)
			for _, pager := range p.pagersFor(person) {
				key := fmt.Sprintf("%s:%d:%d:%s:%s", pg.ID, pg.Step, pg.Loop, person, pager)
				ds = append(ds, bot.Delivery{Key: key, DedupKey: key, PageID: pg.ID, IncidentID: pg.IncidentID, Pager: pager, Person: person,
					Kind: bot.DeliverTrigger, Summary: fmt.Sprintf("%s %s: %s", pg.Incident, pg.Severity.Name, pg.Title), Severity: pg.Severity,
					Status: bot.DeliveryPending, NextAttempt: now, Created: now})
			}
		}
		exhausted = !pg.Advance(now)
		if len(paged) == 0 {
			return ds, nil, nil
		}
		for _, person := range paged {
			who = append(who, mention(platform, p.incidents.cfg.People, person))
		}
		ev := bot.NewEvent(bot.EventPage, bot.User{}, now, fmt.Sprintf("paged %s (step %d of %d, round %d)", strings.Join(who, ", "), step+1, steps, loop+1))
		return ds, []bot.Event{ev}, nil
	})
	if err != nil {
		p.log.Error().Err(err).Str("page", id.String()).Msg("firing an escalation step")
		return
	}
	if !fired {
		return // acknowledged or resolved meanwhile
	}
	switch {
	case len(paged) > 0:
		text := fmt.Sprintf("📟 Paging %s for %s (step %d of %d", strings.Join(who, ", "), page.Incident, step+1, steps)
		if loop > 0 {
			text += fmt.Sprintf(", round %d", loop+1)
		}
		text += "). Acknowledge with the button or react ✅."
		p.notice(ctx, page, bot.Message{Text: text, Buttons: []bot.Button{{ActionID: ActionAckPage, Label: "Acknowledge", Value: page.ID.String(), Style: bot.ButtonPrimary}}}, true)
	case step < steps && page.Status == bot.PageTriggered:
		p.notice(ctx, page, bot.Message{Text: fmt.Sprintf("⚠️ Step %d of %s's escalation had nobody on call to page; moving on.", step+1, page.Incident)}, false)
	}
	if exhausted {
		p.notice(ctx, page, bot.Message{Text: fmt.Sprintf("🚨 Nobody acknowledged %s after %d round(s) of paging. Page someone with `/incident page @person`.", page.Incident, page.Policy.Repeat+1)}, false)
	}
	p.incidents.refresh(ctx, page.IncidentID)
}

func (p *Paging) pagersFor(person string) []string {
	var out []string
	for id := range p.cfg.Pagers {
		if only := p.cfg.PagerPeople[id]; len(only) == 0 || slices.Contains(only, person) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (p *Paging) mention(page *bot.Page, person string) string {
	inc, err := p.incidents.store.Incident(context.Background(), page.IncidentID)
	if err != nil {
		return person
	}
	return mention(inc.Platform, p.incidents.cfg.People, person)
}

// notice queues a post in the incident's channel; page notices are linked
// to the page so a reaction on them acknowledges. Paging never waits for
// chat: the outbox posts it.
func (p *Paging) notice(ctx context.Context, page *bot.Page, m bot.Message, link bool) {
	err := p.incidents.store.Update(ctx, func(tx bot.Tx) error {
		inc, err := tx.Incident(page.IncidentID)
		if err != nil {
			return err
		}
		j := p.incidents.job(inc, bot.OpPost)
		j.Message = m
		if link {
			j.PageID = page.ID
		}
		return tx.Enqueue(j)
	})
	if err != nil {
		p.log.Warn().Err(err).Str("incident", page.Incident).Msg("queueing a paging notice")
		return
	}
	p.incidents.committed()
}

// backoff is the wait before retry n (1-based): 2s doubling to 5m, ±20%.
func (p *Paging) backoff(n int) time.Duration {
	d := 2 * time.Second << min(n-1, 8)
	d = min(d, 5*time.Minute)
	p.rngMu.Lock()
	jitter := 0.8 + 0.4*p.rng.Float64()
	p.rngMu.Unlock()
	return time.Duration(float64(d) * jitter)
}

// deliver sends due outbox rows, a few at a time.
func (p *Paging) deliver(ctx context.Context, now time.Time) {
	for {
		due, err := p.store.DueDeliveries(ctx, now, 256)
		if err != nil {
			p.log.Error().Err(err).Msg("reading the outbox")
			return
		}
		if len(due) == 0 {
			return
		}
		// Deliveries for one pager incident (one dedup key) go in order:
		// trigger, acknowledge, resolve. Different ones go in parallel.
		parallel(byDedupKey(due), 16, func(ds []bot.Delivery) {
			for _, d := range ds {
				p.send(ctx, d, now)
			}
		})
		if len(due) < 256 {
			return
		}
	}
}

// byDedupKey groups deliveries by dedup key, each group in lifecycle order.
func byDedupKey(ds []bot.Delivery) [][]bot.Delivery {
	rank := map[bot.DeliveryKind]int{bot.DeliverTrigger: 0, bot.DeliverAck: 1, bot.DeliverResolve: 2}
	groups := groupBy(ds, func(d bot.Delivery) string { return d.DedupKey })
	for _, g := range groups {
		slices.SortStableFunc(g, func(a, b bot.Delivery) int { return rank[a.Kind] - rank[b.Kind] })
	}
	return groups
}

// groupBy splits items by key. Groups come in the order their keys first
// appear, and keep their items' order.
func groupBy[T any, K comparable](items []T, key func(T) K) [][]T {
	index := map[K]int{}
	var groups [][]T
	for _, it := range items {
		i, ok := index[key(it)]
		if !ok {
			i = len(groups)
			index[key(it)] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], it)
	}
	return groups
}

// sendTimeout bounds one delivery attempt.
const sendTimeout = 15 * time.Second

// send makes one attempt at d and records the outcome. A 5xx or a timeout
// is never counted as sent.
func (p *Paging) send(ctx context.Context, d bot.Delivery, now time.Time) {
	sender, ok := p.cfg.Pagers[d.Pager]
	var res bot.SendResult
	if !ok {
		res = bot.SendResult{Permanent: true, Err: fmt.Errorf("pager %q is no longer configured", d.Pager)}
	} else {
		// Shutdown does not cut an attempt short: a request the receiver
		// accepted must be recorded as sent, or it would go out again.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		res = sender.Send(sctx, d)
		cancel()
	}
	// The outcome and its timeline event commit together.
	changed := false
	updated, err := p.store.UpdateDelivery(ctx, d.Key, func(x *bot.Delivery) ([]bot.Event, error) {
		changed = false
		if x.Status == bot.DeliveryCancelled && res.Sent {
			// Cancelled while this attempt was on its way, and it got
			// through: record the truth (its close is queued already).
			x.Attempts++
			x.Status, x.SentAt, x.LastError = bot.DeliverySent, p.clock.Now(), ""
			changed = true
			return []bot.Event{deliveryEvent(x, now)}, nil
		}
		if x.Status != bot.DeliveryPending {
			return nil, nil // cancelled meanwhile
		}
		changed = true
		x.Attempts++
		switch {
		case res.Sent:
			x.Status, x.SentAt, x.LastError = bot.DeliverySent, p.clock.Now(), ""
		case res.Permanent:
			x.Status, x.LastError = bot.DeliveryFailed, res.Err.Error()
		default:
			wait := res.RetryAfter
			if wait == 0 {
				wait = p.backoff(x.Attempts)
			}
			x.NextAttempt = now.Add(wait)
			if res.Err != nil {
				x.LastError = res.Err.Error()
			}
			return nil, nil
		}
		return []bot.Event{deliveryEvent(x, now)}, nil
	})
	if err != nil {
		p.log.Error().Err(err).Str("delivery", d.Key).Msg("recording a delivery")
		return
	}
	if !changed {
		return
	}
	log := p.log.With().Str("delivery", d.Key).Str("pager", d.Pager).Int("attempt", updated.Attempts).Logger()
	switch updated.Status {
	case bot.DeliverySent:
		log.Info().Msg("page delivered")
		// The pager answers: what waits out a backoff for it (after an
		// outage) goes now, not minutes from now.
		if n, err := p.backlog.release(d.Pager, func() (int, error) { return p.store.RetryNow(ctx, d.Pager, p.clock.Now()) }); err != nil {
			log.Error().Err(err).Msg("releasing deliveries held back by an outage")
		} else if n > 0 {
			log.Info().Int("deliveries", n).Msg("pager reachable again; sending what waited")
			p.poke()
		}
		if updated.Attempts > 1 && d.Kind == bot.DeliverTrigger {
			if page, err := p.store.Page(ctx, d.PageID); err == nil {
				p.notice(ctx, page, bot.Message{Text: fmt.Sprintf("📟 %s was paged through %s after all (attempt %d).", p.mention(page, d.Person), d.Pager, updated.Attempts)}, false)
			}
		}
	case bot.DeliveryFailed:
		log.Warn().Str("error", updated.LastError).Msg("page failed for good")
		page, err := p.store.Page(ctx, d.PageID)
		if err == nil {
			p.notice(ctx, page, bot.Message{Text: fmt.Sprintf("⚠️ Could not %s %s through %s: %s", verbFor(d.Kind), p.mention(page, d.Person), d.Pager, updated.LastError)}, false)
		}
	default:
		p.backlog.held(d.Pager)
		log.Warn().Str("error", updated.LastError).Time("retry_at", updated.NextAttempt).Msg("page not delivered yet; will retry")
		if updated.Attempts == 1 && d.Kind == bot.DeliverTrigger {
			// Say so once: the responder is not reached yet, and klaxon keeps trying.
			if page, err := p.store.Page(ctx, d.PageID); err == nil {
				p.notice(ctx, page, bot.Message{Text: fmt.Sprintf("⏳ Could not reach %s through %s yet (%s). klaxon keeps trying and will say when it gets through.",
					p.mention(page, d.Person), d.Pager, updated.LastError)}, false)
			}
		}
	}
	if d.Kind == bot.DeliverTrigger {
		p.incidents.refresh(ctx, d.IncidentID)
	}
}

// closing is the acknowledge or resolve that follows trigger t.
func closing(t bot.Delivery, kind bot.DeliveryKind, now time.Time) bot.Delivery {
	return bot.Delivery{Key: t.Key + ":" + string(kind), DedupKey: t.DedupKey, PageID: t.PageID, IncidentID: t.IncidentID,
		Pager: t.Pager, Person: t.Person, Kind: kind, Summary: t.Summary, Severity: t.Severity, Status: bot.DeliveryPending, NextAttempt: now, Created: now}
}

// afterCancel is how long the close of a cancelled trigger waits: longer
// than an attempt may take (sendTimeout).
const afterCancel = sendTimeout + 5*time.Second

// deliveryEvent is the timeline event for d's outcome: sent, or failed
// for good.
func deliveryEvent(d *bot.Delivery, now time.Time) bot.Event {
	text := fmt.Sprintf("%s for %s delivered through %s (attempt %d)", d.Kind, d.Person, d.Pager, d.Attempts)
	if d.Status == bot.DeliveryFailed {
		text = fmt.Sprintf("%s for %s through %s failed: %s", d.Kind, d.Person, d.Pager, d.LastError)
	}
	return bot.NewEvent(bot.EventDelivery, bot.User{}, now, text)
}

func verbFor(k bot.DeliveryKind) string {
	switch k {
	case bot.DeliverAck:
		return "send the acknowledgement for"
	case bot.DeliverResolve:
		return "send the resolution for"
	}
	return "page"
}

// canAck says whether person may acknowledge the incident's pages.
func (p *Paging) canAck(ctx context.Context, inc *bot.Incident, person string) error {
	pages, err := p.store.PagesForIncident(ctx, inc.ID)
	if err != nil {
		return bot.Internal(err, "klaxon could not read the incident's pages.")
	}
	active := false
	for _, pg := range pages {
		if pg.Status == bot.PageTriggered {
			active = true
			if person != "" && (pg.WasPaged(person) || p.onPolicy(pg.Policy, person)) {
				return nil
			}
		}
	}
	if !active {
		return nil
	}
	return bot.Errorf(bot.EFORBIDDEN, "Thanks for jumping in! Only the people paged for %s (or on its escalation policy) can acknowledge the page. You can still help in the channel.", inc.Key())
}

// acknowledged stops every active page of the incident: pending triggers
// are cancelled and pagers that understand it are told.
func (p *Paging) acknowledged(ctx context.Context, inc *bot.Incident, person string, now time.Time) {
	p.closePages(ctx, inc, now, func(pg *bot.Page) bool { return pg.Acknowledge(person, now) == nil }, bot.DeliverAck)
}

// resolved closes every page of the incident and tells the pagers.
func (p *Paging) resolved(ctx context.Context, inc *bot.Incident, now time.Time) {
	p.closePages(ctx, inc, now, func(pg *bot.Page) bool {
		was := pg.Status
		pg.Close()
		return was != pg.Status
	}, bot.DeliverResolve)
}

// poke asks for a Tick now: something is due.
func (p *Paging) poke() {
	if p == nil {
		return
	}
	if p.cfg.Poke != nil {
		p.cfg.Poke()
	}
}

func (p *Paging) closePages(ctx context.Context, inc *bot.Incident, now time.Time, change func(*bot.Page) bool, kind bot.DeliveryKind) {
	pages, err := p.store.PagesForIncident(ctx, inc.ID)
	if err != nil {
		p.log.Error().Err(err).Msg("reading pages")
		return
	}
	for _, pg := range pages {
		ds, err := p.store.Deliveries(ctx, pg.ID)
		if err != nil {
			p.log.Error().Err(err).Msg("reading deliveries")
			continue
		}
		// Unsent triggers are cancelled; they must not page after the fact.
		for _, d := range ds {
			if d.Kind == bot.DeliverTrigger && d.Status == bot.DeliveryPending {
				p.store.UpdateDelivery(ctx, d.Key, func(x *bot.Delivery) ([]bot.Event, error) {
					if x.Status == bot.DeliveryPending {
						x.Status, x.LastError = bot.DeliveryCancelled, string(kind)+"d before it was sent"
					}
					return nil, nil
				})
			}
		}
		_, err = p.store.UpdatePage(ctx, pg.ID, func(x *bot.Page) ([]bot.Delivery, []bot.Event, error) {
			if !change(x) {
				return nil, nil, nil
			}
			var out []bot.Delivery
			for _, d := range ds {
				if d.Kind != bot.DeliverTrigger || !p.cfg.AcksSupported[d.Pager] {
					continue
				}
				switch d.Status {
				case bot.DeliverySent:
					out = append(out, closing(d, kind, now))
				case bot.DeliveryPending, bot.DeliveryCancelled:
					// It may have got through all the same: in an attempt
					// still on its way, or in one a killed klaxon could not
					// record. Close it on the pager too (an acknowledge or
					// resolve for a key it never saw does no harm), after
					// any attempt in flight has ended.
					c := closing(d, kind, now)
					c.NextAttempt = now.Add(afterCancel)
					out = append(out, c)
				}
			}
			return out, nil, nil
		})
		if err != nil {
			p.log.Error().Err(err).Msg("closing a page")
		}
	}
	p.poke()
}

// pagingLines describes who was paged, when and how it went, for the
// incident's summary.
func (p *Paging) pagingLines(ctx context.Context, inc *bot.Incident) string {
	pages, err := p.store.PagesForIncident(ctx, inc.ID)
	if err != nil || len(pages) == 0 {
		return ""
	}
	var lines []string
	for _, pg := range pages {
		ds, _ := p.store.Deliveries(ctx, pg.ID)
		for _, pd := range pg.Paged {
			var via []string
			for _, d := range ds {
				if d.Kind == bot.DeliverTrigger && d.Person == pd.Person && strings.HasPrefix(d.Key, fmt.Sprintf("%s:%d:%d:", pg.ID, pd.Step, pd.Loop)) {
					mark := "⏳"
					switch d.Status {
					case bot.DeliverySent:
						mark = "✓"
					case bot.DeliveryFailed:
						mark = "✗"
					case bot.DeliveryCancelled:
						mark = "–"
					}
					via = append(via, d.Pager+" "+mark)
				}
			}
			lines = append(lines, fmt.Sprintf("%s %s (%s)", mention(inc.Platform, p.incidents.cfg.People, pd.Person), Stamp(pd.At)[11:16], strings.Join(via, ", ")))
		}
		switch pg.Status {
		case bot.PageAcknowledged:
			lines = append(lines, fmt.Sprintf("acknowledged by %s after %s", mention(inc.Platform, p.incidents.cfg.People, pg.AckBy), bot.Duration(pg.AckAt.Sub(pg.Created))))
		case bot.PageExhausted:
			lines = append(lines, "⚠️ nobody acknowledged")
		}
	}
	return strings.Join(lines, "\n")
}

// personOf maps a platform user to a person id.
func (p *Paging) personOf(platform bot.Platform, u bot.User) string {
	if person, ok := p.incidents.cfg.People.ByUser(platform, u.ID); ok {
		return person.ID
	}
	if platform == bot.PlatformConsole {
		return u.ID
	}
	return ""
}

func (p *Paging) actAck(ctx context.Context, a bot.Action) (*bot.Response, error) {
	id, err := uuid.Parse(a.Value)
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "That button does not name a page.")
	}
	page, err := p.store.Page(ctx, id)
	if err != nil {
		return nil, err
	}
	return p.incidents.acknowledge(ctx, actor{user: a.User, platform: a.Platform, channel: a.Channel}, page.IncidentID)
}

// reacted acknowledges when a paged person reacts to a page notice or DM
// with an acknowledgement emoji.
func (p *Paging) reacted(ctx context.Context, a bot.Activity) {
	if a.Kind != bot.EventReaction || !slices.Contains(p.cfg.AckEmoji, a.Emoji) {
		return
	}
	id, ok, err := p.store.PageByRef(ctx, a.Platform, a.Ref)
	if err != nil || !ok {
		return
	}
	page, err := p.store.Page(ctx, id)
	if err != nil {
		return
	}
	if _, err := p.incidents.acknowledge(ctx, actor{user: a.User, platform: a.Platform, channel: a.Channel}, page.IncidentID); err != nil {
		p.log.Info().Err(err).Str("user", a.User.ID).Msg("an acknowledgement by reaction was refused")
	}
}

func (p *Paging) handlePage(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := p.incidents.target(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(args) != 1 {
		return nil, bot.Errorf(bot.EINVALID, "Name one person or one service to page.")
	}
	if !inc.Status.Active() {
		return nil, bot.Errorf(bot.ECONFLICT, "%s is %s; there is nobody to page for it.", inc.Key(), inc.Status)
	}
	pol := bot.Policy{ID: "ad hoc"}
	if _, isMention := bot.ParseMention(args[0]); isMention {
		person, err := p.oncall.personFor(req.Platform, args[0])
		if err != nil {
			return nil, err
		}
		pol.Steps = []bot.Step{{Targets: []bot.Target{{Kind: bot.TargetPerson, ID: person.ID}}, Delay: p.cfg.DefaultDelay}}
	} else {
		var ok bool
		if pol, ok = p.policyFor(strings.ToLower(args[0]), inc.Severity); !ok {
			return nil, p.oncall.unknownService(args[0])
		}
	}
	if _, err := p.Trigger(ctx, inc, pol); err != nil {
		return nil, err
	}
	return bot.Reply("📟 Paging %s for %s.", args[0], inc.Key()), nil
}

// parallel calls fn for every item, at most workers at a time, and
// returns when all calls have.
func parallel[T any](items []T, workers int, fn func(T)) {
	work := make(chan T)
	var wg sync.WaitGroup
	for range min(workers, len(items)) {
		wg.Go(func() {
			for it := range work {
				fn(it)
			}
		})
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
}
