// Package insights computes what the insights charts and their CSV and
// JSON show: incidents per week by severity, time to acknowledge and to
// resolve per week (median and 90th percentile), pages per person and
// how many came outside their working hours, and follow-ups open and
// overdue. It reads the store and computes in plain functions.
package insights

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
)

// Store is what insights read.
type Store interface {
	ListIncidents(ctx context.Context, f bot.IncidentFilter) ([]*bot.Incident, error)
	PagesForIncident(ctx context.Context, incidentID uuid.UUID) ([]*bot.Page, error)
	FollowUps(ctx context.Context) ([]*bot.FollowUp, error)
}

// Filter selects the incidents a report counts: declared in [From, To),
// and of the service, severity and type when set.
type Filter struct {
	From, To                time.Time
	Service, Severity, Type string
}

// ParseFilter reads a filter from a query: from and to (YYYY-MM-DD, UTC;
// default the last 12 weeks), service, severity, type.
func ParseFilter(q url.Values, now time.Time) (Filter, error) {
	f := Filter{Service: q.Get("service"), Severity: q.Get("severity"), Type: q.Get("type")}
	f.To = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	f.From = f.To.AddDate(0, 0, -84)
	for key, t := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := q.Get(key); v != "" {
			d, err := time.Parse("2006-01-02", v)
			if err != nil {
				return Filter{}, bot.Errorf(bot.EINVALID, "%s: %q is not a date like 2026-12-01", key, v)
			}
			*t = d
		}
	}
	if !f.From.Before(f.To) {
		return Filter{}, bot.Errorf(bot.EINVALID, "from must be before to")
	}
	if f.To.Sub(f.From) > 2*366*24*time.Hour {
		return Filter{}, bot.Errorf(bot.EINVALID, "a report covers at most two years")
	}
	return f, nil
}

// Compute builds the report for the incidents visible (nil: all) that
// match f.
func Compute(ctx context.Context, s Store, people bot.People, f Filter, visible func(*bot.Incident) bool, now time.Time) (*bot.InsightsReport, error) {
	incs, err := s.ListIncidents(ctx, bot.IncidentFilter{})
	if err != nil {
		return nil, err
	}
	r := &bot.InsightsReport{From: f.From.Format("2006-01-02"), To: f.To.Format("2006-01-02")}
	type times struct{ tta, ttr []float64 }
	weeks := map[string]*bot.InsightsWeek{}
	durations := map[string]*times{}
	for w := weekOf(f.From); w.Before(f.To); w = w.AddDate(0, 0, 7) {
		k := w.Format("2006-01-02")
		weeks[k] = &bot.InsightsWeek{Start: k, BySeverity: map[string]int{}}
		durations[k] = &times{}
	}
	pages := map[string]*bot.PersonPages{}
	counted := map[uuid.UUID]bool{}
	for _, inc := range incs {
		if inc.DeclaredAt.Before(f.From) || !inc.DeclaredAt.Before(f.To) || (f.Service != "" && inc.Service != f.Service) ||
			(f.Severity != "" && inc.Severity.Name != f.Severity) || (f.Type != "" && inc.Type != f.Type) || (visible != nil && !visible(inc)) {
			continue
		}
		r.Incidents++
		counted[inc.ID] = true
		k := weekOf(inc.DeclaredAt).Format("2006-01-02")
		w, ok := weeks[k]
		if !ok {
			continue
		}
		w.BySeverity[inc.Severity.Name]++
		if !inc.AcknowledgedAt.IsZero() {
			durations[k].tta = append(durations[k].tta, inc.AcknowledgedAt.Sub(inc.DeclaredAt).Seconds())
		}
		if !inc.ResolvedAt.IsZero() {
			durations[k].ttr = append(durations[k].ttr, inc.ResolvedAt.Sub(inc.DeclaredAt).Seconds())
		}
		pgs, err := s.PagesForIncident(ctx, inc.ID)
		if err != nil {
			return nil, err
		}
		for _, pg := range pgs {
			for _, p := range pg.Paged {
				pp := pages[p.Person]
				if pp == nil {
					pp = &bot.PersonPages{Person: p.Person, Name: p.Person}
					if who, ok := people.Get(p.Person); ok {
						pp.Name = who.Name
					}
					pages[p.Person] = pp
				}
				pp.Pages++
				if offHours(people, p.Person, p.At) {
					pp.OffHours++
				}
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(weeks)) {
		w := weeks[k]
		d := durations[k]
		w.TTAp50, w.TTAp90 = Percentile(d.tta, 50), Percentile(d.tta, 90)
		w.TTRp50, w.TTRp90 = Percentile(d.ttr, 50), Percentile(d.ttr, 90)
		r.Weeks = append(r.Weeks, *w)
	}
	for _, k := range slices.Sorted(maps.Keys(pages)) {
		r.Pages = append(r.Pages, *pages[k])
	}
	slices.SortStableFunc(r.Pages, func(a, b bot.PersonPages) int { return b.Pages - a.Pages })
	fus, err := s.FollowUps(ctx)
	if err != nil {
		return nil, err
	}
	for _, fu := range fus {
		if !counted[fu.IncidentID] || fu.Done {
			continue
		}
		r.FollowUps.Open++
		if fu.Overdue(now, time.UTC) {
			r.FollowUps.Overdue++
		}
	}
	return r, nil
}

// weekOf is the Monday 00:00 UTC of t's week.
func weekOf(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// workingHours are Monday to Friday, 09:00–17:00: a person's unless
// they have their own.
var workingHours = bot.Hours{Days: [7]bool{false, true, true, true, true, true, false}, From: 9 * 60, To: 17 * 60}

// offHours reports whether t is outside person's working hours, in their
// zone (UTC without one).
func offHours(people bot.People, person string, t time.Time) bool {
	h := workingHours
	h.Zone = "UTC"
	if who, ok := people.Get(person); ok {
		if who.WorkingHours.To > who.WorkingHours.From {
			h = who.WorkingHours
		} else if who.TimeZone != "" {
			h.Zone = who.TimeZone
		}
	}
	return !h.Next(t).Equal(t)
}

// Percentile is the p-th percentile of xs by the nearest-rank method, or
// -1 when xs is empty.
func Percentile(xs []float64, p int) float64 {
	if len(xs) == 0 {
		return -1
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	return s[max(rank, 1)-1]
}

// CSV is one chart's data as rows, header first.
func CSV(r *bot.InsightsReport, chart string, severities []string) ([][]string, error) {
	switch chart {
	case "weekly":
		head := append([]string{"week"}, severities...)
		rows := [][]string{head}
		for _, w := range r.Weeks {
			row := []string{w.Start}
			for _, s := range severities {
				row = append(row, fmt.Sprint(w.BySeverity[s]))
			}
			rows = append(rows, row)
		}
		return rows, nil
	case "times":
		rows := [][]string{{"week", "tta_p50_seconds", "tta_p90_seconds", "ttr_p50_seconds", "ttr_p90_seconds"}}
		for _, w := range r.Weeks {
			rows = append(rows, []string{w.Start, secs(w.TTAp50), secs(w.TTAp90), secs(w.TTRp50), secs(w.TTRp90)})
		}
		return rows, nil
	case "pages":
		rows := [][]string{{"person", "name", "pages", "off_hours"}}
		for _, p := range r.Pages {
			rows = append(rows, []string{p.Person, p.Name, fmt.Sprint(p.Pages), fmt.Sprint(p.OffHours)})
		}
		return rows, nil
	case "followups":
		return [][]string{{"open", "overdue"}, {fmt.Sprint(r.FollowUps.Open), fmt.Sprint(r.FollowUps.Overdue)}}, nil
	}
	return nil, bot.Errorf(bot.EINVALID, "%q is not a chart: weekly, times, pages or followups", chart)
}

func secs(v float64) string {
	if v < 0 {
		return ""
	}
	return fmt.Sprintf("%.0f", v)
}
