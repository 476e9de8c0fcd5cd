package bot

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// JobOp is one kind of thing klaxon does outside its store: in chat, on a
// pager, or to an outgoing hook.
type JobOp string

// Jobs for pagers and hooks.
const (
	OpPage JobOp = "page" // send Delivery to its pager
	OpHook JobOp = "hook" // send Hook to its outgoing webhook
	// OpNotify sends Delivery (a message: a verification code, a test) to
	// a person's contact method.
	OpNotify JobOp = "notify"
)

// Jobs for status page subscribers: a notice becomes one mail per
// subscriber when it runs, so the change that calls for it writes one job
// however many people subscribed.
const (
	OpStatusNotice JobOp = "status_notice" // write an OpStatusMail for each subscriber Notice concerns
	OpStatusMail   JobOp = "status_mail"   // send Mail
)

// Chat operations. Those about an incident act in its channel, read from
// the store when the job runs, so a job written before the channel existed
// still finds it.
const (
	OpCreateChannel JobOp = "create_channel" // create the incident's channel (adopting one a crashed attempt made) and record it
	OpInvite        JobOp = "invite"         // invite Users into the incident's channel
	OpTopic         JobOp = "topic"          // set the incident channel's topic from the incident
	OpPostSummary   JobOp = "post_summary"   // post the live summary and record where it is
	OpPin           JobOp = "pin"            // pin the live summary
	OpAnnounce      JobOp = "announce"       // announce the incident in Channel, rendered when it runs (with its channel)
	OpSummary       JobOp = "summary"        // bring the pinned summary up to date (coalesced: one pending per incident)
	OpPost          JobOp = "post"           // post Message to Channel, or to the incident's channel when Channel is empty
	OpDM            JobOp = "dm"             // send Message to Users[0] directly
	OpUpdate        JobOp = "update"         // replace the message Ref with Message
	OpPostmortem    JobOp = "postmortem"     // upload the incident's stored postmortem draft and its timeline
	OpSetGroup      JobOp = "set_group"      // make Group's members who is on call when it runs (coalesced: one pending per group)
	OpArchive       JobOp = "archive"        // archive the incident's channel, if the incident is still closed
)

// Jobs for trackers: one queue per follow-up, so its ticket is made
// before its state is set.
const (
	OpTicket      JobOp = "ticket"       // make FollowUp's ticket in Tracker (adopting one a crashed attempt made) and record it
	OpTicketState JobOp = "ticket_state" // close or reopen FollowUp's ticket as the follow-up is when it runs (coalesced)
)

// JobStatus is where a job stands.
type JobStatus string

// Job statuses.
const (
	JobPending JobStatus = "pending" // waiting to run, or to run again
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed" // refused for good; reported once
)

// JobPriority orders what is due: pages go first, then hooks, then chat,
// so a chat backlog never delays a page.
type JobPriority byte

// Priorities, most urgent first.
const (
	PriorityPage JobPriority = iota
	PriorityHook             // hooks and trackers
	PriorityChat
	PriorityBulk // mail to status page subscribers
)

// Job is something klaxon still has to do outside its store (in chat, on a
// pager, to a hook), written in the same transaction as the change that
// calls for it and carried out from the outbox, so a crash neither loses
// it nor does it twice.
type Job struct {
	Key        string     `json:"key"`   // queue/sequence: jobs of one queue run in order
	Queue      string     `json:"queue"` // the incident's id, or a platform's channel or person
	Platform   Platform   `json:"platform"`
	Op         JobOp      `json:"op"`
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
	// ReportTo is the channel where a refusal of a job about no incident
	// is reported (an incident's jobs report in its channel); empty: the
	// refusal is only logged.
	ReportTo string `json:"report_to,omitempty"`
	// Group is the chat group an OpSetGroup keeps: a Slack user group's
	// handle, a Discord role's id.
	Group string `json:"group,omitempty"`
	// Name names the message an OpPost makes, so a later OpUpdate with
	// the same Name and no Ref finds it (a swap offer's message).
	Name string `json:"name,omitempty"`
	// FollowUp and Tracker name what an OpTicket or OpTicketState job is
	// about.
	FollowUp int64  `json:"followup,omitempty"`
	Tracker  string `json:"tracker,omitempty"`
	// Delivery is what an OpPage job sends; Hook what an OpHook job sends.
	Delivery *Delivery     `json:"delivery,omitempty"`
	Hook     *HookDelivery `json:"hook,omitempty"`
	// Notice is what an OpStatusNotice tells; Mail what an OpStatusMail
	// sends.
	Notice *StatusNotice `json:"notice,omitempty"`
	Mail   *Mail         `json:"mail,omitempty"`

	Status      JobStatus `json:"status"`
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
	// MayHaveRun says the last attempt failed in a way that does not tell
	// whether the platform acted (a timeout, a 5xx), unlike a 429.
	MayHaveRun bool `json:"may_have_run,omitempty"`
	// RateLimited says a chat job waits out its method's Retry-After,
	// which another call getting through does not shorten.
	RateLimited bool      `json:"rate_limited,omitempty"`
	Created     time.Time `json:"created"`
	Done        time.Time `json:"done,omitzero"`
	// Started is when the attempt in flight began (MarkStarted); cleared
	// when its outcome is recorded.
	Started time.Time `json:"started,omitzero"`
	// ActedAt is when the latest attempt that may have acted without its
	// outcome being recorded began (one that timed out or got a 5xx, or
	// that a crash cut short). A lookup that lags behind writes (Jira's
	// search) cannot rule it out until the lag has passed since then.
	ActedAt time.Time `json:"acted_at,omitzero"`
	// Result is what the job made: the channel or message it created, so a
	// re-run after a crash finds it instead of making another.
	Result MessageRef `json:"result,omitzero"`
}

// Destination is where the job goes: a chat platform, "pager:<id>" or
// "hook:<id>". Rate limits and outages are per destination.
func (j Job) Destination() string {
	switch {
	case j.Op == OpPage && j.Delivery != nil:
		return "pager:" + j.Delivery.Pager
	case j.Op == OpHook && j.Hook != nil:
		return "hook:" + j.Hook.Hook
	case j.Op == OpTicket || j.Op == OpTicketState:
		return "tracker:" + j.Tracker
	case j.Op == OpStatusNotice:
		return "subscribers"
	case j.Op == OpStatusMail:
		return "smtp"
	}
	return string(j.Platform)
}

// Priority is how urgent the job is among those due.
func (j Job) Priority() JobPriority {
	switch j.Op {
	case OpPage:
		return PriorityPage
	case OpHook, OpTicket, OpTicketState, OpNotify:
		return PriorityHook
	case OpStatusNotice, OpStatusMail:
		return PriorityBulk
	}
	return PriorityChat
}

// Coalesces reports whether a pending job like j makes another unneeded:
// a summary update renders the incident as it is when it runs, a group
// update sets who is on call when it runs, and a ticket's state follows
// its follow-up's when it runs.
func (j Job) Coalesces() bool {
	return j.Op == OpSummary || j.Op == OpSetGroup || j.Op == OpTicketState
}

// Nonce is the id a platform keeps with a message this job posts, so the
// job can find its own message after a crash (Slack metadata, Discord
// nonce).
func (j Job) Nonce() string { return j.Key }

// JobCounts counts unfinished jobs by destination and status, for
// /metrics and status.
type JobCounts map[string]map[JobStatus]int

// JobStore is the outbox.
type JobStore interface {
	Updater
	// DueJobs returns, for each queue, its first pending job if it is due
	// at now, most urgent priority first; at most limit of each priority
	// (0: all). want, when not nil, picks by key and destination which to
	// read, so a caller passes over what it cannot start without paying for
	// it; its arguments are valid only during the call.
	DueJobs(ctx context.Context, now time.Time, limit int, want func(key, destination []byte) bool) ([]Job, error)
	// RetryNow makes the queue heads for destination that wait out a
	// backoff after failing (not a Retry-After) due at now, because the
	// destination answered again; it returns how many there were.
	RetryNow(ctx context.Context, destination string, now time.Time) (int, error)
	// FinishJob records a job's outcome (done, failed, or pending with its
	// next attempt) and runs then, in the same transaction, which may write
	// what the job made (a channel, a summary's place) and more jobs. A job
	// cancelled while it ran is recorded (and then run) only if it is done.
	FinishJob(ctx context.Context, j Job, then func(tx Tx) error) error
	// StillDue reports whether j, as read from DueJobs, is still due as it
	// was read: every outcome recorded since moves or removes its due row.
	StillDue(ctx context.Context, j Job) (bool, error)
	// Named returns the message posted under name (Tx.NameMessage).
	Named(ctx context.Context, name string) (ref MessageRef, found bool, err error)
	// PendingJobs returns the unfinished jobs of an incident, oldest first.
	PendingJobs(ctx context.Context, incidentID uuid.UUID) ([]Job, error)
	// CountJobs counts unfinished jobs by destination and status.
	CountJobs(ctx context.Context) (JobCounts, error)
	// MarkStarted records that job key's attempt began at at: a chat job
	// found started but not finished after a crash or a failover may have
	// acted, and looks for what it made before acting again (the mark goes
	// when its outcome is recorded). CreatingChannels reports whether a
	// channel on platform p is being created since since, so a replica
	// that sees activity in a channel it does not know yet waits for the
	// record instead of dropping it.
	MarkStarted(ctx context.Context, key string, at time.Time) error
	CreatingChannels(ctx context.Context, p Platform, since time.Time) (bool, error)
}

// ChatJob is a chat job on platform p at the end of queue, due at now.
func ChatJob(p Platform, queue string, op JobOp, now time.Time) Job {
	return Job{Queue: queue, Platform: p, Op: op, NextAttempt: now, Created: now}
}

// IncidentJob is a chat job about inc, due at now, at the end of inc's
// queue: it acts in the incident's channel on the incident's platform.
func IncidentJob(inc *Incident, op JobOp, now time.Time) Job {
	j := ChatJob(inc.Platform, inc.ID.String(), op, now)
	j.IncidentID = inc.ID
	return j
}
