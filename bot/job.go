package bot

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// ChatOp is one kind of thing klaxon does in chat.
type ChatOp string

// Chat operations. Those about an incident act in its channel, read from
// the store when the job runs, so a job written before the channel existed
// still finds it.
const (
	OpCreateChannel ChatOp = "create_channel" // create the incident's channel (adopting one a crashed attempt made) and record it
	OpInvite        ChatOp = "invite"         // invite Users into the incident's channel
	OpTopic         ChatOp = "topic"          // set the incident channel's topic from the incident
	OpPostSummary   ChatOp = "post_summary"   // post the live summary and record where it is
	OpPin           ChatOp = "pin"            // pin the live summary
	OpAnnounce      ChatOp = "announce"       // announce the incident in Channel, rendered when it runs (with its channel)
	OpSummary       ChatOp = "summary"        // bring the pinned summary up to date (coalesced: one pending per incident)
	OpPost          ChatOp = "post"           // post Message to Channel, or to the incident's channel when Channel is empty
	OpDM            ChatOp = "dm"             // send Message to Users[0] directly
	OpUpdate        ChatOp = "update"         // replace the message Ref with Message
	OpPostmortem    ChatOp = "postmortem"     // upload the incident's stored postmortem draft and its timeline
)

// JobStatus is where a job stands.
type JobStatus string

// Job statuses.
const (
	JobPending JobStatus = "pending" // waiting to run, or to run again
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed" // refused for good; reported once
)

// Job is something klaxon still has to do in chat, written in the same
// transaction as the change that calls for it and carried out from the
// outbox, so a crash neither loses it nor does it twice.
type Job struct {
	Key        string     `json:"key"`   // queue/sequence: jobs of one queue run in order
	Queue      string     `json:"queue"` // the incident's id, or a platform's channel or person
	Platform   Platform   `json:"platform"`
	Op         ChatOp     `json:"op"`
	IncidentID uuid.UUID  `json:"incident_id,omitzero"`
	Channel    string     `json:"channel,omitempty"` // an explicit channel; empty: the incident's
	Users      []string   `json:"users,omitempty"`
	Message    Message    `json:"message,omitzero"`
	Ref        MessageRef `json:"ref,omitzero"`
	// PageID links the posted message to a page, so a reaction on it
	// acknowledges the page.
	PageID uuid.UUID `json:"page_id,omitzero"`
	// Announce marks a post to the announcement channel.
	Announce bool `json:"announce,omitempty"`
	// Report marks a post that reports another job's failure; its own
	// failure is only logged.
	Report bool `json:"report,omitempty"`

	Status      JobStatus `json:"status"`
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	// MayHaveRun says the last attempt failed in a way that does not tell
	// whether the platform acted (a timeout, a 5xx), unlike a 429.
	MayHaveRun bool      `json:"may_have_run,omitempty"`
	Created    time.Time `json:"created"`
	Done       time.Time `json:"done,omitzero"`
	// Result is what the job made: the channel or message it created, so a
	// re-run after a crash finds it instead of making another.
	Result MessageRef `json:"result,omitzero"`
}

// Coalesces reports whether a pending job like j makes another unneeded:
// a summary update renders the incident as it is when it runs.
func (j Job) Coalesces() bool { return j.Op == OpSummary }

// Nonce is the id a platform keeps with a message this job posts, so the
// job can find its own message after a crash (Slack metadata, Discord
// nonce).
func (j Job) Nonce() string { return j.Key }

// JobCounts counts jobs by platform and status, for /metrics and status.
type JobCounts map[Platform]map[JobStatus]int

// Tx is one write transaction: everything a change touches, committed
// together. The function given to Store.Update may run more than once
// (group commit re-runs the others when one fails), so it must only read
// and write through tx and keep no state of its own across runs.
type Tx interface {
	Incident(id uuid.UUID) (*Incident, error)
	// CreateIncident numbers inc and writes it with its events.
	CreateIncident(inc *Incident, events ...Event) error
	// PutIncident replaces the stored incident (by id), keeping its number.
	PutIncident(inc *Incident) error
	// AppendEvents adds events to the incident's timeline (once per source id).
	AppendEvents(incidentID uuid.UUID, events ...Event) error
	// CreatePage writes a new page and its timer.
	CreatePage(p *Page) error
	// Enqueue adds chat jobs to the outbox, each at the end of its queue. A
	// job that coalesces is not added while one like it is pending.
	Enqueue(jobs ...Job) error
	// SetReminder schedules (or, with a zero time, cancels) a reminder.
	SetReminder(r Reminder) error
	// EnqueueHooks adds outgoing hook events to their outbox.
	EnqueueHooks(ds ...HookDelivery) error
	// LinkPage remembers that a chat message is about a page, so a
	// reaction on it acknowledges the page.
	LinkPage(p Platform, ref MessageRef, pageID uuid.UUID) error
}

// Updater runs a change in one write transaction.
type Updater interface {
	// Update runs fn in a write transaction and returns once it is
	// committed and synced, or fn's error with nothing written.
	Update(ctx context.Context, fn func(tx Tx) error) error
}

// JobStore is the chat outbox.
type JobStore interface {
	Updater
	// DueJobs returns, for each queue, its first pending job if it is due
	// at now; at most limit of them.
	DueJobs(ctx context.Context, now time.Time, limit int) ([]Job, error)
	// FinishJob records a job's outcome (done, failed, or pending with its
	// next attempt) and runs then, in the same transaction, which may write
	// what the job made (a channel, a summary's place) and more jobs.
	FinishJob(ctx context.Context, j Job, then func(tx Tx) error) error
	// Job returns the job with key as it stands; found is false once it is
	// done.
	Job(ctx context.Context, key string) (j Job, found bool, err error)
	// PendingJobs returns the unfinished jobs of an incident, oldest first.
	PendingJobs(ctx context.Context, incidentID uuid.UUID) ([]Job, error)
	// CountJobs counts jobs by platform and status.
	CountJobs(ctx context.Context) (JobCounts, error)
}
