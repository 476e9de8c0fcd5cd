package oncall

import (
	"context"

	"github.com/klaxon-bot/klaxon/bot"
)

// homeOnCall is the home's "who is on call now" on every schedule, in the
// visitor's time zone.
func (o *OnCall) homeOnCall(ctx context.Context, v bot.Visitor) (*bot.Message, error) {
	if len(o.cfg.Schedules) == 0 {
		return nil, nil
	}
	_, loc := o.asker(v.Platform, v.User)
	m := o.Report(v.Platform, o.cfg.Schedules, o.clock.Now(), loc, "now")
	return &m, nil
}
