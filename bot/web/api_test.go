package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

const (
	readToken  = "read-token-0123456789"
	adminToken = "admin-token-0123456789"
)

type apiClient struct {
	t    *testing.T
	base string
}

func (c apiClient) get(path, token string) (int, []byte, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (c apiClient) json(path string, v any) {
	c.t.Helper()
	status, body, _ := c.get(path, readToken)
	if status != 200 {
		c.t.Fatalf("GET %s = %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		c.t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

// follow reads a paginated list from path, following "next" links, and
// returns the items of every page under field.
func follow[T any](c apiClient, path, field string) []T {
	c.t.Helper()
	var out []T
	for pages := 0; path != ""; pages++ {
		if pages > 20 {
			c.t.Fatal("pagination does not end")
		}
		var page map[string]json.RawMessage
		c.json(path, &page)
		var items []T
		if err := json.Unmarshal(page[field], &items); err != nil {
			c.t.Fatalf("GET %s: %s: %v", path, field, err)
		}
		out = append(out, items...)
		path = ""
		if next, ok := page["next"]; ok {
			json.Unmarshal(next, &path)
		}
	}
	return out
}

// apiServer serves the API over a real store holding five alert incidents,
// the first with twelve alerts on its timeline.
func apiServer(t *testing.T) (apiClient, *bolt.Store) {
	alerts, s := klaxonAlerts(t)
	for g := range 5 {
		if _, err := alerts.Intake(context.Background(), []bot.Alert{{Source: "generic", GroupKey: fmt.Sprint(g), Title: fmt.Sprintf("Alert %d", g), Firing: true}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 11 {
		alerts.Intake(context.Background(), []bot.Alert{{Source: "generic", GroupKey: "0", Title: "Alert 0", Firing: true, Labels: map[string]string{"host": fmt.Sprint(i)}}})
	}
	oncall := func(at time.Time) any {
		return []map[string]string{{"schedule": "db", "person": "alice"}}
	}
	srv := httptest.NewServer(web.Handler(web.Config{API: &web.API{Records: s, OnCall: oncall, Tokens: []web.Token{{Name: "read", Secret: readToken, Scope: web.ScopeRead}, {Name: "admin", Secret: adminToken, Scope: web.ScopeAdmin}}},
		Clock: bot.NewFakeClock(now), Log: zerolog.Nop()}))
	t.Cleanup(srv.Close)
	return apiClient{t: t, base: srv.URL}, s
}

func TestAPIAuthorization(t *testing.T) {
	c, _ := apiServer(t)
	for _, tt := range []struct {
		path, token string
		status      int
	}{
		{"/api/v1/incidents", "", 401},
		{"/api/v1/incidents", "wrong", 401},
		{"/api/v1/incidents", readToken, 200},
		{"/api/v1/incidents", adminToken, 200},
		{"/api/v1/backup", readToken, 403},
		{"/api/v1/backup", "", 401},
		{"/api/v1/oncall", readToken, 200},
	} {
		status, body, h := c.get(tt.path, tt.token)
		if status != tt.status {
			t.Errorf("GET %s with %q = %d %s; want %d", tt.path, tt.token, status, body, tt.status)
		}
		if status == 401 && h.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s: 401 without WWW-Authenticate", tt.path)
		}
		if strings.Contains(string(body), readToken) || strings.Contains(string(body), adminToken) {
			t.Errorf("GET %s shows a token: %s", tt.path, body)
		}
	}
	// Without tokens the API is off.
	srv := httptest.NewServer(web.Handler(web.Config{API: &web.API{}, Clock: bot.SystemClock{}, Log: zerolog.Nop()}))
	defer srv.Close()
	if status, body, _ := (apiClient{t: t, base: srv.URL}).get("/api/v1/incidents", ""); status != 404 || !strings.Contains(string(body), "api.token") {
		t.Errorf("API without tokens = %d %s", status, body)
	}
}

func TestAPIIncidentsPaginate(t *testing.T) {
	c, _ := apiServer(t)
	var numbers []int64
	for _, inc := range follow[bot.Incident](c, "/api/v1/incidents?limit=2", "incidents") {
		numbers = append(numbers, inc.Number)
	}
	if fmt.Sprint(numbers) != "[5 4 3 2 1]" {
		t.Errorf("paged through %v; want [5 4 3 2 1]", numbers)
	}
	var one bot.Incident
	c.json("/api/v1/incidents/3", &one)
	if one.Number != 3 || one.Title != "Alert 2" || one.Status != bot.StatusOpen {
		t.Errorf("INC-3 = %+v", one)
	}
	for path, want := range map[string]int{
		"/api/v1/incidents/99":                                    404,
		"/api/v1/incidents/x":                                     400,
		"/api/v1/incidents?limit=0":                               400,
		"/api/v1/incidents?limit=9999":                            400,
		"/api/v1/incidents?status=gone":                           400,
		"/api/v1/incidents?before=x":                              400,
		"/api/v1/incidents/1/postmortem.md":                       404,
		"/api/v1/incidents/1/timeline?after=18446744073709551615": 400, // would wrap to the start
	} {
		if status, body, _ := c.get(path, readToken); status != want {
			t.Errorf("GET %s = %d %s; want %d", path, status, body, want)
		}
	}
}

func TestAPITimelinePaginates(t *testing.T) {
	c, s := apiServer(t)
	inc, _ := s.IncidentByNumber(context.Background(), 1)
	all, _ := s.Events(context.Background(), inc.ID, 0, 0)
	var seqs []uint64
	for _, ev := range follow[bot.Event](c, "/api/v1/incidents/1/timeline?limit=5", "events") {
		seqs = append(seqs, ev.Seq)
	}
	if len(seqs) != len(all) || len(all) < 13 {
		t.Fatalf("timeline pages gave %d events; the store has %d", len(seqs), len(all))
	}
	for i, ev := range all {
		if seqs[i] != ev.Seq {
			t.Fatalf("event %d: seq %d; want %d", i, seqs[i], ev.Seq)
		}
	}
}

func TestAPIOnCallAndPostmortem(t *testing.T) {
	c, s := apiServer(t)
	var oc struct {
		At     time.Time
		OnCall []map[string]string
	}
	c.json("/api/v1/oncall", &oc)
	if !oc.At.Equal(now) || len(oc.OnCall) != 1 || oc.OnCall[0]["person"] != "alice" {
		t.Errorf("on call = %+v", oc)
	}
	inc, _ := s.IncidentByNumber(context.Background(), 2)
	if err := s.Update(context.Background(), func(tx bot.Tx) error { return tx.PutPostmortem(inc.ID, []byte("# INC-2 postmortem\n")) }); err != nil {
		t.Fatal(err)
	}
	status, body, h := c.get("/api/v1/incidents/2/postmortem.md", readToken)
	if status != 200 || string(body) != "# INC-2 postmortem\n" || !strings.HasPrefix(h.Get("Content-Type"), "text/markdown") {
		t.Errorf("postmortem = %d %q %s", status, body, h.Get("Content-Type"))
	}
}

func TestAPIBackupIsAConsistentCopy(t *testing.T) {
	c, _ := apiServer(t)
	status, body, h := c.get("/api/v1/backup", adminToken)
	if status != 200 || !strings.Contains(h.Get("Content-Disposition"), "klaxon-20261121T030000Z.db") {
		t.Fatalf("backup = %d, %v", status, h)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	copied, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer copied.Close()
	if err := copied.Check(); err != nil {
		t.Errorf("the backup is inconsistent: %v", err)
	}
	incs, err := copied.ListIncidents(context.Background(), bot.IncidentFilter{})
	if err != nil || len(incs) != 5 {
		t.Errorf("the backup holds %d incidents (%v); want 5", len(incs), err)
	}
}

// TestAPIHidesPrivateIncidents: the read token sees what everyone may see
// (no private incident in the list; its detail, timeline and postmortem
// answer 404 as for none); the admin token sees everything.
func TestAPIHidesPrivateIncidents(t *testing.T) {
	c, s := apiServer(t)
	inc, err := s.IncidentByNumber(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(tx bot.Tx) error {
		cur, err := tx.Incident(inc.ID)
		if err != nil {
			return err
		}
		cur.Private, cur.Title = true, "Credential leak"
		return tx.PutIncident(cur)
	}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/incidents/2", "/api/v1/incidents/2/timeline", "/api/v1/incidents/2/postmortem.md"} {
		status, body, _ := c.get(path, readToken)
		if status != 404 || strings.Contains(string(body), "Credential") {
			t.Errorf("GET %s with the read token = %d %s; want 404", path, status, body)
		}
	}
	for _, path := range []string{"/api/v1/incidents/2", "/api/v1/incidents/2/timeline"} {
		if status, body, _ := c.get(path, adminToken); status != 200 || (path == "/api/v1/incidents/2" && !strings.Contains(string(body), "Credential")) {
			t.Errorf("GET %s with the admin token = %d %s", path, status, body)
		}
	}
	for _, limit := range []string{"?limit=1", ""} {
		listed := follow[bot.Incident](c, "/api/v1/incidents"+limit, "incidents")
		if len(listed) != 4 {
			t.Errorf("the read token lists %d incidents (limit %q); want the 4 public ones", len(listed), limit)
		}
		for _, inc := range listed {
			if inc.Private || inc.Number == 2 {
				t.Errorf("the read token lists private INC-%d", inc.Number)
			}
		}
	}
	_, body, _ := c.get("/api/v1/incidents", adminToken)
	if !strings.Contains(string(body), "Credential leak") {
		t.Errorf("the admin token's list lacks the private incident: %s", body)
	}
}
