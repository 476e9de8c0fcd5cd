package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// Limits on what one webhook may carry.
const (
	MaxAlertBody   = 1 << 20 // bytes
	maxAlerts      = 1000    // alerts in one webhook
	maxLabelLength = 1024    // runes in a label or annotation value
)

// amMessage is the Alertmanager webhook body, version 4, which Grafana's
// webhook contact point extends (version "1" there).
type amMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
	// Grafana only.
	Title   string `json:"title"`
	Message string `json:"message"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	// Grafana only.
	DashboardURL string `json:"dashboardURL"`
	PanelURL     string `json:"panelURL"`
}

// DecodeAlertmanager decodes an Alertmanager webhook (version 4). Every
// alert of it belongs to the group named by groupKey.
func DecodeAlertmanager(body []byte) ([]bot.Alert, error) {
	var m amMessage
	if err := decodeJSON(body, &m, false); err != nil {
		return nil, err
	}
	if m.Version != "4" {
		return nil, fmt.Errorf("version %q is not supported: klaxon reads Alertmanager webhook version 4", m.Version)
	}
	as, err := m.alerts("alertmanager")
	return bounded(as), err
}

// DecodeGrafana decodes a Grafana alerting webhook (version 1).
func DecodeGrafana(body []byte) ([]bot.Alert, error) {
	var m amMessage
	if err := decodeJSON(body, &m, false); err != nil {
		return nil, err
	}
	if m.Version != "1" {
		return nil, fmt.Errorf("version %q is not supported: klaxon reads Grafana alerting webhook version 1", m.Version)
	}
	as, err := m.alerts("grafana")
	return bounded(as), err
}

func (m *amMessage) alerts(source string) ([]bot.Alert, error) {
	if bot.OneLine(m.GroupKey) == "" {
		return nil, errors.New("groupKey is missing")
	}
	groupResolved, err := firing(m.Status, "status")
	if err != nil {
		return nil, err
	}
	groupResolved = !groupResolved
	if len(m.Alerts) == 0 {
		return nil, errors.New("alerts is empty")
	}
	if len(m.Alerts) > maxAlerts {
		return nil, fmt.Errorf("%d alerts in one webhook; the limit is %d", len(m.Alerts), maxAlerts)
	}
	out := make([]bot.Alert, 0, len(m.Alerts))
	for i, a := range m.Alerts {
		on, err := firing(a.Status, fmt.Sprintf("alerts[%d].status", i))
		if err != nil {
			return nil, err
		}
		if len(a.Labels) == 0 {
			return nil, fmt.Errorf("alerts[%d].labels is missing", i)
		}
		if err := checkLabels(a.Labels, fmt.Sprintf("alerts[%d].labels", i)); err != nil {
			return nil, err
		}
		title := first(a.Annotations["summary"], m.CommonAnnotations["summary"], m.Title, a.Labels["alertname"], m.CommonLabels["alertname"])
		if title == "" {
			return nil, fmt.Errorf("alerts[%d] has no summary annotation or alertname label to name it by", i)
		}
		out = append(out, bot.Alert{
			Source:        source,
			GroupKey:      source + ":" + m.GroupKey,
			Title:         title,
			Severity:      first(a.Labels["severity"], m.CommonLabels["severity"]),
			Service:       first(a.Labels["service"], m.CommonLabels["service"]),
			Firing:        on,
			GroupResolved: groupResolved,
			Labels:        a.Labels,
			Links:         links(a.GeneratorURL, a.Annotations["runbook_url"], a.DashboardURL, a.PanelURL),
			StartsAt:      a.StartsAt,
			Detail:        first(a.Annotations["description"], m.CommonAnnotations["description"], m.Message),
		})
	}
	return out, nil
}

// genericAlert is klaxon's own alert format for anything else that can
// post JSON.
type genericAlert struct {
	Title       string            `json:"title"`
	Severity    string            `json:"severity"`
	Service     string            `json:"service"`
	DedupKey    string            `json:"dedup_key"`
	Status      string            `json:"status"`
	Description string            `json:"description"`
	Labels      map[string]string `json:"labels"`
	Links       []string          `json:"links"`
	StartedAt   time.Time         `json:"started_at"`
}

// DecodeGeneric decodes one alert in klaxon's generic format. Unknown
// fields are an error: a typo should not silently drop a field.
func DecodeGeneric(body []byte) ([]bot.Alert, error) {
	var g genericAlert
	if err := decodeJSON(body, &g, true); err != nil {
		return nil, err
	}
	g.Title = bot.OneLine(g.Title)
	if g.Title == "" {
		return nil, errors.New("title is missing")
	}
	if g.Status == "" {
		g.Status = "firing"
	}
	on, err := firing(g.Status, "status")
	if err != nil {
		return nil, err
	}
	if err := checkLabels(g.Labels, "labels"); err != nil {
		return nil, err
	}
	for i, l := range g.Links {
		if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") {
			return nil, fmt.Errorf("links[%d] is not an http(s) URL", i)
		}
	}
	key := g.DedupKey
	if key == "" {
		key = g.Service + "/" + g.Title
	}
	return bounded([]bot.Alert{{
		Source: "generic", GroupKey: "generic:" + key, Title: g.Title, Severity: g.Severity, Service: g.Service,
		Firing: on, GroupResolved: !on, Labels: g.Labels, Links: g.Links, StartsAt: g.StartedAt, Detail: g.Description,
	}}), nil
}

// Bounds on what an alert carries into klaxon: a title fits a summary
// line, a description a timeline event. Longer text is cut, not refused:
// the alert still pages.
const (
	maxAlertTitle  = 300  // runes
	maxAlertDetail = 4000 // runes
)

// bounded cleans alerts' titles and descriptions of control characters
// (bot.OneLine, bot.CleanText) and live chat mentions (bot.Unmention:
// an alert source cannot ping anyone) and cuts them to their bounds, at the
// edge, so nothing after it (the timeline, logs, chat, the status page)
// sees them.
func bounded(as []bot.Alert) []bot.Alert {
	for i := range as {
		as[i].Title = bot.Cut(bot.Unmention(bot.OneLine(as[i].Title)), maxAlertTitle)
		as[i].Detail = bot.Cut(bot.Unmention(bot.CleanText(as[i].Detail)), maxAlertDetail)
	}
	return as
}

func decodeJSON(body []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the body is not valid JSON for this endpoint: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the body has data after the JSON object")
	}
	return nil
}

func firing(status, field string) (bool, error) {
	switch status {
	case "firing":
		return true, nil
	case "resolved":
		return false, nil
	case "":
		return false, fmt.Errorf("%s is missing", field)
	}
	return false, fmt.Errorf("%s is %q; want firing or resolved", field, status)
}

func checkLabels(labels map[string]string, field string) error {
	for k, v := range labels {
		if len(k) > maxLabelLength || len(v) > maxLabelLength {
			return fmt.Errorf("%s: a label is longer than %d bytes", field, maxLabelLength)
		}
	}
	return nil
}

// first returns the first of s that has something printable, on one line.
func first(s ...string) string {
	for _, x := range s {
		if x = bot.OneLine(x); x != "" {
			return x
		}
	}
	return ""
}

func links(s ...string) []string {
	var out []string
	for _, x := range s {
		if strings.HasPrefix(x, "https://") || strings.HasPrefix(x, "http://") {
			out = append(out, x)
		}
	}
	return out
}
