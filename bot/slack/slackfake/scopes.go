package slackfake

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MethodScopes is Slack's own table, from each method's reference page
// (docs.slack.dev/reference/methods/<method>, "Required scopes", bot
// token): the scopes of which a bot token needs at least one. A method
// missing here is unknown to the fake. Methods with no entry in the list
// need no scope.
var MethodScopes = map[string][]string{
	"auth.test":                    nil,
	"apps.connections.open":        {"connections:write"}, // an app-level token's scope
	"conversations.create":         {"channels:manage", "groups:write"},
	"conversations.invite":         {"channels:manage", "groups:write"},
	"conversations.setTopic":       {"channels:manage", "groups:write"},
	"conversations.setPurpose":     {"channels:manage", "groups:write"},
	"conversations.archive":        {"channels:manage", "groups:write"},
	"conversations.open":           {"im:write"},
	"chat.postMessage":             {"chat:write"},
	"chat.update":                  {"chat:write"},
	"chat.postEphemeral":           {"chat:write"},
	"pins.add":                     {"pins:write"},
	"files.getUploadURLExternal":   {"files:write"},
	"files.completeUploadExternal": {"files:write"},
	"views.open":                   nil, // "No scope required"
	"views.publish":                nil, // "No scope required"
	"conversations.list":           {"channels:read", "groups:read"},
	"conversations.history":        {"channels:history", "groups:history", "im:history"},
	"usergroups.list":              {"usergroups:read"},
	"usergroups.create":            {"usergroups:write"},
	"usergroups.users.update":      {"usergroups:write"},
	"usergroups.enable":            {"usergroups:write"},
	"usergroups.disable":           {"usergroups:write"},
}

// EventScopes is the scope each Events API event needs
// (docs.slack.dev/reference/events/<event>).
var EventScopes = map[string]string{
	"app_mention":           "app_mentions:read",
	"app_home_opened":       "", // no scope
	"member_joined_channel": "channels:read",
	"message.channels":      "channels:history",
	"message.groups":        "groups:history",
	"message.im":            "im:history",
	"pin_added":             "pins:read",
	"pin_removed":           "pins:read",
	"reaction_added":        "reactions:read",
	"reaction_removed":      "reactions:read",
	"channel_rename":        "channels:read",
}

// Manifest is the part of slack-app-manifest.yaml the fake enforces.
type Manifest struct {
	Features struct {
		AppHome struct {
			HomeTab     bool `yaml:"home_tab_enabled"`
			MessagesTab bool `yaml:"messages_tab_enabled"`
		} `yaml:"app_home"`
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

// ManifestPath is the repository's slack-app-manifest.yaml, found from
// this source file so every test package reads the same one.
func ManifestPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "slack-app-manifest.yaml")
}

// ReadManifest parses the app manifest at path.
func ReadManifest(path string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// eventName is the manifest's name for an event: message events are
// subscribed per conversation type (message.channels, message.im, …).
func eventName(event map[string]any) string {
	typ, _ := event["type"].(string)
	if typ != "message" {
		return typ
	}
	switch ct, _ := event["channel_type"].(string); ct {
	case "im":
		return "message.im"
	case "group":
		return "message.groups"
	case "mpim":
		return "message.mpim"
	default:
		return "message.channels"
	}
}

// subscribed reports whether the app receives event: it must be in the
// manifest's bot_events and its scope granted.
func (s *Server) subscribed(event map[string]any) bool {
	name := eventName(event)
	if !slices.Contains(s.manifest.Settings.Events.Bot, name) {
		return false
	}
	scope := EventScopes[name]
	return scope == "" || s.hasScope(scope)
}

func (s *Server) hasScope(scope string) bool {
	return slices.Contains(s.manifest.OAuth.Scopes.Bot, scope)
}

// neededScopes narrows MethodScopes to the conversation at hand: public
// channels need channels:manage, private ones groups:write, DMs im:write.
func (s *Server) neededScopes(method string, p map[string]any) []string {
	switch method {
	case "conversations.create":
		if str(p, "is_private") == "true" {
			return []string{"groups:write"}
		}
		return []string{"channels:manage"}
	case "conversations.invite", "conversations.setTopic", "conversations.setPurpose", "conversations.archive":
		c, ok := s.channels[str(p, "channel")]
		switch {
		case !ok:
			return MethodScopes[method]
		case c.IsDM:
			return []string{"im:write"}
		case c.Private:
			return []string{"groups:write"}
		}
		return []string{"channels:manage"}
	}
	return MethodScopes[method]
}

// missingScope returns the scopes method needs of which the token holds
// none, joined as Slack joins them in "needed", or "" when it may call it.
func (s *Server) missingScope(method string, p map[string]any) string {
	need := s.neededScopes(method, p)
	if method == "apps.connections.open" || len(need) == 0 {
		return ""
	}
	for _, sc := range need {
		if s.hasScope(sc) {
			return ""
		}
	}
	return strings.Join(need, ",")
}
