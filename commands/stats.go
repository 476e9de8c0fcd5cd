package commands

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// Stats summarises incidents declared in a window.
type Stats struct {
	Window      time.Duration
	Service     string
	Count       int
	BySeverity  map[string]int
	ByService   map[string]int
	MTTA        time.Duration // mean over incidents that reached the point
	MTTM        time.Duration
	MTTR        time.Duration
	LongestOpen []*bot.Incident // active incidents, oldest first
}

// ComputeStats summarises incs declared within window before now, for one
// service or ("") all.
func ComputeStats(incs []*bot.Incident, now time.Time, window time.Duration, service string) Stats {
	st := Stats{Window: window, Service: service, BySeverity: map[string]int{}, ByService: map[string]int{}}
	var tta, ttm, ttr []time.Duration
	for _, inc := range incs {
		if service != "" && inc.Service != service {
			continue
		}
		if inc.Status.Active() {
			st.LongestOpen = append(st.LongestOpen, inc)
		}
		if inc.DeclaredAt.Before(now.Add(-window)) {
			continue
		}
		st.Count++
		st.BySeverity[inc.Severity.Name]++
		svc := inc.Service
		if svc == "" {
			svc = "(none)"
		}
		st.ByService[svc]++
		m := inc.Metrics()
		for _, x := range []struct {
			d   time.Duration
			out *[]time.Duration
		}{{m.TTA, &tta}, {m.TTM, &ttm}, {m.TTR, &ttr}} {
			if x.d > 0 {
				*x.out = append(*x.out, x.d)
			}
		}
	}
	mean := func(ds []time.Duration) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return sum / time.Duration(len(ds))
	}
	st.MTTA, st.MTTM, st.MTTR = mean(tta), mean(ttm), mean(ttr)
	slices.SortFunc(st.LongestOpen, func(a, b *bot.Incident) int { return a.DeclaredAt.Compare(b.DeclaredAt) })
	if len(st.LongestOpen) > 5 {
		st.LongestOpen = st.LongestOpen[:5]
	}
	return st
}

func durationOrDash(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return bot.Duration(d)
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

// parseWindow reads 30d, 2w or 12h.
func parseWindow(s string) (time.Duration, bool) {
	if d, err := bot.ParseLength(s); err == nil {
		return d, true
	}
	return 0, false
}

func (c *Reports) handleStats(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	window, service := 30*24*time.Hour, ""
	for _, a := range req.Args {
		if d, ok := parseWindow(a); ok {
			window = d
			continue
		}
		if service != "" {
			return nil, bot.Errorf(bot.EINVALID, "Give at most a window (e.g. 30d) and a service.")
		}
		svc, err := c.lc.Service(a)
		if err != nil {
			return nil, err
		}
		service = svc
	}
	// The window's incidents and those open now: the cost grows with the
	// window, not with every incident ever declared.
	now := c.clock.Now()
	all, err := c.store.ListIncidents(ctx, bot.IncidentFilter{DeclaredSince: now.Add(-window)})
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the incidents.")
	}
	active, err := c.store.ListIncidents(ctx, bot.IncidentFilter{ActiveOnly: true})
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the incidents.")
	}
	for _, inc := range active {
		if inc.DeclaredAt.Before(now.Add(-window)) {
			all = append(all, inc) // older than the window, still open
		}
	}
	who := requester(req)
	incs := all[:0:0]
	for _, inc := range all {
		if c.lc.MayAccess(ctx, inc, who) { // private incidents count only for their members
			incs = append(incs, inc)
		}
	}
	st := ComputeStats(incs, now, window, service)
	title := fmt.Sprintf("📊 Incidents in the last %s", bot.Duration(window))
	if service != "" {
		title += " for " + service
	}
	fields := []bot.Field{
		{Label: "Declared", Value: strconv.Itoa(st.Count)},
		{Label: "By severity", Value: counts(st.BySeverity)},
		{Label: "By service", Value: counts(st.ByService)},
		{Label: "MTTA", Value: durationOrDash(st.MTTA)},
		{Label: "MTTM", Value: durationOrDash(st.MTTM)},
		{Label: "MTTR", Value: durationOrDash(st.MTTR)},
	}
	var open []string
	for _, inc := range st.LongestOpen {
		open = append(open, ListLine(inc, now, true))
	}
	text := "No open incidents."
	if len(open) > 0 {
		text = "Longest open:\n" + strings.Join(open, "\n")
	}
	return &bot.Response{Message: bot.Message{Title: title, Fields: fields, Text: text}}, nil
}

// lifecycle kinds are klaxon's own actions on an incident.
var lifecycle = map[bot.EventKind]bool{bot.EventDeclared: true, bot.EventUpdate: true, bot.EventSeverity: true, bot.EventRole: true,
	bot.EventAcknowledged: true, bot.EventMitigated: true, bot.EventResolved: true, bot.EventClosed: true, bot.EventReopened: true,
	bot.EventPage: true}

// KeyEvent reports whether ev belongs in the short timeline: highlights
// (notes, 📌) and lifecycle events.
func KeyEvent(ev bot.Event) bool { return ev.Highlight || lifecycle[ev.Kind] }

// maxTimelineLines keeps a chat reply readable and within platform limits.
const maxTimelineLines = 40

func (c *Reports) handleTimeline(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := c.lc.Target(ctx, req)
	if err != nil {
		return nil, err
	}
	all := len(args) == 1 && strings.EqualFold(args[0], "all")
	if len(args) > 0 && !all {
		return nil, bot.Errorf(bot.EINVALID, "`timeline` takes nothing or `all`.")
	}
	evs, err := c.store.Events(ctx, inc.ID, 0, 0)
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the timeline.")
	}
	var lines []string
	for _, ev := range evs {
		if !all && !KeyEvent(ev) {
			continue
		}
		lines = append(lines, timelineLine(ev))
	}
	total := len(lines)
	if total > maxTimelineLines {
		lines = append([]string{fmt.Sprintf("… %d earlier events not shown", total-maxTimelineLines)}, lines[total-maxTimelineLines:]...)
	}
	title := fmt.Sprintf("🕑 %s key events", inc.Key())
	if all {
		title = fmt.Sprintf("🕑 %s timeline", inc.Key())
	}
	if total == 0 {
		lines = []string{"Nothing yet."}
	}
	return &bot.Response{Message: bot.Message{Title: title, Text: strings.Join(lines, "\n"),
		Context: "Times in UTC · 📌 a message or `/incident note` to add a key event"}}, nil
}

// timelineLine is one event as a line of chat: time, who, what.
func timelineLine(ev bot.Event) string {
	mark := ""
	if ev.Highlight {
		mark = "📌 "
	}
	text := strings.ReplaceAll(ev.Text, "\n", " ")
	if r := []rune(text); len(r) > 160 {
		text = string(r[:159]) + "…"
	}
	who := ""
	if !ev.Actor.IsZero() {
		who = ev.Actor.Mention() + " "
	}
	ev.Text = text
	return fmt.Sprintf("`%s` %s%s%s", ev.Time.UTC().Format("15:04"), mark, who, kindAndText(ev))
}

// commands are the reporting commands under /incident.
func (c *Reports) commands() []bot.Command {
	return []bot.Command{
		{Name: "incident timeline", Params: []bot.Param{bot.IncidentParam, {Name: "all", Desc: "Show everything", Kind: bot.ParamFlag, Flag: "all"}}, Summary: "Show the key events (or everything) of the incident.", Handler: c.handleTimeline},
		{Name: "incident postmortem", Params: []bot.Param{bot.IncidentParam}, Summary: "Post a fresh postmortem draft from the timeline.", Handler: c.handlePostmortem},
		{Name: "incident stats", Params: []bot.Param{{Name: "window", Desc: "How far back, e.g. 30d", Usage: "[30d]"},
			{Name: "service", Desc: "One service", Kind: bot.ParamService}}, Summary: "Counts, MTTA, MTTM, MTTR and the longest open incidents.", Handler: c.handleStats},
	}
}
