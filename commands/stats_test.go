package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
)

func TestMetrics(t *testing.T) {
	inc := &bot.Incident{DetectedAt: t0.Add(-3 * time.Minute), DeclaredAt: t0, AcknowledgedAt: t0.Add(4 * time.Minute),
		MitigatedAt: t0.Add(20 * time.Minute), ResolvedAt: t0.Add(time.Hour)}
	m := inc.Metrics()
	if m.TTD != 3*time.Minute || m.TTA != 4*time.Minute || m.TTM != 20*time.Minute || m.TTR != time.Hour {
		t.Errorf("metrics = %+v", m)
	}
	if m := (&bot.Incident{DeclaredAt: t0}).Metrics(); m != (bot.Metrics{}) {
		t.Errorf("a fresh incident's metrics = %+v; want all zero", m)
	}
}

func TestComputeStats(t *testing.T) {
	sev := bot.DefaultSeverities()
	mk := func(daysAgo int, s int, svc string, status bot.Status, tta, ttr time.Duration) *bot.Incident {
		at := t0.Add(-time.Duration(daysAgo) * 24 * time.Hour)
		inc := &bot.Incident{DeclaredAt: at, Severity: sev[s], Service: svc, Status: status}
		if tta > 0 {
			inc.AcknowledgedAt = at.Add(tta)
		}
		if ttr > 0 {
			inc.ResolvedAt, inc.MitigatedAt = at.Add(ttr), at.Add(ttr)
		}
		return inc
	}
	incs := []*bot.Incident{
		mk(1, 0, "payments", bot.StatusResolved, 2*time.Minute, time.Hour),
		mk(2, 1, "payments", bot.StatusResolved, 4*time.Minute, 3*time.Hour),
		mk(3, 1, "db", bot.StatusOpen, 0, 0),
		mk(40, 0, "db", bot.StatusOpen, 0, 0), // outside the window, still open
	}
	st := commands.ComputeStats(incs, t0, 30*24*time.Hour, "")
	if st.Count != 3 || st.BySeverity["SEV1"] != 1 || st.BySeverity["SEV2"] != 2 || st.ByService["payments"] != 2 {
		t.Errorf("counts = %+v", st)
	}
	if st.MTTA != 3*time.Minute || st.MTTR != 2*time.Hour {
		t.Errorf("MTTA %v, MTTR %v; want 3m and 2h", st.MTTA, st.MTTR)
	}
	if len(st.LongestOpen) != 2 || st.LongestOpen[0] != incs[3] {
		t.Errorf("longest open = %v; want the 40-day-old incident first", st.LongestOpen)
	}
	if st := commands.ComputeStats(incs, t0, 30*24*time.Hour, "db"); st.Count != 1 || st.MTTA != 0 {
		t.Errorf("db stats = %+v", st)
	}
}

func TestTimelineAndStatsCommands(t *testing.T) {
	e := newEnv(t)
	e.do("alice", "general", "/incident declare DB down sev:2 service:db")
	ch := e.incident(1).Channel.ID
	e.clock.Advance(time.Minute)
	e.do("bob", ch, "/incident ack")
	e.do("alice", ch, "/incident note failover started")
	e.mux.Activity(ctx(), bot.Activity{Platform: bot.PlatformConsole, Channel: bot.ChannelRef{ID: ch}, User: bot.User{ID: "bob"},
		Kind: bot.EventMessage, Text: "primary gone | `rm -rf`", SourceID: "m1", Time: e.clock.Now()})
	key := e.do("alice", ch, "/incident timeline")
	if !strings.Contains(key, "INC-1 key events") || !strings.Contains(key, "@alice 🚨 declared SEV2: DB down") || !strings.Contains(key, "📌 @alice note: failover started") || strings.Contains(key, "primary gone") {
		t.Errorf("key events:\n%s", key)
	}
	all := e.do("alice", ch, "/incident timeline all")
	if !strings.Contains(all, "message: primary gone") {
		t.Errorf("all events:\n%s", all)
	}
	if got := e.do("alice", ch, "/incident timeline everything"); !strings.Contains(got, "takes nothing or `all`") {
		t.Errorf("bad argument: %s", got)
	}
	stats := e.do("alice", "general", "/incident stats 7d")
	if !strings.Contains(stats, "Incidents in the last 7d") || !strings.Contains(stats, "MTTA:") || !strings.Contains(stats, "1m") || !strings.Contains(stats, "Longest open") {
		t.Errorf("stats:\n%s", stats)
	}
}
