package commands

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Outbox carries out the chat jobs that changes commit with them: one
// sender per platform, the jobs of one queue (an incident) in order, the
// queues in parallel. A job is tried until it succeeds or the platform
// refuses it for good; nothing is dropped after N tries, and a restart
// resumes every unfinished job. No lock is held across a platform call.
type Outbox struct {
	store     bot.JobStore
	incidents *Incidents
	chats     map[bot.Platform]bot.Chat
	clock     bot.Clock
	log       zerolog.Logger
	started   time.Time // jobs written before may have been in flight at a crash

	mu       sync.Mutex
	inflight map[string]bool
	// suspects are the jobs that may have been in flight when the last
	// process stopped: the queue heads due at the first tick (only a
	// queue's head runs). Each looks for what it made before acting once.
	suspects map[string]bool
	ticked   bool
	idle     *sync.Cond // signalled when inflight empties
	poke     chan struct{}
	// creating counts channel creations between the platform's answer and
	// its record, when activity in the new channel cannot be placed yet.
	creating atomic.Int32
	recorded chan struct{} // closed and replaced when a channel is recorded
}

// maxParallel bounds the jobs in flight at once (different queues).
const maxParallel = 16

// NewOutbox returns the outbox of c's store; Run carries it out.
func NewOutbox(c *Incidents, store bot.JobStore) *Outbox {
	o := &Outbox{store: store, incidents: c, chats: c.chats, clock: c.clock, log: c.log.With().Str("component", "outbox").Logger(),
		started: c.clock.Now(), inflight: map[string]bool{}, suspects: map[string]bool{}, poke: make(chan struct{}, 1), recorded: make(chan struct{})}
	o.idle = sync.NewCond(&o.mu)
	c.outbox = o
	return o
}

// Poke asks the outbox to look for due jobs now.
func (o *Outbox) Poke() {
	select {
	case o.poke <- struct{}{}:
	default:
	}
}

// Run starts due jobs every interval, and at once when poked, until ctx
// ends; then it waits for the jobs in flight.
func (o *Outbox) Run(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	defer o.waitIdle()
	for {
		o.Tick(ctx, o.clock.Now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-o.poke:
		}
	}
}

// Tick starts the due jobs that are not in flight already, and returns
// without waiting for them.
func (o *Outbox) Tick(ctx context.Context, now time.Time) {
	due, err := o.store.DueJobs(ctx, now, 256)
	if err != nil {
		o.log.Error().Err(err).Msg("reading the chat outbox")
		return
	}
	o.mu.Lock()
	if !o.ticked {
		o.ticked = true
		for _, j := range due {
			if j.Created.Before(o.started) {
				o.suspects[j.Key] = true
			}
		}
	}
	o.mu.Unlock()
	for _, j := range due {
		o.mu.Lock()
		busy := o.inflight[j.Key] || len(o.inflight) >= maxParallel
		if !busy {
			o.inflight[j.Key] = true
		}
		o.mu.Unlock()
		if busy {
			continue
		}
		go func() {
			o.run(ctx, j)
			o.mu.Lock()
			delete(o.inflight, j.Key)
			if len(o.inflight) == 0 {
				o.idle.Broadcast()
			}
			o.mu.Unlock()
			o.Poke() // the queue's next job may be due now
		}()
	}
}

// jobTimeout bounds one attempt.
const jobTimeout = 2 * time.Minute

// run makes one attempt at j and records its outcome.
func (o *Outbox) run(ctx context.Context, j bot.Job) {
	// The due list may be stale: another tick may have run this job to its
	// end since it was read. Go by the job as it stands now.
	cur, found, err := o.store.Job(ctx, j.Key)
	if err != nil || !found || cur.Status != bot.JobPending || cur.NextAttempt.After(o.clock.Now()) {
		return
	}
	j = cur
	if j.Op == bot.OpCreateChannel {
		o.creating.Add(1)
		defer o.channelSettled() // after the outcome is recorded
	}
	actx, cancel := context.WithTimeout(ctx, jobTimeout)
	then, err := o.attempt(actx, j)
	cancel()
	now := o.clock.Now()
	log := o.log.With().Str("job", j.Key).Str("op", string(j.Op)).Logger()
	switch transient, after := bot.Transient(err); {
	case err == nil:
		j.Status, j.Done, j.LastError = bot.JobDone, now, ""
	case ctx.Err() != nil:
		return // shutting down: the job stays as it was and runs after the restart
	case transient:
		j.Attempts++
		j.LastError = bot.ErrorMessage(err)
		j.MayHaveRun = after == 0
		// A 429 says when to come back; other failures back off.
		if after > 0 {
			j.NextAttempt = now.Add(after)
		} else {
			j.NextAttempt = now.Add(backoff(j.Attempts))
		}
		then = nil
		log.Warn().Err(err).Int("attempts", j.Attempts).Time("next", j.NextAttempt).Msg("chat job will be tried again")
	default:
		j.Attempts++
		j.Status, j.LastError = bot.JobFailed, bot.ErrorMessage(err)
		then = o.report(j, err)
		log.Error().Err(err).Msg("chat job refused for good")
	}
	if err := o.store.FinishJob(ctx, j, then); err != nil {
		log.Error().Err(err).Msg("recording a chat job's outcome; it will run again")
	}
}

// backoff is the wait before attempt n+1: 2 s doubling to 5 min, ±20 %.
func backoff(n int) time.Duration {
	d := min(2*time.Second<<min(n-1, 8), 5*time.Minute)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// report says once, in the incident's channel where there is one, that a
// chat job was refused for good, with the platform's error.
func (o *Outbox) report(j bot.Job, err error) func(bot.Tx) error {
	if j.Report || j.IncidentID == uuid.Nil || j.Op == bot.OpCreateChannel {
		return nil
	}
	return func(tx bot.Tx) error {
		inc, err2 := tx.Incident(j.IncidentID)
		if err2 != nil || inc.Channel.IsZero() {
			return nil
		}
		return tx.Enqueue(bot.Job{Queue: j.Queue, Platform: j.Platform, Op: bot.OpPost, IncidentID: j.IncidentID, Report: true,
			Message:     bot.Message{Text: fmt.Sprintf("⚠️ klaxon could not %s: %s", describe(j), bot.ErrorMessage(err))},
			NextAttempt: o.clock.Now(), Created: o.clock.Now()})
	}
}

func describe(j bot.Job) string {
	switch j.Op {
	case bot.OpCreateChannel:
		return "create the incident channel"
	case bot.OpInvite:
		return "invite the responders"
	case bot.OpTopic:
		return "set the channel topic"
	case bot.OpPostSummary:
		return "post the summary"
	case bot.OpPin:
		return "pin the summary"
	case bot.OpAnnounce:
		return "post the announcement"
	case bot.OpSummary:
		return "update the pinned summary"
	case bot.OpPostmortem:
		return "post the postmortem draft"
	case bot.OpDM:
		return "send a direct message"
	case bot.OpUpdate:
		return "update a message"
	}
	if j.Announce {
		return "post the announcement"
	}
	return "post a message"
}

// errNoChannel is what jobs about an incident without a channel get.
var errNoChannel = bot.Errorf(bot.EREFUSED, "the incident has no channel")

// attempt carries j out once. It returns what to record with its success,
// in the transaction that marks it done.
func (o *Outbox) attempt(ctx context.Context, j bot.Job) (func(bot.Tx) error, error) {
	chat, ok := o.chats[j.Platform]
	if !ok {
		return nil, bot.Errorf(bot.EUNAVAILABLE, "klaxon is not connected to %s", j.Platform)
	}
	var inc *bot.Incident
	if j.IncidentID != uuid.Nil {
		var err error
		if inc, err = o.incidents.store.Incident(ctx, j.IncidentID); err != nil {
			return nil, bot.Internal(err, "klaxon could not read the incident")
		}
	} else if j.Op != bot.OpPost && j.Op != bot.OpDM && j.Op != bot.OpUpdate {
		return nil, bot.Errorf(bot.EREFUSED, "chat job %s has no incident", j.Op)
	}
	// A job that may have acted already looks for what it made first: its
	// last attempt failed without saying (a timeout, a 5xx), or it may
	// have been in flight when the last process stopped.
	o.mu.Lock()
	suspect := o.suspects[j.Key]
	delete(o.suspects, j.Key)
	o.mu.Unlock()
	again := j.MayHaveRun || suspect
	m := j.Message
	m.Nonce = j.Nonce()
	switch j.Op {
	case bot.OpCreateChannel:
		return o.createChannel(ctx, chat, inc, again)
	case bot.OpInvite:
		if inc.Channel.IsZero() {
			return nil, errNoChannel
		}
		return nil, chat.Invite(ctx, inc.Channel.ID, j.Users...)
	case bot.OpTopic:
		if inc.Channel.IsZero() {
			return nil, errNoChannel
		}
		return nil, chat.SetTopic(ctx, inc.Channel.ID, Topic(inc))
	case bot.OpPostSummary:
		if !inc.SummaryRef.IsZero() {
			return nil, nil
		}
		if inc.Channel.IsZero() {
			return nil, errNoChannel
		}
		m = o.incidents.summary(ctx, inc)
		m.Nonce = j.Nonce()
		ref, err := o.post(ctx, chat, inc.Channel.ID, m, again)
		if err != nil {
			return nil, err
		}
		return recordOn(inc.ID, func(cur *bot.Incident) { cur.SummaryRef = ref }), nil
	case bot.OpPin:
		if inc.SummaryRef.IsZero() {
			return nil, bot.Errorf(bot.EREFUSED, "the summary was not posted")
		}
		return nil, chat.Pin(ctx, inc.SummaryRef)
	case bot.OpAnnounce:
		return nil, o.postOnce(ctx, chat, j.Channel, Announcement(inc), j, again)
	case bot.OpSummary:
		if inc.SummaryRef.IsZero() {
			return nil, nil // the summary is not posted yet; posting it shows the latest state
		}
		return nil, chat.Update(ctx, inc.SummaryRef, o.incidents.summary(ctx, inc))
	case bot.OpPost:
		channel := j.Channel
		if channel == "" {
			if inc == nil || inc.Channel.IsZero() {
				return nil, errNoChannel
			}
			channel = inc.Channel.ID
		}
		ref, err := o.post(ctx, chat, channel, m, again)
		if err != nil || j.PageID == uuid.Nil {
			return nil, err
		}
		return func(tx bot.Tx) error { return tx.LinkPage(j.Platform, ref, j.PageID) }, nil
	case bot.OpDM:
		ref, err := chat.DM(ctx, j.Users[0], m)
		if err != nil || j.PageID == uuid.Nil {
			return nil, err
		}
		return func(tx bot.Tx) error { return tx.LinkPage(j.Platform, ref, j.PageID) }, nil
	case bot.OpUpdate:
		return nil, chat.Update(ctx, j.Ref, j.Message)
	case bot.OpPostmortem:
		if inc.Channel.IsZero() {
			return nil, errNoChannel
		}
		return nil, o.incidents.uploadPostmortem(ctx, chat, inc)
	}
	return nil, bot.Errorf(bot.EREFUSED, "unknown chat job %q", j.Op)
}

// postOnce posts m for job j, unless a run before a crash did.
func (o *Outbox) postOnce(ctx context.Context, chat bot.Chat, channel string, m bot.Message, j bot.Job, again bool) error {
	m.Nonce = j.Nonce()
	_, err := o.post(ctx, chat, channel, m, again)
	return err
}

// post posts m, unless a run before a crash posted it already.
func (o *Outbox) post(ctx context.Context, chat bot.Chat, channel string, m bot.Message, again bool) (bot.MessageRef, error) {
	if again {
		ref, found, err := chat.FindPost(ctx, channel, m.Nonce)
		if err != nil {
			return bot.MessageRef{}, err
		}
		if found {
			return ref, nil
		}
	}
	return chat.Post(ctx, channel, m)
}

// createChannel creates the incident's channel, or adopts the one a run
// before a crash created, and records it in the transaction that finishes
// the job. A name taken by something else gets -2, -3….
func (o *Outbox) createChannel(ctx context.Context, chat bot.Chat, inc *bot.Incident, again bool) (func(bot.Tx) error, error) {
	if !inc.Channel.IsZero() {
		return nil, nil
	}
	const attempts = 10
	for attempt := 1; attempt <= attempts; attempt++ {
		name := ChannelName(o.incidents.cfg.ChannelPattern, inc, attempt)
		ch, err := chat.CreateChannel(ctx, bot.ChannelSpec{Name: name, Topic: Topic(inc), Purpose: Purpose(inc), Private: inc.Private})
		if errors.Is(err, bot.ErrNameTaken) {
			found, ok, ferr := chat.FindChannel(ctx, name, inc.Key())
			if ferr != nil {
				return nil, ferr
			}
			if !ok {
				continue
			}
			ch = found
			err = nil
		}
		if err != nil {
			return nil, err
		}
		return recordOn(inc.ID, func(cur *bot.Incident) { cur.Channel = ch },
			bot.NewEvent(bot.EventChannel, bot.User{}, o.clock.Now(), "Channel #"+ch.Name+" created")), nil
	}
	return nil, bot.Errorf(bot.EREFUSED, "%d channel names for %s were all taken", attempts, inc.Key())
}

// channelSettled ends a channel creation: activity waiting to be placed
// looks again.
func (o *Outbox) channelSettled() {
	o.creating.Add(-1)
	o.mu.Lock()
	close(o.recorded)
	o.recorded = make(chan struct{})
	o.mu.Unlock()
}

// settling returns, while a channel creation is between the platform's
// answer and its record, a channel closed when one settles.
func (o *Outbox) settling() (<-chan struct{}, bool) {
	if o == nil || o.creating.Load() == 0 {
		return nil, false
	}
	return o.settled(), true
}

// settled returns a channel closed when the next channel creation ends.
func (o *Outbox) settled() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.recorded
}

// Drain runs the jobs due at the clock's now, and those they make due,
// until none is left or in flight. Tests and console scripts use it to
// see a change's effects in chat before they look.
func (o *Outbox) Drain(ctx context.Context) {
	for ctx.Err() == nil {
		o.Tick(ctx, o.clock.Now())
		o.waitIdle()
		due, err := o.store.DueJobs(ctx, o.clock.Now(), 1)
		if err != nil || len(due) == 0 {
			return
		}
	}
}

// Go runs the outbox in the background, looking for due jobs every every,
// until stop is called; stop waits for the jobs in flight.
func (o *Outbox) Go(every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.Run(ctx, every)
	}()
	return func() {
		cancel()
		<-done
	}
}

// waitIdle waits until no job is in flight.
func (o *Outbox) waitIdle() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.inflight) > 0 {
		o.idle.Wait()
	}
}

// recordOn records what a job made on its incident, with events, in the
// transaction that finishes the job.
func recordOn(id uuid.UUID, set func(*bot.Incident), events ...bot.Event) func(bot.Tx) error {
	return func(tx bot.Tx) error {
		cur, err := tx.Incident(id)
		if err != nil {
			return err
		}
		set(cur)
		if err := tx.PutIncident(cur); err != nil {
			return err
		}
		return tx.AppendEvents(id, events...)
	}
}
