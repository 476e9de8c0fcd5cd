package slack

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestManifestMatchesAdapter keeps slack-app-manifest.yaml in step with what
// the adapter handles.
func TestManifestMatchesAdapter(t *testing.T) {
	data, err := os.ReadFile("../../slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			SlashCommands []struct {
				Command      string `yaml:"command"`
				ShouldEscape bool   `yaml:"should_escape"`
			} `yaml:"slash_commands"`
			Shortcuts []struct {
				Type       string `yaml:"type"`
				CallbackID string `yaml:"callback_id"`
			} `yaml:"shortcuts"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				Bot []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				Enabled bool `yaml:"is_enabled"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, c := range m.Features.SlashCommands {
		cmds = append(cmds, c.Command)
		if !c.ShouldEscape {
			t.Errorf("%s should escape mentions", c.Command)
		}
	}
	if got := strings.Join(cmds, " "); got != "/incident /followups /followup /oncall" {
		t.Errorf("slash commands = %s; want /incident /followups /followup /oncall", got)
	}
	if len(m.Features.Shortcuts) != 1 || m.Features.Shortcuts[0].CallbackID != ShortcutCallbackID || m.Features.Shortcuts[0].Type != "message" {
		t.Errorf("shortcuts = %+v; want the %s message shortcut", m.Features.Shortcuts, ShortcutCallbackID)
	}
	if !m.Settings.SocketMode || !m.Settings.Interactivity.Enabled {
		t.Error("socket mode and interactivity must be enabled")
	}
	for _, ev := range []string{"app_mention", "member_joined_channel", "message.channels", "message.groups", "message.im", "pin_added", "reaction_added", "reaction_removed"} {
		if !slices.Contains(m.Settings.Events.Bot, ev) {
			t.Errorf("manifest does not subscribe to %s, which the adapter records", ev)
		}
	}
	// The Web API methods the adapter calls, and the scope each needs.
	for _, scope := range []string{"channels:manage", "groups:write", "chat:write", "chat:write.public", "pins:write", "im:write", "commands", "channels:history", "groups:history", "im:history", "reactions:read", "app_mentions:read"} {
		if !slices.Contains(m.OAuth.Scopes.Bot, scope) {
			t.Errorf("manifest lacks the %s scope", scope)
		}
	}
}
