package oncall

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
)

// View draws schedule id between from and to; false when there is no
// such schedule.
func (o *OnCall) View(id string, from, to time.Time) (bot.ScheduleView, bool) {
	var s *bot.Schedule
	for _, x := range o.cfg.Schedules {
		if x.ID == id {
			s = x
		}
	}
	if s == nil {
		return bot.ScheduleView{}, false
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	ovs := o.overrides[s.ID]
	v := bot.ScheduleView{Schedule: s, Final: s.Shifts(from, to, ovs)}
	for i := range s.Layers {
		one := &bot.Schedule{ID: s.ID, Location: s.Location, Layers: s.Layers[i : i+1]}
		v.Layers = append(v.Layers, one.Shifts(from, to, nil))
	}
	made := map[uuid.UUID]bot.OnCallChange{}
	for _, c := range o.history {
		if c.Override != nil {
			made[c.Override.ID] = c
		}
		for _, m := range c.More {
			made[m.ID] = c
		}
	}
	for _, ov := range ovs.Between(from, to) {
		c := made[ov.ID]
		v.Overrides = append(v.Overrides, bot.ViewOverride{Override: ov, By: c.Author, Kind: c.Kind})
	}
	now := o.clock.Now()
	for _, c := range o.history.OpenOffers() {
		if c.Offer.Schedule == s.ID && now.Before(c.Offer.Start) {
			v.Offers = append(v.Offers, c)
		}
	}
	slices.SortFunc(v.Offers, func(a, b bot.OnCallChange) int { return a.Offer.Start.Compare(b.Offer.Start) })
	return v, true
}

// Offerable lists person's next shifts on schedule id that they may
// offer (as /oncall swap would), each as its stretches.
func (o *OnCall) Offerable(id, person string) [][]bot.Stretch {
	for _, s := range o.cfg.Schedules {
		if s.ID == id {
			return o.swaps.upcoming(s, person, time.Time{})
		}
	}
	return nil
}

// PersonShifts are person's shifts on every schedule between from and to.
func (o *OnCall) PersonShifts(person string, from, to time.Time) map[string][]bot.Shift {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := map[string][]bot.Shift{}
	for _, s := range o.cfg.Schedules {
		for _, sh := range s.Shifts(from, to, o.overrides[s.ID]) {
			if sh.Person == person {
				out[s.ID] = append(out[s.ID], sh)
			}
		}
	}
	return out
}

// Stranded describes the open on-call changes whose schedule is not
// configured (any more): overrides not yet over and open swap offers.
// They stay in the history, and apply again if the schedule comes back.
func (o *OnCall) Stranded(now time.Time) []string {
	known := map[string]bool{}
	for _, s := range o.cfg.Schedules {
		known[s.ID] = true
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	counts := map[string]int{}
	for id, ovs := range o.history.Overrides() {
		if known[id] {
			continue
		}
		for _, ov := range ovs {
			if ov.End.After(now) {
				counts[id]++
			}
		}
	}
	offers := map[string]int{}
	for _, c := range o.history.OpenOffers() {
		if !known[c.Offer.Schedule] && now.Before(c.Offer.Start) {
			offers[c.Offer.Schedule]++
		}
	}
	var out []string
	for _, id := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, fmt.Sprintf("schedule %q is gone: its %d open override(s) no longer apply (they apply again if it comes back)", id, counts[id]))
	}
	for _, id := range slices.Sorted(maps.Keys(offers)) {
		out = append(out, fmt.Sprintf("schedule %q is gone: its %d open swap offer(s) cannot be taken", id, offers[id]))
	}
	return out
}
