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

// Service states on the status page, best first.
const (
	StateOperational = "operational"
	StateDegraded    = "degraded"     // a public incident below the top severity is active
	StateMajor       = "major_outage" // a public incident of the top severity is active
)

// StatusPage is what the public status page shows. Private incidents are
// never in it.
type StatusPage struct {
	Generated time.Time        `json:"generated"`
	State     string           `json:"state"` // the worst service state
	Services  []ServiceStatus  `json:"services"`
	Active    []PublicIncident `json:"active"`
	History   []PublicIncident `json:"history"` // resolved in the last 90 days, newest first
}

// ServiceStatus is one service's state.
type ServiceStatus struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

// PublicIncident is an incident as the public sees it: no channel, no
// people, only updates posted with --public.
type PublicIncident struct {
	Key      string         `json:"key"`
	Title    string         `json:"title"`
	Severity string         `json:"severity"`
	Label    string         `json:"severity_label"`
	Status   string         `json:"status"`
	Service  string         `json:"service,omitempty"`
	Started  time.Time      `json:"started"`
	Updated  time.Time      `json:"updated"`
	Resolved time.Time      `json:"resolved,omitzero"`
	Updates  []PublicUpdate `json:"updates"` // newest first
	Major    bool           `json:"-"`
	Duration string         `json:"-"`
}

// PublicUpdate is an update posted with /incident update --public.
type PublicUpdate struct {
	Time time.Time `json:"time"`
	Text string    `json:"text"`
}

// BuildStatusPage assembles the status page from incidents (any order)
// and the public updates events reads.
func BuildStatusPage(ctx context.Context, incs []*bot.Incident, services bot.Services, sevs bot.Severities, now time.Time,
	events func(ctx context.Context, inc *bot.Incident) ([]bot.Event, error)) (StatusPage, error) {
	page := StatusPage{Generated: now.UTC(), State: StateOperational, Active: []PublicIncident{}, History: []PublicIncident{}}
	state := map[string]string{}
	top := 1
	if len(sevs) > 0 {
		top = sevs[0].Level
	}
	for _, inc := range incs {
		if inc.Private {
			continue
		}
		active := inc.Status.Active()
		if !active && (inc.ResolvedAt.IsZero() || now.Sub(inc.ResolvedAt) > StatusHistory) {
			continue
		}
		pi := PublicIncident{Key: inc.Key(), Title: inc.Title, Severity: inc.Severity.Name, Label: inc.Severity.Label,
			Status: statusWord(inc.Status), Service: inc.Service, Started: inc.DeclaredAt.UTC(), Updated: inc.UpdatedAt.UTC(),
			Resolved: inc.ResolvedAt.UTC(), Updates: []PublicUpdate{}, Major: inc.Severity.Level <= top}
		if !inc.ResolvedAt.IsZero() {
			pi.Duration = bot.Duration(inc.ResolvedAt.Sub(inc.DeclaredAt))
		}
		evs, err := events(ctx, inc)
		if err != nil {
			return StatusPage{}, err
		}
		for _, ev := range evs {
			if ev.Kind == bot.EventUpdate && ev.Meta[bot.MetaPublic] == "true" {
				pi.Updates = append(pi.Updates, PublicUpdate{Time: ev.Time.UTC(), Text: publicText(ev.Text)})
			}
		}
		slices.Reverse(pi.Updates)
		if !active {
			page.History = append(page.History, pi)
			continue
		}
		page.Active = append(page.Active, pi)
		st := StateDegraded
		if pi.Major {
			st = StateMajor
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
			st = StateOperational
		}
		page.Services = append(page.Services, ServiceStatus{ID: s.ID, Name: s.Name, State: st})
	}
	slices.SortFunc(page.Active, func(a, b PublicIncident) int { return b.Started.Compare(a.Started) })
	slices.SortFunc(page.History, func(a, b PublicIncident) int { return b.Resolved.Compare(a.Resolved) })
	return page, nil
}

func worse(a, b string) bool {
	rank := map[string]int{"": 0, StateOperational: 1, StateDegraded: 2, StateMajor: 3}
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
