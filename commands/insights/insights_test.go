package insights

import (
	"net/url"
	"testing"
	"time"
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
