package oncall

import (
	"testing"
	"time"
)

// "This weekend" asked at the weekend is this one, not the next.
func TestThisWeekendAtTheWeekend(t *testing.T) {
	for _, tt := range []struct {
		now, want time.Time
	}{
		{time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}, // Wednesday: Saturday noon
		{time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)},  // Saturday morning: today noon
		{time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)}, // Saturday afternoon: now
		{time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)},  // Sunday morning: today noon
		{time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)}, // Sunday night: now
	} {
		if got := instantFor(nil, "this weekend", tt.now, time.UTC); !got.Equal(tt.want) {
			t.Errorf("this weekend asked %s = %s; want %s", tt.now.Format("Mon 15:04"), got.Format("Mon 2 Jan 15:04"), tt.want.Format("Mon 2 Jan 15:04"))
		}
	}
}
