package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/bot/web"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/alerts"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// recorder is an intake that keeps what it was given.
type recorder struct {
	mu     sync.Mutex
	alerts []bot.Alert
	err    error
}

func (r *recorder) Intake(ctx context.Context, alerts []bot.Alert) (bot.AlertReceipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return bot.AlertReceipt{}, r.err
	}
	r.alerts = append(r.alerts, alerts...)
	return bot.AlertReceipt{Recorded: len(alerts)}, nil
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var now = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

func TestDecodeFixtures(t *testing.T) {
	am, err := web.DecodeAlertmanager(fixture(t, "alertmanager.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := bot.Alert{Source: "alertmanager", GroupKey: `alertmanager:{}/{severity="critical"}:{alertname="DiskFull"}`,
		Title: "Disk almost full on the primary", Severity: "critical", Service: "db", Firing: true,
		Detail: "/var/lib/postgresql is 97% full", StartsAt: time.Date(2026, 11, 21, 2, 58, 0, 0, time.UTC)}
	got := am[0]
	if len(am) != 1 || got.GroupKey != want.GroupKey || got.Title != want.Title || got.Severity != want.Severity ||
		got.Service != want.Service || !got.Firing || got.GroupResolved || got.Detail != want.Detail || !got.StartsAt.Equal(want.StartsAt) ||
		strings.Join(got.Links, " ") != "http://prometheus:9090/graph?g0.expr=disk https://runbooks.example.com/disk" || got.Labels["instance"] != "db-1:9100" {
		t.Errorf("alertmanager = %+v", am)
	}
	gf, err := web.DecodeGrafana(fixture(t, "grafana.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g := gf[0]; g.Source != "grafana" || g.Firing || !g.GroupResolved || g.Title != "p99 latency above 2s" || g.Service != "api" || len(g.Links) != 3 {
		t.Errorf("grafana = %+v", gf)
	}
	ge, err := web.DecodeGeneric(fixture(t, "generic.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g := ge[0]; g.GroupKey != "generic:checkout-errors" || g.Severity != "SEV2" || !g.Firing || g.Detail == "" || len(g.Links) != 1 {
		t.Errorf("generic = %+v", ge)
	}
	// Without a dedup key, title and service name the group.
	ge, err = web.DecodeGeneric([]byte(`{"title":"Disk full","service":"db","status":"resolved"}`))
	if err != nil || ge[0].GroupKey != "generic:db/Disk full" || ge[0].Firing || !ge[0].GroupResolved {
		t.Errorf("generic without dedup_key = %+v, %v", ge, err)
	}
}

// edit returns the fixture with one JSON field replaced (nil deletes it).
func edit(t *testing.T, name, field string, value any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixture(t, name), &m); err != nil {
		t.Fatal(err)
	}
	target := m
	if rest, ok := strings.CutPrefix(field, "alerts.0."); ok { // a field of the first alert
		target, field = m["alerts"].([]any)[0].(map[string]any), rest
	}
	parts := []string{field}
	if value == nil {
		delete(target, parts[len(parts)-1])
	} else {
		target[parts[len(parts)-1]] = value
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func serve(t *testing.T, intake web.AlertIntake, sources map[string]web.Source) string {
	t.Helper()
	srv := httptest.NewServer(web.Handler(web.Config{Alerts: intake, Sources: sources, Clock: bot.NewFakeClock(now), Log: zerolog.Nop()}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func post(t testing.TB, url, body string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func basic(user, pass string) http.Header {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header
}

func grafanaSigned(secret string, ts time.Time, body string) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	return hdr(web.GrafanaSignatureHeader, web.GrafanaSignature(secret, stamp, []byte(body)), web.GrafanaTimestampHeader, stamp)
}

// A Grafana signature over the body alone (no timestamp) can be replayed
// for ever: it is taken only where the source opts in.
// A 500 KB summary or description does not become a 500 KB timeline
// event: alerts are cut to their bounds, and still decode.
func TestDecodedAlertsAreBounded(t *testing.T) {
	long := strings.Repeat("é", 500_000)
	as, err := web.DecodeGeneric([]byte(`{"title":"` + long + `","description":"` + long + `"}`))
	if err != nil || len(as) != 1 {
		t.Fatalf("decode: %v", err)
	}
	if n := utf8.RuneCountInString(as[0].Title); n != 300 || !strings.HasSuffix(as[0].Title, "…") {
		t.Errorf("title of %d runes", n)
	}
	if n := utf8.RuneCountInString(as[0].Detail); n != 4000 {
		t.Errorf("description of %d runes", n)
	}
}

// Text from an alert reaches nothing after the decoder with a control
// character in it: not a terminal escape (C0 or C1), not a direction
// override.
func TestDecodedAlertsLoseControlCharacters(t *testing.T) {
	as, err := web.DecodeGeneric([]byte(`{"title":"Disk\u009b2J full\u202e lanigiro","description":"line\u001b[31m one\nline\u2066 two"}`))
	if err != nil {
		t.Fatal(err)
	}
	if as[0].Title != "Disk 2J full lanigiro" || as[0].Detail != "line[31m one\nline two" {
		t.Errorf("decoded title %q, detail %q", as[0].Title, as[0].Detail)
	}
}

// An alert source cannot ping anyone: its mentions arrive as plain text.
func TestDecodedAlertsMentionNobody(t *testing.T) {
	as, err := web.DecodeGeneric([]byte(`{"title":"Disk full, ask <@U0CEO|ceo> <!channel>","description":"see <#C1|ops> and <@&123> <@!456>"}`))
	if err != nil {
		t.Fatal(err)
	}
	if as[0].Title != "Disk full, ask @ceo @channel" || as[0].Detail != "see #ops and @123 @456" {
		t.Errorf("decoded title %q, detail %q", as[0].Title, as[0].Detail)
	}
}

func TestGrafanaSignatureWithoutTimestampIsAnOptIn(t *testing.T) {
	gf := string(fixture(t, "grafana.json"))
	unstamped := hdr(web.GrafanaSignatureHeader, web.GrafanaSignature("hmac-secret", "", []byte(gf)))
	strict := serve(t, &recorder{}, map[string]web.Source{"grafana": {HMACSecret: "hmac-secret"}})
	if status, body := post(t, strict+"/alerts/grafana", gf, unstamped); status != 401 {
		t.Errorf("unstamped signature, no opt-in: %d %s", status, body)
	}
	if status, body := post(t, strict+"/alerts/grafana", gf, grafanaSigned("hmac-secret", now, gf)); status != 200 {
		t.Errorf("stamped signature: %d %s", status, body)
	}
	lenient := serve(t, &recorder{}, map[string]web.Source{"grafana": {HMACSecret: "hmac-secret", HMACWithoutTimestamp: true}})
	if status, body := post(t, lenient+"/alerts/grafana", gf, unstamped); status != 200 {
		t.Errorf("unstamped signature with hmac_without_timestamp: %d %s", status, body)
	}
}

func TestAlertEndpointsRefuseBadInputAndWriteNothing(t *testing.T) {
	rec := &recorder{}
	base := serve(t, rec, map[string]web.Source{
		"alertmanager": {Token: "am-token"},
		"grafana":      {Username: "grafana", Password: "pw", HMACSecret: "hmac-secret"},
		"generic":      {},
	})
	am := string(fixture(t, "alertmanager.json"))
	gf := string(fixture(t, "grafana.json"))
	amAuth := hdr("Authorization", "Bearer am-token")
	gfAuth := func(body string) http.Header {
		h := basic("grafana", "pw")
		for k, v := range grafanaSigned("hmac-secret", now, body) {
			h[k] = v
		}
		return h
	}
	huge := `{"title":"` + strings.Repeat("x", 10<<20) + `"}`
	tests := []struct {
		name   string
		path   string
		body   string
		header http.Header
		status int
		reason string
	}{
		{"bad JSON", "/alerts/alertmanager", `{"version":"4",`, amAuth, 400, "not valid JSON"},
		{"not an object", "/alerts/alertmanager", `[1,2]`, amAuth, 400, "not valid JSON"},
		{"trailing data", "/alerts/alertmanager", am + `{}`, amAuth, 400, "data after the JSON"},
		{"wrong version", "/alerts/alertmanager", edit(t, "alertmanager.json", "version", "3"), amAuth, 400, `version "3" is not supported`},
		{"no group key", "/alerts/alertmanager", edit(t, "alertmanager.json", "groupKey", nil), amAuth, 400, "groupKey is missing"},
		{"bad status", "/alerts/alertmanager", edit(t, "alertmanager.json", "status", "burning"), amAuth, 400, `status is "burning"`},
		{"no alerts", "/alerts/alertmanager", edit(t, "alertmanager.json", "alerts", []any{}), amAuth, 400, "alerts is empty"},
		{"alert without labels", "/alerts/alertmanager", edit(t, "alertmanager.json", "alerts.0.labels", nil), amAuth, 400, "alerts[0].labels is missing"},
		{"alert without status", "/alerts/alertmanager", edit(t, "alertmanager.json", "alerts.0.status", nil), amAuth, 400, "alerts[0].status is missing"},
		{"bad time", "/alerts/alertmanager", edit(t, "alertmanager.json", "alerts.0.startsAt", "yesterday"), amAuth, 400, "not valid JSON"},
		{"too many alerts", "/alerts/alertmanager", amBody(1, 0, 1001, "firing"), amAuth, 400, "1001 alerts in one webhook; the limit is 1000"},
		{"10 MB body", "/alerts/generic", huge, nil, 413, "larger than 1048576 bytes"},
		{"no token", "/alerts/alertmanager", am, nil, 401, "missing or wrong credentials"},
		{"wrong token", "/alerts/alertmanager", am, hdr("Authorization", "Bearer nope"), 401, "missing or wrong credentials"},
		{"token as basic", "/alerts/alertmanager", am, basic("x", "am-token"), 401, "missing or wrong credentials"},
		{"wrong password", "/alerts/grafana", gf, basic("grafana", "nope"), 401, "missing or wrong credentials"},
		{"no signature", "/alerts/grafana", gf, basic("grafana", "pw"), 401, "X-Grafana-Alerting-Signature header is missing"},
		{"bad signature", "/alerts/grafana", gf, gfAuth(gf + " "), 401, "does not match"},
		{"old signature", "/alerts/grafana", gf, func() http.Header {
			h := basic("grafana", "pw")
			for k, v := range grafanaSigned("hmac-secret", now.Add(-time.Hour), gf) {
				h[k] = v
			}
			return h
		}(), 401, "away from klaxon's clock"},
		{"signature without a time", "/alerts/grafana", gf, func() http.Header {
			h := basic("grafana", "pw")
			h.Set(web.GrafanaSignatureHeader, web.GrafanaSignature("hmac-secret", "", []byte(gf)))
			return h
		}(), 401, "X-Grafana-Alerting-Timestamp header is missing"},
		{"grafana wrong version", "/alerts/grafana", edit(t, "grafana.json", "version", "4"), gfAuth(edit(t, "grafana.json", "version", "4")), 400, `version "4" is not supported`},
		{"generic unknown field", "/alerts/generic", `{"title":"x","sevrity":"SEV1"}`, nil, 400, `unknown field "sevrity"`},
		{"generic no title", "/alerts/generic", `{"severity":"SEV1"}`, nil, 400, "title is missing"},
		{"generic bad link", "/alerts/generic", `{"title":"x","links":["javascript:alert(1)"]}`, nil, 400, "links[0] is not an http(s) URL"},
		{"unknown source", "/alerts/zabbix", am, nil, 404, "not enabled"},
	}
	for _, tt := range tests {
		status, body := post(t, base+tt.path, tt.body, tt.header)
		var answer struct{ Error string }
		if err := json.Unmarshal([]byte(body), &answer); err != nil {
			t.Errorf("%s: the answer is not JSON: %s", tt.name, body)
		}
		if status != tt.status || !strings.Contains(answer.Error, tt.reason) {
			t.Errorf("%s: %d %s; want %d with %q", tt.name, status, body, tt.status, tt.reason)
		}
		if strings.Contains(body, "am-token") || strings.Contains(body, "hmac-secret") {
			t.Errorf("%s: the answer shows a secret: %s", tt.name, body)
		}
	}
	if len(rec.alerts) != 0 {
		t.Errorf("bad requests reached the intake: %+v", rec.alerts)
	}

	// The same requests done right are taken.
	for _, ok := range []struct {
		path   string
		body   string
		header http.Header
	}{
		{"/alerts/alertmanager", am, amAuth},
		{"/alerts/alertmanager", am, hdr("Authorization", "bearer am-token")},
		{"/alerts/grafana", gf, gfAuth(gf)},
		{"/alerts/generic", string(fixture(t, "generic.json")), nil},
	} {
		if status, body := post(t, base+ok.path, ok.body, ok.header); status != 200 || !strings.Contains(body, `"recorded":1`) {
			t.Errorf("POST %s = %d %s", ok.path, status, body)
		}
	}
	if len(rec.alerts) != 4 {
		t.Errorf("intake got %d alerts; want 4", len(rec.alerts))
	}
	if status, _ := post(t, base+"/alerts/generic", `{"title":"x"}`, hdr()); status != 200 {
		t.Errorf("generic without status = %d", status)
	}
}

func TestAlertEndpointAnswers503WhenTheStoreFails(t *testing.T) {
	// Alertmanager retries 5xx: a failure of klaxon's own must be one.
	rec := &recorder{err: bot.Internal(errors.New("disk full"), "klaxon could not save the alerts")}
	base := serve(t, rec, map[string]web.Source{"generic": {}})
	status, body := post(t, base+"/alerts/generic", `{"title":"x"}`, nil)
	if status != 503 || !strings.Contains(body, "could not save") || strings.Contains(body, "disk full") {
		t.Errorf("store failure = %d %s", status, body)
	}
	// A declaration the incident rules refuse is the sender's to fix.
	rec.err = bot.Errorf(bot.EINVALID, "The title is too long.")
	if status, body := post(t, base+"/alerts/generic", `{"title":"x"}`, nil); status != 422 || !strings.Contains(body, "too long") {
		t.Errorf("invalid declaration = %d %s", status, body)
	}
}

// klaxonAlerts is the real intake over a bbolt store in a temp dir.
func klaxonAlerts(tb testing.TB) (*alerts.Alerts, *bolt.Store) {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "klaxon.db"), bolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	con := console.New(io.Discard, "general", "incidents")
	inc := commands.New(s, []bot.Chat{con}, bot.SystemClock{}, zerolog.Nop(), commands.Config{})
	return alerts.New(s, inc, bot.SystemClock{}, zerolog.Nop(), alerts.Config{Platform: bot.PlatformConsole, MitigateOnResolve: true}), s
}

// amBody is an Alertmanager webhook for group g carrying alerts n..n+k-1.
func amBody(g, n, k int, status string) string {
	var alerts []string
	for i := n; i < n+k; i++ {
		alerts = append(alerts, fmt.Sprintf(`{"status":%q,"labels":{"alertname":"Alert%d","instance":"host-%d"},"annotations":{},"startsAt":"2026-11-21T02:00:00Z","fingerprint":"%x"}`, status, g, i, i))
	}
	return fmt.Sprintf(`{"version":"4","groupKey":"{}:{alertname=\"Alert%d\"}","status":%q,"receiver":"klaxon","groupLabels":{},"commonLabels":{},"commonAnnotations":{},"alerts":[%s]}`,
		g, status, strings.Join(alerts, ","))
}

func TestAlertmanagerWebhooksEndToEnd(t *testing.T) {
	alerts, s := klaxonAlerts(t)
	base := serve(t, alerts, map[string]web.Source{"alertmanager": {}})
	for round := range 3 { // Alertmanager repeats a firing group every repeat_interval
		for g := range 4 {
			if status, body := post(t, base+"/alerts/alertmanager", amBody(g, round*2, 2, "firing"), nil); status != 200 {
				t.Fatalf("POST = %d %s", status, body)
			}
		}
	}
	status, body := post(t, base+"/alerts/alertmanager", amBody(0, 0, 1, "resolved"), nil)
	if status != 200 || !strings.Contains(body, `"incidents":["INC-1"]`) {
		t.Fatalf("resolve = %d %s", status, body)
	}
	incs, err := s.ListIncidents(context.Background(), bot.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 4 {
		t.Fatalf("%d incidents from 4 groups", len(incs))
	}
	for _, inc := range incs {
		evs, _ := s.Events(context.Background(), inc.ID, 0, 0)
		n := 0
		for _, ev := range evs {
			if ev.Kind == bot.EventAlert {
				n++
			}
		}
		want, status := 6, bot.StatusOpen
		if inc.Number == 1 {
			want, status = 7, bot.StatusMitigated
		}
		if n != want || inc.Status != status {
			t.Errorf("%s: %d alert events, %s; want %d, %s", inc.Key(), n, inc.Status, want, status)
		}
	}
}

// BenchmarkAlertmanagerIntake posts 10,000 alerts in 100 groups, 10 or 1
// alerts a webhook, from 8 concurrent senders through /alerts/alertmanager
// into a real store, and checks exactly 100 incidents came of it.
func BenchmarkAlertmanagerIntake(b *testing.B) {
	for _, perHook := range []int{10, 1} {
		b.Run(fmt.Sprintf("alerts-per-webhook=%d", perHook), func(b *testing.B) { benchmarkIntake(b, perHook) })
	}
}

func benchmarkIntake(b *testing.B, perHook int) {
	const groups, perGroup, senders = 100, 100, 8
	bodies := make([]string, 0, groups*perGroup/perHook)
	for n := 0; n < perGroup; n += perHook {
		for g := range groups {
			bodies = append(bodies, amBody(g, n, perHook, "firing"))
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		alerts, s := klaxonAlerts(b)
		srv := httptest.NewServer(web.Handler(web.Config{Alerts: alerts, Sources: map[string]web.Source{"alertmanager": {}}, Clock: bot.SystemClock{}, Log: zerolog.Nop()}))
		work := make(chan string, len(bodies))
		for _, body := range bodies {
			work <- body
		}
		close(work)
		b.StartTimer()
		var wg sync.WaitGroup
		for range senders {
			wg.Go(func() {
				for body := range work {
					resp, err := http.Post(srv.URL+"/alerts/alertmanager", "application/json", bytes.NewReader([]byte(body)))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
					}
				}
			})
		}
		wg.Wait()
		b.StopTimer()
		srv.Close()
		incs, err := s.ListIncidents(context.Background(), bot.IncidentFilter{})
		if err != nil || len(incs) != groups {
			b.Fatalf("%d incidents from %d groups (%v)", len(incs), groups, err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*groups*perGroup)/b.Elapsed().Seconds(), "alerts/s")
}
