// Package pager delivers pages to outside systems: PagerDuty (Events API
// v2), Opsgenie (Alert API) and a generic signed JSON webhook. Each sender
// makes one attempt and says what came of it; the outbox in package
// commands decides about retries.
package pager

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// DefaultRetryAfter is the wait after a 429 without a usable Retry-After.
const DefaultRetryAfter = bot.DefaultRetryAfter

// classify turns one HTTP exchange into a SendResult: 2xx sent; 429 wait
// for Retry-After; 5xx and network errors retry; any other status fails
// for good, a redirect too (bot.OutboundClient does not follow them).
// Error texts name no key.
func classify(name string, resp *http.Response, err error, secrets ...string) bot.SendResult {
	if err != nil {
		return bot.SendResult{Err: fmt.Errorf("%s did not answer: %w", name, bot.UnwrapURL(err))}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	// The receiver may echo what it was sent: no credential leaves here.
	// Scrubbed before it is cut, so no credential is cut in two.
	body := bot.Cut(bot.Scrub(string(raw), resp.Request, secrets...), 300)
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return bot.SendResult{Sent: true}
	case s == http.StatusTooManyRequests:
		return bot.SendResult{RetryAfter: bot.RetryAfterOrDefault(resp.Header.Get("Retry-After")), Err: fmt.Errorf("%s is rate limiting (429)", name)}
	case s >= 500:
		return bot.SendResult{Err: fmt.Errorf("%s answered %d", name, s)}
	case s >= 300 && s < 400:
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("%s redirected klaxon (%d) to %q; klaxon does not follow redirects: configure the final URL", name, s, bot.RedirectTarget(resp))}
	default:
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("%s refused the page (%d): %s", name, s, strings.TrimSpace(body))}
	}
}

func post(ctx context.Context, client *http.Client, u string, body any, header http.Header) (*http.Response, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header = header
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "klaxon")
	return client.Do(req)
}

// PagerDuty sends to the Events API v2. The trigger's idempotency key is
// the dedup_key, so its acknowledge and resolve reach the same alert.
type PagerDuty struct {
	URL        string // https://events.pagerduty.com/v2/enqueue
	RoutingKey string
	Client     *http.Client
}

// pdSeverity maps klaxon's scale onto PagerDuty's.
func pdSeverity(s bot.Severity) string {
	switch {
	case s.Level == 1:
		return "critical"
	case s.Priority == bot.PriorityHigh:
		return "error"
	case s.Level == 3:
		return "warning"
	}
	return "info"
}

// Send implements bot.Sender.
func (p *PagerDuty) Send(ctx context.Context, d bot.Delivery) bot.SendResult {
	body := map[string]any{"routing_key": p.RoutingKey, "event_action": string(d.Kind), "dedup_key": d.DedupKey}
	if d.Kind == bot.DeliverTrigger {
		body["payload"] = map[string]any{"summary": d.Summary, "source": "klaxon", "severity": pdSeverity(d.Severity),
			"custom_details": map[string]any{"incident_id": d.IncidentID.String(), "person": d.Person}}
	}
	resp, err := post(ctx, p.Client, p.URL, body, http.Header{"Idempotency-Key": {d.Key}})
	return classify("PagerDuty", resp, err, p.RoutingKey)
}

// Opsgenie sends to the Alert API, with the trigger's key as the alias.
type Opsgenie struct {
	URL    string // https://api.opsgenie.com (or the EU instance)
	APIKey string
	Client *http.Client
}

// Send implements bot.Sender.
func (o *Opsgenie) Send(ctx context.Context, d bot.Delivery) bot.SendResult {
	base := strings.TrimSuffix(o.URL, "/") + "/v2/alerts"
	h := http.Header{"Authorization": {"GenieKey " + o.APIKey}, "Idempotency-Key": {d.Key}}
	var (
		u    string
		body map[string]any
	)
	switch d.Kind {
	case bot.DeliverTrigger:
		u = base
		body = map[string]any{"message": d.Summary, "alias": d.DedupKey, "priority": fmt.Sprintf("P%d", min(max(d.Severity.Level, 1), 5)),
			"source": "klaxon", "details": map[string]string{"incident_id": d.IncidentID.String(), "person": d.Person}}
	case bot.DeliverAck:
		u, body = base+"/"+url.PathEscape(d.DedupKey)+"/acknowledge?identifierType=alias", map[string]any{"source": "klaxon"}
	case bot.DeliverResolve:
		u, body = base+"/"+url.PathEscape(d.DedupKey)+"/close?identifierType=alias", map[string]any{"source": "klaxon"}
	}
	resp, err := post(ctx, o.Client, u, body, h)
	return classify("Opsgenie", resp, err, o.APIKey)
}

// Webhook posts klaxon's own JSON, signed so receivers can check it came
// from klaxon:
//
//	X-Klaxon-Timestamp: <unix seconds>
//	X-Klaxon-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//	Idempotency-Key:    <delivery key>
//
// Receivers recompute the signature over the raw body and reject requests
// whose timestamp is more than five minutes off.
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client
	Now    func() time.Time
}

// Sign returns the X-Klaxon-Signature value for body sent at ts.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", ts)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// WebhookEvent is the JSON body of a webhook delivery.
type WebhookEvent struct {
	Event      string `json:"event"` // trigger, acknowledge, resolve
	Delivery   string `json:"delivery"`
	DedupKey   string `json:"dedup_key"`
	IncidentID string `json:"incident_id"`
	Person     string `json:"person,omitempty"`
	Summary    string `json:"summary"`
	Severity   string `json:"severity"`
}

// Send implements bot.Sender.
func (w *Webhook) Send(ctx context.Context, d bot.Delivery) bot.SendResult {
	body, err := json.Marshal(WebhookEvent{Event: string(d.Kind), Delivery: d.Key, DedupKey: d.DedupKey, IncidentID: d.IncidentID.String(),
		Person: d.Person, Summary: d.Summary, Severity: d.Severity.Name})
	if err != nil {
		return bot.SendResult{Permanent: true, Err: err}
	}
	return SignedPost(ctx, w.Client, w.URL, w.Secret, d.Key, w.Now, body, nil)
}

// SignedPost posts body as klaxon's signed JSON (see Webhook), with the
// idempotency key and any extra headers, and classifies the answer.
func SignedPost(ctx context.Context, client *http.Client, u, secret, key string, now func() time.Time, body []byte, extra http.Header) bot.SendResult {
	if now == nil {
		now = time.Now
	}
	ts := now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("webhook: %w", bot.UnwrapURL(err))}
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "klaxon")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("X-Klaxon-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Klaxon-Signature", Sign(secret, ts, body))
	resp, err := client.Do(req)
	return classify("the webhook", resp, err, secret)
}
