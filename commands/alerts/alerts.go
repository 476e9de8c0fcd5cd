// Package alerts turns alerts (Alertmanager, Grafana, generic webhooks)
// into incidents: one per alert group while it is open, repeats and
// resolutions on its timeline.
package alerts

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
)

// Route maps alerts whose labels match onto a service and severity.
type Route struct {
	Match    map[string]*regexp.Regexp // label → pattern (anchored)
	Service  string
	Severity string
	Type     string // the incident type to declare; empty: none
	// Public puts the incidents it declares on the status page at once;
	// otherwise they show there once a person posts a public update.
	Public bool
}

// Matches reports whether every matcher of r matches labels.
func (r Route) Matches(labels map[string]string) bool {
	for label, re := range r.Match {
		if !re.MatchString(labels[label]) {
			return false
		}
	}
	return true
}

// Config is the alert intake policy.
type Config struct {
	Platform          bot.Platform // where alert incidents are declared
	Routes            []Route      // first match wins
	DefaultSeverity   string       // when neither route nor alert names a known one
	MitigateOnResolve bool         // a resolved alert group mitigates its incident
	Storm             Storm        // when one source's alerts stop declaring one incident each
}

// Storm is the per-source cap on alert-declared incidents: past
// MaxIncidents declared from one source within Window, that source's new
// alert groups join one "alert storm" incident instead of declaring their
// own, so a flood of alerts cannot open hundreds of channels and pages.
// MaxIncidents 0 is no cap.
type Storm struct {
	MaxIncidents int
	Window       time.Duration
}

// Alerts turns alerts into incidents: one per alert group while the
// incident is open; repeats and resolutions go on its timeline.
type Alerts struct {
	store     Store
	incidents Incidents
	clock     bot.Clock
	log       zerolog.Logger
	cfg       Config
	seed      maphash.Seed
	stripes   [64]sync.Mutex // by group key: a group declares once, groups go in parallel

	stormMu  sync.Mutex             // the storm state below, and a storm incident's declaration
	declared map[string][]time.Time // by source: when its recent incidents were declared
	storms   map[string]StormCount  // by source: what its storms took in (this process)
}

// StormCount is what one source's alert storms took in since start.
type StormCount struct {
	Storms uint64 // storm incidents declared
	Groups uint64 // alert groups that joined a storm instead of declaring
}

// Store is what alert intake reads and writes.
type Store interface {
	bot.Updater
	bot.AlertStore
	Incident(ctx context.Context, id uuid.UUID) (*bot.Incident, error)
}

// Incidents is what alert intake asks of the incident lifecycle.
type Incidents interface {
	// Declare declares an incident (commands.AlreadyOpen when another
	// replica declared the alert group's a moment before).
	Declare(ctx context.Context, in commands.DeclareInput) (*bot.Incident, string, error)
	Mitigate(ctx context.Context, who bot.Actor, id uuid.UUID) (*bot.Response, error)
	// Service resolves a service name against the catalogue.
	Service(name string) (string, error)
	Severities() bot.Severities
}

// New returns the alert intake.
func New(store Store, incidents Incidents, clock bot.Clock, log zerolog.Logger, cfg Config) *Alerts {
	return &Alerts{store: store, incidents: incidents, clock: clock, log: log.With().Str("component", "alerts").Logger(), cfg: cfg, seed: maphash.MakeSeed(),
		declared: map[string][]time.Time{}, storms: map[string]StormCount{}}
}

// route applies the first matching route.
func (a *Alerts) route(al *bot.Alert) {
	for _, r := range a.cfg.Routes {
		if !r.Matches(al.Labels) {
			continue
		}
		if r.Service != "" {
			al.Service = r.Service
		}
		if r.Severity != "" {
			al.Severity = r.Severity
		}
		al.Type, al.Public = r.Type, r.Public
		return
	}
}

// Intake records alerts. Everything it acknowledges is stored first: the
// incidents and timeline entries are committed before it returns.
func (a *Alerts) Intake(ctx context.Context, alerts []bot.Alert) (bot.AlertReceipt, error) {
	var res bot.AlertReceipt
	var order []string
	groups := map[string][]bot.Alert{}
	for _, al := range alerts {
		a.route(&al)
		if _, ok := groups[al.GroupKey]; !ok {
			order = append(order, al.GroupKey)
		}
		groups[al.GroupKey] = append(groups[al.GroupKey], al)
	}
	for _, key := range order {
		if err := a.group(ctx, key, groups[key], &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// group records one alert group's alerts: it declares if nothing is open
// and something fires, and appends every alert to the timeline in one
// transaction.
func (a *Alerts) group(ctx context.Context, key string, alerts []bot.Alert, res *bot.AlertReceipt) error {
	mu := &a.stripes[maphash.String(a.seed, key)%uint64(len(a.stripes))]
	mu.Lock()
	defer mu.Unlock()

	inc, err := a.open(ctx, key)
	if err != nil {
		return err
	}
	// A batch's copies of one alert are one event (bot.Incident.NoteAlert
	// on a scratch incident): a declaration writes these, and recording
	// into an open incident drops those its timeline says already.
	var batch bot.Incident
	events := make([]bot.Event, 0, len(alerts))
	groupResolved := false
	for _, al := range alerts {
		if ev := alertEvent(al); batch.NoteAlert(ev) {
			events = append(events, ev)
		}
		groupResolved = groupResolved || al.GroupResolved
	}
	record := inc != nil // into an open incident; a new one has them already
	if inc == nil {
		first := -1
		for i, al := range alerts {
			if al.Firing {
				first = i
				break
			}
		}
		if first < 0 {
			res.Ignored += len(alerts) // resolutions for nothing open
			return nil
		}
		if a.storming(alerts[first].Source) {
			return a.joinStorm(ctx, key, alerts[first], events, len(alerts), res)
		}
		declared, err := a.declare(ctx, alerts[first], events)
		var open *commands.AlreadyOpen
		switch {
		case errors.As(err, &open):
			inc, record = open.Incident, true // another replica declared it a moment ago: record these in it
		case err != nil:
			return err
		default:
			inc = declared
			res.Declared++
			a.counted(alerts[first].Source)
		}
	}
	appended := len(events) // what a declaration writes
	if record {
		if appended, err = a.record(ctx, inc.ID, events, nil); err != nil {
			return err
		}
	}
	res.Recorded += appended
	res.Repeated += len(alerts) - appended
	res.Incidents = append(res.Incidents, inc.Key())
	// One group's resolution does not mitigate a storm of many.
	if groupResolved && a.cfg.MitigateOnResolve && inc.AlertGroups == 0 && (inc.Status == bot.StatusOpen || inc.Status == bot.StatusAcknowledged) {
		if _, err := a.incidents.Mitigate(ctx, bot.Actor{User: alertUser(alerts[0]), Platform: inc.Platform}, inc.ID); err != nil {
			a.log.Warn().Err(err).Str("incident", inc.Key()).Msg("could not mitigate on alert resolution")
		}
	}
	return nil
}

// record appends events to incident id's timeline, and runs also in the
// same transaction when it is not nil. An alert that says what the
// timeline last said of it (still firing) is counted on the incident
// instead (bot.Incident.NoteAlert): a source re-sending a firing alert
// every few seconds must not bury the timeline, or grow the store, with
// copies. It returns how many events were appended.
func (a *Alerts) record(ctx context.Context, id uuid.UUID, events []bot.Event, also func(tx bot.Tx, cur *bot.Incident) error) (int, error) {
	appended := 0
	err := a.store.Update(ctx, func(tx bot.Tx) error {
		cur, err := tx.Incident(id)
		if err != nil {
			return err
		}
		now := a.clock.Now()
		evs := make([]bot.Event, 0, len(events))
		for _, ev := range events {
			ev.Time = now
			if cur.NoteAlert(ev) {
				evs = append(evs, ev)
			}
		}
		appended = len(evs)
		cur.UpdatedAt = now
		if also != nil {
			if err := also(tx, cur); err != nil {
				return err
			}
		}
		if err := tx.PutIncident(cur); err != nil {
			return err
		}
		return tx.AppendEvents(cur.ID, evs...)
	})
	if err != nil {
		return 0, bot.Internal(err, "klaxon could not save the alerts")
	}
	return appended, nil
}

// storming reports whether source has declared its cap of incidents
// within the window.
func (a *Alerts) storming(source string) bool {
	if a.cfg.Storm.MaxIncidents <= 0 {
		return false
	}
	a.stormMu.Lock()
	defer a.stormMu.Unlock()
	since := a.clock.Now().Add(-a.cfg.Storm.Window)
	recent := slices.DeleteFunc(a.declared[source], func(t time.Time) bool { return t.Before(since) })
	a.declared[source] = recent
	return len(recent) >= a.cfg.Storm.MaxIncidents
}

// counted notes an incident declared from source.
func (a *Alerts) counted(source string) {
	a.stormMu.Lock()
	defer a.stormMu.Unlock()
	a.declared[source] = append(a.declared[source], a.clock.Now())
}

// Storms says what each source's alert storms took in since start, for
// /metrics.
func (a *Alerts) Storms() map[string]StormCount {
	a.stormMu.Lock()
	defer a.stormMu.Unlock()
	return maps.Clone(a.storms)
}

// stormNotices is how many joining groups are each announced in the
// storm's channel; past it, every stormEvery-th is.
const (
	stormNotices = 20
	stormEvery   = 25
)

// joinStorm records alert group key, which would declare an incident past
// its source's cap, in the source's storm incident (declaring that first
// if none is open): counted and listed in its summary and channel, and
// remembered, so the group's repeats and resolutions go there too.
func (a *Alerts) joinStorm(ctx context.Context, key string, al bot.Alert, events []bot.Event, n int, res *bot.AlertReceipt) error {
	a.stormMu.Lock() // one storm incident per source, declared once
	defer a.stormMu.Unlock()
	stormKey := "storm:" + al.Source
	storm, err := a.open(ctx, stormKey)
	if err != nil {
		return err
	}
	record := storm != nil
	if storm == nil {
		declared, warn, err := a.incidents.Declare(ctx, commands.DeclareInput{
			Title: "Alert storm from " + al.Source, Severity: a.severity(al.Severity), Summary: "klaxon collects this source's new alert groups here.",
			DeclaredBy: alertUser(al), Platform: a.cfg.Platform, NoCommander: true, FieldsLater: true, Events: events,
			AlertGroup: stormKey, Unlisted: true,
		})
		var open *commands.AlreadyOpen
		switch {
		case errors.As(err, &open):
			storm, record = open.Incident, true
		case err != nil:
			return err
		default:
			storm = declared
			res.Declared++
			c := a.storms[al.Source]
			c.Storms++
			a.storms[al.Source] = c
			if warn != "" {
				a.log.Warn().Str("incident", storm.Key()).Str("notes", warn).Msg("declared an alert storm")
			}
			a.log.Warn().Str("source", al.Source).Str("incident", storm.Key()).Int("cap", a.cfg.Storm.MaxIncidents).Dur("window", a.cfg.Storm.Window).
				Msg("alert storm: this source's new alert groups join one incident")
		}
	}
	appended := len(events) // what a declaration writes
	if !record {
		events = nil // the declaration has them
	}
	recorded, err := a.record(ctx, storm.ID, events, func(tx bot.Tx, cur *bot.Incident) error {
		cur.AlertGroups++
		cur.Summary = fmt.Sprintf("Alert storm: %d alert groups from %s joined this incident instead of declaring one each (more than %d incidents in %s). Latest: %s",
			cur.AlertGroups, al.Source, a.cfg.Storm.MaxIncidents, bot.Duration(a.cfg.Storm.Window), al.Title)
		if err := tx.SetAlertIncident(key, cur.ID); err != nil {
			return err
		}
		jobs := []bot.Job{bot.IncidentJob(cur, bot.OpSummary, a.clock.Now())}
		if cur.AlertGroups <= stormNotices || cur.AlertGroups%stormEvery == 0 {
			j := bot.IncidentJob(cur, bot.OpPost, a.clock.Now())
			j.Message = bot.Message{Text: fmt.Sprintf("🌊 Alert group %d from %s: %s", cur.AlertGroups, al.Source, al.Title)}
			jobs = append(jobs, j)
		}
		return tx.Enqueue(jobs...)
	})
	if err != nil {
		return err
	}
	c := a.storms[al.Source]
	c.Groups++
	a.storms[al.Source] = c
	if record {
		appended = recorded
	}
	res.Recorded += appended
	res.Repeated += n - appended
	res.Incidents = append(res.Incidents, storm.Key())
	return nil
}

// alertID tells one alert of a group from another: its title and labels
// (Alertmanager's fingerprint is a hash of the labels too), hashed short.
func alertID(al bot.Alert) string {
	h := fnv.New64a()
	h.Write([]byte(al.Title))
	for _, k := range slices.Sorted(maps.Keys(al.Labels)) {
		fmt.Fprintf(h, "\x00%s=%s", k, al.Labels[k])
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// severity is sev if the policy knows it, else the default.
func (a *Alerts) severity(sev string) string {
	if _, err := a.incidents.Severities().Parse(sev); err != nil {
		return a.cfg.DefaultSeverity
	}
	return sev
}

func alertUser(al bot.Alert) bot.User { return bot.SystemUser("alert", al.Source) }

// open returns the open incident of an alert group, if any.
func (a *Alerts) open(ctx context.Context, key string) (*bot.Incident, error) {
	id, ok, err := a.store.AlertIncident(ctx, key)
	if err != nil || !ok {
		return nil, err
	}
	inc, err := a.store.Incident(ctx, id)
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !inc.Status.Active() {
		return nil, nil // the group fires again after resolution: a new incident
	}
	return inc, nil
}

// declare declares the incident of an alert group from its first firing
// alert, with no commander: the summary and reminders ask for one.
func (a *Alerts) declare(ctx context.Context, al bot.Alert, events []bot.Event) (*bot.Incident, error) {
	sev := a.severity(al.Severity)
	title := strings.TrimSpace(al.Title)
	if title == "" {
		title = "Alert " + al.GroupKey
	}
	title = bot.Cut(title, bot.MaxTitleRunes)
	service := al.Service
	if service != "" {
		if _, err := a.incidents.Service(service); err != nil {
			service = "" // an unknown service still declares, without one
		}
	}
	detail := bot.Cut(al.Detail, 1000)
	inc, warn, err := a.incidents.Declare(ctx, commands.DeclareInput{
		Title: title, Severity: sev, Service: service, Summary: detail, Type: al.Type, FieldsLater: true,
		DeclaredBy: alertUser(al), Platform: a.cfg.Platform,
		NoCommander: true, DetectedAt: al.StartsAt, Events: events, AlertGroup: al.GroupKey, Unlisted: !al.Public,
	})
	if err != nil {
		return nil, err
	}
	if warn != "" {
		a.log.Warn().Str("incident", inc.Key()).Str("notes", warn).Msg("declared from an alert")
	}
	return inc, nil
}

func alertEvent(al bot.Alert) bot.Event {
	state := "firing"
	if !al.Firing {
		state = "resolved"
	}
	text := fmt.Sprintf("%s alert %s: %s", al.Source, state, al.Title)
	if len(al.Links) > 0 {
		text += " (" + strings.Join(al.Links, " ") + ")"
	}
	ev := bot.NewEvent(bot.EventAlert, alertUser(al), al.StartsAt, text)
	ev.Meta = map[string]string{"group": al.GroupKey, "alert": alertID(al), "title": al.Title, "state": state}
	return ev
}
