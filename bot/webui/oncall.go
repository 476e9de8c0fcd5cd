package webui

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// OnCall is what the calendar asks of the on-call schedules.
type OnCall interface {
	Schedules() []*bot.Schedule
	View(id string, from, to time.Time) (bot.ScheduleView, bool)
	PersonShifts(person string, from, to time.Time) map[string][]bot.Shift
	// Offerable lists the person's next shifts on a schedule they may
	// offer to swap, each as its stretches.
	Offerable(schedule, person string) [][]bot.Stretch
}

// Policies is what the escalation page asks of paging.
type Policies interface {
	Policies() map[string]bot.Policy
	WhoNow(pol bot.Policy, now time.Time) [][]string
}

type myShift struct {
	Schedule, Title string
	When            string
}

type oncallIndex struct {
	Schedules []*bot.Schedule
	Mine      []myShift
	Zone      string
	Feed      string
}

// handleOnCall lists the schedules and the person's next shifts.
func (u *UI) handleOnCall(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	who := u.person(s)
	loc := who.Location()
	now := u.cfg.Clock.Now()
	d := oncallIndex{Schedules: u.cfg.OnCall.Schedules(), Zone: loc.String()}
	mine := u.cfg.OnCall.PersonShifts(who.ID, now, now.Add(28*24*time.Hour))
	for _, sc := range d.Schedules {
		for _, sh := range mine[sc.ID] {
			d.Mine = append(d.Mine, myShift{Schedule: sc.ID, Title: plainTitle(sc), When: span(sh.Start, sh.End, loc, sc.Location)})
		}
	}
	slices.SortStableFunc(d.Mine, func(a, b myShift) int { return strings.Compare(a.When, b.When) })
	if u.cfg.Feeds != nil {
		d.Feed = u.cfg.Feeds(who.ID)
	}
	u.render(w, r, http.StatusOK, "oncall", page{Title: "On call", Person: who, CSRF: s.CSRF, Data: d})
}

// plainTitle names a schedule on a page: its name (or id), service and
// role.
func plainTitle(s *bot.Schedule) string {
	t := cmp.Or(s.Name, s.ID)
	if s.Service != "" && s.Service != t {
		t += " · " + s.Service
	}
	if s.Role != "" {
		t += " · " + s.Role
	}
	return t
}

// clock shows the time of day of t in loc, and midnight at the end of
// day as 24:00.
func clock(t, dayEnd time.Time, loc *time.Location) string {
	if t.Equal(dayEnd) {
		return "24:00"
	}
	return t.In(loc).Format("15:04")
}

// daySpan shows a shift clipped to one day: times of day in the viewer's
// zone, the schedule's alongside when it differs.
func daySpan(from, to, dayEnd time.Time, viewer, sched *time.Location) string {
	out := clock(from, dayEnd, viewer) + "–" + clock(to, dayEnd, viewer)
	if sched != nil && sched.String() != viewer.String() {
		out += " (" + from.In(sched).Format("15:04") + "–" + to.In(sched).Format("15:04") + " " + sched.String() + ")"
	}
	return out
}

// span shows a shift in the viewer's zone, with the schedule's alongside
// when it differs.
func span(from, to time.Time, viewer, sched *time.Location) string {
	const f = "Mon 2 Jan 15:04"
	out := from.In(viewer).Format(f) + " – " + to.In(viewer).Format(f) + " " + viewer.String()
	if sched != nil && sched.String() != viewer.String() {
		out += " (" + from.In(sched).Format("15:04") + " – " + to.In(sched).Format("15:04") + " " + sched.String() + ")"
	}
	return out
}

type calDay struct {
	Date   string
	Hours  int // 23 or 25 on a DST change
	Shifts []calShift
	Today  bool
}

type calShift struct {
	Who, When string
	Override  bool
}

type calLayer struct {
	Name   string
	Shifts []calShift
}

type calOverride struct {
	Who, For, By, Kind, When string
}

// calOffer is an open swap offer on the schedule.
type calOffer struct {
	ID, Who, When string
	Mine          bool // the viewer's own: withdraw it with undo
}

// calOfferable is one of the viewer's shifts they may offer.
type calOfferable struct {
	Start, When string
}

type calendarData struct {
	Offers    []calOffer
	Offerable []calOfferable
	Schedule  *bot.Schedule
	Title     string
	View      string
	Zone      string
	Days      []calDay
	Layers    []calLayer
	Overrides []calOverride
	Prev      string
	Next      string
	People    []bot.Person
}

// handleCalendar draws one schedule as a week or a month in the viewer's
// zone: who is on call each day (overrides marked), each layer's own
// rotation, and the overrides with who made them for whom.
func (u *UI) handleCalendar(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	who := u.person(s)
	loc := who.Location()
	q := r.URL.Query()
	view := q.Get("view")
	if view != "month" {
		view = "week"
	}
	day := u.cfg.Clock.Now().In(loc)
	if d, err := time.ParseInLocation("2006-01-02", q.Get("date"), loc); err == nil {
		day = d
	}
	var from, to time.Time
	var prev, next time.Time
	if view == "month" {
		from = time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, loc)
		to = from.AddDate(0, 1, 0)
		prev, next = from.AddDate(0, -1, 0), to
	} else {
		back := (int(day.Weekday()) + 6) % 7 // to Monday
		from = time.Date(day.Year(), day.Month(), day.Day()-back, 0, 0, 0, 0, loc)
		to = from.AddDate(0, 0, 7)
		prev, next = from.AddDate(0, 0, -7), to
	}
	v, ok := u.cfg.OnCall.View(r.PathValue("id"), from, to)
	if !ok {
		u.problem(w, r, http.StatusNotFound, "Not found", "There is no such schedule.")
		return
	}
	name := func(id string) string {
		if p, ok := u.cfg.People.Get(id); ok {
			return p.Name
		}
		return id
	}
	d := calendarData{Schedule: v.Schedule, Title: plainTitle(v.Schedule), View: view, Zone: loc.String(), People: u.cfg.People}
	link := func(t time.Time) string {
		return u.cfg.BasePath + "/oncall/" + url.PathEscape(v.Schedule.ID) + "?view=" + view + "&date=" + t.Format("2006-01-02")
	}
	d.Prev, d.Next = link(prev), link(next)
	today := u.cfg.Clock.Now().In(loc).Format("2006-01-02")
	for t := from; t.Before(to); t = t.AddDate(0, 0, 1) {
		end := t.AddDate(0, 0, 1)
		cd := calDay{Date: t.Format("Mon 2 Jan"), Hours: int(end.Sub(t).Round(time.Hour).Hours()), Today: t.Format("2006-01-02") == today}
		for _, sh := range v.Final {
			if sh.Start.Before(end) && sh.End.After(t) {
				a, b := later(sh.Start, t), earlier(sh.End, end)
				cd.Shifts = append(cd.Shifts, calShift{Who: name(sh.Person), When: daySpan(a, b, end, loc, v.Schedule.Location), Override: sh.Override})
			}
		}
		d.Days = append(d.Days, cd)
	}
	for i, shifts := range v.Layers {
		l := calLayer{Name: v.Schedule.Layers[i].Name}
		if l.Name == "" {
			l.Name = "Layer " + string(rune('1'+i))
		}
		for _, sh := range shifts {
			l.Shifts = append(l.Shifts, calShift{Who: name(sh.Person), When: span(sh.Start, sh.End, loc, v.Schedule.Location)})
		}
		d.Layers = append(d.Layers, l)
	}
	for _, ov := range v.Overrides {
		under, _ := v.Schedule.OnCall(ov.Start, nil)
		by := u.userName(bot.PlatformConsole, ov.By)
		if p, ok := u.cfg.People.Find(bot.PlatformSlack, ov.By.ID); ok {
			by = p.Name
		} else if p, ok := u.cfg.People.Find(bot.PlatformDiscord, ov.By.ID); ok {
			by = p.Name
		}
		d.Overrides = append(d.Overrides, calOverride{Who: name(ov.Person), For: name(under.Person), By: by, Kind: string(ov.Kind),
			When: span(ov.Start, ov.End, loc, v.Schedule.Location)})
	}
	for _, c := range v.Offers {
		ps := c.Offer.Stretches()
		d.Offers = append(d.Offers, calOffer{ID: c.ID.String(), Who: name(c.Offer.Person), Mine: c.Offer.Person == who.ID,
			When: span(ps[0].Start, ps[len(ps)-1].End, loc, v.Schedule.Location)})
	}
	for _, sh := range u.cfg.OnCall.Offerable(v.Schedule.ID, who.ID) {
		d.Offerable = append(d.Offerable, calOfferable{Start: sh[0].Start.UTC().Format(time.RFC3339),
			When: span(sh[0].Start, sh[len(sh)-1].End, loc, v.Schedule.Location)})
	}
	u.render(w, r, http.StatusOK, "calendar", page{Title: plainTitle(v.Schedule), Person: who, CSRF: s.CSRF, Data: d, Flash: q.Get("said")})
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// handleOverride puts someone on call on the schedule as /oncall override
// does, as the person, with the same rules.
func (u *UI) handleOverride(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	f := r.PostForm
	id := r.PathValue("id")
	who := u.person(s)
	platform := u.chatOf(who)
	target, ok := u.cfg.People.Get(f.Get("person"))
	said := "Pick one of klaxon's people."
	if ok {
		cmd := "/oncall override " + target.MentionOn(platform) + " " + bot.QuoteArg(strings.TrimSpace(f.Get("from"))) + " " + bot.QuoteArg(strings.TrimSpace(f.Get("until"))) + " " + bot.QuoteArg(id)
		said = u.run(r.Context(), s, platform, cmd)
	}
	http.Redirect(w, r, u.cfg.BasePath+"/oncall/"+url.PathEscape(id)+"?said="+url.QueryEscape(said), http.StatusSeeOther)
}

// handleCover and handleUndo run /oncall cover and /oncall undo on the
// schedule, as the person, with chat's rules.
func (u *UI) handleCover(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	id := r.PathValue("id")
	who := u.person(s)
	platform := u.chatOf(who)
	said := "Pick one of klaxon's people."
	if target, ok := u.cfg.People.Get(r.PostForm.Get("person")); ok {
		said = u.run(r.Context(), s, platform, "/oncall cover "+target.MentionOn(platform)+" "+bot.QuoteArg(strings.TrimSpace(r.PostForm.Get("for")))+" "+bot.QuoteArg(id))
	}
	http.Redirect(w, r, u.cfg.BasePath+"/oncall/"+url.PathEscape(id)+"?said="+url.QueryEscape(said), http.StatusSeeOther)
}

func (u *UI) handleUndo(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	id := r.PathValue("id")
	said := u.run(r.Context(), s, u.chatOf(u.person(s)), "/oncall undo "+bot.QuoteArg(id))
	http.Redirect(w, r, u.cfg.BasePath+"/oncall/"+url.PathEscape(id)+"?said="+url.QueryEscape(said), http.StatusSeeOther)
}

// handleOffer offers one of the person's shifts for a swap, and
// handleTake takes an offer, through the buttons' own actions: the same
// rules as in chat (only people on the rotation take, an offer expires
// when its shift starts).
func (u *UI) handleOffer(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	id := r.PathValue("id")
	u.act(w, r, s, id, bot.ActionOfferShift, id+"|"+r.PostForm.Get("start"))
}

func (u *UI) handleTake(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	u.act(w, r, s, r.PathValue("id"), bot.ActionTakeShift, r.PostForm.Get("offer"))
}

// act runs a button's action as the person, and shows what it said on
// the schedule's page.
func (u *UI) act(w http.ResponseWriter, r *http.Request, s *bot.Session, schedule, action, value string) {
	who := u.person(s)
	platform := u.chatOf(who)
	a := actor(who, platform)
	resp := u.cfg.Act(r.Context(), bot.Action{Platform: platform, ActionID: action, Value: value, User: a.User, Time: u.cfg.Clock.Now()})
	said := "Done: the schedule below shows it."
	if resp != nil && resp.Text != "" {
		said = u.said(platform, resp.Text)
	}
	u.log.Info().Str("person", s.Person).Str("action", action).Msg("web action")
	http.Redirect(w, r, u.cfg.BasePath+"/oncall/"+url.PathEscape(schedule)+"?said="+url.QueryEscape(said), http.StatusSeeOther)
}

// chatOf is the platform a person acts on from the web: the first
// connected chat they have an account on, else the console.
func (u *UI) chatOf(who bot.Person) bot.Platform {
	for _, p := range []bot.Platform{bot.PlatformSlack, bot.PlatformDiscord} {
		if who.UserID(p) != "" && u.connected(p) {
			return p
		}
	}
	return bot.PlatformConsole
}

type policyRow struct {
	ID    string
	Steps []policyStep
	Again int
}

type policyStep struct {
	N      int
	Wait   string
	Now    []string
	Target []string
}

// handlePolicies shows each escalation policy: its steps, their waits and
// whom each would page right now.
func (u *UI) handlePolicies(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	now := u.cfg.Clock.Now()
	pols := u.cfg.Policies.Policies()
	var rows []policyRow
	for _, id := range slices.Sorted(maps.Keys(pols)) {
		pol := pols[id]
		who := u.cfg.Policies.WhoNow(pol, now)
		row := policyRow{ID: id, Again: pol.Repeat}
		for i, st := range pol.Steps {
			ps := policyStep{N: i + 1, Wait: bot.Duration(st.Delay)}
			for _, t := range st.Targets {
				ps.Target = append(ps.Target, string(t.Kind)+" "+t.ID)
			}
			for _, p := range who[i] {
				if q, ok := u.cfg.People.Get(p); ok {
					p = q.Name
				}
				ps.Now = append(ps.Now, p)
			}
			row.Steps = append(row.Steps, ps)
		}
		rows = append(rows, row)
	}
	u.render(w, r, http.StatusOK, "policies", page{Title: "Escalation policies", Person: u.person(s), CSRF: s.CSRF, Data: rows})
}
