package oncall

import (
	"context"

	"github.com/klaxon-bot/klaxon/bot"
)

// homeOnCall is the home's "who is on call now" on every schedule, in the
// visitor's time zone.
func (q *questions) homeOnCall(ctx context.Context, v bot.Visitor) (*bot.Message, error) {
	if len(q.oc.cfg.Schedules) == 0 {
		return nil, nil
	}
	_, loc := q.oc.asker(v.Platform, v.User)
	m := q.oc.Report(v.Platform, q.oc.cfg.Schedules, q.oc.clock.Now(), loc, "now")
	return &m, nil
}
