package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/klaxon-bot/klaxon/bot/web"
)

// checkedAPI is an API client whose every request and answer is checked
// against klaxon's OpenAPI description (libopenapi-validator), so the
// description stays true for everything the suite does.
type checkedAPI struct {
	t    *testing.T
	base string
	v    validator.Validator
}

func newCheckedAPI(t *testing.T, base string) *checkedAPI {
	doc, err := libopenapi.NewDocument(web.OpenAPI)
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("openapi.json: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi.json is not valid OpenAPI 3.1: %s: %s", e.Message, e.Reason)
		}
		t.FailNow()
	}
	return &checkedAPI{t: t, base: base, v: v}
}

// do sends a request with token (and an Idempotency-Key when key is not
// empty) and checks both sides against the description.
func (c *checkedAPI) do(method, path, token, key string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	return c.send(method, path, token, key, body, true)
}

// bad sends a request the description does not allow (to see klaxon
// refuse it) and checks the answer against the description.
func (c *checkedAPI) bad(method, path, token string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	return c.send(method, path, token, "", body, false)
}

func (c *checkedAPI) send(method, path, token, key string, body any, valid bool) (int, http.Header, []byte) {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	// Validate with fresh bodies: the validator reads them.
	vreq, _ := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	vreq.Header = req.Header.Clone()
	resp.Body = io.NopCloser(bytes.NewReader(out))
	check := c.v.ValidateHttpRequestResponse
	if !valid {
		check = c.v.ValidateHttpResponse
	}
	if ok, errs := check(vreq, resp); !ok {
		for _, e := range errs {
			c.t.Errorf("%s %s → %d does not match openapi.json: %s (%s)\n%s", method, path, resp.StatusCode, e.Message, e.Reason, out)
		}
	}
	return resp.StatusCode, resp.Header, out
}

func decodeJSON[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return v
}

type apiIncident struct {
	Number     int64  `json:"number"`
	Title      string `json:"title"`
	Status     string `json:"status"`
	Private    bool   `json:"private"`
	Severity   struct{ Name string }
	DeclaredBy struct{ ID, Name string } `json:"declared_by"`
	Roles      map[string]struct{ ID string }
	LastUpdate string `json:"last_update"`
}

const (
	ciToken    = "ci-token-0123456789abcdef"
	dashToken  = "dash-token-0123456789abcdef"
	opsToken   = "ops-token-0123456789abcdef"
	apiPeople  = "people:\n  - {id: alice, name: Alice}\n  - {id: bob, name: Bob}\n"
	apiSetting = `
services:
  - {id: payments}
schedules:
  - {id: primary, service: payments, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [alice, bob]}]}
api:
  tokens:
    - {name: ci, token: ` + ciToken + `, scope: write}
    - {name: dash, token: ` + dashToken + `}
    - {name: ops, token: ` + opsToken + `, scope: admin}
`
)

// TestWriteAPI drives every write endpoint as a script would, with
// chat's rules and records, and checks every request and answer against
// the OpenAPI description.
func TestWriteAPI(t *testing.T) {
	addr := loopbackPort(t)
	config := writeConfig(t, apiPeople+apiSetting)
	logs, _ := runMain(t, config, env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db"), "KLAXON_HTTP_LISTEN": addr, "USER": "alice"},
		"http://"+addr+"/healthz", nil)
	c := newCheckedAPI(t, "http://"+addr)

	// The description is served.
	if status, _, body := c.do("GET", "/api/v1/openapi.json", "", "", nil); status != 200 || !bytes.Equal(body, web.OpenAPI) {
		t.Fatalf("openapi.json: %d", status)
	}

	// Declare, with an idempotency key: a repeat answers the same and
	// declares nothing; the key with another body is refused.
	decl := map[string]any{"title": "Checkout is down", "severity": "SEV2", "service": "payments", "commander": "alice"}
	status, h, body := c.do("POST", "/api/v1/incidents", ciToken, "deploy-42", decl)
	if status != 201 || h.Get("Location") != "/api/v1/incidents/1" {
		t.Fatalf("declare: %d %s\n%s", status, body, logs)
	}
	inc := decodeJSON[apiIncident](t, body)
	if strings.Contains(string(body), "call_secret") {
		t.Errorf("a write token sees the meeting link's secret: %s", body)
	}
	if inc.Number != 1 || inc.DeclaredBy.Name != "token ci" || inc.Roles["commander"].ID != "alice" || inc.Severity.Name != "SEV2" {
		t.Fatalf("declared: %+v", inc)
	}
	status, h, again := c.do("POST", "/api/v1/incidents", ciToken, "deploy-42", decl)
	if status != 201 || !bytes.Equal(again, body) || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s %v", status, again, h)
	}
	decl["title"] = "Something else"
	if status, _, body := c.do("POST", "/api/v1/incidents", ciToken, "deploy-42", decl); status != 422 || !strings.Contains(string(body), `"field":"Idempotency-Key"`) {
		t.Fatalf("the key with another body: %d %s", status, body)
	}
	// Another token's key of the same name is its own.
	if status, _, _ := c.do("POST", "/api/v1/incidents", opsToken, "deploy-42", map[string]any{"title": "Ops drill"}); status != 201 {
		t.Fatalf("ops's own key: %d", status)
	}
	_, _, list := c.do("GET", "/api/v1/incidents", dashToken, "", nil)
	if n := len(decodeJSON[struct{ Incidents []apiIncident }](t, list).Incidents); n != 2 {
		t.Fatalf("%d incidents after the replays, want 2", n)
	}

	// Bad input names the field; a read token cannot write.
	for _, tc := range []struct {
		body        any
		status      int
		field, text string
	}{
		{map[string]any{"severity": "SEV1"}, 400, "title", "title is required"},
		{map[string]any{"title": "x", "sev": "SEV1"}, 400, "sev", "no field"},
		{map[string]any{"title": "x", "severity": "SEV9"}, 400, "severity", "SEV9"},
		{map[string]any{"title": "x", "commander": "zed"}, 400, "commander", "zed"},
		{map[string]any{"title": 7}, 400, "title", "string"},
		{`{"title": "x"} {"title": "y"}`, 400, "", "more than one"},
	} {
		status, _, body := c.bad("POST", "/api/v1/incidents", ciToken, tc.body)
		p := decodeJSON[web.Problem](t, body)
		if status != tc.status || p.Field != tc.field || !strings.Contains(p.Detail, tc.text) || p.Code != "invalid" {
			t.Errorf("declare %v = %d %+v; want %d field %q", tc.body, status, p, tc.status, tc.field)
		}
	}
	if status, _, body := c.do("POST", "/api/v1/incidents", dashToken, "", map[string]any{"title": "x"}); status != 403 || !strings.Contains(string(body), "read scope") {
		t.Errorf("a read token declared: %d %s", status, body)
	}

	// The lifecycle, each through chat's use case, recorded as the token.
	// While a page escalates only the people paged, the on-call, role
	// holders and admins acknowledge (chat's rule): not a write token, but
	// an admin token.
	if status, _, body := c.do("POST", "/api/v1/incidents/1/acknowledge", ciToken, "", nil); status != 403 || !strings.Contains(string(body), "can acknowledge") {
		t.Errorf("a write token acknowledged: %d %s", status, body)
	}
	steps := []struct {
		path   string
		body   any
		status string
		token  string
	}{
		{"/api/v1/incidents/1/updates", map[string]any{"text": "Card payments fail; rolling back", "public": true}, "open", ""},
		{"/api/v1/incidents/1/severity", map[string]any{"severity": "SEV1"}, "open", ""},
		{"/api/v1/incidents/1/roles", map[string]any{"role": "comms", "person": "bob"}, "open", ""},
		{"/api/v1/incidents/1/acknowledge", nil, "acknowledged", opsToken},
		{"/api/v1/incidents/1/mitigate", map[string]any{}, "mitigated", ""},
		{"/api/v1/incidents/1/resolve", map[string]any{"summary": "rolled back api-7"}, "resolved", ""},
		{"/api/v1/incidents/1/reopen", map[string]any{"reason": "errors again"}, "open", ""},
	}
	for i, s := range steps {
		status, _, body := c.do("POST", s.path, cmp.Or(s.token, ciToken), fmt.Sprintf("step-%d", i), s.body)
		if got := decodeJSON[apiIncident](t, body); status != 200 || got.Status != s.status {
			t.Fatalf("%s: %d %s", s.path, status, body)
		}
	}
	_, _, body = c.do("GET", "/api/v1/incidents/1", dashToken, "", nil)
	if got := decodeJSON[apiIncident](t, body); got.Severity.Name != "SEV1" || got.Roles["comms"].ID != "bob" || got.LastUpdate != "Card payments fail; rolling back" {
		t.Errorf("after the changes: %s", body)
	}
	// A change the rules refuse says why, with its code.
	if status, _, body := c.do("POST", "/api/v1/incidents/1/reopen", ciToken, "", nil); status != 409 || decodeJSON[web.Problem](t, body).Code != "conflict" {
		t.Errorf("reopening an open incident: %d %s", status, body)
	}
	if status, _, body := c.do("POST", "/api/v1/incidents/9/acknowledge", ciToken, "", nil); status != 404 {
		t.Errorf("a missing incident: %d %s", status, body)
	}
	status, _, body = c.do("POST", "/api/v1/incidents/1/followups", ciToken, "f-1", map[string]any{"text": "Alert on checkout error rate"})
	if f := decodeJSON[struct {
		Number    int64
		Incident  string
		CreatedBy struct{ Name string } `json:"created_by"`
	}](t, body); status != 201 || f.Incident != "INC-1" || f.CreatedBy.Name != "token ci" {
		t.Errorf("follow-up: %d %s", status, body)
	}
	_, _, tl := c.do("GET", "/api/v1/incidents/1/timeline?limit=100", dashToken, "", nil)
	var said []string
	for _, ev := range decodeJSON[struct {
		Events []struct {
			Actor struct{ Name string }
			Text  string
		}
	}](t, tl).Events {
		said = append(said, ev.Actor.Name+" "+ev.Text)
	}
	all := strings.Join(said, "\n")
	for _, want := range []string{"token ci 🚨 declared SEV2: Checkout is down", "token ci posted a public update (status page): Card payments fail",
		"token ci raised the severity from SEV2 to *SEV1*", "token ci made <@bob> the comms", "token ops 👀 acknowledged INC-1", "token ci 🩹 mitigated INC-1",
		"token ci ✅ resolved INC-1 after 0s: rolled back api-7", "token ci 🚨 reopened INC-1: errors again", "token ci Alert on checkout error rate"} {
		if !strings.Contains(all, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, all)
		}
	}

	// The read endpoints answer as described too.
	for _, r := range []struct {
		path, token string
		status      int
	}{
		{"/api/v1/incidents?status=active&limit=1", dashToken, 200},
		{"/api/v1/incidents/1/postmortem.md", dashToken, 200},
		{"/api/v1/oncall", dashToken, 200},
		{"/api/v1/insights", dashToken, 200},
		{"/api/v1/backup", opsToken, 200},
		{"/api/v1/backup", ciToken, 403},
	} {
		if status, _, body := c.do("GET", r.path, r.token, "", nil); status != r.status {
			t.Errorf("GET %s = %d; want %d: %.200s", r.path, status, r.status, body)
		}
	}
	for _, r := range []struct {
		path, token string
		status      int
	}{
		{"/api/v1/incidents", "", 401},
		{"/api/v1/incidents/0", dashToken, 400},
	} {
		if status, _, body := c.bad("GET", r.path, r.token, nil); status != r.status {
			t.Errorf("GET %s = %d; want %d: %.200s", r.path, status, r.status, body)
		}
	}

	// Overrides follow on-call's rules: a write token is nobody's
	// schedule; an admin token may put anyone on.
	start := time.Now().Add(time.Hour).UTC().Truncate(time.Minute)
	ov := map[string]any{"schedule": "primary", "person": "bob", "start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)}
	if status, _, body := c.do("POST", "/api/v1/oncall/overrides", ciToken, "", ov); status != 403 {
		t.Errorf("a write token's override: %d %s", status, body)
	}
	if status, _, body := c.do("POST", "/api/v1/oncall/overrides", opsToken, "", ov); status != 201 || !strings.Contains(string(body), "Bob") && !strings.Contains(string(body), "bob") {
		t.Errorf("an admin token's override: %d %s", status, body)
	}
	ov["end"] = start.Add(-time.Hour).Format(time.RFC3339)
	if status, _, body := c.do("POST", "/api/v1/oncall/overrides", opsToken, "", ov); status != 400 || decodeJSON[web.Problem](t, body).Field != "end" {
		t.Errorf("an override that ends before it starts: %d %s", status, body)
	}

	// Private incidents: an admin token declares one; read and write
	// tokens neither see nor change it.
	status, _, body = c.do("POST", "/api/v1/incidents", opsToken, "", map[string]any{"title": "Leaked key", "private": true})
	priv := decodeJSON[apiIncident](t, body)
	if status != 201 || !priv.Private {
		t.Fatalf("private declaration: %d %s", status, body)
	}
	path := fmt.Sprintf("/api/v1/incidents/%d", priv.Number)
	if status, _, _ := c.do("GET", path, dashToken, "", nil); status != 404 {
		t.Errorf("a read token sees a private incident: %d", status)
	}
	if status, _, body := c.do("POST", path+"/updates", ciToken, "", map[string]any{"text": "hello"}); status != 403 || !strings.Contains(string(body), "private") {
		t.Errorf("a write token changed a private incident: %d %s", status, body)
	}
	if status, _, _ := c.do("POST", path+"/updates", opsToken, "", map[string]any{"text": "rotating the key"}); status != 200 {
		t.Errorf("the admin token's update of its private incident: %d", status)
	}
}

// TestIncidentCommandLine: klaxon incident declare|update|resolve drive a
// running klaxon through its API, as a script would.
func TestIncidentCommandLine(t *testing.T) {
	addr := loopbackPort(t)
	config := writeConfig(t, apiPeople+apiSetting)
	runMain(t, config, env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db"), "KLAXON_HTTP_LISTEN": addr, "USER": "alice"},
		"http://"+addr+"/healthz", nil)
	cli := func(e env, args ...string) (string, error) {
		var out bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Getenv: e.get}
		err := m.Execute(t.Context(), args)
		return out.String(), err
	}
	e := env{"KLAXON_API_URL": "http://" + addr, "KLAXON_API_TOKEN": ciToken}
	out, err := cli(e, "incident", "declare", "Deploy 812 broke checkout", "--severity", "SEV2", "--service", "payments", "--commander", "bob")
	if err != nil || out != "declared INC-1: Deploy 812 broke checkout (SEV2)\n" {
		t.Fatalf("declare: %q %v", out, err)
	}
	if out, err := cli(e, "incident", "update", "INC-1", "Rolling back 812", "--public"); err != nil || out != "updated INC-1\n" {
		t.Fatalf("update: %q %v", out, err)
	}
	out, err = cli(e, "incident", "resolve", "1", "--summary", "rolled back", "--json")
	if err != nil || !strings.Contains(out, `"status":"resolved"`) || !strings.Contains(out, `"last_update":"Rolling back 812"`) {
		t.Fatalf("resolve --json: %q %v", out, err)
	}
	if _, err := cli(e, "incident", "resolve", "INC-1"); err == nil || !strings.Contains(err.Error(), "Conflict") {
		t.Errorf("resolving twice: %v", err)
	}
	if _, err := cli(e, "incident", "declare", "x", "--severity", "SEV9"); err == nil || !strings.Contains(err.Error(), "Bad Request (severity)") {
		t.Errorf("a bad severity: %v", err)
	}
	if _, err := cli(env{"KLAXON_API_URL": "http://" + addr, "KLAXON_API_TOKEN": "wrong-token-0123456789"}, "incident", "declare", "x"); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("a wrong token: %v", err)
	}
	if _, err := cli(env{}, "incident", "declare", "x"); err == nil || !strings.Contains(err.Error(), "KLAXON_API_TOKEN") {
		t.Errorf("no token: %v", err)
	}
}

// TestIdempotencyKeySurvivesARestart: the answer to a key is in the
// store, so a retry after klaxon restarted replays it and declares
// nothing twice.
func TestIdempotencyKeySurvivesARestart(t *testing.T) {
	db, config := filepath.Join(t.TempDir(), "k.db"), writeConfig(t, apiPeople+apiSetting)
	// start runs klaxon in console mode until stop is called.
	start := func() (base string, stop func()) {
		addr := loopbackPort(t)
		logs := &syncBuffer{}
		in, w := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		m := &Main{Stdin: in, Stdout: logs, Stderr: logs, Getenv: env{"KLAXON_STORE_PATH": db, "KLAXON_HTTP_LISTEN": addr, "USER": "alice"}.get}
		done := make(chan error, 1)
		go func() { done <- m.Execute(ctx, []string{"run", "--config", config}) }()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("klaxon did not start:\n%s", logs)
			}
		}
		return "http://" + addr, func() {
			cancel()
			w.Close()
			if err := <-done; err != nil {
				t.Errorf("klaxon: %v\n%s", err, logs)
			}
		}
	}
	declare := func(base string) (int, http.Header, []byte) {
		req, _ := http.NewRequest("POST", base+"/api/v1/incidents", strings.NewReader(`{"title": "Deploy 9 broke login"}`))
		req.Header.Set("Authorization", "Bearer "+ciToken)
		req.Header.Set("Idempotency-Key", "deploy-9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, body
	}
	base, stop := start()
	status, _, body := declare(base)
	stop()
	if status != 201 {
		t.Fatalf("declare: %d %s", status, body)
	}
	base, stop = start()
	defer stop()
	status, h, again := declare(base)
	if status != 201 || h.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again, body) {
		t.Fatalf("after a restart: %d %v %s", status, h, again)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/incidents", nil)
	req.Header.Set("Authorization", "Bearer "+dashToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if n := len(decodeJSON[struct{ Incidents []apiIncident }](t, raw).Incidents); n != 1 {
		t.Fatalf("%d incidents after the retry, want 1", n)
	}
}
