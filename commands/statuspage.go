package commands

import (
	"slices"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// StatusHistory is how far back the status page lists incidents.
const StatusHistory = 90 * 24 * time.Hour

// BuildStatusPage assembles the status page from incidents (any order),
// with the public updates each keeps on its record: the cost grows with
// public updates, not with what was said in the incidents' channels.
// Private incidents, unlisted ones (declared from alerts, until a public
// update) and those of a type kept off the status page are left out.
func BuildStatusPage(incs []*bot.Incident, services bot.Services, sevs bot.Severities, types bot.IncidentTypes, now time.Time) bot.StatusPage {
	page := bot.StatusPage{Generated: now.UTC(), State: bot.StateOperational, Active: []bot.PublicIncident{}, History: []bot.PublicIncident{}}
	state := map[string]string{}
	// Each service's last 90 days, by day, built as incidents are read.
	const days = 90
	today := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(days - 1))
	history := map[string][]bot.DayStatus{}
	dayList := func() []bot.DayStatus {
		out := make([]bot.DayStatus, days)
		for i := range out {
			out[i] = bot.DayStatus{Date: first.AddDate(0, 0, i).Format("2006-01-02"), State: bot.StateOperational}
		}
		return out
	}
	top := 1
	if len(sevs) > 0 {
		top = sevs[0].Level
	}
	for _, inc := range incs {
		if !bot.OnStatusPage(inc, types) {
			continue
		}
		active := inc.Status.Active()
		if !active && (inc.ResolvedAt.IsZero() || now.Sub(inc.ResolvedAt) > StatusHistory) {
			continue
		}
		pi := bot.PublicIncident{Key: inc.Key(), Title: inc.Title, Severity: inc.Severity.Name, Label: inc.Severity.Label,
			Status: bot.PublicStatus(inc.Status), Service: inc.Service, Started: inc.DeclaredAt.UTC(), Updated: inc.UpdatedAt.UTC(),
			Resolved: inc.ResolvedAt.UTC(), Updates: []bot.PublicUpdate{}, Major: inc.Severity.Level <= top}
		if !inc.ResolvedAt.IsZero() {
			pi.Duration = bot.Duration(inc.ResolvedAt.Sub(inc.DeclaredAt))
		}
		// The days it touched, in its service's history.
		if history[inc.Service] == nil {
			history[inc.Service] = dayList()
		}
		st := bot.StateDegraded
		if pi.Major {
			st = bot.StateMajor
		}
		end := inc.ResolvedAt
		if end.IsZero() {
			end = now
		}
		for i, d := range history[inc.Service] {
			from := first.AddDate(0, 0, i)
			if inc.DeclaredAt.Before(from.AddDate(0, 0, 1)) && !end.Before(from) {
				if worse(st, d.State) {
					history[inc.Service][i].State = st
				}
				history[inc.Service][i].Incidents = append(history[inc.Service][i].Incidents, inc.Key()+" "+inc.Title)
			}
		}
		pi.Updates = append(pi.Updates, inc.PublicUpdates...)
		slices.Reverse(pi.Updates)
		if !active {
			page.History = append(page.History, pi)
			continue
		}
		page.Active = append(page.Active, pi)
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
		h := history[s.ID]
		if h == nil {
			h = dayList()
		}
		page.Services = append(page.Services, bot.ServiceStatus{ID: s.ID, Name: s.Name, State: st, Days: h})
	}
	slices.SortFunc(page.Active, func(a, b bot.PublicIncident) int { return b.Started.Compare(a.Started) })
	slices.SortFunc(page.History, func(a, b bot.PublicIncident) int { return b.Resolved.Compare(a.Resolved) })
	return page
}

func worse(a, b string) bool {
	rank := map[string]int{"": 0, bot.StateOperational: 1, bot.StateDegraded: 2, bot.StateMajor: 3}
	return rank[a] > rank[b]
}
