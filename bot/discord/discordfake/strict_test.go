package discordfake

import (
	"strings"
	"testing"
)

func TestMessageErrorsNameTheField(t *testing.T) {
	long := strings.Repeat("x", 4097)
	body := map[string]any{
		"content": strings.Repeat("c", 2001),
		"embeds": []any{map[string]any{"title": "t", "description": long,
			"fields": []any{map[string]any{"name": "n", "value": ""}}}},
		"components": []any{map[string]any{"type": float64(1), "components": []any{
			map[string]any{"type": float64(2), "style": float64(1), "custom_id": "a", "label": "ok"},
			map[string]any{"type": float64(2), "style": float64(1), "custom_id": "a", "label": strings.Repeat("l", 81)},
		}}},
	}
	e := messageErrors(body)
	for _, path := range []string{"content", "embeds.0.description", "embeds.0.fields.0.value", "components.0.components.1.custom_id", "components.0.components.1.label"} {
		if _, ok := e[path]; !ok {
			t.Errorf("no error at %s; got %v", path, e)
		}
	}
	nested := e.body()["embeds"].(map[string]any)["0"].(map[string]any)["description"].(map[string]any)["_errors"].([]any)[0].(map[string]any)
	if nested["code"] != "BASE_TYPE_MAX_LENGTH" {
		t.Errorf("nested error = %v", nested)
	}
	// 6,000 characters in all, each field within its own limit.
	var fields []any
	for range 7 {
		fields = append(fields, map[string]any{"name": "n", "value": strings.Repeat("v", 1000)})
	}
	if e := messageErrors(map[string]any{"embeds": []any{map[string]any{"fields": fields}}}); e["embeds"] == "" {
		t.Errorf("7,007 characters of embed were accepted: %v", e)
	}
}

func TestCommandErrors(t *testing.T) {
	cmds := []any{
		map[string]any{"name": "Incident", "description": "x", "type": float64(1)},
		map[string]any{"name": "oncall", "description": "", "type": float64(1), "options": []any{
			map[string]any{"type": float64(1), "name": "who", "description": "d", "options": []any{
				map[string]any{"type": float64(3), "name": "a", "description": "d"},
				map[string]any{"type": float64(3), "name": "b", "description": "d", "required": true},
			}},
		}},
		map[string]any{"name": "Declare incident", "type": float64(3)},
	}
	e := commandErrors(cmds)
	for _, path := range []string{"0.name", "1.description", "1.options.0.options.1.required"} {
		if _, ok := e[path]; !ok {
			t.Errorf("no error at %s; got %v", path, e)
		}
	}
	if _, ok := e["2.name"]; ok {
		t.Errorf("a message command's name with a capital and a space was refused: %v", e)
	}
}

func TestChannelPermissions(t *testing.T) {
	s := New(t, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Channel{ID: "1", Overwrites: []Overwrite{{ID: everyoneID, Deny: "1024"}}}
	if s.channelPerms(c) != 0 {
		t.Error("a channel hidden from @everyone is visible to klaxon without its own overwrite")
	}
	c.Overwrites = append(c.Overwrites, Overwrite{ID: BotID, Type: 1, Allow: "1024"})
	if p := s.channelPerms(c); p&PermViewChannel == 0 || p&PermPinMessages == 0 {
		t.Errorf("with its member overwrite klaxon has %d", p)
	}
	s.perms = 268561488
	if err := s.grantable(nil, []Overwrite{{ID: BotID, Allow: "2251799813685248"}}); err == nil || err.code != 50013 {
		t.Errorf("granting Pin Messages without holding it: %v", err)
	}
}
