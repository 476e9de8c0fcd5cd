package pager_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/pager"
)

type seen struct {
	path, query string
	header      http.Header
	body        []byte
}

func receiver(t *testing.T, status int, header http.Header) (*httptest.Server, *[]seen) {
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		w.Write([]byte(`{"status":"x"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

var delivery = bot.Delivery{Key: "p1:0:0:alice:pd", DedupKey: "p1:0:0:alice:pd", Pager: "pd", Person: "alice", Kind: bot.DeliverTrigger,
	Summary: "INC-4 SEV1: Checkout is down", Severity: bot.DefaultSeverities()[0]}

func TestPagerDuty(t *testing.T) {
	srv, got := receiver(t, 202, nil)
	p := &pager.PagerDuty{URL: srv.URL + "/v2/enqueue", RoutingKey: "R0UT1NG", Client: srv.Client()}
	if r := p.Send(context.Background(), delivery); !r.Sent {
		t.Fatalf("trigger: %+v", r)
	}
	ack := delivery
	ack.Kind, ack.Key = bot.DeliverAck, delivery.Key+":acknowledge"
	p.Send(context.Background(), ack)
	var trig, ackBody map[string]any
	json.Unmarshal((*got)[0].body, &trig)
	json.Unmarshal((*got)[1].body, &ackBody)
	payload, _ := trig["payload"].(map[string]any)
	if trig["routing_key"] != "R0UT1NG" || trig["event_action"] != "trigger" || trig["dedup_key"] != delivery.DedupKey || payload["severity"] != "critical" || payload["summary"] != delivery.Summary {
		t.Errorf("trigger body = %s", (*got)[0].body)
	}
	if ackBody["event_action"] != "acknowledge" || ackBody["dedup_key"] != delivery.DedupKey || ackBody["payload"] != nil {
		t.Errorf("acknowledge body = %s", (*got)[1].body)
	}
}

func TestOpsgenie(t *testing.T) {
	srv, got := receiver(t, 202, nil)
	o := &pager.Opsgenie{URL: srv.URL, APIKey: "G3N13", Client: srv.Client()}
	for _, k := range []bot.DeliveryKind{bot.DeliverTrigger, bot.DeliverAck, bot.DeliverResolve} {
		d := delivery
		d.Kind = k
		if r := o.Send(context.Background(), d); !r.Sent {
			t.Fatalf("%s: %+v", k, r)
		}
	}
	alias := "p1:0:0:alice:pd"
	for i, want := range []string{"/v2/alerts", "/v2/alerts/" + alias + "/acknowledge", "/v2/alerts/" + alias + "/close"} {
		if (*got)[i].path != want || (*got)[i].header.Get("Authorization") != "GenieKey G3N13" {
			t.Errorf("request %d: %s with %q; want %s with the GenieKey", i, (*got)[i].path, (*got)[i].header.Get("Authorization"), want)
		}
		if i > 0 && (*got)[i].query != "identifierType=alias" {
			t.Errorf("request %d query = %q", i, (*got)[i].query)
		}
	}
	var create map[string]any
	json.Unmarshal((*got)[0].body, &create)
	if create["alias"] != alias || create["priority"] != "P1" || create["message"] != delivery.Summary {
		t.Errorf("create body = %s", (*got)[0].body)
	}
}

// verify is a receiver's check, written from the documented scheme.
func verify(secret string, h http.Header, body []byte, now time.Time) bool {
	ts, err := strconv.ParseInt(h.Get("X-Klaxon-Timestamp"), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "." + string(body)))
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("X-Klaxon-Signature")))
}

func TestWebhookSignature(t *testing.T) {
	srv, got := receiver(t, 200, nil)
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	w := &pager.Webhook{URL: srv.URL, Secret: "sh4red", Client: srv.Client(), Now: func() time.Time { return now }}
	if r := w.Send(context.Background(), delivery); !r.Sent {
		t.Fatal(r)
	}
	s := (*got)[0]
	if !verify("sh4red", s.header, s.body, now) {
		t.Errorf("signature %q does not verify", s.header.Get("X-Klaxon-Signature"))
	}
	if verify("wrong", s.header, s.body, now) || verify("sh4red", s.header, append(s.body, ' '), now) || verify("sh4red", s.header, s.body, now.Add(10*time.Minute)) {
		t.Error("a wrong secret, a changed body or a stale timestamp verified")
	}
	if s.header.Get("Idempotency-Key") != delivery.Key {
		t.Errorf("Idempotency-Key = %q", s.header.Get("Idempotency-Key"))
	}
	var ev pager.WebhookEvent
	if err := json.Unmarshal(s.body, &ev); err != nil || ev.Event != "trigger" || ev.DedupKey != delivery.DedupKey || ev.Severity != "SEV1" {
		t.Errorf("body = %s", s.body)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status    int
		header    http.Header
		sent      bool
		permanent bool
		wait      time.Duration
	}{
		{202, nil, true, false, 0},
		{500, nil, false, false, 0},
		{503, nil, false, false, 0},
		{429, http.Header{"Retry-After": {"7"}}, false, false, 7 * time.Second},
		{429, nil, false, false, pager.DefaultRetryAfter},
		{400, nil, false, true, 0},
		{404, nil, false, true, 0},
	}
	for _, tt := range tests {
		srv, _ := receiver(t, tt.status, tt.header)
		r := (&pager.Webhook{URL: srv.URL + "/hook?token=S3CR3T", Secret: "s", Client: srv.Client()}).Send(context.Background(), delivery)
		if r.Sent != tt.sent || r.Permanent != tt.permanent || r.RetryAfter != tt.wait {
			t.Errorf("%d: %+v", tt.status, r)
		}
		if r.Err != nil && strings.Contains(r.Err.Error(), "S3CR3T") {
			t.Errorf("%d: the error shows the URL's token: %v", tt.status, r.Err)
		}
	}
	// No answer at all is retried, and the error does not show the URL.
	r := (&pager.Webhook{URL: "http://127.0.0.1:1/hook?token=S3CR3T", Secret: "s", Client: &http.Client{Timeout: time.Second}}).Send(context.Background(), delivery)
	if r.Sent || r.Permanent || r.Err == nil || strings.Contains(r.Err.Error(), "S3CR3T") {
		t.Errorf("connection refused: %+v", r)
	}
}

// A redirect is a refusal that names where it pointed: the body (a
// routing key, a private incident) is not sent again, neither to another
// host nor to the same host on another port, where Go would forward the
// credentials.
func TestRedirectsAreRefusedNotFollowed(t *testing.T) {
	var followed atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/collect?token=SECRET", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	client := bot.OutboundClient(5 * time.Second)
	for name, s := range map[string]bot.Sender{
		"pagerduty": &pager.PagerDuty{URL: redirect.URL, RoutingKey: "R0UTINGKEY", Client: client},
		"webhook":   &pager.Webhook{URL: redirect.URL, Secret: "s", Client: client},
	} {
		res := s.Send(context.Background(), bot.Delivery{Key: "k", DedupKey: "k", Kind: bot.DeliverTrigger, Person: "alice", Summary: "INC-1 private", Severity: bot.DefaultSeverities()[0]})
		if res.Sent || !res.Permanent || res.Err == nil {
			t.Errorf("%s: a 307 gave %+v; want a refusal for good", name, res)
			continue
		}
		if msg := res.Err.Error(); !strings.Contains(msg, elsewhere.URL+"/collect") || strings.Contains(msg, "SECRET") {
			t.Errorf("%s: %q should name where it pointed, without its query", name, msg)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// A receiver that echoes what it was sent cannot put a credential into
// klaxon's errors (and so its logs, the channel and the store).
func TestEchoedCredentialsAreScrubbed(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "forbidden: Authorization=%s body=%s", r.Header.Get("Authorization"), body)
	}))
	defer echo.Close()
	client := bot.OutboundClient(5 * time.Second)
	d := bot.Delivery{Key: "k", DedupKey: "k", Kind: bot.DeliverTrigger, Person: "alice", Summary: "INC-1", Severity: bot.DefaultSeverities()[0]}
	for name, tt := range map[string]struct {
		s      bot.Sender
		secret string
	}{
		"pagerduty": {&pager.PagerDuty{URL: echo.URL, RoutingKey: "R0UTING-KEY-0123456789", Client: client}, "R0UTING-KEY-0123456789"},
		"opsgenie":  {&pager.Opsgenie{URL: echo.URL, APIKey: "genie-key-0123456789", Client: client}, "genie-key-0123456789"},
	} {
		res := tt.s.Send(context.Background(), d)
		if res.Err == nil || !res.Permanent {
			t.Fatalf("%s: %+v; want a refusal", name, res)
		}
		if msg := res.Err.Error(); strings.Contains(msg, tt.secret) || !strings.Contains(msg, "[redacted]") {
			t.Errorf("%s: the error shows the credential: %s", name, msg)
		}
	}
}
