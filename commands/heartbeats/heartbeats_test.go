package heartbeats_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/alerts"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/heartbeats"
)

func TestHeartbeatMissedDeclaresAndPingResolves(t *testing.T) {
	e := commandstest.NewNight(t, commandstest.Services("db"))
	intake := newIntake(e, alerts.Config{MitigateOnResolve: true})
	cfg := []heartbeats.Config{{Name: "backup", Interval: time.Hour, Grace: 10 * time.Minute, Service: "db", Severity: "SEV2"}}
	hb := heartbeats.New(e.Store, intake, e.Clock, zerolog.Nop(), cfg)
	if err := hb.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := hb.Ping(context.Background(), "nosuch"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("ping of an unknown heartbeat: %v", err)
	}

	// Pings in time keep it quiet.
	for range 3 {
		e.Clock.Advance(50 * time.Minute)
		if err := hb.Ping(context.Background(), "backup"); err != nil {
			t.Fatal(err)
		}
		hb.Tick(context.Background(), e.Clock.Now())
	}
	e.Clock.Advance(69 * time.Minute)
	hb.Tick(context.Background(), e.Clock.Now())
	if n := e.IncidentCount(); n != 0 {
		t.Fatalf("%d incidents while the heartbeat is within its grace", n)
	}

	// A restart (a new watcher on the same store) keeps the timer.
	hb = heartbeats.New(e.Store, intake, e.Clock, zerolog.Nop(), cfg)
	if err := hb.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(2 * time.Minute)
	hb.Tick(context.Background(), e.Clock.Now())
	hb.Tick(context.Background(), e.Clock.Now().Add(time.Hour)) // once only
	e.Outbox.Drain(context.Background())
	if n := e.IncidentCount(); n != 1 {
		t.Fatalf("%d incidents after a missed heartbeat; want 1", n)
	}
	inc := e.Incident(1)
	if inc.Title != "Heartbeat backup missed" || inc.Service != "db" || inc.Severity.Name != "SEV2" || !strings.Contains(inc.Summary, "No ping for 1h 11m (expected every 1h, grace 10m)") {
		t.Errorf("incident = %q %q %s %q", inc.Title, inc.Service, inc.Severity.Name, inc.Summary)
	}

	// The late ping resolves the alert: the incident is mitigated.
	e.Clock.Advance(5 * time.Minute)
	if err := hb.Ping(context.Background(), "backup"); err != nil {
		t.Fatal(err)
	}
	if st := e.Incident(1).Status; st != bot.StatusMitigated {
		t.Errorf("status after the late ping = %s; want mitigated", st)
	}
	e.Do("alice", inc.Channel.ID, "/incident resolve")

	// Silence again: a new incident.
	e.Clock.Advance(71 * time.Minute)
	hb.Tick(context.Background(), e.Clock.Now())
	if n := e.IncidentCount(); n != 2 {
		t.Errorf("%d incidents after a second silence; want 2", n)
	}
}

func TestHeartbeatThatNeverPingsIsNoticed(t *testing.T) {
	e := commandstest.NewNight(t)
	intake := newIntake(e, alerts.Config{})
	hb := heartbeats.New(e.Store, intake, e.Clock, zerolog.Nop(), []heartbeats.Config{{Name: "etl", Interval: time.Hour}})
	hb.Start(context.Background())
	hb.Tick(context.Background(), e.Clock.Now().Add(59*time.Minute))
	if e.IncidentCount() != 0 {
		t.Fatal("declared before the first interval passed")
	}
	hb.Tick(context.Background(), e.Clock.Now().Add(61*time.Minute))
	if e.IncidentCount() != 1 || !strings.Contains(e.Incident(1).Summary, "since klaxon started watching") {
		t.Errorf("a heartbeat that never pinged: %d incidents", e.IncidentCount())
	}
}

// newIntake is the alert intake of e's incidents, declaring on the console.
func newIntake(e *commandstest.Env, cfg alerts.Config) *alerts.Alerts {
	cfg.Platform = bot.PlatformConsole
	return alerts.New(e.Store, e.Incidents, e.Clock, zerolog.Nop(), cfg)
}
