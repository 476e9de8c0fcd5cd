package main

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/pager"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/oncall"
	"github.com/klaxon-bot/klaxon/commands/paging"
)

// Building: the schema turned into what klaxon runs on (schedules,
// policies, paging, the incident policy).

// derived is what the configuration builds when it is validated, once:
// the rest of klaxon reads these instead of building them again.
type derived struct {
	schedules []*bot.Schedule
	policies  map[string]bot.Policy
	hours     map[string]bot.Hours // business hours by service id
}

// build builds the derived values, naming the first bad key.
func (c *Config) build() error {
	var d derived
	var err error
	if d.schedules, err = c.buildSchedules(); err != nil {
		return err
	}
	if d.policies, err = c.buildPolicies(); err != nil {
		return err
	}
	d.hours = map[string]bot.Hours{}
	for _, s := range c.Services {
		if d.hours[s.ID], err = c.businessHours(s); err != nil {
			return err
		}
	}
	c.built = d
	return nil
}

// schedules are the schedules, as built by Validate.
func (c *Config) schedules() []*bot.Schedule { return c.built.schedules }

// policies turns escalation_policies into bot policies, naming the first
// bad key.
func (c *Config) buildPolicies() (map[string]bot.Policy, error) {
	schedules, people := map[string]bool{}, map[string]bool{}
	for _, s := range c.Schedules {
		schedules[s.ID] = true
	}
	for _, p := range c.People {
		people[p.ID] = true
	}
	out := map[string]bot.Policy{}
	for i, pc := range c.EscalationPolicies {
		key := fmt.Sprintf("escalation_policies[%d]", i)
		if pc.ID == "" || out[pc.ID].ID != "" {
			return nil, &ConfigError{Key: key + ".id", Reason: fmt.Sprintf("%q must be set and unique", pc.ID)}
		}
		pol := bot.Policy{ID: pc.ID, Repeat: pc.Repeat}
		for j, sc := range pc.Steps {
			step := bot.Step{Delay: sc.Delay}
			for k, tc := range sc.Targets {
				tkey := fmt.Sprintf("%s.steps[%d].targets[%d]", key, j, k)
				var t bot.Target
				switch {
				case tc.Schedule != "" && tc.Person == "" && tc.Team == "":
					t = bot.Target{Kind: bot.TargetSchedule, ID: tc.Schedule}
				case tc.Person != "" && tc.Schedule == "" && tc.Team == "":
					t = bot.Target{Kind: bot.TargetPerson, ID: tc.Person}
				case tc.Team != "" && tc.Schedule == "" && tc.Person == "":
					t = bot.Target{Kind: bot.TargetTeam, ID: tc.Team}
				default:
					return nil, &ConfigError{Key: tkey, Reason: "name exactly one of schedule, person or team"}
				}
				if (t.Kind == bot.TargetPerson && !people[t.ID]) || (t.Kind != bot.TargetPerson && !schedules[t.ID]) {
					return nil, &ConfigError{Key: tkey, Reason: fmt.Sprintf("%q is not a configured %s", t.ID, map[bool]string{true: "person", false: "schedule"}[t.Kind == bot.TargetPerson])}
				}
				step.Targets = append(step.Targets, t)
			}
			pol.Steps = append(pol.Steps, step)
		}
		if err := pol.Validate(); err != nil {
			return nil, &ConfigError{Key: key, Reason: err.Error()}
		}
		out[pc.ID] = pol
	}
	for i, s := range c.Services {
		if s.EscalationPolicy != "" && out[s.EscalationPolicy].ID == "" {
			return nil, &ConfigError{Key: fmt.Sprintf("services[%d].escalation_policy", i), Reason: fmt.Sprintf("%q is not one of the escalation_policies", s.EscalationPolicy)}
		}
	}
	return out, nil
}

var weekdayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// schedules turns the schedules config into bot schedules, or names the
// first bad key.
func (c *Config) buildSchedules() ([]*bot.Schedule, error) {
	people := map[string]bool{}
	for _, p := range c.People {
		people[p.ID] = true
	}
	var out []*bot.Schedule
	seen := map[string]bool{}
	for i, sc := range c.Schedules {
		key := fmt.Sprintf("schedules[%d]", i)
		bad := func(sub, format string, args ...any) error {
			return &ConfigError{Key: key + sub, Reason: fmt.Sprintf(format, args...)}
		}
		if seen[sc.ID] {
			return nil, bad(".id", "%q is used twice", sc.ID)
		}
		seen[sc.ID] = true
		loc, err := time.LoadLocation(sc.TimeZone)
		if err != nil || sc.TimeZone == "" {
			return nil, bad(".time_zone", "%q is not an IANA time zone (e.g. Europe/Berlin)", sc.TimeZone)
		}
		role := sc.Role
		if role == "" {
			role = "primary"
		}
		if role != "primary" && role != "secondary" {
			return nil, bad(".role", "%q is not one of primary, secondary", sc.Role)
		}
		if sc.Service != "" && len(c.Services) > 0 && !slices.ContainsFunc(c.Services, func(s ServiceConfig) bool { return s.ID == sc.Service }) {
			return nil, bad(".service", "%q is not one of the services", sc.Service)
		}
		name := sc.Name
		if name == "" {
			name = sc.ID
		}
		s := &bot.Schedule{ID: sc.ID, Name: name, Service: sc.Service, Role: role, Location: loc}
		for j, lc := range sc.Layers {
			lkey := fmt.Sprintf(".layers[%d]", j)
			r := bot.Rotation{Kind: bot.RotationKind(lc.Rotation), Length: lc.Length, Days: lc.Days, Participants: lc.Participants}
			switch r.Kind {
			case bot.RotationDaily:
				r.Days = max(r.Days, 1)
			case bot.RotationWeekly:
				if r.Days == 0 {
					r.Days = 7
				}
			case bot.RotationHourly:
				if r.Length == 0 {
					r.Length = time.Hour
				}
			}
			if r.Start, err = bot.ParseDate(lc.Start); err != nil {
				return nil, bad(lkey+".start", "%q is not a date like 2026-01-05", lc.Start)
			}
			handoff := lc.Handoff
			if handoff == "" {
				handoff = "09:00"
			}
			if r.Handoff, err = bot.ParseTimeOfDay(handoff); err != nil {
				return nil, bad(lkey+".handoff", "%q is not a time of day like 09:00", lc.Handoff)
			}
			for k, p := range lc.Participants {
				if !people[p] {
					return nil, bad(fmt.Sprintf("%s.participants[%d]", lkey, k), "%q is not one of the people", p)
				}
			}
			layer := bot.Layer{Name: lc.Name, Rotation: r}
			for k, rc := range lc.Restrictions {
				rkey := fmt.Sprintf("%s.restrictions[%d]", lkey, k)
				var rs bot.Restriction
				if rs.From, err = bot.ParseTimeOfDay(rc.From); err != nil {
					return nil, bad(rkey+".from", "%q is not a time of day like 09:00", rc.From)
				}
				if rs.To, err = bot.ParseTimeOfDay(rc.To); err != nil {
					return nil, bad(rkey+".to", "%q is not a time of day like 17:00", rc.To)
				}
				for _, d := range rc.Days {
					wd, ok := weekdayNames[strings.ToLower(d)[:min(3, len(d))]]
					if !ok {
						return nil, bad(rkey+".days", "%q is not a day of the week (mon … sun)", d)
					}
					rs.Days[wd] = true
				}
				if len(rc.Days) == 0 {
					rs.Days = [7]bool{true, true, true, true, true, true, true}
				}
				layer.Restrictions = append(layer.Restrictions, rs)
			}
			s.Layers = append(s.Layers, layer)
		}
		switch sc.HandoffPlatform {
		case "", "console", "slack", "discord":
		default:
			return nil, bad(".handoff_platform", "%q is not one of console, slack, discord", sc.HandoffPlatform)
		}
		if sc.HandoffReminder < 0 || sc.HandoffReminder > 7*24*time.Hour {
			return nil, bad(".handoff_reminder", "must be between 0 and 168h")
		}
		if h := strings.TrimPrefix(sc.SlackUserGroup, "@"); h != "" && !slackHandle.MatchString(h) {
			return nil, bad(".slack_user_group", "%q is not a Slack user group handle (lower-case letters, digits, '.', '-' or '_', at most 21)", sc.SlackUserGroup)
		}
		if sc.DiscordRole != "" && !snowflake.MatchString(sc.DiscordRole) {
			return nil, bad(".discord_role", "%q is not a Discord role id (the digits Copy Role ID gives)", sc.DiscordRole)
		}
		if err := s.Validate(); err != nil {
			return nil, bad("", "%v", err)
		}
		out = append(out, s)
	}
	return out, nil
}

func (c *Config) severities() bot.Severities {
	out := make(bot.Severities, len(c.Incidents.Severities))
	for i, s := range c.Incidents.Severities {
		out[i] = bot.Severity{Level: i + 1, Name: s.Name, Label: s.Label, Priority: bot.Priority(s.Priority)}
	}
	return out
}

func (p PersonConfig) person() bot.Person {
	accounts := map[bot.Platform]string{}
	for _, cp := range chatPlatforms() {
		if id := cp.userID(p); id != "" {
			accounts[cp.id] = id
		}
	}
	hours, _ := p.WorkingHours.hours("", p.TimeZone) // checked at start-up
	return bot.Person{ID: p.ID, Name: p.Name, TimeZone: p.TimeZone, Accounts: accounts, Email: p.Email, Phone: p.Phone, Reach: p.reach(),
		WorkingHours: hours}
}

func (s ServiceConfig) service() bot.Service {
	name := s.Name
	if name == "" {
		name = s.ID
	}
	return bot.Service{ID: s.ID, Name: name, Description: s.Description}
}

var (
	slackHandle = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,20}$`)
	snowflake   = regexp.MustCompile(`^[0-9]{17,20}$`)
)

// groups are the chat groups kept to who is on call, each with the
// schedules that name it.
func (c *Config) groups() []oncall.Group {
	var out []oncall.Group
	add := func(p bot.Platform, group, schedule string) {
		if group == "" {
			return
		}
		for i := range out {
			if out[i].Platform == p && out[i].Group == group {
				out[i].Schedules = append(out[i].Schedules, schedule)
				return
			}
		}
		out = append(out, oncall.Group{Platform: p, Group: group, Schedules: []string{schedule}})
	}
	for _, s := range c.Schedules {
		for _, cp := range c.connected() {
			add(cp.id, cp.group(s), s.ID)
		}
	}
	return out
}

// owners are each service's owners, for on-call changes.
func (c *Config) owners() map[string][]string {
	out := map[string][]string{}
	for _, s := range c.Services {
		if len(s.Owners) > 0 {
			out[s.ID] = s.Owners
		}
	}
	return out
}

// announceChannels are the announcement channels by platform.
func (c *Config) announceChannels() map[bot.Platform]string {
	out := map[bot.Platform]string{bot.PlatformConsole: c.Console.AnnounceChannel}
	for _, cp := range chatPlatforms() {
		out[cp.id] = cp.announce(c)
	}
	return out
}

// groupNames lists the groups kept on platform p, for its start-up check.
func (c *Config) groupNames(p bot.Platform) []string {
	var out []string
	for _, g := range c.groups() {
		if g.Platform == p {
			out = append(out, g.Group)
		}
	}
	return out
}

// handoffs says where each schedule announces its handoffs.
func (c *Config) handoffs() map[string]oncall.HandoffNotice {
	platform, announce := c.platform(), c.announceChannels()
	out := map[string]oncall.HandoffNotice{}
	for _, s := range c.Schedules {
		if s.HandoffChannel == "" && s.HandoffReminder == 0 {
			continue
		}
		p := platform
		if s.HandoffPlatform != "" {
			p = bot.Platform(s.HandoffPlatform)
		}
		out[s.ID] = oncall.HandoffNotice{Platform: p, Channel: s.HandoffChannel, Remind: s.HandoffReminder, ReportTo: announce[p]}
	}
	return out
}

// pagingConfig builds the paging setup: policies, senders and ack emoji.
func (c *Config) pagingConfig(chats []bot.Chat, people bot.People) paging.Config {
	pc := paging.Config{Policies: c.built.policies, ServicePolicy: map[string]string{}, TypePolicy: map[string]string{}, Pagers: map[string]bot.Sender{},
		PagerPeople: map[string][]string{}, AcksSupported: map[string]bool{}, ServiceHours: map[string]bot.Hours{}, People: people}
	for _, s := range c.Services {
		if s.EscalationPolicy != "" {
			pc.ServicePolicy[s.ID] = s.EscalationPolicy
		}
		pc.ServiceHours[s.ID] = c.built.hours[s.ID]
	}
	for _, t := range c.Incidents.Types {
		if t.EscalationPolicy != "" {
			pc.TypePolicy[t.ID] = t.EscalationPolicy
		}
	}
	client := bot.OutboundClient(10 * time.Second)
	for _, p := range c.Pagers {
		switch p.Type {
		case "pagerduty":
			url := p.URL
			if url == "" {
				url = "https://events.pagerduty.com/v2/enqueue"
			}
			pc.Pagers[p.ID] = &pager.PagerDuty{URL: url, RoutingKey: p.RoutingKey.Reveal(), Client: client}
			pc.AcksSupported[p.ID] = true
		case "opsgenie":
			url := p.URL
			if url == "" {
				url = "https://api.opsgenie.com"
			}
			pc.Pagers[p.ID] = &pager.Opsgenie{URL: url, APIKey: p.APIKey.Reveal(), Client: client}
			pc.AcksSupported[p.ID] = true
		case "webhook":
			pc.Pagers[p.ID] = &pager.Webhook{URL: p.URL, Secret: p.Secret.Reveal(), Client: client}
			pc.AcksSupported[p.ID] = true
		case "chat":
			pc.Pagers[p.ID] = &paging.ChatPager{Chats: chats, People: people}
		}
		pc.PagerPeople[p.ID] = p.People
	}
	for _, e := range c.Paging.AckEmoji {
		pc.AckEmoji = append(pc.AckEmoji, bot.NormalizeEmoji(e))
	}
	pc.Notifiers, pc.DefaultRules = c.notifiers(client), c.defaultRules()
	return pc
}

// businessHours reads a service's business hours, with defaults.
func (c *Config) businessHours(s ServiceConfig) (bot.Hours, error) {
	zone := "UTC"
	for _, sc := range c.Schedules {
		if sc.Service == s.ID && sc.TimeZone != "" {
			zone = sc.TimeZone
			break
		}
	}
	return s.BusinessHours.hours("services["+s.ID+"].business_hours", zone)
}

// hours reads a weekly window under key: Mon–Fri 09:00–17:00 in zone by
// default.
func (bh HoursConfig) hours(key, zone string) (bot.Hours, error) {
	h := bot.Hours{Zone: cmp.Or(bh.TimeZone, zone, "UTC"), From: 9 * 60, To: 17 * 60}
	if _, err := time.LoadLocation(h.Zone); err != nil {
		return h, &ConfigError{Key: key + ".time_zone", Reason: fmt.Sprintf("%q is not an IANA time zone", h.Zone)}
	}
	days := bh.Days
	if len(days) == 0 {
		days = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	for _, d := range days {
		wd, ok := weekdayNames[strings.ToLower(d)[:min(3, len(d))]]
		if !ok {
			return h, &ConfigError{Key: key + ".days", Reason: fmt.Sprintf("%q is not a day of the week", d)}
		}
		h.Days[wd] = true
	}
	var err error
	if bh.From != "" {
		if h.From, err = bot.ParseTimeOfDay(bh.From); err != nil {
			return h, &ConfigError{Key: key + ".from", Reason: fmt.Sprintf("%q is not a time of day", bh.From)}
		}
	}
	if bh.To != "" {
		if h.To, err = bot.ParseTimeOfDay(bh.To); err != nil {
			return h, &ConfigError{Key: key + ".to", Reason: fmt.Sprintf("%q is not a time of day", bh.To)}
		}
	}
	if h.To <= h.From {
		return h, &ConfigError{Key: key, Reason: "to must be after from"}
	}
	return h, nil
}

// scheduleIDs lists the configured schedules.
func (c *Config) scheduleIDs() []string {
	var out []string
	for _, s := range c.Schedules {
		out = append(out, s.ID)
	}
	return out
}

// feedTokens maps each calendar feed to its token.
func (c *Config) feedTokens() map[string]string {
	out := map[string]string{}
	for _, s := range c.Schedules {
		if s.FeedToken != "" {
			out["schedule:"+s.ID] = s.FeedToken.Reveal()
		}
	}
	for _, p := range c.People {
		if p.FeedToken != "" {
			out["person:"+p.ID] = p.FeedToken.Reveal()
		}
	}
	return out
}

// commandsConfig turns the config into the incident policy.
func (c *Config) commandsConfig() commands.Config {
	roles := bot.DefaultRoles()
	for _, r := range c.Incidents.Roles {
		if !slices.Contains(roles, bot.Role(r)) {
			roles = append(roles, bot.Role(r))
		}
	}
	var people bot.People
	for _, p := range c.People {
		people = append(people, p.person())
	}
	var services bot.Services
	for _, s := range c.Services {
		services = append(services, s.service())
	}
	var emoji []string
	for _, e := range c.Incidents.HighlightEmoji {
		emoji = append(emoji, bot.NormalizeEmoji(e))
	}
	every := map[string]time.Duration{}
	for name, d := range c.Incidents.UpdateReminders {
		if sev, err := c.severities().Parse(name); err == nil {
			every[sev.Name] = d
		}
	}
	var tmpl fs.FS
	if c.Templates.Dir != "" {
		tmpl = os.DirFS(c.Templates.Dir)
	}
	return commands.Config{
		Templates:         tmpl,
		UpdateEvery:       every,
		CommanderNag:      c.Incidents.CommanderNag,
		Severities:        c.severities(),
		Roles:             roles,
		Services:          services,
		People:            people,
		ChannelPattern:    c.Incidents.ChannelPattern,
		Announce:          c.announceChannels(),
		HighlightEmoji:    emoji,
		RestrictLifecycle: c.Incidents.RestrictLifecycle,
		Admins:            append(slices.Clone(c.Incidents.Admins), c.adminTokens()...),
		CallURL:           c.Incidents.CallURL,
		Trackers:          c.trackerRoutes(),
		ArchiveAfter:      c.Incidents.ArchiveAfter,
		Types:             c.incidentTypes(),
	}
}
