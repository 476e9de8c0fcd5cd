package bot_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// benchSchedules builds n schedules of 5 layers each (weekly, daily,
// business-hours, night and hourly rotations) with ovsPer overrides each,
// spread over 2026.
func benchSchedules(n, ovsPer int) ([]*bot.Schedule, []*bot.Overrides) {
	zones := []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"}
	start := bot.Date{Year: 2026, Month: time.January, Day: 5}
	rng := rand.New(rand.NewPCG(7, 7))
	people := []string{"a", "b", "c", "d", "e", "f"}
	var ss []*bot.Schedule
	var os []*bot.Overrides
	for i := range n {
		loc, _ := time.LoadLocation(zones[i%len(zones)])
		s := &bot.Schedule{ID: fmt.Sprintf("s%d", i), Location: loc, Layers: []bot.Layer{
			{Rotation: bot.Rotation{Kind: bot.RotationWeekly, Days: 7, Start: start, Handoff: 9 * 60, Participants: people}},
			{Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1, Start: start, Handoff: 2*60 + 30, Participants: people[:3]}},
			{Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1, Start: start, Handoff: 9 * 60, Participants: people[2:]},
				Restrictions: []bot.Restriction{{Days: weekdays, From: 9 * 60, To: 17 * 60}}},
			{Rotation: bot.Rotation{Kind: bot.RotationWeekly, Days: 7, Start: start, Handoff: 0, Participants: people[1:4]},
				Restrictions: []bot.Restriction{{Days: [7]bool{time.Friday: true, time.Saturday: true}, From: 22 * 60, To: 6 * 60}}},
			{Rotation: bot.Rotation{Kind: bot.RotationHourly, Length: 12 * time.Hour, Start: start, Handoff: 6 * 60, Participants: people[3:]}},
		}}
		var list []bot.Override
		for range ovsPer {
			st := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
			list = append(list, bot.Override{Person: people[rng.IntN(len(people))], Start: st, End: st.Add(time.Duration(1+rng.IntN(48)) * time.Hour)})
		}
		ss = append(ss, s)
		os = append(os, bot.NewOverrides(list))
	}
	return ss, os
}

// BenchmarkOnCall: one schedule's lookup, and "who is on call everywhere"
// across 20 schedules × 5 layers × 1,000 overrides each.
func BenchmarkOnCall(b *testing.B) {
	ss, os := benchSchedules(20, 1000)
	rng := rand.New(rand.NewPCG(1, 1))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	instants := make([]time.Time, 4096)
	for i := range instants {
		instants[i] = base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
	}
	b.Run("one-schedule", func(b *testing.B) {
		i := 0
		for b.Loop() {
			ss[i%20].OnCall(instants[i%len(instants)], os[i%20])
			i++
		}
	})
	b.Run("all-20-schedules", func(b *testing.B) {
		i := 0
		for b.Loop() {
			t := instants[i%len(instants)]
			for j, s := range ss {
				s.OnCall(t, os[j])
			}
			i++
		}
	})
}
