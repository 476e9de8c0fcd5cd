// Package paging pages people for incidents and escalates step by step
// until someone acknowledges: policies, due timers, deliveries to pagers
// (sent by the outbox) and acknowledgement by button or reaction.
package paging

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/oncall"
	"github.com/klaxon-bot/klaxon/commands/outbox"
)

// ActionAckPage is the Acknowledge button on a page notice or page DM.
const ActionAckPage = "klaxon.page.ack"

// Config is the paging setup from the configuration.
type Config struct {
	Policies       map[string]bot.Policy // by id
	ServicePolicy  map[string]string     // service id → policy id
	TypePolicy     map[string]string     // incident type id → policy id, before the service's
	Pagers         map[string]bot.Sender // pager id → sender
	PagerPeople    map[string][]string   // pager id → only these people (none: everyone)
	AcksSupported  map[string]bool       // pager id → it understands acknowledge and resolve
	AckEmoji       []string
	ServiceHours   map[string]bot.Hours // service id → when its low-priority pages may go out
	DefaultDelay   time.Duration        // between steps of a derived policy, high priority (5m)
	LowPriorityAck time.Duration        // between steps of a derived policy, low priority (8h)
	People         bot.People
	// Notifiers send what klaxon sends itself, by contact method (Twilio
	// for sms and voice, ntfy for push, SMTP for email); a method without
	// one is not used. DefaultRules are the rules of people who set none.
	Notifiers    map[bot.Method]bot.Sender
	DefaultRules []bot.Rule
	// Wake is told when a page's step or delivery is due now (a page was
	// triggered, acknowledged or resolved), so the scheduler ticks and the
	// outbox looks at once instead of at their next interval.
	Wake *bot.Wake
}

// Paging follows incidents' changes, shows in their summaries, watches
// their channels for ✅ and vouches for whom it paged.
var (
	_ bot.Follower   = (*Paging)(nil)
	_ bot.Summarizer = (*Paging)(nil)
	_ bot.Watcher    = (*Paging)(nil)
	_ bot.Voucher    = (*Paging)(nil)
	_ bot.Member     = (*Paging)(nil)
	_ outbox.Sender  = (*Paging)(nil)
)

// Store is what paging reads and writes.
type Store interface {
	bot.Updater
	bot.PageStore
	bot.ProfileStore
	Incident(ctx context.Context, id uuid.UUID) (*bot.Incident, error)
	IncidentByNumber(ctx context.Context, n int64) (*bot.Incident, error)
}

// Incidents is what paging asks of the incident lifecycle.
type Incidents interface {
	// Acknowledge acknowledges incident id as who, under the lifecycle's
	// rules, as /incident ack does.
	Acknowledge(ctx context.Context, who bot.Actor, id uuid.UUID) (*bot.Response, error)
	// Target finds the incident a request is about (named, or the
	// channel's) and the request's other arguments.
	Target(ctx context.Context, req *bot.Request) (*bot.Incident, []string, error)
	// IsAdmin reports whether who is one of klaxon's admins.
	IsAdmin(who bot.Actor) bool
	// Wake is what the lifecycle tells when it commits work; paging
	// tells it too, unless Config names one.
	Wake() *bot.Wake
}

// OnCall is what paging asks of the on-call schedules.
type OnCall interface {
	Schedules() []*bot.Schedule
	// Who is who is on call on s at t.
	Who(s *bot.Schedule, t time.Time) (person string, ok bool)
	Now(t time.Time) []oncall.Entry
	// GroupMentions are the chat groups that follow service's rotations.
	GroupMentions(p bot.Platform, service string) []string
	UnknownService(name string) error
}

// Paging pages people for incidents and escalates until someone
// acknowledges. It follows the incidents' changes: a declaration starts a
// page in its own transaction, an acknowledgement or resolution stops it
// in its. Its timers are rows in the store and its deliveries jobs in the
// outbox, which it sends (Send), so a restart loses nothing.
type Paging struct {
	store     Store
	incidents Incidents
	oncall    OnCall
	clock     bot.Clock
	log       zerolog.Logger
	cfg       Config
}

// New returns paging for the incidents and on-call use cases. Wire
// it with incidents.Follow(p) and outbox.Handle(bot.OpPage, p).
func New(store Store, incidents Incidents, oncall OnCall, clock bot.Clock, log zerolog.Logger, cfg Config) *Paging {
	if cfg.DefaultDelay == 0 {
		cfg.DefaultDelay = 5 * time.Minute
	}
	if cfg.LowPriorityAck == 0 {
		cfg.LowPriorityAck = 8 * time.Hour
	}
	if cfg.Wake == nil {
		cfg.Wake = incidents.Wake() // the outbox that sends the pages listens to it
	}
	return &Paging{store: store, incidents: incidents, oncall: oncall, clock: clock, log: log, cfg: cfg}
}

// Follow implements bot.Follower: a declaration starts paging its service's
// on-call; an acknowledgement (by someone who may) or a resolution stops
// the incident's pages and tells the pagers.
func (p *Paging) Follow(tx bot.Tx, ch bot.Change) error {
	switch ch.Kind {
	case bot.EventDeclared, bot.EventReopened: // a reopened incident pages its on-call again
		pol, whom, ok := p.policyForIncident(ch.Incident)
		if !ok {
			return nil
		}
		page := p.newPage(ch.Incident, pol, ch.At)
		if err := tx.PutPage(page); err != nil {
			return err
		}
		if page.Deferred() {
			ch.Note("📟 " + ch.Incident.Severity.Name + " is low priority: " + whom + " will be paged at " + bot.ChatTime(page.NextAt) + ", within business hours.")
		} else {
			ch.Note("📟 Paging " + whom + ".")
		}
	case bot.EventAcknowledged:
		who := bot.Actor{User: ch.Who, Platform: ch.Platform}
		if err := p.canAck(tx, ch.Incident, who, ch.At); err != nil {
			return err
		}
		person := p.personOf(ch.Platform, ch.Who)
		return p.closePages(tx, ch.Incident, ch.At, func(pg *bot.Page) bool { return pg.Acknowledge(person, ch.At) == nil }, bot.DeliverAck)
	case bot.EventResolved:
		return p.closePages(tx, ch.Incident, ch.At, func(pg *bot.Page) bool {
			was := pg.Status
			pg.Close()
			return was != pg.Status
		}, bot.DeliverResolve)
	}
	return nil
}

// Register adds /incident page and the Acknowledge button.
func (p *Paging) Register(m *bot.Mux) {
	m.Register(bot.Command{Name: "incident page", Params: []bot.Param{bot.IncidentParam,
		{Name: "who", Desc: "@person or a service", Required: true, Usage: "@person|<service>"}}, Summary: "Page more people: a person, or a service's on-call.", Handler: p.handlePage})
	m.HandleAction(ActionAckPage, p.actAck)
}

// policyForIncident is the policy a declaration pages, and whom it pages
// in words: its type's policy, else its service's.
func (p *Paging) policyForIncident(inc *bot.Incident) (bot.Policy, string, bool) {
	if id, ok := p.cfg.TypePolicy[inc.Type]; ok {
		if pol, ok := p.policy(id); ok {
			return pol, "the " + inc.Type + " escalation policy (" + id + ")", true
		}
	}
	pol, ok := p.policyFor(inc.Service, inc.Severity)
	return pol, "the on-call for " + inc.Service, ok
}

// policy is the configured policy id, copied, so a page's changes to its
// steps stay its own.
func (p *Paging) policy(id string) (bot.Policy, bool) {
	pol, ok := p.cfg.Policies[id]
	pol.Steps = slices.Clone(pol.Steps)
	return pol, ok
}

// policyFor is the policy for an incident's service, copied; a service
// without one gets primary → secondary → team from its schedules.
func (p *Paging) policyFor(service string, sev bot.Severity) (bot.Policy, bool) {
	if id, ok := p.cfg.ServicePolicy[service]; ok {
		if pol, ok := p.policy(id); ok {
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
	for _, s := range p.oncall.Schedules() {
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
func (p *Paging) newPage(inc *bot.Incident, pol bot.Policy, now time.Time) *bot.Page {
	page := &bot.Page{ID: bot.NewID(), IncidentID: inc.ID, Incident: inc.Key(), Title: inc.Title, Severity: inc.Severity,
		Policy: pol, Status: bot.PageTriggered, NextAt: now, Created: now}
	if hours, ok := p.cfg.ServiceHours[inc.Service]; ok && inc.Severity.Priority == bot.PriorityLow {
		page.Hours = &hours
		page.NextAt = hours.Next(now)
	}
	return page
}

// Trigger starts paging for inc with policy because a person asked: the
// first step fires at once, whatever the incident's priority (business
// hours hold back only the pages klaxon starts by itself).
func (p *Paging) Trigger(ctx context.Context, inc *bot.Incident, pol bot.Policy) (*bot.Page, error) {
	now := p.clock.Now()
	page := p.newPage(inc, pol, now)
	page.Hours, page.NextAt = nil, now
	if err := p.store.Update(ctx, func(tx bot.Tx) error { return tx.PutPage(page) }); err != nil {
		return nil, bot.Internal(err, "klaxon could not start paging. Page people with /incident page.")
	}
	p.log.Info().Str("incident", inc.Key()).Str("policy", pol.ID).Msg("paging")
	p.cfg.Wake.Timers()
	return page, nil
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
			for _, s := range p.oncall.Schedules() {
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
				if who, ok := p.oncall.Who(s, now); ok {
					add(who)
				}
			}
		}
	}
	return out
}

// Tick fires due escalation steps. The outbox sends what they page.
func (p *Paging) Tick(ctx context.Context, now time.Time) {
	ids, err := p.store.DuePages(ctx, now)
	if err != nil {
		p.log.Error().Err(err).Msg("reading due pages")
	}
	// Steps fire in parallel: their writes share commits (and fsyncs).
	parallel(ids, fireWorkers, func(id uuid.UUID) { p.fire(ctx, id, now) })
}

// fireWorkers bounds the steps firing at once: as many as the outbox
// sends to one pager at once (bot.MaxInFlight), so a burst's steps commit
// in groups as large as the deliveries that follow them. With 16, 1,000
// pages at once took about 100 commits; with 64, 50 to 65, and arrived
// 11-32 % sooner (BenchmarkOutbox1000Pages, four paired rounds, 2026-12-07).
const fireWorkers = bot.MaxInFlight

// fire runs the page's due step in one write transaction that re-checks
// the page (an acknowledgement that raced the timer wins) and commits,
// with the step, its deliveries to the pagers, the timeline's "paged"
// event and the notice in the incident channel.
func (p *Paging) fire(ctx context.Context, id uuid.UUID, now time.Time) {
	fired := false
	err := p.store.Update(ctx, func(tx bot.Tx) error {
		fired = false
		pg, err := tx.Page(id)
		if err != nil {
			return err
		}
		if !pg.Active() || pg.NextAt.IsZero() || pg.NextAt.After(now) {
			return nil // acknowledged or resolved meanwhile
		}
		inc, err := tx.Incident(pg.IncidentID)
		if err != nil {
			return err
		}
		fired = true
		if pg.Spent() {
			// The last step's wait is over and nobody acknowledged.
			pg.Exhaust()
			if err := tx.PutPage(pg); err != nil {
				return err
			}
			notice := p.notice(inc, pg.ID, bot.Message{Text: fmt.Sprintf("🚨 Nobody acknowledged %s after %s of paging. Page someone with `/incident page @person`.", pg.Incident, bot.Count(pg.Policy.Repeat+1, "round"))}, false, now)
			return tx.Enqueue(notice, bot.IncidentJob(inc, bot.OpSummary, now))
		}
		step, loop, steps := pg.Step, pg.Loop, len(pg.Policy.Steps)
		var who, unreachable []string
		var jobs []bot.Job
		made := map[string]bool{} // this step's delivery keys
		for _, person := range p.resolve(pg.Policy.Steps[pg.Step].Targets, now) {
			pg.Paged = append(pg.Paged, bot.Paged{Person: person, Step: pg.Step, Loop: pg.Loop, At: now})
			pagers := p.pagersFor(person)
			steps, err := p.ruleSteps(tx, person)
			if err != nil {
				return err
			}
			if len(pagers) == 0 && len(steps) == 0 {
				unreachable = append(unreachable, p.cfg.People.Mention(inc.Platform, person))
			} else {
				who = append(who, p.cfg.People.Mention(inc.Platform, person))
			}
			for _, pager := range pagers {
				key := personKey(pg.ID, pg.Step, pg.Loop, person) + pager
				d := bot.Delivery{Key: key, DedupKey: key, PageID: pg.ID, IncidentID: pg.IncidentID, Pager: pager, Person: person,
					Kind: bot.DeliverTrigger, Summary: pageSummary(pg), Severity: pg.Severity,
					Detail: pageDetail(inc), Status: bot.DeliveryPending, Created: now}
				if err := tx.PutDelivery(&d); err != nil {
					return err
				}
				made[key] = true
				jobs = append(jobs, pageJob(d, now))
			}
			// The person's own rules: each method at its delay, unless
			// they acknowledge first (which cancels what is still due).
			for _, rs := range steps {
				key := personKey(pg.ID, pg.Step, pg.Loop, person) + string(rs.Method)
				if made[key] {
					continue // one rule per method and step
				}
				due := now.Add(rs.After)
				d := bot.Delivery{Key: key, DedupKey: key, PageID: pg.ID, IncidentID: pg.IncidentID, Pager: string(rs.Method), Person: person,
					Kind: bot.DeliverTrigger, Summary: lockScreen(inc, pg), Severity: pg.Severity, Detail: pageDetail(inc),
					Status: bot.DeliveryPending, To: rs.Contact.To, Server: rs.Contact.Server, Private: inc.Private, Created: due}
				if err := tx.PutDelivery(&d); err != nil {
					return err
				}
				made[key] = true
				jobs = append(jobs, pageJob(d, due))
			}
		}
		pg.Advance(now)
		if err := tx.PutPage(pg); err != nil {
			return err
		}
		next := p.nextStep(inc, pg)
		noPager := ""
		if len(unreachable) > 0 {
			noPager = fmt.Sprintf(" ⚠️ No pager reaches %s.", namedFew(unreachable, maxNamedInStep))
		}
		switch {
		case len(who) > 0:
			ev := bot.NewEvent(bot.EventPage, bot.User{}, now, fmt.Sprintf("paged %s (step %d of %d, round %d)", strings.Join(who, ", "), step+1, steps, loop+1))
			if err := tx.AppendEvents(pg.IncidentID, ev); err != nil {
				return err
			}
			text := fmt.Sprintf("📟 Paging %s for %s (step %d of %d", namedFew(who, maxNamedInStep), pg.Incident, step+1, steps)
			if loop > 0 {
				text += fmt.Sprintf(", round %d", loop+1)
			}
			text += "). Acknowledge with the button or react ✅." + noPager + next
			jobs = append(jobs, p.notice(inc, pg.ID, bot.Message{Text: text, Buttons: []bot.Button{{ActionID: ActionAckPage, Label: "Acknowledge", Value: pg.ID.String(), Style: bot.ButtonPrimary}}}, true, now))
		case len(unreachable) > 0:
			// Nobody could be reached: say so, never "Paging".
			ev := bot.NewEvent(bot.EventPage, bot.User{}, now, fmt.Sprintf("could reach nobody for step %d of %d: no pager reaches %s", step+1, steps, strings.Join(unreachable, ", ")))
			if err := tx.AppendEvents(pg.IncidentID, ev); err != nil {
				return err
			}
			jobs = append(jobs, p.notice(inc, pg.ID, bot.Message{Text: fmt.Sprintf("⚠️ Nobody could be reached for step %d of %s's escalation: no pager reaches %s.%s",
				step+1, pg.Incident, namedFew(unreachable, maxNamedInStep), next)}, false, now))
		default:
			jobs = append(jobs, p.notice(inc, pg.ID, bot.Message{Text: fmt.Sprintf("⚠️ Step %d of %s's escalation had nobody on call to page; moving on.", step+1, pg.Incident)}, false, now))
		}
		return tx.Enqueue(append(jobs, bot.IncidentJob(inc, bot.OpSummary, now))...)
	})
	if err != nil {
		p.log.Error().Err(err).Str("page", id.String()).Msg("firing an escalation step")
		return
	}
	if fired {
		p.cfg.Wake.Jobs()
	}
}

// pageDetail is where a page's incident is and who declared it, in text
// every platform shows as written.
func pageDetail(inc *bot.Incident) string {
	var parts []string
	if inc.Service != "" {
		parts = append(parts, "service "+inc.Service)
	}
	if !inc.DeclaredBy.IsZero() {
		name := inc.DeclaredBy.Name
		if name == "" {
			name = inc.DeclaredBy.ID
		}
		parts = append(parts, "declared by "+name)
	}
	if inc.Channel.Name != "" {
		parts = append(parts, "channel #"+inc.Channel.Name)
	}
	return strings.Join(parts, " · ")
}

// nextStep says what the page does next, after a step fired: who the
// next step pages and when, unless someone acknowledges, or that this was
// the last step.
func (p *Paging) nextStep(inc *bot.Incident, pg *bot.Page) string {
	if pg.Spent() {
		return " This was the last step; nobody is paged after it."
	}
	var names []string
	for _, person := range p.resolve(pg.Policy.Steps[pg.Step].Targets, pg.NextAt) {
		names = append(names, p.cfg.People.Mention(inc.Platform, person))
	}
	who := "nobody on call"
	if len(names) > 0 {
		who = namedFew(names, maxNamedInStep)
	}
	return fmt.Sprintf(" Next, unless someone acknowledges: %s at %s.", who, bot.ChatTime(pg.NextAt))
}

// namedFew names up to limit people and counts the rest, so a notice that
// pages a team stays readable, and whole within Discord's 2,000
// characters a message. (The timeline names everyone.)
func namedFew(names []string, limit int) string {
	if len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:limit], ", "), len(names)-limit)
}

// personKey is the start of the keys of what a page's step sends one
// person, one key a pager or method: page:step:round:person: (and then
// the pager).
func personKey(pageID uuid.UUID, step, loop int, person string) string {
	return fmt.Sprintf("%s:%d:%d:%s:", pageID, step, loop, person)
}

// pageJob is the outbox job that sends d: one queue per trigger, so its
// acknowledge and resolve follow it in order.
func pageJob(d bot.Delivery, at time.Time) bot.Job {
	return bot.Job{Queue: d.DedupKey, Op: bot.OpPage, IncidentID: d.IncidentID, Delivery: &d, NextAttempt: at, Created: at}
}

// ruleSteps are the rules klaxon carries out itself for person: their
// own (or the default) whose method has a sender and a usable contact,
// as configured and as they set it in chat.
func (p *Paging) ruleSteps(tx bot.Tx, person string) ([]bot.RuleStep, error) {
	if len(p.cfg.Notifiers) == 0 {
		return nil, nil
	}
	reach, err := p.Reach(tx, person)
	if err != nil {
		return nil, err
	}
	var out []bot.RuleStep
	for _, rs := range reach.Steps() {
		if _, ok := p.cfg.Notifiers[rs.Method]; ok {
			out = append(out, rs)
		}
	}
	return out, nil
}

// Reach is how klaxon reaches person itself, read in tx: the configured
// contacts and rules with what they set in chat, and the default rules
// when they have none.
func (p *Paging) Reach(tx bot.Tx, person string) (bot.Reach, error) {
	var reach bot.Reach
	if who, ok := p.cfg.People.Get(person); ok {
		reach = who.Reach
	}
	prof, err := tx.Profile(person)
	if err != nil {
		return bot.Reach{}, err
	}
	reach = reach.With(prof)
	if len(reach.Rules) == 0 {
		reach.Rules = p.cfg.DefaultRules
	}
	return reach, nil
}

// lockScreen is what a text, a call, a push or a mail says about the
// incident: its title, unless it is private, whose title never shows on
// a lock screen.
func lockScreen(inc *bot.Incident, pg *bot.Page) string {
	if inc.Private {
		return fmt.Sprintf("private incident %s (%s)", pg.Incident, pg.Severity.Name)
	}
	return pageSummary(pg)
}

// pageSummary is what a page says to a pager: "INC-7 SEV1: title".
func pageSummary(pg *bot.Page) string {
	return fmt.Sprintf("%s %s: %s", pg.Incident, pg.Severity.Name, pg.Title)
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

// notice is a post in the incident's channel, as a job; page notices are
// linked to the page so a reaction on them acknowledges. Paging never
// waits for chat: the outbox posts it.
func (p *Paging) notice(inc *bot.Incident, pageID uuid.UUID, m bot.Message, link bool, now time.Time) bot.Job {
	j := bot.IncidentJob(inc, bot.OpPost, now)
	j.Message = m
	if link {
		j.PageID = pageID
	}
	return j
}

// Send implements outbox.Sender for page deliveries: one attempt at the pager.
// A 5xx or a timeout is never counted as sent, and a shutdown does not cut
// an attempt short (one the pager accepted must be recorded as sent, or it
// would go out again). The outcome is recorded with the delivery, with its
// timeline event and notices, in the transaction that finishes the job.
func (p *Paging) Send(ctx context.Context, j bot.Job, again bool) (outbox.Then, error) {
	d := *j.Delivery
	sender, ok := p.cfg.Pagers[d.Pager]
	if !ok && d.To != "" {
		sender, ok = p.cfg.Notifiers[bot.Method(d.Pager)]
	}
	var res bot.SendResult
	if !ok {
		res = bot.SendResult{Permanent: true, Err: fmt.Errorf("pager %q is no longer configured", d.Pager)}
	} else {
		if res = bot.SendOnce(ctx, sender, d, again); res.Earlier {
			p.log.Info().Str("delivery", d.Key).Str("ref", res.Ref).Msg("an earlier attempt got through; not sending again")
		}
	}
	err := outbox.ResultError(res)
	log := p.log.With().Str("delivery", d.Key).Str("pager", d.Pager).Int("attempt", j.Attempts+1).Logger()
	switch {
	case res.Sent:
		log.Info().Msg("page delivered")
	case res.Permanent:
		log.Warn().Err(err).Msg("page failed for good")
	default:
		log.Warn().Err(err).Msg("page not delivered yet; will retry")
	}
	return func(tx bot.Tx, j bot.Job) error { return p.recordDelivery(tx, d, j, res) }, err
}

// recordDelivery records how an attempt at d went, j being its job as
// recorded: in the delivery's row, on the timeline, and in the channel
// when a page did not get through at first, got through after all or
// failed for good.
func (p *Paging) recordDelivery(tx bot.Tx, d bot.Delivery, j bot.Job, res bot.SendResult) error {
	inc, err := tx.Incident(d.IncidentID)
	if err != nil {
		return err
	}
	now := p.clock.Now()
	rec, err := tx.Delivery(d.PageID, d.Key)
	if err != nil {
		return err
	}
	if rec == nil {
		rec = &d
	}
	rec.Attempts, rec.LastError = j.Attempts, j.LastError
	var jobs []bot.Job
	who := p.cfg.People.Mention(inc.Platform, d.Person)
	switch j.Status {
	case bot.JobDone:
		// Even if cancelled while this attempt was on its way: it got
		// through, and its close is queued already.
		rec.Status, rec.SentAt = bot.DeliverySent, now
		if res.Ref != "" {
			rec.Ref = res.Ref
		}
		if res.Progress != "" && rec.Progress == "" {
			rec.Progress, rec.ProgressAt = res.Progress, now
		}
		if j.Attempts > 1 && d.Kind == bot.DeliverTrigger {
			jobs = append(jobs, p.notice(inc, d.PageID, bot.Message{Text: fmt.Sprintf("📟 %s was paged through %s after all (attempt %d).", who, d.Pager, j.Attempts)}, false, now))
		}
		if len(res.Posted) > 0 {
			posted, err := p.linkPosted(tx, inc, d.PageID, res.Posted, now)
			if err != nil {
				return err
			}
			jobs = append(jobs, posted...)
		}
	case bot.JobFailed:
		rec.Status = bot.DeliveryFailed
		text := fmt.Sprintf("⚠️ Could not %s %s through %s: %s", verbFor(d.Kind), who, d.Pager, j.LastError)
		if d.To != "" {
			next, err := nextRule(tx, d)
			if err != nil {
				return err
			}
			text = fmt.Sprintf("⚠️ Could not reach %s by %s: %s%s", who, bot.Method(d.Pager).Label(), j.LastError, next)
		}
		jobs = append(jobs, p.notice(inc, d.PageID, bot.Message{Text: text}, false, now))
	default:
		if j.Attempts == 1 && d.Kind == bot.DeliverTrigger {
			// Say so once: the responder is not reached yet, and klaxon keeps trying.
			jobs = append(jobs, p.notice(inc, d.PageID, bot.Message{Text: fmt.Sprintf("⏳ Could not reach %s through %s yet (%s). klaxon keeps trying and will say when it gets through.",
				who, d.Pager, j.LastError)}, false, now))
		}
	}
	if err := tx.PutDelivery(rec); err != nil {
		return err
	}
	if rec.Status == bot.DeliverySent || rec.Status == bot.DeliveryFailed {
		if err := tx.AppendEvents(d.IncidentID, deliveryEvent(rec, now)); err != nil {
			return err
		}
	}
	if d.Kind == bot.DeliverTrigger {
		jobs = append(jobs, bot.IncidentJob(inc, bot.OpSummary, now))
	}
	return tx.Enqueue(jobs...)
}

// linkPosted records in tx the chat messages a delivery posted (a page by
// direct message), so a reaction on them acknowledges the page, and
// returns the edits that take the button off them when the page has
// ended meanwhile. Only a delivery that posted reads and writes its page.
func (p *Paging) linkPosted(tx bot.Tx, inc *bot.Incident, pageID uuid.UUID, posted []bot.PostedRef, now time.Time) ([]bot.Job, error) {
	var jobs []bot.Job
	for _, m := range posted {
		page, err := bot.LinkPageMessage(tx, m.Platform, m.Ref, pageID)
		if err != nil {
			return nil, err
		}
		if !page.Active() {
			// It got through after the page ended: no live button.
			u := bot.ChatJob(m.Platform, "page:"+page.ID.String(), bot.OpUpdate, now)
			u.Ref, u.Message = m.Ref, bot.Message{Text: p.pageOutcome(inc, page, bot.DeliverAck, now)}
			jobs = append(jobs, u)
		}
	}
	return jobs, nil
}

// nextRule says what klaxon tries next for the person d failed to
// reach: their next rule still due at this step, if any. Only that
// person's deliveries at the step are read (their keys share a prefix).
func nextRule(tx bot.Tx, d bot.Delivery) (string, error) {
	ds, err := tx.Deliveries(d.PageID, strings.TrimSuffix(d.Key, d.Pager)) // personKey
	if err != nil {
		return "", err
	}
	var next *bot.Delivery
	for i := range ds {
		x := &ds[i]
		if x.Key != d.Key && x.To != "" && x.Status == bot.DeliveryPending && (next == nil || x.Created.Before(next.Created)) {
			next = x
		}
	}
	if next == nil {
		return "", nil
	}
	return fmt.Sprintf(" Next for them: %s at %s, unless someone acknowledges.", bot.Method(next.Pager).Label(), bot.ChatClock(next.Created)), nil
}

// closing is the acknowledge or resolve that follows trigger t.
func closing(t bot.Delivery, kind bot.DeliveryKind) bot.Delivery {
	return bot.Delivery{Key: t.Key + ":" + string(kind), DedupKey: t.DedupKey, PageID: t.PageID, IncidentID: t.IncidentID,
		Pager: t.Pager, Person: t.Person, Kind: kind, Summary: t.Summary, Severity: t.Severity, Status: bot.DeliveryPending}
}

// afterCancel is how long the close of a cancelled trigger waits: longer
// than an attempt may take (bot.SendTimeout).
const afterCancel = bot.SendTimeout + 5*time.Second

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

// canAck says whether who may acknowledge the incident's open pages
// (escalating, or run out but still open on the pagers): the people they
// paged, whoever is on call now for the incident's service, its commander
// and the admins. With no page open, anyone may.
func (p *Paging) canAck(tx bot.Tx, inc *bot.Incident, who bot.Actor, now time.Time) error {
	pages, err := tx.Pages(inc.ID)
	if err != nil {
		return err
	}
	person := p.personOf(who.Platform, who.User)
	open := false
	for _, pg := range pages {
		if pg.Status == bot.PageTriggered || pg.Status == bot.PageExhausted {
			open = true
			if person != "" && pg.WasPaged(person) {
				return nil
			}
		}
	}
	if !open || (person != "" && p.onCallFor(inc.Service, person, now)) || p.incidents.IsAdmin(who) {
		return nil
	}
	if cmdr, ok := inc.Commander(); ok && cmdr.ID == who.User.ID {
		return nil
	}
	return bot.Errorf(bot.EFORBIDDEN, "Thanks for jumping in! Only the people paged for %s, whoever is on call for its service, its commander or an admin can acknowledge the page. You can still help in the channel.", inc.Key())
}

// Vouches implements bot.Voucher: the people paged for inc and whoever is on
// call now for its service may acknowledge it.
func (p *Paging) Vouches(tx bot.Tx, inc *bot.Incident, who bot.Actor, now time.Time) bool {
	person := p.personOf(who.Platform, who.User)
	if person == "" {
		return false
	}
	pages, err := tx.Pages(inc.ID)
	if err != nil {
		return false
	}
	return wasPaged(pages, person) || p.onCallFor(inc.Service, person, now)
}

// wasPaged reports whether one of pages paged person.
func wasPaged(pages []*bot.Page, person string) bool {
	return slices.ContainsFunc(pages, func(pg *bot.Page) bool { return pg.WasPaged(person) })
}

// HasMember implements bot.Member: whoever a page of inc paged may see
// it, though it is private.
func (p *Paging) HasMember(ctx context.Context, inc *bot.Incident, who bot.Actor) bool {
	person := p.personOf(who.Platform, who.User)
	if person == "" {
		return false
	}
	pages, err := p.store.PagesForIncident(ctx, inc.ID)
	return err == nil && wasPaged(pages, person)
}

// onCallFor reports whether person is on call now on one of service's
// schedules.
func (p *Paging) onCallFor(service, person string, now time.Time) bool {
	if p.oncall == nil || service == "" {
		return false
	}
	for _, e := range p.oncall.Now(now) {
		if e.Service == service && e.Person == person {
			return true
		}
	}
	return false
}

// closePages stops the incident's pages that change stops, in the
// change's transaction: pending triggers are cancelled, and pagers that
// understand it are told.
func (p *Paging) closePages(tx bot.Tx, inc *bot.Incident, now time.Time, change func(*bot.Page) bool, kind bot.DeliveryKind) error {
	pages, err := tx.Pages(inc.ID)
	if err != nil {
		return err
	}
	for _, pg := range pages {
		if !change(pg) {
			continue
		}
		ds, err := tx.Deliveries(pg.ID, "")
		if err != nil {
			return err
		}
		have := make(map[string]bool, len(ds))
		for _, d := range ds {
			have[d.Key] = true
		}
		var jobs []bot.Job
		for i := range ds {
			d := &ds[i]
			if d.Kind != bot.DeliverTrigger {
				continue
			}
			if d.Status == bot.DeliveryPending {
				// Unsent triggers are cancelled; they must not page after the fact.
				if err := tx.CancelJobs(d.DedupKey); err != nil {
					return err
				}
				d.Status, d.LastError = bot.DeliveryCancelled, string(kind)+"d before it was sent"
				if err := tx.PutDelivery(d); err != nil {
					return err
				}
			}
			if !p.cfg.AcksSupported[d.Pager] || d.Status == bot.DeliveryFailed {
				continue
			}
			c := closing(*d, kind)
			at := now
			if d.Status == bot.DeliveryCancelled {
				// It may have got through all the same: in an attempt still
				// on its way, or in one a killed klaxon could not record.
				// Close it on the pager too (an acknowledge or resolve for a
				// key it never saw does no harm), after any attempt in
				// flight has ended.
				at = now.Add(afterCancel)
			}
			if have[c.Key] {
				continue // closed this way already
			}
			if err := tx.PutDelivery(&c); err != nil {
				return err
			}
			jobs = append(jobs, pageJob(c, at))
		}
		// Every message with this page's Acknowledge button says what
		// became of it, and loses the button.
		for _, m := range pg.Messages {
			j := bot.ChatJob(m.Platform, "page:"+pg.ID.String(), bot.OpUpdate, now)
			if m.Platform == inc.Platform && m.Ref.Channel == inc.Channel.ID {
				j = bot.IncidentJob(inc, bot.OpUpdate, now) // after the notice's own post
			}
			j.Ref, j.Message = m.Ref, bot.Message{Text: p.pageOutcome(inc, pg, kind, now)}
			jobs = append(jobs, j)
		}
		if err := tx.PutPage(pg); err != nil {
			return err
		}
		if err := tx.Enqueue(jobs...); err != nil {
			return err
		}
	}
	return nil
}

// pageOutcome is what a page's messages say once it ended: acknowledged
// by whom and when, or closed with its incident.
func (p *Paging) pageOutcome(inc *bot.Incident, pg *bot.Page, kind bot.DeliveryKind, now time.Time) string {
	if kind == bot.DeliverAck && pg.AckBy != "" {
		return fmt.Sprintf("✅ %s page: acknowledged by %s at %s. %s", pg.Incident, p.cfg.People.Mention(inc.Platform, pg.AckBy), bot.ChatTime(pg.AckAt), inc.Channel.Mention())
	}
	return fmt.Sprintf("☑️ %s page: closed, the incident is %s (%s). %s", pg.Incident, inc.Status, bot.ChatTime(now), inc.Channel.Mention())
}

// summaryFields describes who was paged, when and how it went, and the
// groups that reach the service's on-call, for the incident's summary.
func (p *Paging) SummaryFields(ctx context.Context, inc *bot.Incident) []bot.Field {
	var out []bot.Field
	if p.oncall != nil {
		if groups := p.oncall.GroupMentions(inc.Platform, inc.Service); len(groups) > 0 {
			out = append(out, bot.Field{Label: "On call", Value: strings.Join(groups, ", ")})
		}
	}
	pages, err := p.store.PagesForIncident(ctx, inc.ID)
	if err != nil || len(pages) == 0 {
		return out
	}
	// One line per person paged (per step, for a team), and one per
	// acknowledgement, in time order across the incident's pages (a
	// reopen starts another).
	var entries []summaryLine
	exhausted := false
	for _, pg := range pages {
		ds, err := p.store.PageDeliveries(ctx, pg.ID)
		if err != nil {
			return out
		}
		// A trigger's key is its person's prefix at the step
		// (page:step:round:person:) and its pager: group them by the
		// prefix, in the order they were made.
		slices.SortStableFunc(ds, func(a, b bot.Delivery) int { return a.Created.Compare(b.Created) })
		byPerson := map[string][]bot.Delivery{}
		for _, d := range ds {
			if prefix, ok := strings.CutSuffix(d.Key, d.Pager); ok && d.Kind == bot.DeliverTrigger {
				byPerson[prefix] = append(byPerson[prefix], d)
			}
		}
		for group := range stepGroups(pg.Paged) {
			entries = append(entries, p.stepLines(inc, pg.ID, group, byPerson)...)
		}
		switch pg.Status {
		case bot.PageAcknowledged:
			entries = append(entries, summaryLine{pg.AckAt, fmt.Sprintf("%s acknowledged by %s after %s", bot.ChatClock(pg.AckAt), p.cfg.People.Mention(inc.Platform, pg.AckBy), bot.Duration(pg.AckAt.Sub(pg.Created)))})
		case bot.PageExhausted:
			exhausted = true
		}
	}
	slices.SortStableFunc(entries, func(a, b summaryLine) int { return a.at.Compare(b.at) })
	lines := make([]string, len(entries))
	for i, e := range entries {
		lines[i] = e.line
	}
	if exhausted {
		lines = append(lines, "⚠️ nobody acknowledged")
	}
	if len(lines) == 0 {
		return out
	}
	return append(out, bot.Field{Label: "Paged", Value: strings.Join(lines, "\n")})
}

// summaryLine is one line of the summary's "Paged" field, at the time
// it tells of.
type summaryLine struct {
	at   time.Time
	line string
}

// stepLines are the summary's lines for the people one step paged, each
// with how their notifications went (byPerson, by key prefix); a step
// that paged a team says it in one line.
func (p *Paging) stepLines(inc *bot.Incident, pageID uuid.UUID, group []bot.Paged, byPerson map[string][]bot.Delivery) []summaryLine {
	var lines []summaryLine
	var team teamTally
	for _, pd := range group {
		ds := byPerson[personKey(pageID, pd.Step, pd.Loop, pd.Person)]
		who := p.cfg.People.Mention(inc.Platform, pd.Person)
		if len(group) > maxNamedInStep {
			team.add(outcomeOf(ds), who)
			continue
		}
		var via []string
		for _, d := range ds {
			via = append(via, deliveryState(d, pd.At))
		}
		how := "(" + strings.Join(via, ", ") + ")"
		if len(via) == 0 {
			how = "⚠️ no pager reaches them"
		}
		lines = append(lines, summaryLine{pd.At, fmt.Sprintf("%s %s %s", bot.ChatClock(pd.At), who, how)})
	}
	if len(group) > maxNamedInStep {
		pd := group[0]
		round := ""
		if pd.Loop > 0 {
			round = fmt.Sprintf(", round %d", pd.Loop+1)
		}
		lines = append(lines, summaryLine{pd.At, fmt.Sprintf("%s %d people (step %d%s): %s", bot.ChatClock(pd.At), len(group), pd.Step+1, round, team)})
	}
	return lines
}

// maxNamedInStep is how many people the summary names, a line each, for
// one escalation step, and a notice names in a row; a step that paged
// more (a team) gets one line that counts them, so the summary stays
// whole within the platforms' field limits (Discord: 1,024 characters).
const maxNamedInStep = 8

// stepGroups yields the people paged by each step of a page, a step at
// a time (each step appends its people together).
func stepGroups(paged []bot.Paged) func(yield func([]bot.Paged) bool) {
	return func(yield func([]bot.Paged) bool) {
		for start := 0; start < len(paged); {
			end := start + 1
			for end < len(paged) && paged[end].Step == paged[start].Step && paged[end].Loop == paged[start].Loop && paged[end].At.Equal(paged[start].At) {
				end++
			}
			if !yield(paged[start:end]) {
				return
			}
			start = end
		}
	}
}

// personOutcome is where one paged person stands, from how their
// notifications went.
type personOutcome int

const (
	outcomeReached     personOutcome = iota // one got through
	outcomeWaiting                          // none yet; some still being tried or due
	outcomeFailed                           // every one failed
	outcomeStopped                          // acknowledged or resolved before any was sent
	outcomeUnreachable                      // no pager reaches them
)

func outcomeOf(ds []bot.Delivery) personOutcome {
	has := func(st bot.DeliveryStatus) bool {
		return slices.ContainsFunc(ds, func(d bot.Delivery) bool { return d.Status == st })
	}
	switch {
	case len(ds) == 0:
		return outcomeUnreachable
	case has(bot.DeliverySent):
		return outcomeReached
	case has(bot.DeliveryPending):
		return outcomeWaiting
	case has(bot.DeliveryFailed):
		return outcomeFailed
	}
	return outcomeStopped
}

// teamTally counts a team's outcomes and names those who were not
// reached and will not be: they are whom the channel needs to know.
type teamTally [outcomeUnreachable + 1][]string // names by outcome

func (t *teamTally) add(o personOutcome, who string) { t[o] = append(t[o], who) }

// String is "35 ✓ reached; 3 ⏳ not yet; 2 ✗ failed: @x, @y".
func (t teamTally) String() string {
	labels := [...]string{"✓ reached", "⏳ not yet", "✗ failed", "– stopped before sending", "⚠️ no pager reaches them"}
	var parts []string
	for o, label := range labels {
		if len(t[o]) == 0 {
			continue
		}
		part := fmt.Sprintf("%d %s", len(t[o]), label)
		if o := personOutcome(o); o == outcomeFailed || o == outcomeUnreachable {
			part += ": " + namedFew(t[o], 5)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// deliveryState is one delivery in the summary: "webhook ✓", and for
// what klaxon sends itself the provider's latest word ("SMS ✓ delivered
// 02:13") or when a rule is still due ("call at 02:18").
func deliveryState(d bot.Delivery, paged time.Time) string {
	mark := "⏳"
	switch d.Status {
	case bot.DeliverySent:
		mark = "✓"
	case bot.DeliveryFailed:
		mark = "✗"
	case bot.DeliveryCancelled:
		mark = "–"
	}
	if d.To == "" {
		return d.Pager + " " + mark
	}
	label := bot.Method(d.Pager).Label()
	switch {
	case d.Status == bot.DeliveryPending && d.Attempts == 0 && d.Created.After(paged):
		return label + " at " + bot.ChatClock(d.Created)
	case d.Progress != "":
		return label + " " + mark + " " + d.Progress + " " + bot.ChatClock(d.ProgressAt)
	}
	return label + " " + mark
}

// personOf maps a platform user to a person id.
func (p *Paging) personOf(platform bot.Platform, u bot.User) string {
	if person, ok := p.cfg.People.ByUser(platform, u.ID); ok {
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
	return p.incidents.Acknowledge(ctx, bot.Actor{User: a.User, Platform: a.Platform, Channel: a.Channel}, page.IncidentID)
}

// watch acknowledges when a paged person reacts to a page notice or DM
// with an acknowledgement emoji.
func (p *Paging) Watch(ctx context.Context, a bot.Activity) {
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
	_, refused := p.incidents.Acknowledge(ctx, bot.Actor{User: a.User, Platform: a.Platform, Channel: a.Channel}, page.IncidentID)
	if bot.ErrorCode(refused) != bot.EFORBIDDEN {
		return
	}
	// Say why the ✅ did nothing, where it was given.
	p.log.Info().Err(refused).Str("user", a.User.ID).Msg("an acknowledgement by reaction was refused")
	err = p.store.Update(ctx, func(tx bot.Tx) error {
		inc, err := tx.Incident(page.IncidentID)
		if err != nil {
			return err
		}
		j := bot.IncidentJob(inc, bot.OpPost, p.clock.Now())
		j.Channel = a.Channel.ID
		j.Message = bot.Message{Text: a.User.Mention() + " " + bot.ErrorMessage(refused)}
		return tx.Enqueue(j)
	})
	if err == nil {
		p.cfg.Wake.Committed()
	}
}

func (p *Paging) handlePage(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := p.incidents.Target(ctx, req)
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
		person, err := p.cfg.People.Resolve(req.Platform, args[0])
		if err != nil {
			return nil, err
		}
		pol.Steps = []bot.Step{{Targets: []bot.Target{{Kind: bot.TargetPerson, ID: person.ID}}, Delay: p.cfg.DefaultDelay}}
	} else {
		var ok bool
		if pol, ok = p.policyFor(strings.ToLower(args[0]), inc.Severity); !ok {
			return nil, p.oncall.UnknownService(args[0])
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

// Policies are the configured escalation policies, by id.
func (p *Paging) Policies() map[string]bot.Policy { return p.cfg.Policies }

// WhoNow is whom each step of pol would page at now.
func (p *Paging) WhoNow(pol bot.Policy, now time.Time) [][]string {
	out := make([][]string, len(pol.Steps))
	for i, st := range pol.Steps {
		out[i] = p.resolve(st.Targets, now)
	}
	return out
}
