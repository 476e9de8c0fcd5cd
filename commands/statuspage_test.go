package commands_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/alerts"
)

func statusPage(t *testing.T, e *env, services bot.Services) bot.StatusPage {
	t.Helper()
	incs, err := e.store.ListIncidents(ctx(), bot.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return commands.BuildStatusPage(incs, services, bot.DefaultSeverities(), nil, e.clock.Now())
}

func TestStatusPageShowsOnlyPublicIncidentsAndUpdates(t *testing.T) {
	e := newEnv(t, withServices("db", "api", "web"))
	services := bot.Services{{ID: "db", Name: "Database"}, {ID: "api", Name: "API"}, {ID: "web", Name: "Website"}}
	if p := statusPage(t, e, services); p.State != bot.StateOperational || len(p.Active) != 0 || p.Services[0].State != bot.StateOperational {
		t.Fatalf("empty page = %+v", p)
	}

	e.do("alice", "general", "/incident declare Old outage sev:2 service:web") // INC-1, resolved 100 days ago
	e.do("alice", e.incident(1).Channel.ID, "/incident resolve")
	e.clock.Advance(100 * 24 * time.Hour)
	e.do("alice", "general", "/incident declare Checkout errors sev:2 service:api") // INC-2, resolved 10 days ago
	e.do("alice", e.incident(2).Channel.ID, "/incident update --public Card payments fail for some customers")
	e.clock.Advance(time.Hour)
	e.do("alice", e.incident(2).Channel.ID, "/incident resolve")
	e.clock.Advance(10 * 24 * time.Hour)
	e.do("alice", "general", "/incident declare Primary database down sev:1 service:db")    // INC-3, active
	e.do("alice", "general", "/incident declare Credential leak sev:1 service:api private") // INC-4, private
	e.do("alice", "general", "/incident declare Slow search sev:3 service:api")             // INC-5, active
	db := e.incident(3).Channel.ID
	e.do("alice", db, "/incident update internal: failover of pg-main-1 to pg-main-2")
	e.clock.Advance(time.Minute)
	e.do("alice", db, "/incident update --public Some requests fail; we are failing over the database")
	e.clock.Advance(time.Minute)
	e.do("alice", db, "/incident update --public The failover is done; we are watching error rates")
	if got := e.do("alice", e.incident(4).Channel.ID, "/incident update --public leaked"); !strings.Contains(got, "is private") {
		t.Errorf("a public update on a private incident: %q", got)
	}

	p := statusPage(t, e, services)
	if p.State != bot.StateMajor {
		t.Errorf("overall state = %s; want major_outage (a SEV1 is active)", p.State)
	}
	states := map[string]string{}
	for _, s := range p.Services {
		states[s.ID] = s.State
	}
	if states["db"] != bot.StateMajor || states["api"] != bot.StateDegraded || states["web"] != bot.StateOperational {
		t.Errorf("service states = %v; the private SEV1 on api must not count", states)
	}
	if len(p.Active) != 2 || p.Active[0].Key != "INC-5" || p.Active[1].Key != "INC-3" {
		t.Fatalf("active = %+v", p.Active)
	}
	db3 := p.Active[1]
	if len(db3.Updates) != 2 || db3.Updates[0].Text != "The failover is done; we are watching error rates" || db3.Status != "investigating" {
		t.Errorf("INC-3 public view = %+v", db3)
	}
	if len(p.History) != 1 || p.History[0].Key != "INC-2" || p.History[0].Duration == "" || p.History[0].Updates[0].Text != "Card payments fail for some customers" {
		t.Errorf("history = %+v; want INC-2 only (INC-1 is older than 90 days)", p.History)
	}
	// Nothing private or internal anywhere in what the public sees.
	all := strings.ToLower(strings.Join(func() []string {
		var out []string
		for _, list := range [][]bot.PublicIncident{p.Active, p.History} {
			for _, inc := range list {
				out = append(out, inc.Title)
				for _, u := range inc.Updates {
					out = append(out, u.Text)
				}
			}
		}
		return out
	}(), "\n"))
	for _, secret := range []string{"credential", "pg-main", "leaked", "old outage"} {
		if strings.Contains(all, secret) {
			t.Errorf("the status page shows %q:\n%s", secret, all)
		}
	}
}

// An incident an alert declared stays off the status page until a person
// posts a public update, unless its route lists it at once.
func TestAlertIncidentsReachTheStatusPageByChoice(t *testing.T) {
	e := newEnv(t, withServices("db", "api"))
	intake := alerts.New(e.store, e.inc, e.clock, zerolog.Nop(), alerts.Config{Platform: bot.PlatformConsole, Routes: []alerts.Route{
		{Match: map[string]*regexp.Regexp{"team": regexp.MustCompile(`^(?:api)$`)}, Service: "api", Public: true}}})
	firing := func(group, title string, labels map[string]string) bot.Alert {
		return bot.Alert{Source: "generic", GroupKey: group, Title: title, Firing: true, Labels: labels}
	}
	if _, err := intake.Intake(ctx(), []bot.Alert{firing("g1", "db disk 91% full", map[string]string{"team": "db"}), firing("g2", "api 5xx", map[string]string{"team": "api"})}); err != nil {
		t.Fatal(err)
	}
	e.inc.Outbox().Drain(ctx())
	keys := func() []string {
		var out []string
		for _, pi := range statusPage(t, e, nil).Active {
			out = append(out, pi.Key)
		}
		return out
	}
	if got := keys(); len(got) != 1 || got[0] != "INC-2" {
		t.Fatalf("status page lists %v; want only INC-2 (its route is public)", got)
	}
	e.do("alice", e.incident(1).Channel.ID, "/incident update --public Writes to the database are slow")
	if got := keys(); len(got) != 2 {
		t.Errorf("after a public update, the status page lists %v; want both", got)
	}
}

// TestStatusHistoryByDay: each service's last 90 days, oldest first, a
// day taking the worst state of the public incidents that touched it,
// with their names; private incidents leave no mark.
func TestStatusHistoryByDay(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	sevs := bot.DefaultSeverities()
	day := func(d int) time.Time { return now.AddDate(0, 0, -d) }
	incs := []*bot.Incident{
		{Number: 1, Title: "Checkout slow", Service: "payments", Severity: sevs[2], Status: bot.StatusResolved, DeclaredAt: day(3), ResolvedAt: day(2)},
		{Number: 2, Title: "Checkout down", Service: "payments", Severity: sevs[0], Status: bot.StatusResolved, DeclaredAt: day(2).Add(time.Hour), ResolvedAt: day(2).Add(2 * time.Hour)},
		{Number: 3, Title: "Payroll leak", Service: "payments", Severity: sevs[0], Status: bot.StatusResolved, DeclaredAt: day(10), ResolvedAt: day(9), Private: true},
		{Number: 4, Title: "Old one", Service: "payments", Severity: sevs[0], Status: bot.StatusResolved, DeclaredAt: day(120), ResolvedAt: day(119)},
	}
	p := commands.BuildStatusPage(incs, bot.Services{{ID: "payments", Name: "Payments"}, {ID: "search", Name: "Search"}}, sevs, nil, now)
	pay := p.Services[0].Days
	if len(pay) != 90 || pay[89].Date != "2026-12-06" || pay[0].Date != "2026-09-08" {
		t.Fatalf("days %d, %s … %s", len(pay), pay[0].Date, pay[len(pay)-1].Date)
	}
	at := func(d int) bot.DayStatus { return pay[89-d] }
	if s := at(3); s.State != bot.StateDegraded || len(s.Incidents) != 1 || s.Incidents[0] != "INC-1 Checkout slow" {
		t.Errorf("3 days ago: %+v", s)
	}
	if s := at(2); s.State != bot.StateMajor || len(s.Incidents) != 2 {
		t.Errorf("2 days ago: %+v", s)
	}
	if s := at(1); s.State != bot.StateOperational || len(s.Incidents) != 0 {
		t.Errorf("yesterday: %+v", s)
	}
	if s := at(10); s.State != bot.StateOperational {
		t.Errorf("a private incident marked its day: %+v", s)
	}
	if s := p.Services[1].Days; len(s) != 90 || s[50].State != bot.StateOperational {
		t.Errorf("a service without incidents: %+v", s[50])
	}
}
