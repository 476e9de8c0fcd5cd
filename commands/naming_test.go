package commands_test

import (
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
)

func TestChannelName(t *testing.T) {
	inc := func(n int64, title, service string) *bot.Incident {
		return &bot.Incident{Number: n, Title: title, Service: service, Severity: bot.DefaultSeverities()[0]}
	}
	tests := []struct {
		pattern string
		inc     *bot.Incident
		attempt int
		want    string
	}{
		{"inc-{number}-{slug}", inc(42, "Checkout is down!", ""), 1, "inc-42-checkout-is-down"},
		{"inc-{number}-{slug}", inc(42, "Checkout is down!", ""), 3, "inc-42-checkout-is-down-3"},
		{"inc-{number}-{slug}", inc(7, "支付失败", ""), 1, "inc-7"},
		{"{sev}-{service}-{number}", inc(7, "x", "Payments API"), 1, "sev1-payments-api-7"},
		{"{sev}-{service}-{number}", inc(7, "x", ""), 1, "sev1-7"},
		{"incident_{number}", inc(1, "x", ""), 2, "incident_1-2"},
	}
	for _, tt := range tests {
		if got := commands.ChannelName(tt.pattern, tt.inc, tt.attempt); got != tt.want {
			t.Errorf("ChannelName(%q, %q, %d) = %q; want %q", tt.pattern, tt.inc.Title, tt.attempt, got, tt.want)
		}
	}
	long := inc(123456, strings.Repeat("database connection pool exhausted ", 5), "")
	for attempt := 1; attempt <= 10; attempt++ {
		got := commands.ChannelName("inc-{number}-{slug}", long, attempt)
		if len(got) > commands.MaxChannelName || !strings.HasPrefix(got, "inc-123456-database") || strings.Contains(got, "--") {
			t.Errorf("long title, attempt %d: %q (%d bytes)", attempt, got, len(got))
		}
	}
}

func TestValidateChannelPattern(t *testing.T) {
	for _, ok := range []string{"inc-{number}-{slug}", "{sev}_{number}", "ir-{service}-{number}-{slug}"} {
		if err := commands.ValidateChannelPattern(ok); err != nil {
			t.Errorf("ValidateChannelPattern(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"inc-{slug}", "inc-{number}-{title}", "Inc-{number}", "inc {number}", "#inc-{number}", strings.Repeat("x", 70) + "{number}"} {
		if err := commands.ValidateChannelPattern(bad); err == nil {
			t.Errorf("ValidateChannelPattern(%q) accepted a bad pattern", bad)
		}
	}
}
