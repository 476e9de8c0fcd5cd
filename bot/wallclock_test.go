package bot_test

import (
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestDateAtAcrossDST(t *testing.T) {
	tests := []struct {
		zone string
		date string
		tod  string
		want string // RFC 3339 in UTC
	}{
		// Ordinary days.
		{"America/New_York", "2026-03-07", "09:00", "2026-03-07T14:00:00Z"},
		{"America/New_York", "2026-03-09", "09:00", "2026-03-09T13:00:00Z"},
		// Spring forward 2026-03-08 02:00 → 03:00: 02:30 does not exist; the switch is 07:00 UTC.
		{"America/New_York", "2026-03-08", "02:30", "2026-03-08T07:00:00Z"},
		// Fall back 2026-11-01 02:00 → 01:00: 01:30 happens twice; the first is EDT (05:30 UTC).
		{"America/New_York", "2026-11-01", "01:30", "2026-11-01T05:30:00Z"},
		// Berlin: spring forward 2026-03-29 02:00 → 03:00; fall back 2026-10-25 03:00 → 02:00.
		{"Europe/Berlin", "2026-03-29", "02:15", "2026-03-29T01:00:00Z"},
		{"Europe/Berlin", "2026-10-25", "02:30", "2026-10-25T00:30:00Z"},
		{"Europe/Berlin", "2026-10-25", "03:30", "2026-10-25T02:30:00Z"},
		// Lord Howe moves by 30 minutes: 2026-10-04 02:00 → 02:30 (gap), 2026-04-05 02:00 → 01:30 (overlap).
		{"Australia/Lord_Howe", "2026-10-04", "02:10", "2026-10-03T15:30:00Z"},
		{"Australia/Lord_Howe", "2026-04-05", "01:45", "2026-04-04T14:45:00Z"},
		{"Australia/Lord_Howe", "2026-04-05", "02:00", "2026-04-04T15:30:00Z"},
	}
	for _, tt := range tests {
		d, err := bot.ParseDate(tt.date)
		if err != nil {
			t.Fatal(err)
		}
		tod, err := bot.ParseTimeOfDay(tt.tod)
		if err != nil {
			t.Fatal(err)
		}
		got := d.At(tod, mustLoc(t, tt.zone)).UTC().Format(time.RFC3339)
		if got != tt.want {
			t.Errorf("%s %s %s in %s = %s; want %s", tt.date, tt.tod, "", tt.zone, got, tt.want)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	d, _ := bot.ParseDate("2026-03-07")
	if got := d.AddDays(2).String(); got != "2026-03-09" {
		t.Errorf("AddDays = %s", got)
	}
	e, _ := bot.ParseDate("2026-11-02")
	if n := e.DaysSince(d); n != 240 {
		t.Errorf("DaysSince = %d; want 240", n)
	}
	if d.Weekday() != time.Saturday {
		t.Errorf("weekday = %v", d.Weekday())
	}
	if _, err := bot.ParseTimeOfDay("25:00"); err == nil {
		t.Error("25:00 accepted")
	}
}
