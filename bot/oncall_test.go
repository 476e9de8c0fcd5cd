package bot_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

func date(t *testing.T, s string) bot.Date {
	t.Helper()
	d, err := bot.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tod(t *testing.T, s string) bot.TimeOfDay {
	t.Helper()
	v, err := bot.ParseTimeOfDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var weekdays = [7]bool{false, true, true, true, true, true, false}

type check struct {
	when string // local wall time in the schedule's zone
	want string // "" means nobody
}

func runChecks(t *testing.T, s *bot.Schedule, ovs *bot.Overrides, checks []check) {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		got, ok := s.OnCall(at(t, s.Location, c.when), ovs)
		if !ok {
			got.Person = ""
		}
		if got.Person != c.want {
			t.Errorf("%s: OnCall(%s %s) = %q; want %q", s.ID, c.when, s.Location, got.Person, c.want)
		}
	}
}

func TestWeeklyRotationAcrossSpringForward(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	s := &bot.Schedule{ID: "payments", Location: ny, Layers: []bot.Layer{{Rotation: bot.Rotation{
		Kind: bot.RotationWeekly, Days: 7, Start: date(t, "2026-03-02"), Handoff: tod(t, "09:00"), Participants: []string{"alice", "bob", "carol"}}}}}
	runChecks(t, s, nil, []check{
		{"2026-03-02 09:00", "alice"},
		{"2026-03-08 03:30", "alice"}, // just after clocks sprang forward
		{"2026-03-09 08:59", "alice"},
		{"2026-03-09 09:00", "bob"}, // handoff at 09:00 EDT, not 09:00 EST
		{"2026-03-16 09:00", "carol"},
		{"2026-03-23 09:00", "alice"},
		{"2026-03-01 12:00", "carol"}, // before the start, the rotation runs backwards
	})
	// The shift across the DST change lasts 167 hours of real time.
	shifts := s.Shifts(at(t, ny, "2026-03-02 09:00"), at(t, ny, "2026-03-16 09:00"), nil)
	if len(shifts) != 2 || shifts[0].End.Sub(shifts[0].Start) != 167*time.Hour || shifts[1].End.Sub(shifts[1].Start) != 168*time.Hour {
		t.Errorf("shifts = %+v", shifts)
	}
}

func TestDailyHandoffInTheDSTGap(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	s := &bot.Schedule{ID: "db", Location: berlin, Layers: []bot.Layer{{Rotation: bot.Rotation{
		Kind: bot.RotationDaily, Days: 1, Start: date(t, "2026-03-27"), Handoff: tod(t, "02:30"), Participants: []string{"anna", "ben"}}}}}
	// 2026-03-27 anna, 03-28 ben, 03-29 anna: that handoff (02:30) does not
	// exist and happens at the switch, 03:00 CEST.
	switchInstant := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{switchInstant.Add(-time.Second), "ben"},
		{switchInstant, "anna"},
		// 211 days after the start, 10-24 is ben's; 10-25 is anna's from the
		// first 02:30 (CEST), and the second 02:30 (CET) hands over nothing.
		{time.Date(2026, 10, 25, 0, 29, 0, 0, time.UTC), "ben"},
		{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), "anna"},
		{time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), "anna"},
		{time.Date(2026, 10, 26, 1, 29, 0, 0, time.UTC), "anna"}, // 02:29 CET next day
		{time.Date(2026, 10, 26, 1, 30, 0, 0, time.UTC), "ben"},
	} {
		if got, _ := s.OnCall(c.t, nil); got.Person != c.want {
			t.Errorf("OnCall(%s) = %s; want %s", c.t, got.Person, c.want)
		}
	}
}

func TestLordHoweThirtyMinuteDST(t *testing.T) {
	lh := mustLoc(t, "Australia/Lord_Howe")
	s := &bot.Schedule{ID: "sydney", Location: lh, Layers: []bot.Layer{{Rotation: bot.Rotation{
		Kind: bot.RotationDaily, Days: 1, Start: date(t, "2026-10-01"), Handoff: tod(t, "02:15"), Participants: []string{"kai", "lee"}}}}}
	// 10-01 kai, 10-02 lee, 10-03 kai, 10-04 lee: 02:15 falls in the gap
	// (02:00 → 02:30), so lee starts at the switch, 15:30 UTC on 10-03.
	sw := time.Date(2026, 10, 3, 15, 30, 0, 0, time.UTC)
	if got, _ := s.OnCall(sw.Add(-time.Minute), nil); got.Person != "kai" {
		t.Errorf("before the switch: %s", got.Person)
	}
	if got, _ := s.OnCall(sw, nil); got.Person != "lee" {
		t.Errorf("at the switch: %s", got.Person)
	}
}

func TestLayersAndRestrictions(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	base := bot.Layer{Name: "24/7", Rotation: bot.Rotation{Kind: bot.RotationWeekly, Days: 7, Start: date(t, "2026-06-01"), Handoff: tod(t, "10:00"), Participants: []string{"night-a", "night-b"}}}
	business := bot.Layer{Name: "business hours", Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1, Start: date(t, "2026-06-01"), Handoff: tod(t, "09:00"), Participants: []string{"day-x", "day-y"}},
		Restrictions: []bot.Restriction{{Days: weekdays, From: tod(t, "09:00"), To: tod(t, "17:00")}}}
	fridayNight := bot.Layer{Name: "friday night", Rotation: bot.Rotation{Kind: bot.RotationWeekly, Days: 7, Start: date(t, "2026-06-01"), Handoff: tod(t, "00:00"), Participants: []string{"weekend-w"}},
		Restrictions: []bot.Restriction{{Days: [7]bool{time.Friday: true}, From: tod(t, "22:00"), To: tod(t, "06:00")}}}
	s := &bot.Schedule{ID: "platform", Location: berlin, Layers: []bot.Layer{base, business, fridayNight}}
	runChecks(t, s, nil, []check{
		{"2026-06-02 10:00", "day-y"},   // Tuesday, business hours: the higher layer
		{"2026-06-02 08:59", "night-a"}, // before hours: the base layer
		{"2026-06-02 17:00", "night-a"}, // the window ends at 17:00
		{"2026-06-06 12:00", "night-a"}, // Saturday
		{"2026-06-05 22:00", "weekend-w"},
		{"2026-06-06 05:59", "weekend-w"}, // Friday's window runs into Saturday
		{"2026-06-06 06:00", "night-a"},
		{"2026-06-08 09:30", "day-y"}, // 06-01 x, 02 y, … 08 is day 7: y
		{"2026-06-08 10:30", "day-y"},
		{"2026-06-08 18:00", "night-b"}, // the base layer handed over at 10:00
	})
	// A schedule that is only business hours has gaps.
	only := &bot.Schedule{ID: "office", Location: berlin, Layers: []bot.Layer{business}}
	runChecks(t, only, nil, []check{{"2026-06-02 10:00", "day-y"}, {"2026-06-02 20:00", ""}})
	shifts := only.Shifts(at(t, berlin, "2026-06-01 00:00"), at(t, berlin, "2026-06-08 00:00"), nil)
	if len(shifts) != 5 {
		t.Fatalf("business-hours shifts in a week = %d; want 5: %+v", len(shifts), shifts)
	}
	for _, sh := range shifts {
		if sh.End.Sub(sh.Start) != 8*time.Hour || sh.Start.In(berlin).Hour() != 9 {
			t.Errorf("shift %+v is not 09:00-17:00", sh)
		}
	}
}

func TestOverridesOverlappingShiftEdges(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	s := &bot.Schedule{ID: "api", Location: ny, Layers: []bot.Layer{{Rotation: bot.Rotation{
		Kind: bot.RotationWeekly, Days: 7, Start: date(t, "2026-03-02"), Handoff: tod(t, "09:00"), Participants: []string{"alice", "bob"}}}}}
	// In the order they were made: the newest wins where they overlap.
	ovs := bot.NewOverrides([]bot.Override{
		{ID: bot.NewID(), Person: "finn", Start: at(t, ny, "2026-03-01 00:00"), End: at(t, ny, "2026-04-01 00:00")}, // oldest, longest
		{ID: bot.NewID(), Person: "dave", Start: at(t, ny, "2026-03-09 08:00"), End: at(t, ny, "2026-03-09 10:00")}, // across the handoff
		{ID: bot.NewID(), Person: "erin", Start: at(t, ny, "2026-03-09 09:30"), End: at(t, ny, "2026-03-09 12:00")}, // overlaps dave
	})
	runChecks(t, s, ovs, []check{
		{"2026-03-09 07:59", "finn"},
		{"2026-03-09 08:00", "dave"},
		{"2026-03-09 09:15", "dave"},
		{"2026-03-09 09:30", "erin"},
		{"2026-03-09 11:59", "erin"},
		{"2026-03-09 12:00", "finn"},
		{"2026-04-01 00:00", "alice"}, // 03-30 09:00 handed to alice
	})
	noFinn := bot.NewOverrides([]bot.Override{{Person: "dave", Start: at(t, ny, "2026-03-09 08:00"), End: at(t, ny, "2026-03-09 10:00")}})
	runChecks(t, s, noFinn, []check{{"2026-03-09 07:59", "alice"}, {"2026-03-09 10:00", "bob"}})
}

func TestFixedLengthRotations(t *testing.T) {
	utc := time.UTC
	s := &bot.Schedule{ID: "follow-the-sun", Location: utc, Layers: []bot.Layer{{Rotation: bot.Rotation{
		Kind: bot.RotationCustom, Length: 8 * time.Hour, Start: date(t, "2026-01-01"), Handoff: tod(t, "06:00"), Participants: []string{"apac", "emea", "amer"}}}}}
	runChecks(t, s, nil, []check{
		{"2026-01-01 06:00", "apac"}, {"2026-01-01 14:00", "emea"}, {"2026-01-01 22:00", "amer"},
		{"2026-01-02 05:59", "amer"}, {"2026-01-02 06:00", "apac"}, {"2026-01-01 05:59", "amer"},
	})
}

// TestShiftsAgreeWithOnCall samples random instants: the shift list and the
// point lookup must tell the same story, with no overlaps.
func TestShiftsAgreeWithOnCall(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe"} {
		loc := mustLoc(t, zone)
		s := &bot.Schedule{ID: "mixed", Location: loc, Layers: []bot.Layer{
			{Rotation: bot.Rotation{Kind: bot.RotationWeekly, Days: 7, Start: date(t, "2026-01-05"), Handoff: tod(t, "02:30"), Participants: []string{"a", "b", "c"}}},
			{Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1, Start: date(t, "2026-01-05"), Handoff: tod(t, "09:00"), Participants: []string{"x", "y"}},
				Restrictions: []bot.Restriction{{Days: weekdays, From: tod(t, "09:00"), To: tod(t, "17:30")}}},
		}}
		from, to := at(t, loc, "2026-02-20 00:00"), at(t, loc, "2026-04-20 00:00")
		ovs := bot.NewOverrides([]bot.Override{{Person: "o", Start: at(t, loc, "2026-03-10 12:00"), End: at(t, loc, "2026-03-12 01:00")}})
		shifts := s.Shifts(from, to, ovs)
		for i := 1; i < len(shifts); i++ {
			if shifts[i].Start.Before(shifts[i-1].End) {
				t.Fatalf("%s: shifts overlap: %+v, %+v", zone, shifts[i-1], shifts[i])
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 500 {
			tt := from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)))))
			want, _ := s.OnCall(tt, ovs)
			got := ""
			for _, sh := range shifts {
				if !tt.Before(sh.Start) && tt.Before(sh.End) {
					got = sh.Person
				}
			}
			if got != want.Person {
				t.Fatalf("%s at %s: shifts say %q, OnCall says %q", zone, tt.In(loc), got, want.Person)
			}
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	good := bot.Layer{Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1, Participants: []string{"a"}}}
	tests := []struct {
		s    bot.Schedule
		want string
	}{
		{bot.Schedule{ID: "Bad ID", Location: time.UTC, Layers: []bot.Layer{good}}, "id"},
		{bot.Schedule{ID: "x", Layers: []bot.Layer{good}}, "time_zone"},
		{bot.Schedule{ID: "x", Location: time.UTC}, "layers"},
		{bot.Schedule{ID: "x", Location: time.UTC, Layers: []bot.Layer{{Rotation: bot.Rotation{Kind: "fortnightly", Participants: []string{"a"}}}}}, "rotation"},
		{bot.Schedule{ID: "x", Location: time.UTC, Layers: []bot.Layer{{Rotation: bot.Rotation{Kind: bot.RotationCustom, Participants: []string{"a"}}}}}, "length"},
		{bot.Schedule{ID: "x", Location: time.UTC, Layers: []bot.Layer{{Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1}}}}, "participants"},
	}
	for _, tt := range tests {
		if err := tt.s.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v; want an error about %s", tt.s.ID, err, tt.want)
		}
	}
}

func TestHoursNext(t *testing.T) {
	h := bot.Hours{Zone: "Europe/Berlin", Days: weekdays, From: 9 * 60, To: 17 * 60}
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct{ at, want string }{
		{"2026-11-24 10:00", "2026-11-24 10:00"}, // Tuesday, inside
		{"2026-11-24 08:59", "2026-11-24 09:00"}, // before hours
		{"2026-11-24 17:00", "2026-11-25 09:00"}, // the window ends at 17:00
		{"2026-11-27 18:00", "2026-11-30 09:00"}, // Friday evening → Monday
		{"2026-11-28 12:00", "2026-11-30 09:00"}, // Saturday
		{"2026-03-27 20:00", "2026-03-30 09:00"}, // across the spring-forward weekend
	}
	for _, tt := range tests {
		got := h.Next(at(t, berlin, tt.at)).In(berlin).Format("2006-01-02 15:04")
		if got != tt.want {
			t.Errorf("Next(%s) = %s; want %s", tt.at, got, tt.want)
		}
	}
	none := bot.Hours{Zone: "UTC"}
	if now := at(t, time.UTC, "2026-11-28 12:00"); !none.Next(now).Equal(now) {
		t.Error("an empty window must not hold pages back")
	}
}
