package alerts_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/alerts"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
)

func newAlerts(t *testing.T, e *commandstest.Env, cfg alerts.Config) *alerts.Alerts {
	t.Helper()
	cfg.Platform = bot.PlatformConsole
	a := alerts.New(e.Store, e.Incidents, e.Clock, zerolog.Nop(), cfg)
	return a
}

func firingAlert(group, title string, labels map[string]string) bot.Alert {
	return bot.Alert{Source: "alertmanager", GroupKey: group, Title: title, Firing: true, Labels: labels,
		Severity: labels["severity"], Service: labels["service"], Links: []string{"http://prom/graph"}}
}

func resolvedAlert(group, title string) bot.Alert {
	return bot.Alert{Source: "alertmanager", GroupKey: group, Title: title, GroupResolved: true, Labels: map[string]string{"alertname": title}}
}

// An alert's start time is believed only within the last 30 days: a zero
// time from a source (0001-01-01) would make a detection time of centuries.
func TestImplausibleAlertStartTimesAreNotBelieved(t *testing.T) {
	e := commandstest.NewNight(t)
	a := newAlerts(t, e, alerts.Config{})
	al := firingAlert("g", "Disk full", nil)
	al.StartsAt = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := a.Intake(context.Background(), []bot.Alert{al}); err != nil {
		t.Fatal(err)
	}
	if inc := e.Incident(1); !inc.DetectedAt.Equal(inc.DeclaredAt) {
		t.Errorf("detected %v, declared %v; a start in year 1 must not count", inc.DetectedAt, inc.DeclaredAt)
	}
	al = firingAlert("h", "Slow burn", nil)
	al.StartsAt = e.Clock.Now().Add(-2 * time.Hour)
	a.Intake(context.Background(), []bot.Alert{al})
	if inc := e.Incident(2); !inc.DetectedAt.Equal(al.StartsAt) {
		t.Errorf("detected %v; want the alert's start two hours ago, %v", inc.DetectedAt, al.StartsAt)
	}
}

func TestAlertGroupsDeclareOnceAndRecordEveryAlert(t *testing.T) {
	e := commandstest.NewNight(t, commandstest.Services("db", "api"))
	a := newAlerts(t, e, alerts.Config{})
	r, err := a.Intake(context.Background(), []bot.Alert{
		firingAlert("g1", "DiskFull on db-1", map[string]string{"severity": "SEV2", "service": "db"}),
		firingAlert("g1", "DiskFull on db-2", map[string]string{"severity": "SEV2", "service": "db"}),
		firingAlert("g2", "HighLatency", map[string]string{"service": "nosuch"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Declared != 2 || r.Recorded != 3 || strings.Join(r.Incidents, ",") != "INC-1,INC-2" {
		t.Fatalf("receipt = %+v", r)
	}
	inc := e.Incident(1)
	if inc.Title != "DiskFull on db-1" || inc.Severity.Name != "SEV2" || inc.Service != "db" || inc.DeclaredBy.Name != "alertmanager" {
		t.Errorf("INC-1 = %q %s %q by %+v", inc.Title, inc.Severity.Name, inc.Service, inc.DeclaredBy)
	}
	if _, ok := inc.Commander(); ok {
		t.Errorf("an alert incident got a commander: %+v", inc.Roles)
	}
	// An unknown service still declares, without one; no severity: the default.
	if inc2 := e.Incident(2); inc2.Service != "" || inc2.Severity.Name != "SEV4" {
		t.Errorf("INC-2 = service %q severity %s", inc2.Service, inc2.Severity.Name)
	}
	e.Outbox.Drain(context.Background())
	// The alerts commit with the declaration; the channel follows.
	if got := commandstest.Kinds(e.Events(inc)); !strings.HasPrefix(got, "declared,alert,alert,channel") {
		t.Errorf("INC-1 timeline = %s", got)
	}
	if !strings.Contains(e.Out.String(), "nobody — take it") {
		t.Errorf("the summary does not ask for a commander:\n%s", e.Out.String())
	}

	// A new alert of the group goes on the same incident's timeline; an
	// alert sent again unchanged (still firing, as Alertmanager re-sends a
	// group) is counted on the incident, not written again; its
	// resolution and a new firing are written.
	alertEvents := func() (n int) {
		for _, ev := range e.Events(e.Incident(1)) {
			if ev.Kind == bot.EventAlert {
				n++
				if ev.Meta["group"] != "g1" || ev.Meta["state"] == "firing" && !strings.Contains(ev.Text, "http://prom/graph") {
					t.Errorf("alert event = %+v", ev)
				}
			}
		}
		return n
	}
	db1 := map[string]string{"severity": "SEV2", "service": "db"} // as declared
	steps := []struct {
		alerts             []bot.Alert
		recorded, repeated int
		events             int
	}{
		{[]bot.Alert{firingAlert("g1", "DiskFull on db-3", nil)}, 1, 0, 3},
		{[]bot.Alert{firingAlert("g1", "DiskFull on db-1", db1), firingAlert("g1", "DiskFull on db-1", db1), firingAlert("g1", "DiskFull on db-3", nil)}, 0, 3, 3},
		{[]bot.Alert{{Source: "alertmanager", GroupKey: "g1", Title: "DiskFull on db-1", Labels: db1}}, 1, 0, 4},
		{[]bot.Alert{firingAlert("g1", "DiskFull on db-1", db1)}, 1, 0, 5},
	}
	for i, st := range steps {
		r, err := a.Intake(context.Background(), st.alerts)
		if err != nil || r.Declared != 0 || r.Recorded != st.recorded || r.Repeated != st.repeated || r.Incidents[0] != "INC-1" {
			t.Fatalf("step %d: %+v, %v; want %d recorded, %d repeated", i, r, err, st.recorded, st.repeated)
		}
		if n := alertEvents(); n != st.events {
			t.Fatalf("step %d: %d alert events on INC-1; want %d", i, n, st.events)
		}
	}
	if e.IncidentCount() != 2 {
		t.Errorf("%d incidents after repeats; want 2", e.IncidentCount())
	}
	byTitle := map[string]bot.AlertState{}
	for _, st := range e.Incident(1).Alerts {
		byTitle[st.Title] = st
	}
	if got := byTitle["DiskFull on db-1"]; got.State != "firing" || got.Repeats != 0 {
		t.Errorf("db-1 after firing again: %+v", got)
	}
	if got := byTitle["DiskFull on db-3"]; got.State != "firing" || got.Repeats != 1 {
		t.Errorf("db-3 sent again once: %+v; want firing, 1 repeat", got)
	}
	// One title, other labels: another alert (another host), written.
	other := firingAlert("g1", "DiskFull on db-3", map[string]string{"instance": "db-3b"})
	if r, _ := a.Intake(context.Background(), []bot.Alert{other}); r.Recorded != 1 || alertEvents() != 6 {
		t.Errorf("the same title with other labels: %+v, %d alert events; want it written", r, alertEvents())
	}
}

// Two copies of one alert in the batch that declares its incident: the
// timeline says it once, the receipt counts the copy as repeated.
func TestACopyInTheDeclaringBatchIsARepeat(t *testing.T) {
	e := commandstest.NewNight(t)
	a := newAlerts(t, e, alerts.Config{})
	r, err := a.Intake(context.Background(), []bot.Alert{firingAlert("g", "Down", nil), firingAlert("g", "Down", nil)})
	if err != nil || r.Declared != 1 || r.Recorded != 1 || r.Repeated != 1 {
		t.Fatalf("receipt %+v, %v; want 1 declared, 1 recorded, 1 repeated", r, err)
	}
	if got := commandstest.Kinds(e.Events(e.Incident(1))); strings.Count(got, "alert") != 1 {
		t.Errorf("timeline %s; want one alert", got)
	}
	r, _ = a.Intake(context.Background(), []bot.Alert{firingAlert("g", "Down", nil)})
	if r.Recorded != 0 || r.Repeated != 1 {
		t.Errorf("the next copy: %+v; want it repeated", r)
	}
}

func TestResolvedGroupMitigatesAndRefiringDeclaresAgain(t *testing.T) {
	e := commandstest.NewNight(t)
	a := newAlerts(t, e, alerts.Config{MitigateOnResolve: true})
	if _, err := a.Intake(context.Background(), []bot.Alert{firingAlert("g", "Down", nil)}); err != nil {
		t.Fatal(err)
	}
	// One alert of the group resolves while the group still fires: no change.
	partial := resolvedAlert("g", "Down")
	partial.GroupResolved = false
	if _, err := a.Intake(context.Background(), []bot.Alert{partial}); err != nil {
		t.Fatal(err)
	}
	if st := e.Incident(1).Status; st != bot.StatusOpen {
		t.Fatalf("status after a partial resolution = %s", st)
	}
	if _, err := a.Intake(context.Background(), []bot.Alert{resolvedAlert("g", "Down")}); err != nil {
		t.Fatal(err)
	}
	if st := e.Incident(1).Status; st != bot.StatusMitigated {
		t.Fatalf("status after the group resolved = %s; want mitigated", st)
	}
	// Mitigated is still open: a new firing goes on the same incident.
	if r, _ := a.Intake(context.Background(), []bot.Alert{firingAlert("g", "Down", nil)}); r.Declared != 0 {
		t.Errorf("a mitigated incident's group declared again: %+v", r)
	}
	e.Do("alice", e.Incident(1).Channel.ID, "/incident resolve")
	if st := e.Incident(1).Status; st != bot.StatusResolved {
		t.Fatalf("status = %s after /incident resolve", st)
	}
	// A resolution with nothing open is ignored; a new firing declares anew.
	if r, _ := a.Intake(context.Background(), []bot.Alert{resolvedAlert("g", "Down")}); r.Ignored != 1 || r.Declared != 0 {
		t.Errorf("resolution of a closed group: %+v", r)
	}
	if r, _ := a.Intake(context.Background(), []bot.Alert{firingAlert("g", "Down", nil)}); r.Declared != 1 || r.Incidents[0] != "INC-2" {
		t.Errorf("refiring after resolve: %+v", r)
	}
}

func TestMitigateOnResolveOff(t *testing.T) {
	e := commandstest.NewNight(t)
	a := newAlerts(t, e, alerts.Config{})
	a.Intake(context.Background(), []bot.Alert{firingAlert("g", "Down", nil)})
	a.Intake(context.Background(), []bot.Alert{resolvedAlert("g", "Down")})
	if st := e.Incident(1).Status; st != bot.StatusOpen {
		t.Errorf("status = %s; mitigate_on_resolve is off", st)
	}
	// The firing and the resolution; the channel's event comes when the
	// outbox has made it, in between or after.
	if got := commandstest.Kinds(e.Events(e.Incident(1))); strings.Count(got, "alert") != 2 {
		t.Errorf("the resolution is not on the timeline: %s", got)
	}
}

func TestAlertRoutes(t *testing.T) {
	e := commandstest.NewNight(t, commandstest.Services("db", "api"))
	a := newAlerts(t, e, alerts.Config{DefaultSeverity: "SEV3", Routes: []alerts.Route{
		{Match: map[string]*regexp.Regexp{"job": regexp.MustCompile(`^(?:postgres.*)$`), "env": regexp.MustCompile(`^(?:prod)$`)}, Service: "db", Severity: "SEV1"},
		{Match: map[string]*regexp.Regexp{"job": regexp.MustCompile(`^(?:.*)$`)}, Service: "api"},
	}})
	a.Intake(context.Background(), []bot.Alert{
		firingAlert("a", "PG down", map[string]string{"job": "postgres-main", "env": "prod", "severity": "SEV4"}),
		firingAlert("b", "PG staging down", map[string]string{"job": "postgres-main", "env": "staging"}),
	})
	if inc := e.Incident(1); inc.Service != "db" || inc.Severity.Name != "SEV1" {
		t.Errorf("first route: service %q severity %s", inc.Service, inc.Severity.Name)
	}
	if inc := e.Incident(2); inc.Service != "api" || inc.Severity.Name != "SEV3" {
		t.Errorf("second route: service %q severity %s; want api, the default SEV3", inc.Service, inc.Severity.Name)
	}
}

// TestReplicasDeclareAnAlertGroupOnce: two replicas (each its own
// Incidents and Alerts, so no lock in memory is shared) take the same
// alert group at once on one store: one incident, every alert accounted
// for: the first on the timeline, the 19 copies counted on the incident.
func TestReplicasDeclareAnAlertGroupOnce(t *testing.T) {
	e := commandstest.NewNight(t)
	other := commands.New(e.Store, []bot.Chat{e.Chat}, e.Clock, zerolog.Nop(), commands.Config{})
	replicas := []*alerts.Alerts{
		alerts.New(e.Store, e.Incidents, e.Clock, zerolog.Nop(), alerts.Config{Platform: bot.PlatformConsole}),
		alerts.New(e.Store, other, e.Clock, zerolog.Nop(), alerts.Config{Platform: bot.PlatformConsole}),
	}
	var wg sync.WaitGroup
	var declared, recorded, repeated atomic.Int64
	for i := range 20 {
		wg.Go(func() {
			res, err := replicas[i%2].Intake(context.Background(), []bot.Alert{{Source: "alertmanager", GroupKey: "g", Title: "Disk full", Firing: true}})
			if err != nil {
				t.Error(err)
				return
			}
			declared.Add(int64(res.Declared))
			recorded.Add(int64(res.Recorded))
			repeated.Add(int64(res.Repeated))
			if len(res.Incidents) != 1 || res.Incidents[0] != "INC-1" {
				t.Errorf("receipt names %v; want INC-1", res.Incidents)
			}
		})
	}
	wg.Wait()
	incs, _ := e.Store.ListIncidents(context.Background(), bot.IncidentFilter{})
	if len(incs) != 1 || declared.Load() != 1 {
		t.Fatalf("%d incidents, %d declarations; want one", len(incs), declared.Load())
	}
	n := 0
	e.Store.EachEvent(context.Background(), incs[0].ID, func(ev bot.Event) error {
		if ev.Kind == bot.EventAlert {
			n++
		}
		return nil
	})
	var got bot.AlertState
	for _, st := range incs[0].Alerts {
		got = st
	}
	if n != 1 || len(incs[0].Alerts) != 1 || got.Repeats != 19 || recorded.Load() != 1 || repeated.Load() != 19 {
		t.Errorf("%d alerts on the timeline, %d repeats counted, receipts %d recorded and %d repeated; want 1 and 19 each",
			n, got.Repeats, recorded.Load(), repeated.Load())
	}
}

// A route can give alerts an incident type; the type's required fields
// never stop an alert from declaring.
func TestAlertRouteSetsTheType(t *testing.T) {
	e := commandstest.NewNight(t, commandstest.WithTypes())
	if _, err := e.Console.CreateChannel(context.Background(), bot.ChannelSpec{Name: "security-leads", Private: true}); err != nil {
		t.Fatal(err)
	}
	a := newAlerts(t, e, alerts.Config{DefaultSeverity: "SEV2", Routes: []alerts.Route{
		{Match: map[string]*regexp.Regexp{"team": regexp.MustCompile(`^(?:secops)$`)}, Type: "security"},
	}})
	if _, err := a.Intake(context.Background(), []bot.Alert{firingAlert("s", "Impossible travel for admin", map[string]string{"team": "secops"})}); err != nil {
		t.Fatal(err)
	}
	e.Outbox.Drain(context.Background())
	if inc := e.Incident(1); inc.Type != "security" || !inc.Private || inc.Channel.Name != "sec-1" {
		t.Errorf("alert incident: type %q private %v channel %q", inc.Type, inc.Private, inc.Channel.Name)
	}
}

// Past its cap, a source's new alert groups join one alert storm incident
// instead of declaring one each: counted and listed in its summary and
// channel; their repeats go there too; one group's resolution does not
// mitigate the storm; once the window has passed, groups declare again.
func TestAlertStormsCollectAFlood(t *testing.T) {
	e := commandstest.NewNight(t)
	a := newAlerts(t, e, alerts.Config{MitigateOnResolve: true, Storm: alerts.Storm{MaxIncidents: 3, Window: 10 * time.Minute}})
	var flood []bot.Alert
	for i := range 30 {
		flood = append(flood, firingAlert(fmt.Sprintf("g%d", i), fmt.Sprintf("disk %d full", i), map[string]string{}))
	}
	res, err := a.Intake(context.Background(), flood)
	if err != nil {
		t.Fatal(err)
	}
	e.Drain()
	if res.Declared != 4 || e.IncidentCount() != 4 || res.Recorded != 30 {
		t.Fatalf("30 groups: %+v, %d incidents; want 3 of their own and 1 storm, every alert recorded", res, e.IncidentCount())
	}
	storm := e.Incident(4)
	if storm.Title != "Alert storm from alertmanager" || storm.AlertGroups != 27 || !strings.Contains(storm.Summary, "27 alert groups from alertmanager") ||
		!strings.Contains(storm.Summary, "Latest: disk 29 full") || !storm.Unlisted {
		t.Errorf("storm incident: %+v", storm)
	}
	notices := 0
	for _, m := range e.Console.Messages(storm.Channel.ID) {
		if strings.Contains(m, "🌊 Alert group") {
			notices++
		}
	}
	if notices != 21 { // the first 20, then the 25th
		t.Errorf("%d notices in the storm's channel; want 21", notices)
	}
	if got := a.Storms()["alertmanager"]; got.Storms != 1 || got.Groups != 27 {
		t.Errorf("Storms() = %+v; want 1 storm of 27 groups", got)
	}
	// A repeat of a group in the storm goes to the storm; its resolution
	// does not mitigate it.
	res, err = a.Intake(context.Background(), []bot.Alert{firingAlert("g10", "disk 10 full", nil), resolvedAlert("g11", "disk 11 full")})
	if err != nil || res.Declared != 0 || res.Incidents[0] != "INC-4" || res.Incidents[1] != "INC-4" {
		t.Fatalf("repeats of groups in the storm: %+v, %v", res, err)
	}
	if inc := e.Incident(4); inc.Status != bot.StatusOpen || inc.AlertGroups != 27 {
		t.Errorf("after one group resolved, the storm is %s with %d groups; want open with 27", inc.Status, inc.AlertGroups)
	}
	// The window passes: a new group declares its own incident again.
	e.Clock.Advance(11 * time.Minute)
	if res, err := a.Intake(context.Background(), []bot.Alert{firingAlert("g99", "api down", nil)}); err != nil || res.Declared != 1 || res.Incidents[0] != "INC-5" {
		t.Errorf("after the window: %+v, %v", res, err)
	}
}
