package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
)

// maxHomeLines bounds each section of the home, so it stays one screen.
const maxHomeLines = 25

// homeIncidents lists the open incidents with links to their channels.
// Private incidents show no title or channel, as everywhere outside them.
func (c *Interactions) homeIncidents(ctx context.Context, v bot.Visitor) (*bot.Message, error) {
	incs, err := c.store.ListIncidents(ctx, bot.IncidentFilter{ActiveOnly: true})
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the open incidents.")
	}
	if len(incs) == 0 {
		return &bot.Message{Title: "🚨 Open incidents", Text: "✅ None right now."}, nil
	}
	now := c.clock.Now()
	var lines []string
	for _, inc := range incs {
		lines = append(lines, ListLine(inc, now, false))
	}
	return &bot.Message{Title: fmt.Sprintf("🚨 Open incidents (%d)", len(incs)), Text: strings.Join(capLines(lines), "\n")}, nil
}

// homeFollowUps lists the visitor's open follow-ups.
func (c *Interactions) homeFollowUps(ctx context.Context, v bot.Visitor) (*bot.Message, error) {
	all, err := c.store.FollowUps(ctx)
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the follow-ups.")
	}
	now := c.clock.Now()
	var lines []string
	for _, f := range all {
		if !f.Done && f.Owner.ID == v.User.ID {
			lines = append(lines, followUpLine(f, now))
		}
	}
	if len(lines) == 0 {
		return &bot.Message{Title: "📋 Your follow-ups", Text: "Nothing open for you."}, nil
	}
	return &bot.Message{Title: fmt.Sprintf("📋 Your follow-ups (%d)", len(lines)), Text: strings.Join(capLines(lines), "\n"),
		Context: "`/followup done F-n` when one is done"}, nil
}

func capLines(lines []string) []string {
	if len(lines) <= maxHomeLines {
		return lines
	}
	return append(lines[:maxHomeLines:maxHomeLines], fmt.Sprintf("… and %d more", len(lines)-maxHomeLines))
}
