package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// DeclareInput is everything a declaration needs, however it was entered
// (inline arguments, a form, an alert).
type DeclareInput struct {
	Title      string
	Summary    string
	Severity   string // level, name or label; empty means the default
	Service    string
	Private    bool
	Type       string            // an incident type's id; empty: none
	Fields     map[string]string // custom field values by field id, as entered
	Commander  bot.User          // zero: the declarer
	DeclaredBy bot.User
	Platform   bot.Platform
	Source     bot.MessageRef // the chat message it was declared from, if any
	// NoCommander leaves the commander role open (alert-declared
	// incidents): the summary asks someone to take it.
	NoCommander bool
	// FieldsLater declares without the type's required custom fields
	// (alerts cannot give them; an alert is never refused for them).
	FieldsLater bool
	DetectedAt  time.Time   // when the problem started, if known and earlier
	Events      []bot.Event // more timeline entries saved with the declaration
	AlertGroup  string      // the alert group it is declared for, remembered with it
	Unlisted    bool        // kept off the status page until a public update (bot.Incident.Unlisted)
}

// Declaration form fields, also used to report which input is wrong.
const (
	FieldTitle     = "title"
	FieldSeverity  = "severity"
	FieldService   = "service"
	FieldSummary   = "summary"
	FieldCommander = "commander"
	FieldPrivate   = "private"
	FieldType      = "type"
)

// CustomFieldID is the form field (and error key) of custom field id.
func CustomFieldID(id string) string { return "cf_" + id }

// checkDeclare validates in field by field, writing nothing, and returns
// the severity and service it names, with its type and custom field
// values as stored.
func (c *Incidents) checkDeclare(in DeclareInput) (bot.Severity, string, typed, bot.FieldErrors) {
	errs := bot.FieldErrors{}
	kind := c.cfg.checkType(in, errs)
	if err := bot.ValidateTitle(strings.TrimSpace(in.Title)); err != nil {
		errs[FieldTitle] = bot.ErrorMessage(err)
	}
	sev := c.cfg.Severities.Default()
	if in.Severity != "" {
		var err error
		if sev, err = c.cfg.Severities.Parse(in.Severity); err != nil {
			errs[FieldSeverity] = bot.ErrorMessage(err)
		}
	}
	var service string
	if in.Service != "" {
		var err error
		if service, err = c.Service(in.Service); err != nil {
			errs[FieldService] = bot.ErrorMessage(err)
		}
	}
	if n := len([]rune(strings.TrimSpace(in.Summary))); n > bot.MaxTextRunes {
		errs[FieldSummary] = fmt.Sprintf("The summary is %d characters long; the limit is %d.", n, bot.MaxTextRunes)
	}
	return sev, service, kind, errs
}

// typed is a declaration's type and its custom field values, checked.
type typed struct {
	t      bot.IncidentType
	fields map[string]string
}

// checkType checks in's type and custom fields: the type must be
// configured, each value must suit its field, a required field must have
// one, and only the type's own fields may be given.
func (cfg *Config) checkType(in DeclareInput, errs bot.FieldErrors) typed {
	var out typed
	if in.Type != "" {
		t, ok := cfg.Types.Get(in.Type)
		if !ok {
			if len(cfg.Types) == 0 {
				errs[FieldType] = "klaxon has no incident types configured."
			} else {
				errs[FieldType] = fmt.Sprintf("%q is not an incident type; pick one of %s.", in.Type, strings.Join(cfg.Types.IDs(), ", "))
			}
			return out
		}
		out.t = t
	}
	for _, id := range slices.Sorted(maps.Keys(in.Fields)) {
		v := in.Fields[id]
		if strings.TrimSpace(v) == "" {
			continue
		}
		f, ok := out.t.Field(id)
		if !ok {
			if out.t.ID == "" {
				errs[CustomFieldID(id)] = fmt.Sprintf("`%s:` belongs to an incident type: add `type:` first.", id)
			} else {
				errs[CustomFieldID(id)] = fmt.Sprintf("A %s incident has no field `%s`.", out.t.ID, id)
			}
			continue
		}
		stored, err := f.CheckValue(v)
		if err != nil {
			errs[CustomFieldID(id)] = bot.ErrorMessage(err)
			continue
		}
		if out.fields == nil {
			out.fields = map[string]string{}
		}
		out.fields[id] = stored
	}
	for _, f := range out.t.Fields {
		if _, ok := out.fields[f.ID]; f.Required && !ok && !in.FieldsLater {
			if _, bad := errs[CustomFieldID(f.ID)]; !bad {
				errs[CustomFieldID(f.ID)] = fmt.Sprintf("A %s incident needs %s, e.g. `%s:%s`.", out.t.ID, f.Label, f.ID, fieldExample(f))
			}
		}
	}
	return out
}

func fieldExample(f bot.CustomField) string {
	switch f.Kind {
	case bot.CustomSelect:
		return f.Options[0]
	case bot.CustomUser:
		return "@alice"
	}
	return "…"
}

// declareKeys are the `key:value` options of `/incident declare`.
var declareKeys = []string{"sev", "severity", "service", "commander", "lead", "summary", "type"}

// DeclareOptions are the words `/incident declare` reads as options;
// custom fields may not take them.
var DeclareOptions = append(slices.Clone(declareKeys), "private")

// ParseDeclare reads `/incident declare` arguments: title words (quoted or
// not), the options sev:, severity:, service:, commander:, summary:,
// type:, one per custom field id in fields, and the flag "private".
func ParseDeclare(args []string, fields ...string) (DeclareInput, error) {
	var in DeclareInput
	var title []string
	keys := append(slices.Clone(declareKeys), fields...)
	for _, a := range args {
		key, val, ok := bot.SplitOption(a, keys...)
		if !ok {
			if strings.EqualFold(a, "private") {
				in.Private = true
				continue
			}
			title = append(title, a)
			continue
		}
		if val == "" {
			return in, bot.Errorf(bot.EINVALID, "`%s:` needs a value, e.g. `%s:%s`.", key, key, example(key))
		}
		switch key {
		case "sev", "severity":
			in.Severity = val
		case "service":
			in.Service = val
		case "summary":
			in.Summary = val
		case "commander", "lead":
			u, ok := bot.ParseMention(val)
			if !ok {
				return in, bot.Errorf(bot.EINVALID, "`%s` is not a person; mention them, e.g. `commander:@alice`.", val)
			}
			in.Commander = u
		case "type":
			in.Type = val
		default: // a custom field
			if in.Fields == nil {
				in.Fields = map[string]string{}
			}
			in.Fields[key] = val
		}
	}
	in.Title = strings.Join(title, " ")
	return in, nil
}

func example(key string) string {
	switch key {
	case "sev", "severity":
		return "1"
	case "commander", "lead":
		return "@alice"
	case "summary":
		return `"Payments fail for EU cards"`
	}
	return "payments"
}

func (c *slash) handleDeclare(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Args) == 0 && req.Trigger != "" {
		// Bare `/incident declare` opens the form where the platform has one.
		chat, err := c.lc.chat(req.Platform)
		if err != nil {
			return nil, err
		}
		err = chat.OpenForm(ctx, req.Trigger, c.lc.interactions.declareForm(DeclareInput{}, req.Channel))
		if err == nil {
			return nil, nil
		}
		if bot.ErrorCode(err) != bot.EUNSUPPORTED {
			return nil, bot.Internal(err, "klaxon could not open the declaration form. Type the command with a title instead.")
		}
	}
	in, err := ParseDeclare(req.Args, c.lc.cfg.Types.FieldIDs()...)
	if err != nil {
		return nil, err
	}
	in.DeclaredBy, in.Platform = req.User, req.Platform
	return c.lc.declareResponse(ctx, in)
}

// declareResponse declares in and tells the declarer how it went.
func (c *Incidents) declareResponse(ctx context.Context, in DeclareInput) (*bot.Response, error) {
	inc, note, err := c.Declare(ctx, in)
	if err != nil {
		return nil, err
	}
	// The channel is the outbox's first job: the declarer usually gets its
	// link, but the reply never waits long for chat.
	inc = c.awaitChannel(ctx, inc, channelWait)
	where := inc.Channel.Mention()
	if inc.Channel.IsZero() {
		where = "#" + ChannelName(c.cfg.channelPattern(inc), inc, 1) + " (being created)"
	}
	text := fmt.Sprintf("🚨 Declared *%s* (%s): %s → %s", inc.Key(), inc.Severity.Name, inc.Title, where)
	if cmdr, ok := inc.Commander(); ok && cmdr.ID == in.DeclaredBy.ID {
		text += "\nYou are the commander. Post updates with `/incident update <text>`."
	}
	if in.Severity == "" {
		text += severityInTitle(c.cfg.Severities, inc, where)
	}
	text += "\n" + c.cfg.visibility(inc)
	return &bot.Response{Message: bot.Message{Text: text + note}}, nil
}

// severityInTitle warns when a declaration that named no severity has a
// title starting with a severity's name (`/incident declare SEV1 checkout
// down`): the title took the word and the incident the default severity,
// which may page nobody. The warning says so and how to set it.
func severityInTitle(ss bot.Severities, inc *bot.Incident, where string) string {
	word, _, _ := strings.Cut(inc.Title, " ")
	for _, sev := range ss {
		if strings.EqualFold(word, sev.Name) && sev.Name != inc.Severity.Name {
			return fmt.Sprintf("\n⚠️ Severity is %s, the default: “%s” was read as part of the title. To set it, `/incident sev %d` in %s; no need to declare again (next time, write `sev:%d`).",
				inc.Severity.Name, word, sev.Level, where, sev.Level)
		}
	}
	return ""
}

// visibility says who can see inc outside its channel: private, or on the
// public status page and under what title, or kept off it.
func (cfg *Config) visibility(inc *bot.Incident) string {
	switch t, typed := cfg.Types.Get(inc.Type); {
	case inc.Private:
		return "🔒 Private: no announcement, not on the status page."
	case inc.Unlisted:
		return "Not on the public status page until someone posts `/incident update --public <text>`."
	case typed && !t.StatusPage:
		return "Not on the public status page (" + t.Name + " incidents are kept off it)."
	}
	return fmt.Sprintf("🌐 Public on the status page as “%s”; `/incident update --public <text>` tells customers more.", inc.Title)
}

// formVisibility is visibility before the incident exists: what the
// declaration form says under its title.
func (cfg *Config) formVisibility() string {
	var kept []string
	for _, t := range cfg.Types {
		if !t.StatusPage {
			kept = append(kept, t.Name)
		}
	}
	text := "🌐 The title goes on the public status page, unless the incident is private"
	if len(kept) > 0 {
		text += " or of a type kept off it (" + strings.Join(kept, ", ") + ")"
	}
	return text + "."
}

// maxDetectionLead is how long before a declaration its problem may be
// said to have started.
const maxDetectionLead = 30 * 24 * time.Hour

// channelWait is how long a declaration's reply waits for the channel.
const channelWait = 2 * time.Second

// awaitChannel waits up to d for inc's channel to be recorded, reading
// the incident again each time the outbox ends a channel creation.
func (c *Incidents) awaitChannel(ctx context.Context, inc *bot.Incident, d time.Duration) *bot.Incident {
	t := time.NewTimer(d)
	defer t.Stop()
	for inc.Channel.IsZero() {
		// Taken before the read: a creation that ends after it closes it.
		settled := c.outbox.Settled()
		if cur, err := c.store.Incident(ctx, inc.ID); err == nil {
			inc = cur
		}
		if !inc.Channel.IsZero() {
			break
		}
		select {
		case <-settled:
		case <-t.C:
			return inc
		case <-ctx.Done():
			return inc
		}
	}
	return inc
}

// AlreadyOpen is Declare's answer for an alert group whose incident is
// open already (declared by another replica a moment before).
type AlreadyOpen struct{ Incident *bot.Incident }

func (e *AlreadyOpen) Error() string { return e.Incident.Key() + " is open for this alert group" }

// openFor returns the open incident of alert group key, read in tx.
func openFor(tx bot.Tx, key string) (*bot.Incident, error) {
	if key == "" {
		return nil, nil
	}
	id, ok, err := tx.AlertIncident(key)
	if err != nil || !ok {
		return nil, err
	}
	inc, err := tx.Incident(id)
	if isNotFound(err) || (err == nil && !inc.Status.Active()) {
		return nil, nil
	}
	return inc, err
}

// Declare validates in and commits the declaration in one transaction:
// the incident and its timeline events, its reminders, its page with the
// first step due now, its hook events, and the chat jobs that create its
// channel, invite the responders, post and pin the summary and announce
// it. Paging never waits for chat; the outbox carries out the rest.
func (c *Incidents) Declare(ctx context.Context, in DeclareInput) (*bot.Incident, string, error) {
	sev, service, kind, errs := c.checkDeclare(in)
	for _, field := range []string{FieldTitle, FieldSeverity, FieldService, FieldSummary, FieldType} {
		if msg, bad := errs[field]; bad {
			e := bot.Errorf(bot.EINVALID, "%s", msg)
			e.Field = field
			return nil, "", e
		}
	}
	for _, field := range slices.Sorted(maps.Keys(errs)) {
		if id, ok := strings.CutPrefix(field, "cf_"); ok {
			e := bot.Errorf(bot.EINVALID, "%s", errs[field])
			e.Field = "fields." + id
			return nil, "", e
		}
	}
	now := c.clock.Now()
	inc := &bot.Incident{
		ID:         bot.NewID(),
		CallSecret: newCallSecret(),
		Title:      bot.OneLine(in.Title),
		Summary:    strings.TrimSpace(bot.CleanText(in.Summary)),
		Status:     bot.StatusOpen,
		Private:    in.Private || kind.t.Private,
		Unlisted:   in.Unlisted,
		Type:       kind.t.ID,
		Fields:     kind.fields,
		Platform:   in.Platform,
		DeclaredBy: in.DeclaredBy,
		DeclaredAt: now,
		DetectedAt: now,
		UpdatedAt:  now,
		Severity:   sev,
		Service:    service,
	}
	if err := inc.Validate(); err != nil {
		return nil, "", err
	}
	if _, err := c.chat(in.Platform); err != nil {
		return nil, "", err
	}
	// A start time before the last 30 days is not believed (a zero time
	// from an alert source would make a detection time of centuries).
	if !in.DetectedAt.IsZero() && in.DetectedAt.Before(now) && in.DetectedAt.After(now.Add(-maxDetectionLead)) {
		inc.DetectedAt = in.DetectedAt
	}
	declared := bot.NewEvent(bot.EventDeclared, in.DeclaredBy, now, fmt.Sprintf("%s declared %s: %s", inc.Status.Emoji(), sev.Name, inc.Title))
	declared.Ref = in.Source
	events := []bot.Event{declared}
	commander := in.Commander
	if commander.IsZero() && !in.NoCommander {
		commander = in.DeclaredBy
	}
	if !commander.IsZero() {
		inc.Roles = map[bot.Role]bot.User{bot.RoleCommander: commander}
		role := bot.NewEvent(bot.EventRole, in.DeclaredBy, now, fmt.Sprintf("%s is commander", commander.Mention()))
		role.Meta = map[string]string{"role": string(bot.RoleCommander), "user": commander.ID}
		events = append(events, role)
	}
	for _, ev := range in.Events {
		ev.Time = now
		if inc.NoteAlert(ev) { // an alert's repeats are counted, not written
			events = append(events, ev)
		}
	}
	var out *bot.Incident
	var notes []string
	err := c.store.Update(ctx, func(tx bot.Tx) error {
		// This may run more than once: start from the inputs each time.
		draft := *inc
		evs := append([]bot.Event(nil), events...)
		notes = notes[:0]
		// Another replica may have declared this alert group a moment ago.
		if open, err := openFor(tx, in.AlertGroup); err != nil || open != nil {
			if err == nil {
				err = &AlreadyOpen{Incident: open}
			}
			return err
		}
		if err := tx.CreateIncident(&draft, evs...); err != nil {
			return err
		}
		for _, r := range c.cfg.reminders(&draft) {
			if err := tx.SetReminder(r); err != nil {
				return err
			}
		}
		// The topic is its own job: set with the channel where the platform
		// allows, it is set again here should that have failed.
		jobs := []bot.Job{c.job(&draft, bot.OpCreateChannel), c.job(&draft, bot.OpTopic)}
		if invite := uniqueIDs(in.DeclaredBy, commander); len(invite) > 0 {
			j := c.job(&draft, bot.OpInvite)
			j.Users = invite
			jobs = append(jobs, j)
		}
		jobs = append(jobs, c.job(&draft, bot.OpPostSummary), c.job(&draft, bot.OpPin))
		if announce := c.cfg.announceChannel(&draft); announce != "" {
			j := c.job(&draft, bot.OpAnnounce)
			j.Channel = announce
			jobs = append(jobs, j)
		}
		if err := tx.Enqueue(jobs...); err != nil {
			return err
		}
		if in.AlertGroup != "" {
			if err := tx.SetAlertIncident(in.AlertGroup, draft.ID); err != nil {
				return err
			}
		}
		// Followers start the page (its first step due now) and queue the
		// hook events.
		if err := c.follow(tx, bot.Change{Kind: bot.EventDeclared, Incident: &draft, Who: in.DeclaredBy, Platform: in.Platform, Text: declared.Text, At: now, Notes: &notes}); err != nil {
			return err
		}
		out = &draft
		return nil
	})
	var open *AlreadyOpen
	if errors.As(err, &open) {
		return nil, "", open
	}
	if err != nil {
		return nil, "", bot.Internal(err, "klaxon could not save the incident, so it was not declared. Try again.")
	}
	c.log.Info().Str("incident", out.Key()).Str("severity", sev.Name).Bool("private", out.Private).Msg("incident declared")
	c.committed()
	var note string
	for _, n := range notes {
		note += "\n" + n
	}
	return out, note, nil
}

// Service resolves a service name against the catalogue.
func (c *Incidents) Service(name string) (string, error) { return c.cfg.service(name) }

// service resolves a service name against the policy's catalogue.
func (cfg *Config) service(name string) (string, error) {
	if len(cfg.Services) == 0 {
		slug := bot.Slug(name, 40)
		if slug == "" {
			return "", bot.Errorf(bot.EINVALID, "%q is not a usable service name; use letters and digits.", name)
		}
		return slug, nil
	}
	svc, ok := cfg.Services.Find(name)
	if !ok {
		return "", bot.Errorf(bot.EINVALID, "There is no service %q. Known services: %s.", name, cfg.Services.IDs())
	}
	return svc.ID, nil
}

func uniqueIDs(users ...bot.User) []string {
	var ids []string
	seen := map[string]bool{}
	for _, u := range users {
		if u.ID != "" && !u.IsSystem() && !seen[u.ID] {
			seen[u.ID] = true
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// incidentType is inc's type as configured (the zero type when it has
// none, or its type is no longer configured).
func (cfg *Config) incidentType(inc *bot.Incident) bot.IncidentType {
	t, _ := cfg.Types.Get(inc.Type)
	return t
}

// channelPattern names inc's channel: its type's pattern, else the
// default.
func (cfg *Config) channelPattern(inc *bot.Incident) string {
	if p := cfg.incidentType(inc).ChannelPattern; p != "" {
		return p
	}
	return cfg.ChannelPattern
}

// announceChannel is where inc is announced on its platform: its type's
// announcement channel (private incidents too: a type's channel is its
// own audience), else the platform's for incidents that are not private;
// empty: nowhere.
func (cfg *Config) announceChannel(inc *bot.Incident) string {
	if ch := cfg.incidentType(inc).Announce[inc.Platform]; ch != "" {
		return ch
	}
	if inc.Private {
		return ""
	}
	return cfg.Announce[inc.Platform]
}

// typeValues is inc's type's name (the id, should the type be gone; ""
// for an incident of no type) and its custom fields' values as people
// read them (users as mentions), in the type's order.
func (cfg *Config) typeValues(inc *bot.Incident) (name string, fields []bot.Field) {
	if inc.Type == "" {
		return "", nil
	}
	t := cfg.incidentType(inc)
	for _, f := range t.Fields {
		if v := inc.Fields[f.ID]; v != "" {
			fields = append(fields, bot.Field{Label: f.Label, Value: f.Show(v)})
		}
	}
	return cmp.Or(t.Name, inc.Type), fields
}

// typeSummary is the summary's lines for inc's type and custom fields.
func (cfg *Config) typeSummary(inc *bot.Incident) []bot.Field {
	name, fields := cfg.typeValues(inc)
	if name == "" {
		return nil
	}
	return append([]bot.Field{{Label: "Type", Value: name}}, fields...)
}
