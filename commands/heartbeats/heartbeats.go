// Package heartbeats watches for pings that stop: a heartbeat missed goes
// through the alert intake as a firing alert, so it declares an incident
// (and pages) like any alert; the next ping resolves it.
package heartbeats

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Config is one heartbeat: something that must ping klaxon at
// least every Interval (plus Grace), or its silence becomes an incident.
type Config struct {
	Name     string
	Interval time.Duration
	Grace    time.Duration
	Service  string
	Severity string
}

// Heartbeats watches heartbeats. A missed one goes through the alert
// intake as a firing alert of group "heartbeat:<name>", so it declares an
// incident (and pages) like any alert; the next ping resolves it.
type Heartbeats struct {
	store  bot.HeartbeatStore
	alerts Intake
	clock  bot.Clock
	log    zerolog.Logger
	byName map[string]Config
}

// Intake is where a missed heartbeat goes: the alert intake.
type Intake interface {
	Intake(ctx context.Context, alerts []bot.Alert) (bot.AlertReceipt, error)
}

// New returns the heartbeat watcher of cfg.
func New(store bot.HeartbeatStore, alerts Intake, clock bot.Clock, log zerolog.Logger, cfg []Config) *Heartbeats {
	h := &Heartbeats{store: store, alerts: alerts, clock: clock, log: log.With().Str("component", "heartbeats").Logger(), byName: map[string]Config{}}
	for _, c := range cfg {
		h.byName[c.Name] = c
	}
	return h
}

// Start arms the timer of every configured heartbeat that has none, so a
// pipeline that never pings is noticed too.
func (h *Heartbeats) Start(ctx context.Context) error {
	now := h.clock.Now()
	for name, c := range h.byName {
		_, ok, err := h.store.Heartbeat(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			if err := h.store.PutHeartbeat(ctx, bot.HeartbeatState{Name: name, Due: now.Add(c.Interval + c.Grace)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Known reports whether name is a configured heartbeat.
func (h *Heartbeats) Known(name string) bool { _, ok := h.byName[name]; return ok }

// Ping records a ping: the timer restarts, and a missed heartbeat's
// alert resolves. The state is stored before Ping returns.
func (h *Heartbeats) Ping(ctx context.Context, name string) error {
	c, ok := h.byName[name]
	if !ok {
		return bot.Errorf(bot.ENOTFOUND, "there is no heartbeat %q", name)
	}
	now := h.clock.Now()
	prev, _, err := h.store.Heartbeat(ctx, name)
	if err != nil {
		return bot.Internal(err, "klaxon could not read the heartbeat")
	}
	if prev.Missed {
		// Resolve first: if that fails the ping fails, and the sender retries.
		if _, err := h.alerts.Intake(ctx, []bot.Alert{h.alert(c, false, now, prev.LastPing)}); err != nil {
			return err
		}
		h.log.Info().Str("heartbeat", name).Msg("heartbeat is back")
	}
	hb := bot.HeartbeatState{Name: name, LastPing: now, Due: now.Add(c.Interval + c.Grace)}
	if err := h.store.PutHeartbeat(ctx, hb); err != nil {
		return bot.Internal(err, "klaxon could not save the ping")
	}
	return nil
}

// Tick fires the alert of every heartbeat whose ping is overdue. A
// missed heartbeat alerts once; its timer then waits for the next ping.
func (h *Heartbeats) Tick(ctx context.Context, now time.Time) {
	names, err := h.store.DueHeartbeats(ctx, now)
	if err != nil {
		h.log.Error().Err(err).Msg("reading due heartbeats")
		return
	}
	for _, name := range names {
		hb, _, err := h.store.Heartbeat(ctx, name)
		if err != nil {
			h.log.Error().Err(err).Str("heartbeat", name).Msg("reading a heartbeat")
			continue
		}
		c, ok := h.byName[name]
		if !ok || hb.Missed {
			// Removed from the config, or already alerted: park the timer far away.
			hb.Due = now.Add(100 * 365 * 24 * time.Hour)
			if err := h.store.PutHeartbeat(ctx, hb); err != nil {
				h.log.Error().Err(err).Str("heartbeat", name).Msg("parking a heartbeat")
			}
			continue
		}
		if _, err := h.alerts.Intake(ctx, []bot.Alert{h.alert(c, true, now, hb.LastPing)}); err != nil {
			h.log.Error().Err(err).Str("heartbeat", name).Msg("alerting on a missed heartbeat; will retry")
			continue // the due row stays: the next tick tries again
		}
		hb.Missed, hb.Due = true, now.Add(100*365*24*time.Hour)
		if err := h.store.PutHeartbeat(ctx, hb); err != nil {
			h.log.Error().Err(err).Str("heartbeat", name).Msg("saving a missed heartbeat")
		}
		h.log.Warn().Str("heartbeat", name).Time("last_ping", hb.LastPing).Msg("heartbeat missed")
	}
}

func (h *Heartbeats) alert(c Config, firing bool, now, last time.Time) bot.Alert {
	detail := fmt.Sprintf("No ping for %s (expected every %s, grace %s).", bot.Duration(now.Sub(last)), bot.Duration(c.Interval), bot.Duration(c.Grace))
	if last.IsZero() {
		detail = fmt.Sprintf("No ping since klaxon started watching (expected every %s, grace %s).", bot.Duration(c.Interval), bot.Duration(c.Grace))
	}
	title := "Heartbeat " + c.Name + " missed"
	if !firing {
		detail = "Pinged again at " + bot.Stamp(now) + "."
	}
	return bot.Alert{Source: "heartbeat", GroupKey: "heartbeat:" + c.Name, Title: title, Severity: c.Severity, Service: c.Service,
		Firing: firing, GroupResolved: !firing, Labels: map[string]string{"heartbeat": c.Name}, StartsAt: now, Detail: detail}
}
