// Package hooks sends incident events to outgoing webhooks: each change
// the configured hooks subscribe to becomes a signed delivery job, sent
// by the outbox.
package hooks

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/outbox"
)

// Config is one outgoing event webhook.
type Config struct {
	ID     string
	Events []string // bot.Hook* names
	// Post makes one signed attempt at a delivery (pager.SignedPost in
	// production).
	Post func(ctx context.Context, d bot.HookDelivery) bot.SendResult
}

// Incident is the incident as hook receivers see it.
type Incident struct {
	ID         string            `json:"id"`
	Key        string            `json:"key"`
	Title      string            `json:"title"`
	Severity   string            `json:"severity"`
	Status     string            `json:"status"`
	Service    string            `json:"service,omitempty"`
	Private    bool              `json:"private"`
	Type       string            `json:"type,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
	Commander  string            `json:"commander,omitempty"`
	Channel    string            `json:"channel,omitempty"`
	DeclaredAt time.Time         `json:"declared_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	ResolvedAt time.Time         `json:"resolved_at,omitzero"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// Body is the JSON body of an outgoing event.
type Body struct {
	Event    string    `json:"event"`
	Delivery string    `json:"delivery"`
	Time     time.Time `json:"time"`
	Text     string    `json:"text,omitempty"` // what happened, as on the timeline
	Incident Incident  `json:"incident"`
}

var (
	_ bot.Follower  = (*Hooks)(nil)
	_ outbox.Sender = (*Hooks)(nil)
)

// Hooks follows changes with events for outgoing webhooks, queued as
// jobs in the outbox with the change, and sends them from there.
type Hooks struct {
	clock bot.Clock
	log   zerolog.Logger
	hooks map[string]Config
}

// New returns the hook follower and sender, or nil when no hook is
// configured.
func New(clock bot.Clock, log zerolog.Logger, cfg []Config) *Hooks {
	if len(cfg) == 0 {
		return nil
	}
	h := &Hooks{clock: clock, log: log.With().Str("component", "hooks").Logger(), hooks: map[string]Config{}}
	for _, c := range cfg {
		h.hooks[c.ID] = c
	}
	return h
}

// hookFor maps a change to the hook event it makes.
var hookFor = map[bot.EventKind]string{
	bot.EventDeclared:     bot.HookDeclared,
	bot.EventUpdate:       bot.HookUpdated,
	bot.EventSeverity:     bot.HookSeverityChanged,
	bot.EventAcknowledged: bot.HookAcknowledged,
	bot.EventMitigated:    bot.HookMitigated,
	bot.EventResolved:     bot.HookResolved,
	bot.EventClosed:       bot.HookClosed,
	bot.EventFollowUp:     bot.HookFollowUpCreated,
	bot.ChangePostmortem:  bot.HookPostmortemCreated,
}

// Follow implements bot.Follower: the change's event, for every hook
// subscribed to it, joins the change's transaction.
func (h *Hooks) Follow(tx bot.Tx, ch bot.Change) error {
	event, ok := hookFor[ch.Kind]
	if !ok || ch.Again {
		return nil
	}
	return tx.Enqueue(h.jobs(event, ch.Incident, ch.Text, ch.Extra)...)
}

// jobs returns event for every hook subscribed to it, as outbox jobs: one
// queue per hook, so each receives its events in order.
func (h *Hooks) jobs(event string, inc *bot.Incident, text string, extra map[string]string) []bot.Job {
	now := h.clock.Now()
	var out []bot.Job
	for id, c := range h.hooks {
		if !slices.Contains(c.Events, event) {
			continue
		}
		key := bot.NewID().String()
		body, err := json.Marshal(Body{Event: event, Delivery: key, Time: now.UTC(), Text: text, Incident: incidentOf(inc, extra)})
		if err != nil {
			h.log.Error().Err(err).Msg("encoding a hook event")
			return nil
		}
		out = append(out, bot.Job{Queue: "hook:" + id, Op: bot.OpHook, IncidentID: inc.ID,
			Hook: &bot.HookDelivery{Key: key, Hook: id, Event: event, Body: body}, NextAttempt: now, Created: now})
	}
	slices.SortFunc(out, func(a, b bot.Job) int { return strings.Compare(a.Queue, b.Queue) })
	return out
}

func incidentOf(inc *bot.Incident, extra map[string]string) Incident {
	out := Incident{ID: inc.ID.String(), Key: inc.Key(), Title: inc.Title, Severity: inc.Severity.Name, Status: string(inc.Status),
		Service: inc.Service, Private: inc.Private, Type: inc.Type, Fields: inc.Fields, Channel: inc.Channel.Name, DeclaredAt: inc.DeclaredAt.UTC(), UpdatedAt: inc.UpdatedAt.UTC(),
		ResolvedAt: inc.ResolvedAt.UTC(), Extra: extra}
	if c, ok := inc.Commander(); ok {
		out.Commander = c.Name
	}
	return out
}

// hookTimeout bounds one attempt.
const hookTimeout = 15 * time.Second

// Send implements outbox.Sender: one signed attempt. A hook that stays down is
// retried with backoff until it answers; nothing is dropped after N
// tries. A shutdown does not cut an attempt short, so one the receiver
// accepted is recorded as sent.
func (h *Hooks) Send(ctx context.Context, j bot.Job, _ bool) (outbox.Then, error) {
	d := *j.Hook
	c, ok := h.hooks[d.Hook]
	if !ok {
		return nil, errHookGone
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hookTimeout)
	defer cancel()
	return nil, outbox.ResultError(c.Post(sctx, d))
}

var errHookGone = bot.Errorf(bot.EREFUSED, "this hook is no longer configured")
