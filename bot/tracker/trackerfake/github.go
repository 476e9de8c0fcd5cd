// Package trackerfake holds protocol-level fakes of GitHub's issues API
// and Jira Cloud's REST API v3, on 127.0.0.1, written from their
// reference documentation and as strict as they are: required fields,
// limits, authentication, permissions, gone endpoints and rate limits are
// refused with the platform's status and error body.
package trackerfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// GitHubIssue is an issue as the fake keeps it.
type GitHubIssue struct {
	Number      int64
	Title, Body string
	Labels      []string
	State       string // open, closed
	StateReason string
	Created     time.Time
	Updated     time.Time
	PullRequest bool
}

// GitHub is a fake of GitHub's REST API for issues.
type GitHub struct {
	srv *httptest.Server

	mu        sync.Mutex
	tokens    map[string]bool // token → may write
	repos     map[string]*ghRepo
	limited   []int // statuses of the next answers refused for the rate limit
	creates   int
	requests  int
	resetWait time.Duration
}

type ghRepo struct {
	name     string
	disabled bool // issues turned off: 410
	issues   []*GitHubIssue
}

// NewGitHub starts the fake with one repository, owner/name, and one
// token that may write to it.
func NewGitHub(repo, token string) *GitHub {
	g := &GitHub{tokens: map[string]bool{token: true}, repos: map[string]*ghRepo{repo: {name: repo}}, resetWait: 2 * time.Second}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	return g
}

// URL is the API's base URL.
func (g *GitHub) URL() string { return g.srv.URL }

// Close stops the fake.
func (g *GitHub) Close() { g.srv.Close() }

// AddToken adds a token; a read-only one is refused writes (403).
func (g *GitHub) AddToken(token string, write bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokens[token] = write
}

// DisableIssues turns a repository's issues off: its issue routes answer
// 410 Gone.
func (g *GitHub) DisableIssues(repo string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.repos[repo].disabled = true
}

// RateLimit refuses the next answers with these statuses: 403 is the
// primary limit (x-ratelimit-remaining: 0 and x-ratelimit-reset, the Unix
// time it lifts), 429 the secondary limit (retry-after seconds).
func (g *GitHub) RateLimit(statuses ...int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limited = append(g.limited, statuses...)
}

// Issues returns a copy of repo's issues, in number order.
func (g *GitHub) Issues(repo string) []GitHubIssue {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []GitHubIssue
	for _, i := range g.repos[repo].issues {
		out = append(out, *i)
	}
	return out
}

// Creates counts the issues made through the API.
func (g *GitHub) Creates() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.creates
}

// SetState closes or reopens issue n as a person would in GitHub's UI.
func (g *GitHub) SetState(repo string, n int64, state string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, i := range g.repos[repo].issues {
		if i.Number == n {
			i.State, i.Updated = state, time.Now().UTC()
		}
	}
}

// AddPullRequest adds a pull request with labels: the issues API lists
// pull requests too.
func (g *GitHub) AddPullRequest(repo string, labels ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.repos[repo]
	now := time.Now().UTC()
	r.issues = append(r.issues, &GitHubIssue{Number: int64(len(r.issues) + 1), Title: "a pull request", Labels: labels, State: "open", Created: now, Updated: now, PullRequest: true})
}

func ghError(w http.ResponseWriter, status int, message string, errs ...map[string]string) {
	body := map[string]any{"message": message, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (g *GitHub) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests++
	w.Header().Set("X-RateLimit-Limit", "5000")
	if len(g.limited) > 0 {
		status := g.limited[0]
		g.limited = g.limited[1:]
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "3")
			ghError(w, status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(g.resetWait).Unix(), 10))
		ghError(w, http.StatusForbidden, "API rate limit exceeded for user ID 1.")
		return
	}
	w.Header().Set("X-RateLimit-Remaining", "4999")
	if v := r.Header.Get("X-GitHub-Api-Version"); v != "" && v != "2022-11-28" && v != "2026-03-10" {
		ghError(w, http.StatusBadRequest, fmt.Sprintf("API version %s is not supported.", v))
		return
	}
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		token, ok = strings.CutPrefix(auth, "token ")
	}
	write, known := g.tokens[token]
	if !ok || !known {
		ghError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	// /repos/{owner}/{repo}[/issues[/{number}]]
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) == 3 && parts[0] == "repos" && r.Method == http.MethodGet {
		repo, ok := g.repos[parts[1]+"/"+parts[2]]
		if !ok {
			ghError(w, http.StatusNotFound, "Not Found")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(map[string]any{"full_name": repo.name, "has_issues": !repo.disabled,
			"permissions": map[string]bool{"pull": true, "triage": write, "push": write}})
		return
	}
	if len(parts) < 4 || parts[0] != "repos" || parts[3] != "issues" || len(parts) > 5 {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	repo, ok := g.repos[parts[1]+"/"+parts[2]]
	if !ok {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	if repo.disabled {
		ghError(w, http.StatusGone, "Issues are disabled for this repo")
		return
	}
	if r.Method != http.MethodGet && !write {
		ghError(w, http.StatusForbidden, "Resource not accessible by personal access token")
		return
	}
	switch {
	case len(parts) == 4 && r.Method == http.MethodPost:
		g.create(w, r, repo)
	case len(parts) == 4 && r.Method == http.MethodGet:
		g.list(w, r, repo)
	case len(parts) == 5 && r.Method == http.MethodPatch:
		g.update(w, r, parts[4], repo)
	default:
		ghError(w, http.StatusNotFound, "Not Found")
	}
}

func (g *GitHub) issueJSON(repoName string, i *GitHubIssue) map[string]any {
	labels := []map[string]string{}
	for _, l := range i.Labels {
		labels = append(labels, map[string]string{"name": l})
	}
	m := map[string]any{"number": i.Number, "title": i.Title, "body": i.Body, "state": i.State, "labels": labels,
		"html_url":   fmt.Sprintf("https://github.example/%s/issues/%d", repoName, i.Number),
		"created_at": i.Created.Format(time.RFC3339), "updated_at": i.Updated.Format(time.RFC3339)}
	if i.StateReason != "" {
		m["state_reason"] = i.StateReason
	}
	if i.PullRequest {
		m["pull_request"] = map[string]string{"url": "https://github.example/pulls/1"}
	}
	return m
}

// decodeJSON reads a JSON object body or answers 400 as GitHub does.
func decodeJSON(w http.ResponseWriter, r *http.Request, into any) bool {
	if err := json.NewDecoder(r.Body).Decode(into); err != nil {
		ghError(w, http.StatusBadRequest, "Problems parsing JSON")
		return false
	}
	return true
}

func (g *GitHub) create(w http.ResponseWriter, r *http.Request, repo *ghRepo) {
	var in struct {
		Title  *string  `json:"title"`
		Body   string   `json:"body"`
		Labels []string `json:"labels"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	switch {
	case in.Title == nil || strings.TrimSpace(*in.Title) == "":
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed", map[string]string{"resource": "Issue", "code": "missing_field", "field": "title"})
		return
	case utf8.RuneCountInString(*in.Title) > 256:
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed", map[string]string{"resource": "Issue", "code": "custom", "field": "title", "message": "title is too long (maximum is 256 characters)"})
		return
	case utf8.RuneCountInString(in.Body) > 65536:
		ghError(w, http.StatusUnprocessableEntity, "Validation Failed", map[string]string{"resource": "Issue", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"})
		return
	}
	for _, l := range in.Labels {
		if l == "" || utf8.RuneCountInString(l) > 50 {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed", map[string]string{"resource": "Label", "code": "invalid", "field": "name"})
			return
		}
	}
	now := time.Now().UTC()
	i := &GitHubIssue{Number: int64(len(repo.issues) + 1), Title: *in.Title, Body: in.Body, Labels: in.Labels, State: "open", Created: now, Updated: now}
	repo.issues = append(repo.issues, i)
	g.creates++
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(g.issueJSON(repo.name, i))
}

func (g *GitHub) list(w http.ResponseWriter, r *http.Request, repo *ghRepo) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	perPage, page := 30, 1
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed")
			return
		}
		perPage = min(n, 100)
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed")
			return
		}
		page = n
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed", map[string]string{"resource": "Issue", "code": "invalid", "field": "since"})
			return
		}
		since = t
	}
	var labels []string
	if v := q.Get("labels"); v != "" {
		labels = strings.Split(v, ",")
	}
	var match []*GitHubIssue
	for _, i := range repo.issues {
		if state != "all" && i.State != state || i.Updated.Before(since) {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && slices.Contains(i.Labels, l)
		}
		if all {
			match = append(match, i)
		}
	}
	by := func(i *GitHubIssue) time.Time { return i.Created }
	if q.Get("sort") == "updated" {
		by = func(i *GitHubIssue) time.Time { return i.Updated }
	}
	slices.SortStableFunc(match, func(a, b *GitHubIssue) int {
		c := by(a).Compare(by(b))
		if c == 0 {
			c = int(a.Number - b.Number)
		}
		if q.Get("direction") != "asc" {
			c = -c
		}
		return c
	})
	out := []map[string]any{}
	for k := (page - 1) * perPage; k < len(match) && k < page*perPage; k++ {
		out = append(out, g.issueJSON(repo.name, match[k]))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(out)
}

func (g *GitHub) update(w http.ResponseWriter, r *http.Request, number string, repo *ghRepo) {
	n, err := strconv.ParseInt(number, 10, 64)
	var issue *GitHubIssue
	for _, i := range repo.issues {
		if err == nil && i.Number == n && !i.PullRequest {
			issue = i
		}
	}
	if issue == nil {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	var in struct {
		State       *string `json:"state"`
		StateReason *string `json:"state_reason"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.State != nil {
		if *in.State != "open" && *in.State != "closed" {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed", map[string]string{"resource": "Issue", "code": "invalid", "field": "state"})
			return
		}
		issue.State = *in.State
	}
	if in.StateReason != nil {
		if !slices.Contains([]string{"completed", "not_planned", "reopened"}, *in.StateReason) {
			ghError(w, http.StatusUnprocessableEntity, "Validation Failed", map[string]string{"resource": "Issue", "code": "invalid", "field": "state_reason"})
			return
		}
		issue.StateReason = *in.StateReason
	}
	issue.Updated = time.Now().UTC()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(g.issueJSON(repo.name, issue))
}
