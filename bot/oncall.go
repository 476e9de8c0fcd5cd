package bot

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
)

// RotationKind is how a rotation's shifts are measured.
type RotationKind string

// Rotation kinds. Daily and weekly shifts follow the calendar in the
// schedule's zone (a shift is 23 or 25 hours across a DST change); hourly
// and custom shifts are fixed durations.
const (
	RotationDaily  RotationKind = "daily"
	RotationWeekly RotationKind = "weekly"
	RotationHourly RotationKind = "hourly"
	RotationCustom RotationKind = "custom"
)

// Rotation hands a shift from one participant to the next.
type Rotation struct {
	Kind         RotationKind
	Length       time.Duration // hourly and custom: one shift; daily and weekly: ignored
	Days         int           // daily and weekly: days per shift (1 or 7 unless configured)
	Start        Date          // the first shift starts on this date…
	Handoff      TimeOfDay     // …at this wall-clock time
	Participants []string      // person ids, in order
}

// Restriction limits a layer to a weekly window, e.g. business hours. A
// window whose end is not after its start crosses midnight.
type Restriction struct {
	Days     [7]bool // indexed by time.Weekday: the day the window starts
	From, To TimeOfDay
}

// Layer is one rotation with its restrictions.
type Layer struct {
	Name         string
	Rotation     Rotation
	Restrictions []Restriction // none: always on
}

// Schedule is who is on call for a team or service. Later layers win over
// earlier ones; overrides win over every layer.
type Schedule struct {
	ID       string
	Name     string
	Service  string // the service this schedule covers
	Role     string // "primary" or "secondary"
	Location *time.Location
	Layers   []Layer
}

// Title names s in messages: its name in bold, with the id people type
// in commands beside it ("*Payments primary* (`payments-primary`)"), or
// the bold id alone when it has no other name.
func (s *Schedule) Title() string {
	if s.Name == "" || s.Name == s.ID {
		return "*" + s.ID + "*"
	}
	return "*" + s.Name + "* (`" + s.ID + "`)"
}

// Validate checks a schedule's fields.
func (s *Schedule) Validate() error {
	if !serviceID.MatchString(s.ID) {
		return fmt.Errorf("id: %q must be lower-case letters, digits, '-' or '_'", s.ID)
	}
	if s.Location == nil {
		return fmt.Errorf("time_zone: required")
	}
	if len(s.Layers) == 0 {
		return fmt.Errorf("layers: at least one layer is required")
	}
	for i, l := range s.Layers {
		r := l.Rotation
		switch r.Kind {
		case RotationDaily, RotationWeekly:
			if r.Days <= 0 {
				return fmt.Errorf("layers[%d].rotation: a %s rotation needs a positive number of days", i, r.Kind)
			}
		case RotationHourly, RotationCustom:
			if r.Length < time.Minute {
				return fmt.Errorf("layers[%d].length: a %s rotation needs a length of at least 1m", i, r.Kind)
			}
		default:
			return fmt.Errorf("layers[%d].rotation: %q is not one of daily, weekly, hourly, custom", i, r.Kind)
		}
		if len(r.Participants) == 0 {
			return fmt.Errorf("layers[%d].participants: at least one person is required", i)
		}
		for j, rs := range l.Restrictions {
			if rs.From == rs.To {
				return fmt.Errorf("layers[%d].restrictions[%d]: the window is empty (from = to)", i, j)
			}
		}
	}
	return nil
}

// Override puts Person on call for a schedule from Start until End,
// whatever the layers say.
type Override struct {
	ID       uuid.UUID `json:"id"`
	Schedule string    `json:"schedule"`
	Person   string    `json:"person"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// Overrides indexes one schedule's overrides for fast lookup. When
// overrides overlap, the one added last wins.
type Overrides struct {
	list   []Override // sorted by Start
	order  []int      // position in the input: later wins
	maxEnd []time.Time
}

// NewOverrides indexes overrides, given in the order they were made.
func NewOverrides(ovs []Override) *Overrides {
	idx := make([]int, len(ovs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ovs[idx[a]].Start.Before(ovs[idx[b]].Start) })
	o := &Overrides{list: make([]Override, len(ovs)), order: idx, maxEnd: make([]time.Time, len(ovs))}
	for i, j := range idx {
		o.list[i] = ovs[j]
		o.maxEnd[i] = ovs[j].End
		if i > 0 && o.maxEnd[i-1].After(o.maxEnd[i]) {
			o.maxEnd[i] = o.maxEnd[i-1]
		}
	}
	return o
}

// Between lists the overrides that overlap [from, to), by start.
func (o *Overrides) Between(from, to time.Time) []Override {
	if o == nil {
		return nil
	}
	var out []Override
	for _, ov := range o.list {
		if ov.Start.Before(to) && ov.End.After(from) {
			out = append(out, ov)
		}
	}
	return out
}

// At returns the override in force at t, if any.
func (o *Overrides) At(t time.Time) (Override, bool) {
	if o == nil {
		return Override{}, false
	}
	// Overrides starting at or before t, scanned back while one could still
	// reach t.
	i := sort.Search(len(o.list), func(i int) bool { return o.list[i].Start.After(t) }) - 1
	best := -1
	for ; i >= 0 && o.maxEnd[i].After(t); i-- {
		if ov := o.list[i]; !ov.Start.After(t) && ov.End.After(t) && (best < 0 || o.order[i] > o.order[best]) {
			best = i
		}
	}
	if best < 0 {
		return Override{}, false
	}
	return o.list[best], true
}

// boundaries lists override starts and ends within [from, to).
func (o *Overrides) boundaries(from, to time.Time) []time.Time {
	if o == nil {
		return nil
	}
	var out []time.Time
	for _, ov := range o.list {
		for _, t := range []time.Time{ov.Start, ov.End} {
			if !t.Before(from) && t.Before(to) {
				out = append(out, t)
			}
		}
	}
	return out
}

// OnCallAt says who is on call and why.
type OnCallAt struct {
	Person   string
	Layer    int // index of the deciding layer; -1 for an override
	Override *Override
}

// OnCall returns who is on call on s at t. It is false when no layer covers
// t (every layer is restricted away) and no override does.
func (s *Schedule) OnCall(t time.Time, ovs *Overrides) (OnCallAt, bool) {
	if ov, ok := ovs.At(t); ok {
		return OnCallAt{Person: ov.Person, Layer: -1, Override: &ov}, true
	}
	for i := len(s.Layers) - 1; i >= 0; i-- {
		if p, ok := s.Layers[i].at(t, s.Location); ok {
			return OnCallAt{Person: p, Layer: i}, true
		}
	}
	return OnCallAt{}, false
}

// at returns the layer's person at t, respecting its restrictions.
func (l *Layer) at(t time.Time, loc *time.Location) (string, bool) {
	if !l.allows(t, loc) {
		return "", false
	}
	k, _, _ := l.Rotation.shift(t, loc)
	n := len(l.Rotation.Participants)
	return l.Rotation.Participants[((k%n)+n)%n], true
}

// shift returns the index of the shift containing t and its bounds.
func (r *Rotation) shift(t time.Time, loc *time.Location) (int, time.Time, time.Time) {
	anchor := r.Start.At(r.Handoff, loc)
	switch r.Kind {
	case RotationHourly, RotationCustom:
		k := int(t.Sub(anchor) / r.Length)
		if t.Before(anchor) && t.Sub(anchor)%r.Length != 0 {
			k--
		}
		start := anchor.Add(time.Duration(k) * r.Length)
		return k, start, start.Add(r.Length)
	}
	local := t.In(loc)
	day := DateOf(local)
	// Before today's handoff, t belongs to the shift that began earlier.
	if local.Before(day.At(r.Handoff, loc)) {
		day = day.AddDays(-1)
	}
	days := day.DaysSince(r.Start)
	k := days / r.Days
	if days < 0 && days%r.Days != 0 {
		k--
	}
	first := r.Start.AddDays(k * r.Days)
	return k, first.At(r.Handoff, loc), first.AddDays(r.Days).At(r.Handoff, loc)
}

// allows reports whether t falls in one of the layer's windows.
func (l *Layer) allows(t time.Time, loc *time.Location) bool {
	if len(l.Restrictions) == 0 {
		return true
	}
	local := t.In(loc)
	tod := TimeOfDay(local.Hour()*60 + local.Minute())
	day := local.Weekday()
	yesterday := (day + 6) % 7
	for _, r := range l.Restrictions {
		if r.From < r.To {
			if r.Days[day] && tod >= r.From && tod < r.To {
				return true
			}
			continue
		}
		// Crosses midnight: evening part today, morning part from yesterday.
		if (r.Days[day] && tod >= r.From) || (r.Days[yesterday] && tod < r.To) {
			return true
		}
	}
	return false
}

// layerBoundaries lists the instants in [from, to) where a layer may change
// hands or switch on or off.
func (l *Layer) boundaries(from, to time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	_, _, next := l.Rotation.shift(from, loc)
	for t := next; t.Before(to); {
		out = append(out, t)
		_, _, t = l.Rotation.shift(t, loc)
	}
	if len(l.Restrictions) > 0 {
		for d := DateOf(from.In(loc)).AddDays(-1); ; d = d.AddDays(1) {
			if d.At(0, loc).After(to) {
				break
			}
			for _, r := range l.Restrictions {
				for _, tod := range []TimeOfDay{r.From, r.To} {
					if t := d.At(tod, loc); !t.Before(from) && t.Before(to) {
						out = append(out, t)
					}
				}
			}
		}
	}
	return out
}

// Shift is a stretch of time with one person on call.
type Shift struct {
	Person     string
	Start, End time.Time
	Override   bool // decided by an override
}

// Shifts returns who is on call on s between from and to, as consecutive
// shifts; gaps with nobody on call are left out. It is built from OnCall,
// so the two always agree.
func (s *Schedule) Shifts(from, to time.Time, ovs *Overrides) []Shift {
	points := []time.Time{from}
	for i := range s.Layers {
		points = append(points, s.Layers[i].boundaries(from, to, s.Location)...)
	}
	points = append(points, ovs.boundaries(from, to)...)
	slices.SortFunc(points, func(a, b time.Time) int { return a.Compare(b) })
	points = slices.CompactFunc(points, func(a, b time.Time) bool { return a.Equal(b) })
	var out []Shift
	for i, p := range points {
		end := to
		if i+1 < len(points) {
			end = points[i+1]
		}
		at, ok := s.OnCall(p, ovs)
		if !ok {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Person == at.Person && out[n-1].End.Equal(p) && out[n-1].Override == (at.Layer < 0) {
			out[n-1].End = end
			continue
		}
		out = append(out, Shift{Person: at.Person, Start: p, End: end, Override: at.Layer < 0})
	}
	return out
}

// WholeShift returns the pieces, from t on, of the rotation shift that
// puts person on call at t: a layer's shift that a later, restricted layer
// (business hours) cuts into stretches is one shift to hand over. It
// returns nil when person is not on call at t by a layer's rotation.
func (s *Schedule) WholeShift(person string, t time.Time, ovs *Overrides) []Shift {
	at, ok := s.OnCall(t, ovs)
	if !ok || at.Person != person || at.Layer < 0 {
		return nil
	}
	_, from, to := s.Layers[at.Layer].Rotation.shift(t, s.Location)
	var out []Shift
	for _, sh := range s.Shifts(from, to, ovs) {
		// Someone's explicit change (an override) is theirs, not the rotation's.
		if sh.Person == person && !sh.Override && sh.End.After(t) {
			out = append(out, sh)
		}
	}
	return out
}

// ScheduleView is a schedule between two instants, as a calendar draws
// it: who is on call (the final rotation, overrides included), each
// layer's own rotation, and the overrides with who made them.
type ScheduleView struct {
	Schedule  *Schedule
	Final     []Shift
	Layers    [][]Shift // by layer, without overrides or the other layers
	Overrides []ViewOverride
	// Offers are the schedule's open swap offers (ChangeOffer changes),
	// soonest shift first.
	Offers []OnCallChange
}

// ViewOverride is an override with the change that made it.
type ViewOverride struct {
	Override
	By   User
	Kind ChangeKind // override, cover or take
}
