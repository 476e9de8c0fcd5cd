package bot

import "time"

// TimeOfDay is a wall-clock time of day in minutes after midnight.
type TimeOfDay int

// ParseTimeOfDay reads "09:00" or "9:30".
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, Errorf(EINVALID, "%q is not a time of day like 09:00.", s)
	}
	return TimeOfDay(t.Hour()*60 + t.Minute()), nil
}

func (t TimeOfDay) String() string {
	return time.Date(0, 1, 1, int(t)/60, int(t)%60, 0, 0, time.UTC).Format("15:04")
}

// Date is a calendar date without a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads "2026-01-05".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return Date{}, Errorf(EINVALID, "%q is not a date like 2026-01-05.", s)
	}
	return DateOf(t), nil
}

// DateOf is t's calendar date in t's location.
func DateOf(t time.Time) Date { y, m, d := t.Date(); return Date{y, m, d} }

// AddDays moves d by n calendar days.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// DaysSince counts calendar days from e to d (negative if d is earlier).
func (d Date) DaysSince(e Date) int {
	a := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
	b := time.Date(e.Year, e.Month, e.Day, 12, 0, 0, 0, time.UTC)
	return int(a.Sub(b).Round(24*time.Hour) / (24 * time.Hour))
}

// Weekday is d's day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

func (d Date) String() string {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

// At is the instant when the wall clock in loc shows date d at time of day
// tod. Wall-clock times that do not exist (the hour skipped when clocks
// spring forward) resolve to the switch instant; times that exist twice
// (when clocks fall back) resolve to the first occurrence. Go's time.Date
// leaves both cases unspecified, so they are worked out here.
func (d Date) At(tod TimeOfDay, loc *time.Location) time.Time {
	wall := time.Date(d.Year, d.Month, d.Day, int(tod)/60, int(tod)%60, 0, 0, time.UTC)
	// The zone's offsets a day either side: DST changes are months apart.
	_, offBefore := wall.Add(-36 * time.Hour).In(loc).Zone()
	_, offAfter := wall.Add(36 * time.Hour).In(loc).Zone()
	var first time.Time
	for _, off := range []int{offBefore, offAfter} {
		t := wall.Add(-time.Duration(off) * time.Second)
		if sameWall(t.In(loc), wall) && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	if !first.IsZero() {
		return first.In(loc)
	}
	// In a gap: the switch instant lies between the two readings.
	lo := wall.Add(-time.Duration(offBefore) * time.Second)
	hi := wall.Add(-time.Duration(offAfter) * time.Second)
	if lo.After(hi) {
		lo, hi = hi, lo
	}
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if _, off := mid.In(loc).Zone(); off == offBefore {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi.Truncate(time.Second).In(loc)
}

func sameWall(t, wall time.Time) bool {
	y, m, d := t.Date()
	wy, wm, wd := wall.Date()
	return y == wy && m == wm && d == wd && t.Hour() == wall.Hour() && t.Minute() == wall.Minute()
}
