package insights

import (
	"net/url"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

func TestPercentileNearestRank(t *testing.T) {
	xs := []float64{15, 20, 35, 40, 50}
	for p, want := range map[int]float64{50: 35, 90: 50, 100: 50, 1: 15} {
		if got := Percentile(xs, p); got != want {
			t.Errorf("p%d = %v, want %v", p, got, want)
		}
	}
	if Percentile(nil, 50) != -1 {
		t.Error("no data must read -1")
	}
}

func TestWeeksStartOnMondayUTC(t *testing.T) {
	if got := weekOf(time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)); got.Format("2006-01-02 Mon") != "2026-11-30 Mon" {
		t.Errorf("week of a Sunday = %s", got)
	}
}

func TestParseFilter(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	f, err := ParseFilter(url.Values{}, now)
	if err != nil || f.To.Format("2006-01-02") != "2026-12-07" || f.To.Sub(f.From) != 84*24*time.Hour {
		t.Fatalf("default filter %+v %v", f, err)
	}
	for _, q := range []url.Values{{"from": {"yesterday"}}, {"from": {"2026-12-01"}, "to": {"2026-11-01"}}, {"from": {"2020-01-01"}}} {
		if _, err := ParseFilter(q, now); err == nil {
			t.Errorf("%v accepted", q)
		}
	}
}

// TestOffHoursFollowEachPersonsHours: a page counts as outside working
// hours by the person's own window and zone, else Mon–Fri 09–17 in their
// zone, else in UTC.
func TestOffHoursFollowEachPersonsHours(t *testing.T) {
	people := bot.People{
		{ID: "ann", TimeZone: "Asia/Tokyo"},
		{ID: "bo", TimeZone: "Europe/Berlin", WorkingHours: bot.Hours{Zone: "Europe/Berlin", Days: [7]bool{time.Sunday: true, time.Monday: true}, From: 20 * 60, To: 23 * 60}},
		{ID: "cy"},
	}
	// Monday 2026-12-07 12:00 UTC: 21:00 in Tokyo, 13:00 in Berlin.
	noon := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		who  string
		at   time.Time
		want bool
	}{
		{"ann", noon, true},                       // 21:00 Tokyo: after her day
		{"ann", noon.Add(-10 * time.Hour), false}, // 11:00 Tokyo
		{"bo", noon, true},                        // 13:00 Berlin: outside his 20–23 shift
		{"bo", noon.Add(8 * time.Hour), false},    // 21:00 Berlin on a Monday
		{"bo", noon.Add(32 * time.Hour), true},    // 21:00 Berlin on a Tuesday: not one of his days
		{"cy", noon, false},                       // 12:00 UTC
		{"nobody", noon.Add(-4 * time.Hour), true},
	} {
		if got := offHours(people, c.who, c.at); got != c.want {
			t.Errorf("offHours(%s, %s) = %v, want %v", c.who, c.at, got, c.want)
		}
	}
}
