package commands

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// StatusHistory is how far back the status page lists incidents.
const StatusHistory = 90 * 24 * time.Hour

// BuildStatusPage assembles the status page from incidents (any order)
// and the public updates events reads. Private incidents, unlisted ones
// (declared from alerts, until a public update) and those of a type kept
// off the status page are left out.
func BuildStatusPage(ctx context.Context, incs []*bot.Incident, services bot.Services, sevs bot.Severities, types bot.IncidentTypes, now time.Time,
	events func(ctx context.Context, inc *bot.Incident) ([]bot.Event, error)) (bot.StatusPage, error) {
	page := bot.StatusPage{Generated: now.UTC(), State: bot.StateOperational, Active: []bot.PublicIncident{}, History: []bot.PublicIncident{}}
	state := map[string]string{}
	top := 1
	if len(sevs) > 0 {
		top = sevs[0].Level
	}
	for _, inc := range incs {
		if t, typed := types.Get(inc.Type); inc.Private || inc.Unlisted || typed && !t.StatusPage {
			continue
		}
		active := inc.Status.Active()
		if !active && (inc.ResolvedAt.IsZero() || now.Sub(inc.ResolvedAt) > StatusHistory) {
			continue
		}
		pi := bot.PublicIncident{Key: inc.Key(), Title: inc.Title, Severity: inc.Severity.Name, Label: inc.Severity.Label,
			Status: statusWord(inc.Status), Service: inc.Service, Started: inc.DeclaredAt.UTC(), Updated: inc.UpdatedAt.UTC(),
			Resolved: inc.ResolvedAt.UTC(), Updates: []bot.PublicUpdate{}, Major: inc.Severity.Level <= top}
		if !inc.ResolvedAt.IsZero() {
			pi.Duration = bot.Duration(inc.ResolvedAt.Sub(inc.DeclaredAt))
		}
		evs, err := events(ctx, inc)
		if err != nil {
			return bot.StatusPage{}, err
		}
		for _, ev := range evs {
			if ev.Kind == bot.EventUpdate && ev.Meta[bot.MetaPublic] == "true" {
				pi.Updates = append(pi.Updates, bot.PublicUpdate{Time: ev.Time.UTC(), Text: publicText(ev.Text)})
			}
		}
		slices.Reverse(pi.Updates)
		if !active {
			page.History = append(page.History, pi)
			continue
		}
		page.Active = append(page.Active, pi)
		st := bot.StateDegraded
		if pi.Major {
			st = bot.StateMajor
		}
		key := inc.Service
		if worse(st, state[key]) {
			state[key] = st
		}
		if worse(st, page.State) {
			page.State = st
		}
	}
	for _, s := range services {
		st := state[s.ID]
		if st == "" {
			st = bot.StateOperational
		}
		page.Services = append(page.Services, bot.ServiceStatus{ID: s.ID, Name: s.Name, State: st})
	}
	slices.SortFunc(page.Active, func(a, b bot.PublicIncident) int { return b.Started.Compare(a.Started) })
	slices.SortFunc(page.History, func(a, b bot.PublicIncident) int { return b.Resolved.Compare(a.Resolved) })
	return page, nil
}

func worse(a, b string) bool {
	rank := map[string]int{"": 0, bot.StateOperational: 1, bot.StateDegraded: 2, bot.StateMajor: 3}
	return rank[a] > rank[b]
}

func statusWord(s bot.Status) string {
	switch s {
	case bot.StatusOpen:
		return "investigating"
	case bot.StatusAcknowledged:
		return "identified"
	case bot.StatusMitigated:
		return "monitoring"
	}
	return "resolved"
}

// publicText is the update without its timeline prefix.
func publicText(s string) string { return strings.TrimPrefix(s, publicUpdatePrefix) }
