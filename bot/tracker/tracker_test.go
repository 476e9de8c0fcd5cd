package tracker_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/tracker"
	"github.com/klaxon-bot/klaxon/bot/tracker/trackerfake"
)

func issue(text string) bot.TicketIssue {
	return bot.TicketIssue{FollowUp: bot.NewID(), Key: "F-3", Text: text, Incident: "INC-42", IncidentTitle: "checkout\nis down",
		Owner: "Ada", Due: bot.Date{Year: 2026, Month: 12, Day: 1}, Created: time.Now().Add(-time.Second)}
}

func newGitHub(t *testing.T, token string) (*trackerfake.GitHub, *tracker.GitHub) {
	t.Helper()
	fake := trackerfake.NewGitHub("acme/payments", "ghp-good")
	t.Cleanup(fake.Close)
	gh, err := tracker.NewGitHub(tracker.GitHubConfig{ID: "gh", API: fake.URL(), Repo: "acme/payments", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return fake, gh
}

func newJira(t *testing.T, token string) (*trackerfake.Jira, *tracker.Jira) {
	t.Helper()
	fake := trackerfake.NewJira("PAY", "bot@acme.test", "jira-good", "Task", "Bug")
	t.Cleanup(fake.Close)
	j, err := tracker.NewJira(tracker.JiraConfig{ID: "jira", URL: fake.URL(), Email: "bot@acme.test", Token: token, Project: "PAY", IssueType: "Task"})
	if err != nil {
		t.Fatal(err)
	}
	return fake, j
}

func code(err error) string { return bot.ErrorCode(err) }

func TestGitHubTicketLifecycle(t *testing.T) {
	ctx := context.Background()
	fake, gh := newGitHub(t, "ghp-good")
	fake.AddPullRequest("acme/payments", tracker.Label) // the issues API lists pull requests too
	is := issue("Add a circuit breaker\nto the card client")
	if _, found, err := gh.Find(ctx, is); err != nil || found {
		t.Fatalf("Find before Create = %v, %v", found, err)
	}
	tk, err := gh.Create(ctx, is)
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != "2" || tk.Ref != "payments#2" || !strings.HasSuffix(tk.URL, "/acme/payments/issues/2") || tk.Closed {
		t.Fatalf("ticket = %+v", tk)
	}
	got := fake.Issues("acme/payments")[1]
	if got.Title != "Add a circuit breaker to the card client" || !strings.Contains(got.Body, is.FollowUp.String()) ||
		!strings.Contains(got.Body, "INC-42: `checkout is down`") || got.Labels[0] != "klaxon" {
		t.Fatalf("issue = %+v", got)
	}
	// A second attempt after a crash finds the first's issue.
	again, found, err := gh.Find(ctx, is)
	if err != nil || !found || again.ID != tk.ID {
		t.Fatalf("Find = %+v, %v, %v", again, found, err)
	}
	if _, found, _ := gh.Find(ctx, issue("another")); found {
		t.Fatal("Find matched another follow-up's issue")
	}
	since := time.Now().Add(-time.Second)
	if err := gh.SetClosed(ctx, tk.ID, true); err != nil {
		t.Fatal(err)
	}
	if i := fake.Issues("acme/payments")[1]; i.State != "closed" || i.StateReason != "completed" {
		t.Fatalf("after close: %+v", i)
	}
	changed, more, err := gh.Changed(ctx, since)
	if err != nil || more || len(changed) != 1 || changed[0].ID != "2" || !changed[0].Closed ||
		!changed[0].Updated.Equal(fake.Issues("acme/payments")[1].Updated.Truncate(time.Second)) {
		t.Fatalf("Changed = %+v, %v, %v (the pull request must be left out)", changed, more, err)
	}
	if err := gh.SetClosed(ctx, tk.ID, false); err != nil {
		t.Fatal(err)
	}
	if i := fake.Issues("acme/payments")[1]; i.State != "open" || i.StateReason != "reopened" {
		t.Fatalf("after reopen: %+v", i)
	}
	if err := gh.SetClosed(ctx, "99", true); code(err) != bot.ENOTFOUND {
		t.Fatalf("closing a missing issue: %v", err)
	}
}

func TestGitHubRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("bad token", func(t *testing.T) {
		_, gh := newGitHub(t, "ghp-wrong")
		_, err := gh.Create(ctx, issue("x"))
		if code(err) != bot.EREFUSED || !strings.Contains(bot.ErrorMessage(err), "401") || strings.Contains(err.Error(), "ghp-wrong") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("read-only token", func(t *testing.T) {
		fake, gh := newGitHub(t, "ghp-read")
		fake.AddToken("ghp-read", false)
		_, err := gh.Create(ctx, issue("x"))
		if code(err) != bot.EREFUSED || !strings.Contains(bot.ErrorMessage(err), "Resource not accessible") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("issues disabled", func(t *testing.T) {
		fake, gh := newGitHub(t, "ghp-good")
		fake.DisableIssues("acme/payments")
		_, err := gh.Create(ctx, issue("x"))
		if code(err) != bot.EREFUSED || !strings.Contains(bot.ErrorMessage(err), "410") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown repo", func(t *testing.T) {
		fake := trackerfake.NewGitHub("acme/payments", "ghp-good")
		defer fake.Close()
		gh, _ := tracker.NewGitHub(tracker.GitHubConfig{API: fake.URL(), Repo: "acme/nope", Token: "ghp-good"})
		if _, err := gh.Create(ctx, issue("x")); code(err) != bot.ENOTFOUND {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("validation", func(t *testing.T) {
		_, gh := newGitHub(t, "ghp-good")
		_, err := gh.Create(ctx, issue("   "))
		if code(err) != bot.EREFUSED || !strings.Contains(bot.ErrorMessage(err), "422") || !strings.Contains(bot.ErrorMessage(err), "title missing_field") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a long title is cut, not refused", func(t *testing.T) {
		fake, gh := newGitHub(t, "ghp-good")
		if _, err := gh.Create(ctx, issue(strings.Repeat("é", 400))); err != nil {
			t.Fatal(err)
		}
		if n := len([]rune(fake.Issues("acme/payments")[0].Title)); n != 256 {
			t.Fatalf("title has %d runes", n)
		}
	})
	t.Run("primary rate limit", func(t *testing.T) {
		fake, gh := newGitHub(t, "ghp-good")
		fake.RateLimit(http.StatusForbidden)
		_, err := gh.Create(ctx, issue("x"))
		transient, wait := bot.Transient(err)
		if !transient || wait < time.Second || wait > 4*time.Second {
			t.Fatalf("err = %v, transient %v, wait %v (x-ratelimit-reset is 2 s away)", err, transient, wait)
		}
		if fake.Creates() != 0 {
			t.Fatal("a rate-limited create made an issue")
		}
	})
	t.Run("secondary rate limit", func(t *testing.T) {
		fake, gh := newGitHub(t, "ghp-good")
		fake.RateLimit(http.StatusTooManyRequests)
		_, _, err := gh.Changed(ctx, time.Now())
		if transient, wait := bot.Transient(err); !transient || wait != 3*time.Second {
			t.Fatalf("err = %v, transient %v, wait %v", err, transient, wait)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		fake, gh := newGitHub(t, "ghp-good")
		fake.Close()
		_, err := gh.Create(ctx, issue("x"))
		if transient, _ := bot.Transient(err); !transient || strings.Contains(err.Error(), "ghp-good") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestJiraTicketLifecycle(t *testing.T) {
	ctx := context.Background()
	fake, j := newJira(t, "jira-good")
	is := issue("Add a circuit breaker")
	tk, err := j.Create(ctx, is)
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != "PAY-1" || tk.Ref != "PAY-1" || !strings.HasSuffix(tk.URL, "/browse/PAY-1") {
		t.Fatalf("ticket = %+v", tk)
	}
	got := fake.Issues()[0]
	if got.Summary != "Add a circuit breaker" || got.IssueType != "Task" || len(got.Labels) != 2 || got.Labels[1] != "klaxon-"+is.FollowUp.String() {
		t.Fatalf("issue = %+v", got)
	}
	if got.Description["type"] != "doc" || len(got.Description["content"].([]any)) != 4 {
		t.Fatalf("description = %v", got.Description)
	}
	// Search is eventually consistent: a new issue may be missing from it
	// for a while, which klaxon allows for (SearchLag).
	fake.SetSearchLag(time.Hour)
	if _, found, err := j.Find(ctx, is); err != nil || found {
		t.Fatalf("Find while search lags = %v, %v", found, err)
	}
	if j.SearchLag() != tracker.JiraSearchLag {
		t.Errorf("Jira's search lag: %v", j.SearchLag())
	}
	fake.SetSearchLag(0)
	again, found, err := j.Find(ctx, is)
	if err != nil || !found || again.ID != "PAY-1" {
		t.Fatalf("Find = %+v, %v, %v", again, found, err)
	}
	if _, found, _ := j.Find(ctx, issue("other")); found {
		t.Fatal("Find matched another follow-up's issue")
	}
	if err := j.SetClosed(ctx, "PAY-1", true); err != nil {
		t.Fatal(err)
	}
	if s := fake.Issues()[0].Status; s != "Done" {
		t.Fatalf("status = %s", s)
	}
	if err := j.SetClosed(ctx, "PAY-1", true); err != nil { // already closed: nothing to do
		t.Fatalf("closing a closed issue: %v", err)
	}
	changed, more, err := j.Changed(ctx, time.Now().Add(-30*time.Second))
	if err != nil || more || len(changed) != 1 || changed[0].ID != "PAY-1" || !changed[0].Closed ||
		!changed[0].Updated.Equal(fake.Issues()[0].Updated.Truncate(time.Millisecond)) {
		t.Fatalf("Changed = %+v, %v, %v", changed, more, err)
	}
	if err := j.SetClosed(ctx, "PAY-1", false); err != nil {
		t.Fatal(err)
	}
	if s := fake.Issues()[0].Status; s != "To Do" {
		t.Fatalf("status after reopen = %s", s)
	}
	if err := j.SetClosed(ctx, "PAY-99", true); code(err) != bot.ENOTFOUND {
		t.Fatalf("closing a missing issue: %v", err)
	}
}

func TestJiraRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("bad token", func(t *testing.T) {
		_, j := newJira(t, "wrong")
		if _, err := j.Create(ctx, issue("x")); code(err) != bot.EREFUSED || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no permission", func(t *testing.T) {
		fake, j := newJira(t, "browse")
		fake.AddToken("browse", false)
		if _, err := j.Create(ctx, issue("x")); code(err) != bot.EREFUSED || !strings.Contains(bot.ErrorMessage(err), "403") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown issue type", func(t *testing.T) {
		fake := trackerfake.NewJira("PAY", "bot@acme.test", "jira-good", "Task")
		defer fake.Close()
		j, _ := tracker.NewJira(tracker.JiraConfig{URL: fake.URL(), Email: "bot@acme.test", Token: "jira-good", Project: "PAY", IssueType: "Story"})
		_, err := j.Create(ctx, issue("x"))
		if code(err) != bot.EREFUSED || !strings.Contains(bot.ErrorMessage(err), "issuetype: Specify a valid issue type") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		fake, j := newJira(t, "jira-good")
		fake.RateLimit(1)
		_, err := j.Create(ctx, issue("x"))
		if transient, wait := bot.Transient(err); !transient || wait != 2*time.Second || fake.Creates() != 0 {
			t.Fatalf("err = %v, transient %v, wait %v", err, transient, wait)
		}
	})
	t.Run("the old search is gone", func(t *testing.T) {
		fake, _ := newJira(t, "jira-good")
		req, _ := http.NewRequest(http.MethodGet, fake.URL()+"/rest/api/3/search?jql=project=PAY", nil)
		req.SetBasicAuth("bot@acme.test", "jira-good")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusGone {
			t.Fatalf("status = %d", resp.StatusCode)
		}
	})
}

// The fake refuses what Jira refuses: an ADF document with an empty text
// node, a summary with a newline, a field not on the screen.
func TestJiraFakeIsStrict(t *testing.T) {
	fake, _ := newJira(t, "jira-good")
	post := func(body string) int {
		req, _ := http.NewRequest(http.MethodPost, fake.URL()+"/rest/api/3/issue", strings.NewReader(body))
		req.SetBasicAuth("bot@acme.test", "jira-good")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	base := `"project":{"key":"PAY"},"issuetype":{"name":"Task"}`
	for name, body := range map[string]string{
		"empty text node": `{"fields":{` + base + `,"summary":"s","description":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":""}]}]}}}`,
		"plain string":    `{"fields":{` + base + `,"summary":"s","description":"hello"}}`,
		"newline":         `{"fields":{` + base + `,"summary":"a\nb"}}`,
		"unknown field":   `{"fields":{` + base + `,"summary":"s","duedate":"2026-12-01"}}`,
		"label space":     `{"fields":{` + base + `,"summary":"s","labels":["a b"]}}`,
	} {
		if s := post(body); s != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, s)
		}
	}
	if s := post(`{"fields":{` + base + `,"summary":"s","description":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"ok"}]}]}}}`); s != http.StatusCreated {
		t.Errorf("a good issue: status %d", s)
	}
}

// Changed reads oldest change first, up to its bound, and says when it
// stopped there with more to read.
func TestChangedSaysWhenItStopsAtItsBound(t *testing.T) {
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	_, gh := newGitHub(t, "ghp-good")
	_, j := newJira(t, "jira-good")
	for _, tr := range []interface {
		bot.Tracker
		LimitChangedPages(int)
	}{gh, j} {
		for i := range 150 {
			if _, err := tr.Create(ctx, issue(fmt.Sprintf("issue %d", i))); err != nil {
				t.Fatal(err)
			}
		}
		tr.LimitChangedPages(1)
		states, more, err := tr.Changed(ctx, since)
		if err != nil || !more || len(states) != 100 {
			t.Fatalf("%T, one page: %d states, more %v, %v", tr, len(states), more, err)
		}
		if !slices.IsSortedFunc(states, func(a, b bot.TicketState) int { return a.Updated.Compare(b.Updated) }) || states[0].Updated.Before(since.Truncate(time.Second)) {
			t.Errorf("%T: not oldest first, or updated before since", tr)
		}
		tr.LimitChangedPages(2)
		if states, more, err := tr.Changed(ctx, since); err != nil || more || len(states) != 150 {
			t.Fatalf("%T, two pages: %d states, more %v, %v", tr, len(states), more, err)
		}
	}
}

// A tracker that redirects is refused, not followed: the issue (a
// private incident's follow-up) and the token would go somewhere nobody
// configured.
func TestTrackerRedirectsAreRefused(t *testing.T) {
	var followed atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"number": 1, "html_url": "https://elsewhere/1", "state": "open"}`)
	}))
	defer elsewhere.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path+"?token=SECRET", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	gh, err := tracker.NewGitHub(tracker.GitHubConfig{ID: "gh", API: redirect.URL, Repo: "acme/payments", Token: "ghp-good"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = gh.Create(context.Background(), issue("rotate the keys"))
	if bot.ErrorCode(err) != bot.EREFUSED || !strings.Contains(bot.ErrorMessage(err), elsewhere.URL+"/repos/acme/payments/issues") || strings.Contains(bot.ErrorMessage(err), "SECRET") {
		t.Errorf("Create through a redirect: %v; want a refusal naming where it pointed, without its query", err)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// A tracker that echoes the credentials in its refusal cannot put them in
// klaxon's errors: not the Bearer token, not Jira's Basic pair or token.
func TestEchoedTrackerCredentialsAreScrubbed(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		user, pass, _ := r.BasicAuth()
		json.NewEncoder(w).Encode(map[string]any{"message": "Forbidden " + r.Header.Get("Authorization") + " for " + user + ":" + pass,
			"errorMessages": []string{"token " + pass}})
	}))
	defer echo.Close()
	gh, err := tracker.NewGitHub(tracker.GitHubConfig{ID: "gh", API: echo.URL, Repo: "acme/payments", Token: "ghp_secretTOKEN0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	jira, err := tracker.NewJira(tracker.JiraConfig{ID: "jira", URL: echo.URL, Email: "bot@acme.test", Token: "jira-secret-token-0123", Project: "OPS", IssueType: "Task"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		tr     bot.Tracker
		secret string
	}{"github": {gh, "ghp_secretTOKEN0123456789"}, "jira": {jira, "jira-secret-token-0123"}} {
		_, err := tt.tr.Create(context.Background(), issue("rotate"))
		if err == nil {
			t.Fatalf("%s: a 403 created a ticket", name)
		}
		for _, text := range []string{err.Error(), bot.ErrorMessage(err)} {
			if strings.Contains(text, tt.secret) || strings.Contains(text, base64.StdEncoding.EncodeToString([]byte("bot@acme.test:"+tt.secret))) {
				t.Errorf("%s: the error shows the credential: %s", name, text)
			}
		}
	}
}

// Text from chat goes into a GitHub issue as written: no mention, no
// cross-reference, no image or link, no comment that hides what follows.
func TestGitHubIssueBodiesQuoteChatText(t *testing.T) {
	fake, gh := newGitHub(t, "ghp-good")
	is := issue("rotate the keys")
	is.IncidentTitle = "@here @acme/oncall see #1 ![x](https://track.example/p.gif) [click](https://evil.example) <!-- ``` `tick`"
	is.Owner = "@acme/security"
	if _, err := gh.Create(context.Background(), is); err != nil {
		t.Fatal(err)
	}
	body := fake.Issues("acme/payments")[0].Body
	first, _, _ := strings.Cut(body, "\n")
	want := "Follow-up F-3 from incident INC-42: ```` " + is.IncidentTitle + " ````  "
	if first != want {
		t.Errorf("first line %q; want the title in a code span:\n%q", first, want)
	}
	if !strings.Contains(body, "Owner: `@acme/security`") || !strings.Contains(body, "Due: 2026-12-01") {
		t.Errorf("the lines after the title are not as written:\n%s", body)
	}
}
