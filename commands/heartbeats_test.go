package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/alerts"
	"github.com/klaxon-bot/klaxon/commands/heartbeats"
)

func TestHeartbeatMissedDeclaresAndPingResolves(t *testing.T) {
	e := newEnv(t, withServices("db"))
	intake := newAlerts(t, e, alerts.Config{MitigateOnResolve: true})
	cfg := []heartbeats.Config{{Name: "backup", Interval: time.Hour, Grace: 10 * time.Minute, Service: "db", Severity: "SEV2"}}
	hb := heartbeats.New(e.store, intake, e.clock, zerolog.Nop(), cfg)
	if err := hb.Start(ctx()); err != nil {
		t.Fatal(err)
	}
	if err := hb.Ping(ctx(), "nosuch"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("ping of an unknown heartbeat: %v", err)
	}

	// Pings in time keep it quiet.
	for range 3 {
		e.clock.Advance(50 * time.Minute)
		if err := hb.Ping(ctx(), "backup"); err != nil {
			t.Fatal(err)
		}
		hb.Tick(ctx(), e.clock.Now())
	}
	e.clock.Advance(69 * time.Minute)
	hb.Tick(ctx(), e.clock.Now())
	if n := e.incidentCount(); n != 0 {
		t.Fatalf("%d incidents while the heartbeat is within its grace", n)
	}

	// A restart (a new watcher on the same store) keeps the timer.
	hb = heartbeats.New(e.store, intake, e.clock, zerolog.Nop(), cfg)
	if err := hb.Start(ctx()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	hb.Tick(ctx(), e.clock.Now())
	hb.Tick(ctx(), e.clock.Now().Add(time.Hour)) // once only
	e.inc.Outbox().Drain(ctx())
	if n := e.incidentCount(); n != 1 {
		t.Fatalf("%d incidents after a missed heartbeat; want 1", n)
	}
	inc := e.incident(1)
	if inc.Title != "Heartbeat backup missed" || inc.Service != "db" || inc.Severity.Name != "SEV2" || !strings.Contains(inc.Summary, "No ping for 1h 11m (expected every 1h 00m, grace 10m)") {
		t.Errorf("incident = %q %q %s %q", inc.Title, inc.Service, inc.Severity.Name, inc.Summary)
	}

	// The late ping resolves the alert: the incident is mitigated.
	e.clock.Advance(5 * time.Minute)
	if err := hb.Ping(ctx(), "backup"); err != nil {
		t.Fatal(err)
	}
	if st := e.incident(1).Status; st != bot.StatusMitigated {
		t.Errorf("status after the late ping = %s; want mitigated", st)
	}
	e.do("alice", inc.Channel.ID, "/incident resolve")

	// Silence again: a new incident.
	e.clock.Advance(71 * time.Minute)
	hb.Tick(ctx(), e.clock.Now())
	if n := e.incidentCount(); n != 2 {
		t.Errorf("%d incidents after a second silence; want 2", n)
	}
}

func TestHeartbeatThatNeverPingsIsNoticed(t *testing.T) {
	e := newEnv(t)
	intake := newAlerts(t, e, alerts.Config{})
	hb := heartbeats.New(e.store, intake, e.clock, zerolog.Nop(), []heartbeats.Config{{Name: "etl", Interval: time.Hour}})
	hb.Start(ctx())
	hb.Tick(ctx(), e.clock.Now().Add(59*time.Minute))
	if e.incidentCount() != 0 {
		t.Fatal("declared before the first interval passed")
	}
	hb.Tick(ctx(), e.clock.Now().Add(61*time.Minute))
	if e.incidentCount() != 1 || !strings.Contains(e.incident(1).Summary, "since klaxon started watching") {
		t.Errorf("a heartbeat that never pinged: %d incidents", e.incidentCount())
	}
}
