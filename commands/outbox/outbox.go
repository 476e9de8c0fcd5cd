// Package outbox carries out what changes commit with them: one durable
// queue of jobs (pages, hook events, tickets, chat work) and one sender
// per kind of destination.
package outbox

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Outbox carries out the jobs that changes commit with them: pages, hook
// events and chat work, one sender per kind of destination. The jobs of
// one queue (an incident's chat work, one page delivery's trigger and
// close, one hook's events) run in order; queues run in parallel, pages
// first. A job is tried until it succeeds or is refused for good; nothing
// is dropped after N tries, and a restart resumes every unfinished job. No
// lock is held across a call to a destination.
type Outbox struct {
	store bot.JobStore
	// smu guards senders and chat: a configuration reload replaces them
	// (Adopt) while jobs run.
	smu     sync.RWMutex
	senders map[bot.JobOp]Sender
	chat    Sender // every other op
	clock   bot.Clock
	log     zerolog.Logger
	backlog backlog // destinations that may have jobs held back by an outage

	mu       sync.Mutex
	inflight map[string]bool
	busy     map[string]int // jobs in flight per destination
	// suspects are the jobs that may have been in flight when the last
	// process stopped: the queue heads due at the first tick (only a
	// queue's head runs). Each looks for what it made before acting once.
	suspects map[string]bool
	ticked   bool
	idle     *sync.Cond // signalled when inflight empties
	wake     *bot.Wake
	// creating counts channel creations between the platform's answer and
	// its record, when activity in the new channel cannot be placed yet.
	creating atomic.Int32
	recorded chan struct{} // closed and replaced when a channel is recorded
}

// Sender carries out one kind of job.
type Sender interface {
	// Send makes one attempt at j; again says an earlier attempt may have
	// acted without its outcome being recorded (a timeout, a crash), so it
	// should look for what that attempt made first. The error decides the
	// outcome: nil is done, a transient one (bot.Transient) is tried again
	// later, any other is a refusal for good. then, when not nil, runs in
	// the transaction that records the outcome, with j as recorded.
	Send(ctx context.Context, j bot.Job, again bool) (then Then, err error)
}

// Reconnector is a sender that knows when a destination it sends to came
// back (a chat platform's connection): the outbox then sends at once what
// waited out a backoff there, instead of when the backoff, grown through
// the outage, ends.
type Reconnector interface {
	// Reconnected returns the destinations that came back since it was
	// last asked.
	Reconnected() []string
}

// Then records what an attempt did, in the transaction that records its
// outcome; j is the job as recorded (done, failed, or pending).
type Then func(tx bot.Tx, j bot.Job) error

// parallel bounds the jobs in flight at once for one destination, so a
// slow destination never holds up another: 16 for a chat platform (its
// Web API has per-method limits, and order within a channel matters), 64
// for a pager's endpoint (each page its own request, committed as it
// comes back: 1,000 pages measured 1,400/s with 16 and 1,800/s with 64).
// Clients keep as many connections open (bot.Transport, and SMTP sessions
// in bot/notify).
func parallel(destination string) int {
	if strings.HasPrefix(destination, "pager:") {
		return bot.MaxInFlight
	}
	return bot.MaxInFlightOther
}

// New returns an outbox over store whose chat jobs chat carries out, and
// that looks for due jobs at once when wake says jobs were committed.
// Handle adds the senders of other kinds of job, Run carries it out.
func New(store bot.JobStore, chat Sender, clock bot.Clock, log zerolog.Logger, wake *bot.Wake) *Outbox {
	o := &Outbox{store: store, senders: map[bot.JobOp]Sender{}, chat: chat, clock: clock, log: log.With().Str("component", "outbox").Logger(),
		inflight: map[string]bool{}, busy: map[string]int{}, suspects: map[string]bool{}, wake: wake, recorded: make(chan struct{})}
	o.idle = sync.NewCond(&o.mu)
	return o
}

// Handle makes s carry out the jobs of op (bot.OpPage, bot.OpHook, …).
func (o *Outbox) Handle(op bot.JobOp, s Sender) {
	o.smu.Lock()
	defer o.smu.Unlock()
	o.senders[op] = s
}

// Adopt makes o carry out jobs with from's senders and chat sender, from
// the next job on: a configuration reload builds the use cases anew over
// a carrier outbox, then has the running outbox adopt what they handle.
// Jobs in flight finish with the sender they started with.
func (o *Outbox) Adopt(from *Outbox) {
	from.smu.RLock()
	senders, chat := maps.Clone(from.senders), from.chat
	from.smu.RUnlock()
	o.smu.Lock()
	defer o.smu.Unlock()
	o.senders, o.chat = senders, chat
}

func (o *Outbox) chatSender() Sender {
	o.smu.RLock()
	defer o.smu.RUnlock()
	return o.chat
}

func (o *Outbox) senderFor(j bot.Job) Sender {
	o.smu.RLock()
	defer o.smu.RUnlock()
	if s, ok := o.senders[j.Op]; ok {
		return s
	}
	if j.Priority() != bot.PriorityChat {
		return unsent{j.Op} // a pager or hook the configuration no longer has
	}
	return o.chat
}

// unsent refuses the jobs of an op nothing carries out any more (the
// hooks were removed from the configuration, say): they fail once, with
// a reason in the log, instead of waiting for ever.
type unsent struct{ op bot.JobOp }

func (u unsent) Send(context.Context, bot.Job, bool) (Then, error) {
	return nil, bot.Errorf(bot.EREFUSED, "klaxon has nothing configured to send %s jobs", u.op)
}

// Run starts due jobs every interval, and at once when woken, until ctx
// ends; then it waits for the jobs in flight.
func (o *Outbox) Run(ctx context.Context, every time.Duration) error {
	defer o.waitIdle()
	bot.Every(ctx, o.clock, every, o.wake.JobsDue(), o.Tick)
	return nil
}

// Tick starts the due jobs that are not in flight already, and returns
// without waiting for them.
func (o *Outbox) Tick(ctx context.Context, now time.Time) {
	o.releaseReconnected(ctx, now)
	// Read only the jobs that can start: not in flight, and with a free
	// slot at their destination. On the first tick every queue head due
	// may have been in flight when the last process stopped: each looks
	// for what it made before it acts.
	o.mu.Lock()
	first := !o.ticked
	o.ticked = true
	inflight, slots := maps.Clone(o.inflight), maps.Clone(o.busy)
	o.mu.Unlock()
	var suspects []string
	// Every due queue's head passes through want on every tick: it
	// allocates only for the jobs it takes.
	due, err := o.store.DueJobs(ctx, now, 256, func(key, dest []byte) bool {
		// Chat jobs that make something carry their own started mark;
		// pages and hooks are sent again under their idempotency keys.
		if first && !isChat(string(dest)) {
			suspects = append(suspects, string(key))
		}
		if inflight[string(key)] || slots[string(dest)] >= parallel(string(dest)) {
			return false
		}
		slots[string(dest)]++
		return true
	})
	if err != nil {
		o.log.Error().Err(err).Msg("reading the outbox")
		return
	}
	if first {
		o.mu.Lock()
		for _, key := range suspects {
			o.suspects[key] = true
		}
		o.mu.Unlock()
	}
	for _, j := range due {
		dest := j.Destination()
		o.mu.Lock()
		busy := o.inflight[j.Key] || o.busy[dest] >= parallel(dest)
		if !busy {
			o.inflight[j.Key] = true
			o.busy[dest]++
		}
		o.mu.Unlock()
		if busy {
			continue
		}
		go func() {
			o.run(ctx, j)
			o.mu.Lock()
			delete(o.inflight, j.Key)
			o.busy[dest]--
			if len(o.inflight) == 0 {
				o.idle.Broadcast()
			}
			o.mu.Unlock()
			o.wake.Jobs() // the queue's next job may be due now
		}()
	}
}

// releaseReconnected makes the jobs of a chat platform that waited out a
// backoff due now when its connection came back, instead of when their
// backoff, grown through the outage, ends.
func (o *Outbox) releaseReconnected(ctx context.Context, now time.Time) {
	b, ok := o.chatSender().(Reconnector)
	if !ok {
		return
	}
	for _, dest := range b.Reconnected() {
		n, err := o.store.RetryNow(ctx, dest, now)
		if err != nil {
			o.log.Error().Err(err).Str("destination", dest).Msg("releasing jobs held back by an outage")
			continue
		}
		if n > 0 {
			o.log.Info().Int("jobs", n).Str("destination", dest).Msg("connected again; sending what waited")
		}
	}
}

// jobTimeout bounds one attempt; senders may bound theirs more tightly.
const jobTimeout = 2 * time.Minute

// run makes one attempt at j and records its outcome.
func (o *Outbox) run(ctx context.Context, j bot.Job) {
	// The due list may be stale: another tick may have run this job to its
	// end since it was read. Every outcome moves or removes the job's due
	// row, so the row still being there means j is the job as it stands.
	if due, err := o.store.StillDue(ctx, j); err != nil || !due {
		return
	}
	if j.Op == bot.OpCreateChannel {
		o.creating.Add(1)
		defer o.channelSettled() // after the outcome is recorded
	}
	// A job that makes something (a channel, a post) is marked started
	// first: found so after a crash or a failover, it looks for what it
	// made before making it again. Other replicas see activity in a new
	// channel while its creation is marked, and wait for its record.
	if makes(j.Op) {
		if err := o.store.MarkStarted(ctx, j.Key, o.clock.Now()); err != nil {
			o.log.Warn().Err(err).Str("job", j.Key).Msg("marking a job started; it runs later")
			return
		}
	}
	// A job that may have acted already looks for what it made first: its
	// last attempt failed without saying (a timeout, a 5xx), or it may
	// have been in flight when the last process stopped.
	o.mu.Lock()
	suspect := o.suspects[j.Key]
	delete(o.suspects, j.Key)
	o.mu.Unlock()
	actx, cancel := context.WithTimeout(ctx, jobTimeout)
	again := j.MayHaveRun || suspect || !j.Started.IsZero()
	if j.Started.After(j.ActedAt) {
		j.ActedAt = j.Started // the attempt a crash cut short
	}
	j.Started = time.Time{} // this attempt's outcome is recorded without it
	start := o.clock.Now()
	then, err := o.senderFor(j).Send(actx, j, again)
	cancel()
	now := o.clock.Now()
	dest := j.Destination()
	log := o.log.With().Str("job", j.Key).Str("op", string(j.Op)).Str("destination", dest).Logger()
	transient, after := bot.Transient(err)
	switch {
	case err == nil:
		j.Status, j.Done, j.LastError = bot.JobDone, now, ""
		j.Attempts++
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		// Cut short by the shutdown: the job stays as it was and runs
		// after the restart.
		log.Info().Msg("job interrupted by the shutdown; it runs again after the restart")
		return
	case transient:
		j.Attempts++
		j.LastError = bot.ErrorMessage(err)
		// A 429 says this attempt did nothing, not that an earlier one
		// (before a crash, or one that timed out) did nothing: the job
		// keeps looking for what it may have made until it succeeds.
		j.MayHaveRun = again || after == 0
		if after == 0 {
			j.ActedAt = start // this attempt may have acted
		}
		// A 429 says when to come back; other failures back off. A chat
		// platform limits each method on its own, so another call getting
		// through says nothing about this one's window; a pager or hook is
		// one endpoint, and its next success lifts the wait.
		j.RateLimited = after > 0 && j.Priority() == bot.PriorityChat
		if after > 0 {
			j.NextAttempt = now.Add(after)
		} else {
			j.NextAttempt = now.Add(backoff(j.Attempts))
		}
		log.Warn().Err(err).Int("attempts", j.Attempts).Time("next", j.NextAttempt).Msg("job will be tried again")
	default:
		j.Attempts++
		j.Status, j.LastError = bot.JobFailed, bot.ErrorMessage(err)
		log.Error().Err(err).Msg("job refused for good")
	}
	var record func(bot.Tx) error
	if then != nil {
		record = func(tx bot.Tx) error { return then(tx, j) }
	}
	// What was done is recorded even while klaxon shuts down (a store on
	// a network would refuse a cancelled context): otherwise the next
	// leader or process would do it again.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	if err := o.store.FinishJob(rctx, j, record); err != nil {
		log.Error().Err(err).Msg("recording a job's outcome; it will run again")
		return
	}
	switch {
	case transient && !j.RateLimited:
		o.backlog.held(dest)
	case err == nil:
		// The destination answers: what waits out a backoff for it (after
		// an outage) goes now, not minutes from now.
		n, rerr := o.backlog.release(dest, func() (int, error) { return o.store.RetryNow(ctx, dest, o.clock.Now()) })
		if rerr != nil {
			log.Error().Err(rerr).Msg("releasing jobs held back by an outage")
		} else if n > 0 {
			log.Info().Int("jobs", n).Msg("destination reachable again; sending what waited")
		}
	}
}

// backoff is the wait before attempt n+1: 2 s doubling to 5 min, ±20 %.
func backoff(n int) time.Duration {
	d := min(2*time.Second<<min(n-1, 8), 5*time.Minute)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// makes reports whether jobs of op make something on the platform that a
// second attempt must look for first.
func makes(op bot.JobOp) bool {
	return op == bot.OpCreateChannel || op == bot.OpPostSummary || op == bot.OpAnnounce || op == bot.OpPost || op == bot.OpTicket
}

// isChat reports whether destination is a chat platform (not a pager, a
// hook or a tracker).
func isChat(destination string) bool {
	for _, p := range []string{"pager:", "hook:", "tracker:"} {
		if strings.HasPrefix(destination, p) {
			return false
		}
	}
	return true
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

// Settling returns, while a channel creation is between the platform's
// answer and its record, a channel closed when one settles.
func (o *Outbox) Settling() (<-chan struct{}, bool) {
	if o == nil || o.creating.Load() == 0 {
		return nil, false
	}
	return o.Settled(), true
}

// Settled returns a channel closed when the next channel creation ends.
func (o *Outbox) Settled() <-chan struct{} {
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
		due, err := o.store.DueJobs(ctx, o.clock.Now(), 1, nil)
		if err != nil {
			// What is left runs at the next tick; say why it was left.
			o.log.Warn().Err(err).Msg("reading the outbox while draining it; the rest runs later")
			return
		}
		if len(due) == 0 {
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

// ResultError turns a receiver's answer into the outbox's terms: nil when
// sent, transient (with the receiver's Retry-After) unless permanent.
func ResultError(res bot.SendResult) error {
	if res.Sent {
		return nil
	}
	msg := "no answer"
	if res.Err != nil {
		msg = res.Err.Error()
	}
	if res.Permanent {
		return bot.Errorf(bot.EREFUSED, "%s", msg)
	}
	err := bot.Errorf(bot.EUNAVAILABLE, "%s", msg)
	err.RetryAfter = res.RetryAfter
	return err
}
