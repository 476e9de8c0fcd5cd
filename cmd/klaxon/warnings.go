package main

import (
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
)

// configWarnings are what klaxon runs with but an operator should fix:
// said in the log at start-up, by klaxon check and on /readyz.
func configWarnings(cfg *Config, source string) []string {
	var out []string
	if info, err := os.Stat(source); err == nil && info.Mode().Perm()&0o077 != 0 && len(cfg.secrets()) > 0 {
		out = append(out, fmt.Sprintf("%s holds secrets and is readable by others (mode %04o): chmod 600 %s", source, info.Mode().Perm(), source))
	}
	if cfg.HTTP.MetricsToken == "" && !cfg.loopback() {
		out = append(out, fmt.Sprintf("/metrics is open on %s, which other machines can reach: set http.metrics_token", cfg.HTTP.Listen))
	}
	if cfg.Incidents.CallURL != "" && !strings.Contains(cfg.Incidents.CallURL, "{secret}") {
		out = append(out, "incidents.call_url has no {secret}: a private incident's meeting room can be guessed from its number or channel")
	}
	if nobody := cfg.unreachable(); len(nobody) > 0 {
		out = append(out, fmt.Sprintf("no pager and no notification rule reaches %s, who can be paged (on a schedule or an escalation policy): add them to a pager's people, a pager for everyone, or a contact method (people[].contact) their rules use", strings.Join(nobody, ", ")))
	}
	return out
}

// unreachable lists the people schedules and escalation policies can page
// but no pager reaches (a pager's people, or a chat pager on a platform
// where they have no account), when any pager is configured.
func (c *Config) unreachable() []string {
	notifies := len(c.notifiers(nil)) > 0
	if len(c.Pagers) == 0 && !notifies {
		return nil
	}
	pageable := map[string]bool{}
	for _, s := range c.Schedules {
		for _, l := range s.Layers {
			for _, p := range l.Participants {
				pageable[p] = true
			}
		}
	}
	for _, pol := range c.EscalationPolicies {
		for _, st := range pol.Steps {
			for _, t := range st.Targets {
				if t.Person != "" {
					pageable[t.Person] = true
				}
			}
		}
	}
	reaches := func(pg PagerConfig, person string) bool {
		if len(pg.People) > 0 && !slices.Contains(pg.People, person) {
			return false
		}
		if pg.Type != "chat" || c.Mode() == string(bot.PlatformConsole) {
			return true
		}
		for _, p := range c.People {
			if p.ID == person {
				for _, cp := range c.connected() {
					if cp.userID(p) != "" {
						return true
					}
				}
			}
		}
		return false
	}
	// Their own rules reach them: a rule whose method has a provider and
	// a configured contact (methods verified in chat are not known here).
	ruled := func(person string) bool {
		for _, p := range c.People {
			if p.ID != person {
				continue
			}
			reach := p.reach()
			if len(reach.Rules) == 0 {
				reach.Rules = c.defaultRules()
			}
			for _, rs := range reach.Steps() {
				if c.methodConfigured(rs.Method) {
					return true
				}
			}
		}
		return false
	}
	var out []string
	for _, person := range slices.Sorted(maps.Keys(pageable)) {
		if !ruled(person) && !slices.ContainsFunc(c.Pagers, func(pg PagerConfig) bool { return reaches(pg, person) }) {
			out = append(out, person)
		}
	}
	return out
}

// secrets lists every secret the configuration holds, wherever it is.
func (c *Config) secrets() []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k))
			}
		case reflect.String:
			if v.Type() == reflect.TypeFor[Secret]() && v.String() != "" {
				out = append(out, v.String())
			}
		}
	}
	walk(reflect.ValueOf(c).Elem())
	return out
}
