package commands

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// HookConfig is one outgoing event webhook.
type HookConfig struct {
	ID     string
	Events []string // bot.Hook* names
	// Post makes one signed attempt at a delivery (pager.SignedPost in
	// production).
	Post func(ctx context.Context, d bot.HookDelivery) bot.SendResult
}

// HookIncident is the incident as hook receivers see it.
type HookIncident struct {
	ID         string            `json:"id"`
	Key        string            `json:"key"`
	Title      string            `json:"title"`
	Severity   string            `json:"severity"`
	Status     string            `json:"status"`
	Service    string            `json:"service,omitempty"`
	Private    bool              `json:"private"`
	Commander  string            `json:"commander,omitempty"`
	Channel    string            `json:"channel,omitempty"`
	DeclaredAt time.Time         `json:"declared_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	ResolvedAt time.Time         `json:"resolved_at,omitzero"`
	Extra      map[string]string `json:"extra,omitempty"`
}

// HookBody is the JSON body of an outgoing event.
type HookBody struct {
	Event    string       `json:"event"`
	Delivery string       `json:"delivery"`
	Time     time.Time    `json:"time"`
	Text     string       `json:"text,omitempty"` // what happened, as on the timeline
	Incident HookIncident `json:"incident"`
}

// Hooks sends lifecycle events to outgoing webhooks through their own
// outbox, with retries and backoff like pages.
type Hooks struct {
	store bot.HookStore
	clock bot.Clock
	log   zerolog.Logger
	hooks map[string]HookConfig
	// backlog: hooks that may have events held back by an outage.
	backlog backlog
}

// NewHooks returns the hook sender and makes incidents emit events, or
// nil when no hook is configured or the store cannot keep an outbox.
func NewHooks(incidents *Incidents, clock bot.Clock, log zerolog.Logger, cfg []HookConfig) *Hooks {
	hs, ok := incidents.store.(bot.HookStore)
	if !ok || len(cfg) == 0 {
		return nil
	}
	h := &Hooks{store: hs, clock: clock, log: log.With().Str("component", "hooks").Logger(), hooks: map[string]HookConfig{}}
	for _, c := range cfg {
		h.hooks[c.ID] = c
	}
	incidents.hooks = h
	return h
}

// hookFor maps a timeline event kind to the hook event it makes.
var hookFor = map[bot.EventKind]string{
	bot.EventUpdate:       bot.HookUpdated,
	bot.EventSeverity:     bot.HookSeverityChanged,
	bot.EventAcknowledged: bot.HookAcknowledged,
	bot.EventMitigated:    bot.HookMitigated,
	bot.EventResolved:     bot.HookResolved,
	bot.EventClosed:       bot.HookClosed,
}

// deliveries returns event for every hook subscribed to it, to enqueue
// with the change that makes it.
func (h *Hooks) deliveries(event string, inc *bot.Incident, text string, extra map[string]string) []bot.HookDelivery {
	if h == nil {
		return nil
	}
	now := h.clock.Now()
	var ds []bot.HookDelivery
	for id, c := range h.hooks {
		if !slices.Contains(c.Events, event) {
			continue
		}
		key := bot.NewID().String()
		body, err := json.Marshal(HookBody{Event: event, Delivery: key, Time: now.UTC(), Text: text, Incident: hookIncident(inc, extra)})
		if err != nil {
			h.log.Error().Err(err).Msg("encoding a hook event")
			return nil
		}
		ds = append(ds, bot.HookDelivery{Key: key, Hook: id, Event: event, Body: body, Status: bot.DeliveryPending, NextAttempt: now, Created: now})
	}
	slices.SortFunc(ds, func(a, b bot.HookDelivery) int { return strings.Compare(a.Hook, b.Hook) })
	return ds
}

// emit enqueues event for every hook subscribed to it, in a transaction
// of its own: for events that follow no change of the incident.
func (h *Hooks) emit(ctx context.Context, event string, inc *bot.Incident, text string, extra map[string]string) {
	ds := h.deliveries(event, inc, text, extra)
	if len(ds) == 0 {
		return
	}
	if err := h.store.EnqueueHooks(ctx, ds); err != nil {
		h.log.Error().Err(err).Str("event", event).Str("incident", inc.Key()).Msg("could not queue hook events")
	}
}

func hookIncident(inc *bot.Incident, extra map[string]string) HookIncident {
	out := HookIncident{ID: inc.ID.String(), Key: inc.Key(), Title: inc.Title, Severity: inc.Severity.Name, Status: string(inc.Status),
		Service: inc.Service, Private: inc.Private, Channel: inc.Channel.Name, DeclaredAt: inc.DeclaredAt.UTC(), UpdatedAt: inc.UpdatedAt.UTC(),
		ResolvedAt: inc.ResolvedAt.UTC(), Extra: extra}
	if c, ok := inc.Commander(); ok {
		out.Commander = c.Name
	}
	return out
}

// Tick sends due hook deliveries, a few at a time.
func (h *Hooks) Tick(ctx context.Context, now time.Time) {
	if h == nil {
		return
	}
	due, err := h.store.DueHooks(ctx, now, 256)
	if err != nil {
		h.log.Error().Err(err).Msg("reading the hook outbox")
		return
	}
	// One hook's events go one after another, oldest first (after an
	// outage, in the order they happened); different hooks in parallel.
	byHook := groupBy(due, func(d bot.HookDelivery) string { return d.Hook })
	parallel(byHook, 8, func(ds []bot.HookDelivery) {
		for _, d := range ds {
			h.send(ctx, d, now)
		}
	})
}

// maxHookAttempts is when a hook delivery that keeps failing gives up
// (about a day of backoff).
const maxHookAttempts = 20

func (h *Hooks) send(ctx context.Context, d bot.HookDelivery, now time.Time) {
	var res bot.SendResult
	c, ok := h.hooks[d.Hook]
	if !ok {
		res = bot.SendResult{Permanent: true, Err: errHookGone}
	} else {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		res = c.Post(sctx, d)
		cancel()
	}
	updated, err := h.store.UpdateHook(ctx, d.Key, func(x *bot.HookDelivery) error {
		if x.Status != bot.DeliveryPending {
			return nil
		}
		x.Attempts++
		switch {
		case res.Sent:
			x.Status, x.SentAt, x.LastError = bot.DeliverySent, h.clock.Now(), ""
		case res.Permanent || x.Attempts >= maxHookAttempts:
			x.Status = bot.DeliveryFailed
			if res.Err != nil {
				x.LastError = res.Err.Error()
			}
		default:
			wait := res.RetryAfter
			if wait == 0 {
				wait = min(2*time.Second<<min(x.Attempts-1, 12), 2*time.Hour)
			}
			x.NextAttempt = now.Add(wait)
			if res.Err != nil {
				x.LastError = res.Err.Error()
			}
		}
		return nil
	})
	if err != nil {
		h.log.Error().Err(err).Str("delivery", d.Key).Msg("recording a hook delivery")
		return
	}
	log := h.log.With().Str("hook", d.Hook).Str("event", d.Event).Str("delivery", d.Key).Int("attempt", updated.Attempts).Logger()
	switch updated.Status {
	case bot.DeliverySent:
		log.Debug().Msg("hook delivered")
		// It answers: what waits out a backoff for it goes on the next tick.
		if n, err := h.backlog.release(d.Hook, func() (int, error) { return h.store.RetryHooksNow(ctx, d.Hook, h.clock.Now()) }); err != nil {
			log.Error().Err(err).Msg("releasing hook events held back by an outage")
		} else if n > 0 {
			log.Info().Int("events", n).Msg("hook reachable again; sending what waited")
		}
	case bot.DeliveryFailed:
		log.Warn().Str("error", updated.LastError).Msg("hook delivery failed for good")
	default:
		h.backlog.held(d.Hook)
		log.Info().Str("error", updated.LastError).Time("retry_at", updated.NextAttempt).Msg("hook not delivered yet; will retry")
	}
}

var errHookGone = bot.Errorf(bot.EINVALID, "this hook is no longer configured")
