package web_test

import (
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
)

// FuzzAlertDecoders feeds arbitrary bodies to every webhook decoder: none
// may panic, and whatever one accepts must be a usable alert.
func FuzzAlertDecoders(f *testing.F) {
	for _, name := range []string{"alertmanager.json", "grafana.json", "generic.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(amBody(1, 0, 3, "resolved")))
	f.Add([]byte(`{"title":"x","status":"resolved","links":["http://a"]}`))
	f.Add([]byte(`{"version":"4","groupKey":"k","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, decode := range map[string]func([]byte) ([]bot.Alert, error){
			"alertmanager": web.DecodeAlertmanager, "grafana": web.DecodeGrafana, "generic": web.DecodeGeneric,
		} {
			alerts, err := decode(body)
			if err != nil {
				if alerts != nil {
					t.Errorf("%s: alerts and an error", name)
				}
				continue
			}
			if len(alerts) == 0 {
				t.Errorf("%s: no alerts and no error", name)
			}
			for _, a := range alerts {
				if a.Source != name || !strings.HasPrefix(a.GroupKey, name+":") || len(a.GroupKey) == len(name)+1 || strings.TrimSpace(a.Title) == "" {
					t.Errorf("%s accepted an unusable alert: %+v", name, a)
				}
				if !a.Firing && !a.GroupResolved && name == "generic" {
					t.Errorf("generic: a resolved alert must resolve its group: %+v", a)
				}
			}
		}
	})
}
