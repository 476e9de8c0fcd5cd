package bot_test

import (
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
)

func TestSeveritiesParse(t *testing.T) {
	sevs := bot.DefaultSeverities()
	tests := []struct {
		in, want string
	}{
		{"1", "SEV1"}, {"SEV1", "SEV1"}, {"sev2", "SEV2"}, {"critical", "SEV1"}, {"Minor", "SEV3"}, {" 4 ", "SEV4"},
	}
	for _, tt := range tests {
		got, err := sevs.Parse(tt.in)
		if err != nil || got.Name != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"0", "5", "SEV9", "urgent", ""} {
		_, err := sevs.Parse(bad)
		if bot.ErrorCode(err) != bot.EINVALID || !strings.Contains(bot.ErrorMessage(err), "SEV1 (critical)") {
			t.Errorf("Parse(%q): err = %v; want invalid listing the levels", bad, err)
		}
	}
	if d := sevs.Default(); d.Name != "SEV4" || d.Priority != bot.PriorityLow {
		t.Errorf("Default() = %v; want SEV4, low priority", d)
	}
}

func TestSeveritiesValidate(t *testing.T) {
	ok := bot.Severities{{Level: 1, Name: "P1", Label: "urgent", Priority: bot.PriorityHigh}, {Level: 2, Name: "P2", Priority: bot.PriorityLow}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid scale: %v", err)
	}
	tests := []struct {
		name string
		ss   bot.Severities
		want string
	}{
		{"empty", nil, "at least one"},
		{"no name", bot.Severities{{Level: 1, Priority: bot.PriorityHigh}}, "[0].name"},
		{"space in name", bot.Severities{{Level: 1, Name: "SEV 1", Priority: bot.PriorityHigh}}, "spaces"},
		{"bad priority", bot.Severities{{Level: 1, Name: "P1", Priority: "urgent"}}, "[0].priority"},
		{"duplicate", bot.Severities{{Level: 1, Name: "P1", Priority: bot.PriorityHigh}, {Level: 2, Name: "p1", Priority: bot.PriorityLow}}, "used twice"},
		{"gap", bot.Severities{{Level: 2, Name: "P1", Priority: bot.PriorityHigh}}, "[0].level"},
	}
	for _, tt := range tests {
		if err := tt.ss.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v; want error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestParseRole(t *testing.T) {
	known := append(bot.DefaultRoles(), "liaison")
	for in, want := range map[string]bot.Role{"commander": bot.RoleCommander, "IC": bot.RoleCommander, "lead": bot.RoleCommander, "Comms": bot.RoleComms, "liaison": "liaison"} {
		if got, err := bot.ParseRole(in, known); err != nil || got != want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := bot.ParseRole("janitor", known); bot.ErrorCode(err) != bot.EINVALID || !strings.Contains(bot.ErrorMessage(err), "liaison") {
		t.Errorf("unknown role: err = %v; want invalid listing known roles", err)
	}
	for _, bad := range []string{"", "Comms", "1st", strings.Repeat("a", 33), "with space"} {
		if bot.ValidateRoleName(bad) == nil {
			t.Errorf("ValidateRoleName(%q) accepted a bad name", bad)
		}
	}
}
