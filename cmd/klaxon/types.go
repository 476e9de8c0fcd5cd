package main

import (
	"fmt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
)

// incidentTypes builds incidents.types (checked by validateTypes).
func (c *Config) incidentTypes() bot.IncidentTypes {
	var out bot.IncidentTypes
	for _, tc := range c.Incidents.Types {
		t := bot.IncidentType{ID: tc.ID, Name: tc.Name, Private: tc.Private, ChannelPattern: tc.ChannelPattern,
			EscalationPolicy: tc.EscalationPolicy, StatusPage: tc.StatusPage == nil || *tc.StatusPage, Announce: map[bot.Platform]string{}}
		if tc.Announce.Console != "" {
			t.Announce[bot.PlatformConsole] = tc.Announce.Console
		}
		for _, p := range chatPlatforms() {
			if ch := p.typeAnnounce(tc); ch != "" {
				t.Announce[p.id] = ch
			}
		}
		for _, f := range tc.Fields {
			t.Fields = append(t.Fields, bot.CustomField{ID: f.ID, Label: f.Label, Kind: bot.CustomKind(f.Kind), Options: f.Options, Required: f.Required})
		}
		out = append(out, t)
	}
	return out
}

// validateTypes checks incidents.types, naming the first bad key.
func (c *Config) validateTypes() error {
	seen := map[string]bool{}
	kinds := map[string]bot.CustomKind{} // a field id shared by types means one kind of value
	for i, t := range c.incidentTypes() {
		key := fmt.Sprintf("incidents.types[%d]", i)
		if err := t.Validate(commands.DeclareOptions); err != nil {
			return bad(key, "%v", err)
		}
		if seen[t.ID] {
			return bad(key+".id", "%q is used twice", t.ID)
		}
		seen[t.ID] = true
		for j, f := range t.Fields {
			if k, ok := kinds[f.ID]; ok && k != f.Kind {
				return bad(fmt.Sprintf("%s.fields[%d].kind", key, j), "%q is a %s field in another type; a shared field keeps one kind", f.ID, k)
			}
			kinds[f.ID] = f.Kind
		}
		if t.ChannelPattern != "" {
			if err := commands.ValidateChannelPattern(t.ChannelPattern); err != nil {
				return bad(key+".channel_pattern", "%v", err)
			}
		}
		if t.EscalationPolicy != "" {
			if _, ok := c.built.policies[t.EscalationPolicy]; !ok {
				return bad(key+".escalation_policy", "%q is not one of the escalation_policies", t.EscalationPolicy)
			}
		}
	}
	return nil
}
