package trackerfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// JiraIssue is an issue as the fake keeps it.
type JiraIssue struct {
	ID, Key     string
	Summary     string
	IssueType   string
	Description map[string]any // the ADF document
	Labels      []string
	Status      string // To Do, In Progress, Done
	Created     time.Time
	Updated     time.Time
}

// Jira is a fake of Jira Cloud's REST API v3: issues, transitions and
// JQL search, with one workflow: To Do → In Progress → Done, any to any.
type Jira struct {
	srv *httptest.Server

	mu         sync.Mutex
	email      string
	tokens     map[string]bool // API token → may create and transition
	project    string
	issueTypes []string
	issues     []*JiraIssue
	limited    int
	lag        time.Duration // how long a new issue stays out of search
	creates    int
	requests   int
}

// jiraStatuses are the workflow's statuses, their category and the
// transition id into each.
var jiraStatuses = []struct{ name, category, transition string }{
	{"To Do", "new", "11"}, {"In Progress", "indeterminate", "21"}, {"Done", "done", "31"},
}

// NewJira starts the fake with one project, its issue types, and one
// account (email and API token) that may create issues in it.
func NewJira(project, email, token string, issueTypes ...string) *Jira {
	j := &Jira{email: email, tokens: map[string]bool{token: true}, project: project, issueTypes: issueTypes}
	j.srv = httptest.NewServer(http.HandlerFunc(j.serve))
	return j
}

// URL is the site's base URL.
func (j *Jira) URL() string { return j.srv.URL }

// Close stops the fake.
func (j *Jira) Close() { j.srv.Close() }

// AddToken adds an API token for the account; a browse-only one is
// refused creates and transitions (403).
func (j *Jira) AddToken(token string, write bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.tokens[token] = write
}

// RateLimit answers the next n requests 429 with Retry-After.
func (j *Jira) RateLimit(n int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.limited += n
}

// SetSearchLag keeps each issue out of search results until d after its
// creation, as Jira's eventually consistent /search/jql may (0, the
// default, shows it at once; GET /issue always does).
func (j *Jira) SetSearchLag(d time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lag = d
}

// Issues returns a copy of the project's issues.
func (j *Jira) Issues() []JiraIssue {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []JiraIssue
	for _, i := range j.issues {
		out = append(out, *i)
	}
	return out
}

// Creates counts the issues made through the API.
func (j *Jira) Creates() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.creates
}

// Requests counts the requests the fake received.
func (j *Jira) Requests() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.requests
}

// SetStatus moves issue key to status as a person would in Jira.
func (j *Jira) SetStatus(key, status string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, i := range j.issues {
		if i.Key == key {
			i.Status, i.Updated = status, time.Now().UTC()
		}
	}
}

func jiraError(w http.ResponseWriter, status int, messages []string, fields map[string]string) {
	if messages == nil {
		messages = []string{}
	}
	if fields == nil {
		fields = map[string]string{}
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errorMessages": messages, "errors": fields})
}

func (j *Jira) serve(w http.ResponseWriter, r *http.Request) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.requests++
	if j.limited > 0 {
		j.limited--
		w.Header().Set("Retry-After", "2")
		w.Header().Set("X-RateLimit-Reset", time.Now().Add(2*time.Second).UTC().Format(time.RFC3339))
		jiraError(w, http.StatusTooManyRequests, []string{"Rate limit exceeded."}, nil)
		return
	}
	write, ok := j.account(r)
	if !ok {
		jiraError(w, http.StatusUnauthorized, []string{"Client must be authenticated to access this resource."}, nil)
		return
	}
	path := r.URL.Path
	switch {
	case path == "/rest/api/3/search" || path == "/rest/api/2/search":
		jiraError(w, http.StatusGone, []string{"The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."}, nil)
	case path == "/rest/api/3/myself" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_ = json.NewEncoder(w).Encode(map[string]any{"accountId": "5b10a2844c20165700ede21g", "emailAddress": j.email, "active": true})
	case strings.HasPrefix(path, "/rest/api/3/project/") && r.Method == http.MethodGet:
		if strings.TrimPrefix(path, "/rest/api/3/project/") != j.project {
			jiraError(w, http.StatusNotFound, []string{"No project could be found with key '" + strings.TrimPrefix(path, "/rest/api/3/project/") + "'."}, nil)
			return
		}
		var types []any
		for _, t := range j.issueTypes {
			types = append(types, map[string]any{"name": t})
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_ = json.NewEncoder(w).Encode(map[string]any{"key": j.project, "issueTypes": types})
	case path == "/rest/api/3/search/jql" && r.Method == http.MethodGet:
		j.search(w, r)
	case path == "/rest/api/3/issue" && r.Method == http.MethodPost:
		if !write {
			jiraError(w, http.StatusForbidden, []string{"You do not have permission to create issues in this project."}, nil)
			return
		}
		j.create(w, r)
	case strings.HasPrefix(path, "/rest/api/3/issue/") && !strings.Contains(strings.TrimPrefix(path, "/rest/api/3/issue/"), "/") && r.Method == http.MethodGet:
		issue := j.find(strings.TrimPrefix(path, "/rest/api/3/issue/"))
		if issue == nil {
			jiraError(w, http.StatusNotFound, []string{"Issue does not exist or you do not have permission to see it."}, nil)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": issue.ID, "key": issue.Key, "fields": map[string]any{
			"status": map[string]any{"name": issue.Status, "statusCategory": map[string]any{"key": category(issue.Status)}}}})
	case strings.HasPrefix(path, "/rest/api/3/issue/") && strings.HasSuffix(path, "/transitions"):
		key := strings.TrimSuffix(strings.TrimPrefix(path, "/rest/api/3/issue/"), "/transitions")
		issue := j.find(key)
		if issue == nil {
			jiraError(w, http.StatusNotFound, []string{"Issue does not exist or you do not have permission to see it."}, nil)
			return
		}
		switch r.Method {
		case http.MethodGet:
			j.transitions(w, issue)
		case http.MethodPost:
			if !write {
				jiraError(w, http.StatusForbidden, []string{"You do not have permission to transition this issue."}, nil)
				return
			}
			j.transition(w, r, issue)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	default:
		jiraError(w, http.StatusNotFound, []string{"null for uri: " + path}, nil)
	}
}

// account checks HTTP Basic authentication with the email and an API
// token.
func (j *Jira) account(r *http.Request) (write, ok bool) {
	h, found := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
	if !found {
		return false, false
	}
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return false, false
	}
	email, token, _ := strings.Cut(string(raw), ":")
	write, known := j.tokens[token]
	return write, known && email == j.email
}

func (j *Jira) find(key string) *JiraIssue {
	for _, i := range j.issues {
		if i.Key == key || i.ID == key {
			return i
		}
	}
	return nil
}

func (j *Jira) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Fields == nil {
		jiraError(w, http.StatusBadRequest, []string{"Can not deserialize instance of issue"}, nil)
		return
	}
	bad := map[string]string{}
	var project struct{ Key, ID string }
	if json.Unmarshal(in.Fields["project"], &project) != nil || project.Key != j.project {
		bad["project"] = "valid project is required"
	}
	var issueType struct{ Name, ID string }
	if json.Unmarshal(in.Fields["issuetype"], &issueType) != nil || !slices.Contains(j.issueTypes, issueType.Name) {
		bad["issuetype"] = "Specify a valid issue type"
	}
	var summary string
	switch err := json.Unmarshal(in.Fields["summary"], &summary); {
	case err != nil || strings.TrimSpace(summary) == "":
		bad["summary"] = "You must specify a summary of the issue."
	case utf8.RuneCountInString(summary) > 255:
		bad["summary"] = "Summary must be less than 255 characters."
	case strings.ContainsAny(summary, "\r\n"):
		bad["summary"] = "The summary is invalid because it contains newline characters."
	}
	var desc map[string]any
	if raw, ok := in.Fields["description"]; ok {
		if json.Unmarshal(raw, &desc) != nil || validADF(desc) != nil {
			bad["description"] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
		}
	}
	var labels []string
	if raw, ok := in.Fields["labels"]; ok {
		if json.Unmarshal(raw, &labels) != nil {
			bad["labels"] = "data was not an array"
		}
		for _, l := range labels {
			if l == "" || strings.ContainsAny(l, " \t\n") || utf8.RuneCountInString(l) > 255 {
				bad["labels"] = "The label '" + l + "' contains spaces which is invalid."
			}
		}
	}
	for f := range in.Fields {
		if !slices.Contains([]string{"project", "issuetype", "summary", "description", "labels"}, f) {
			bad[f] = fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", f)
		}
	}
	if len(bad) > 0 {
		jiraError(w, http.StatusBadRequest, nil, bad)
		return
	}
	n := len(j.issues) + 1
	i := &JiraIssue{ID: strconv.Itoa(10000 + n), Key: fmt.Sprintf("%s-%d", j.project, n), Summary: summary, IssueType: issueType.Name,
		Description: desc, Labels: labels, Status: "To Do", Created: time.Now().UTC()}
	i.Updated = i.Created
	j.issues = append(j.issues, i)
	j.creates++
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]string{"id": i.ID, "key": i.Key, "self": j.srv.URL + "/rest/api/3/issue/" + i.ID})
}

func category(status string) string {
	for _, s := range jiraStatuses {
		if s.name == status {
			return s.category
		}
	}
	return "undefined"
}

func (j *Jira) transitions(w http.ResponseWriter, issue *JiraIssue) {
	var ts []any
	for _, s := range jiraStatuses {
		if s.name == issue.Status {
			continue
		}
		ts = append(ts, map[string]any{"id": s.transition, "name": s.name, "to": map[string]any{
			"name": s.name, "statusCategory": map[string]any{"key": s.category}}})
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"transitions": ts})
}

func (j *Jira) transition(w http.ResponseWriter, r *http.Request, issue *JiraIssue) {
	var in struct {
		Transition struct {
			ID string `json:"id"`
		} `json:"transition"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		jiraError(w, http.StatusBadRequest, []string{"Can not deserialize the transition"}, nil)
		return
	}
	for _, s := range jiraStatuses {
		if s.transition == in.Transition.ID && s.name != issue.Status {
			issue.Status, issue.Updated = s.name, time.Now().UTC()
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	jiraError(w, http.StatusBadRequest, []string{"Transition id '" + in.Transition.ID + "' is not valid for this issue."}, nil)
}

// The JQL the fake understands: clauses joined by AND, then an optional
// ORDER BY. Anything else is refused as Jira refuses a bad query.
var (
	jqlClause = regexp.MustCompile(`^(project|labels)\s*=\s*("([^"]*)"|([A-Za-z0-9_-]+))$`)
	jqlUpdate = regexp.MustCompile(`^updated\s*>=\s*"-(\d+)m"$`)
	jqlOrder  = regexp.MustCompile(`\s+ORDER BY updated (ASC|DESC)$`)
)

func (j *Jira) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	jql := strings.TrimSpace(q.Get("jql"))
	if jql == "" {
		jiraError(w, http.StatusBadRequest, []string{"Unbounded JQL queries are not allowed here. Please add a search restriction to your query."}, nil)
		return
	}
	desc := false
	if m := jqlOrder.FindStringSubmatch(jql); m != nil {
		desc = m[1] == "DESC"
		jql = strings.TrimSuffix(jql, m[0])
	}
	var keep []func(*JiraIssue) bool
	now := time.Now()
	for c := range strings.SplitSeq(jql, " AND ") {
		c = strings.TrimSpace(c)
		if m := jqlUpdate.FindStringSubmatch(c); m != nil {
			mins, _ := strconv.Atoi(m[1])
			since := now.Add(-time.Duration(mins) * time.Minute)
			keep = append(keep, func(i *JiraIssue) bool { return !i.Updated.Before(since) })
			continue
		}
		m := jqlClause.FindStringSubmatch(c)
		if m == nil {
			jiraError(w, http.StatusBadRequest, []string{fmt.Sprintf("Error in the JQL Query: %q cannot be parsed.", c)}, nil)
			return
		}
		value := m[3] + m[4]
		if m[1] == "project" {
			if value != j.project {
				jiraError(w, http.StatusBadRequest, []string{fmt.Sprintf("The value '%s' does not exist for the field 'project'.", value)}, nil)
				return
			}
			continue
		}
		keep = append(keep, func(i *JiraIssue) bool { return slices.Contains(i.Labels, value) })
	}
	max := 50
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			jiraError(w, http.StatusBadRequest, []string{"maxResults must be a positive number"}, nil)
			return
		}
		max = min(n, 5000)
	}
	start := 0
	if v := q.Get("nextPageToken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			jiraError(w, http.StatusBadRequest, []string{"The nextPageToken is invalid."}, nil)
			return
		}
		start = n
	}
	var match []*JiraIssue
	for _, i := range j.issues {
		if now.Sub(i.Created) < j.lag {
			continue // not in the search index yet
		}
		if !slices.ContainsFunc(keep, func(f func(*JiraIssue) bool) bool { return !f(i) }) {
			match = append(match, i)
		}
	}
	slices.SortStableFunc(match, func(a, b *JiraIssue) int {
		c := a.Updated.Compare(b.Updated)
		if desc {
			c = -c
		}
		return c
	})
	issues := []any{}
	end := min(start+max, len(match))
	for k := start; k < end; k++ {
		i := match[k]
		issues = append(issues, map[string]any{"id": i.ID, "key": i.Key, "fields": map[string]any{
			"status":  map[string]any{"name": i.Status, "statusCategory": map[string]any{"key": category(i.Status)}},
			"updated": i.Updated.Format("2006-01-02T15:04:05.000-0700")}})
	}
	out := map[string]any{"issues": issues, "isLast": end >= len(match)}
	if end < len(match) {
		out["nextPageToken"] = strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(out)
}

// validADF checks an Atlassian Document Format document: a doc of
// version 1 whose blocks and inline nodes are known, text nodes not
// empty, and marks well formed.
func validADF(doc map[string]any) error {
	if doc["type"] != "doc" || doc["version"] != float64(1) {
		return fmt.Errorf("the root must be a doc of version 1")
	}
	content, ok := doc["content"].([]any)
	if !ok {
		return fmt.Errorf("the doc needs content")
	}
	return validNodes(content, []string{"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "rule", "blockquote"})
}

var adfChildren = map[string][]string{
	"paragraph":   {"text", "hardBreak", "mention", "emoji", "inlineCard"},
	"heading":     {"text", "hardBreak", "mention", "emoji", "inlineCard"},
	"bulletList":  {"listItem"},
	"orderedList": {"listItem"},
	"listItem":    {"paragraph", "bulletList", "orderedList", "codeBlock"},
	"codeBlock":   {"text"},
	"blockquote":  {"paragraph", "bulletList", "orderedList", "codeBlock"},
}

func validNodes(nodes []any, allowed []string) error {
	for _, n := range nodes {
		node, ok := n.(map[string]any)
		if !ok {
			return fmt.Errorf("a node is not an object")
		}
		kind, _ := node["type"].(string)
		if !slices.Contains(allowed, kind) {
			return fmt.Errorf("%q is not allowed here", kind)
		}
		if kind == "text" {
			text, _ := node["text"].(string)
			if text == "" {
				return fmt.Errorf("a text node is empty")
			}
			if marks, ok := node["marks"]; ok {
				list, ok := marks.([]any)
				if !ok {
					return fmt.Errorf("marks must be a list")
				}
				for _, m := range list {
					mark, _ := m.(map[string]any)
					if !slices.Contains([]string{"strong", "em", "code", "link", "strike", "underline"}, fmt.Sprint(mark["type"])) {
						return fmt.Errorf("unknown mark")
					}
				}
			}
			continue
		}
		if kind == "heading" {
			attrs, _ := node["attrs"].(map[string]any)
			if l, _ := attrs["level"].(float64); l < 1 || l > 6 {
				return fmt.Errorf("a heading needs a level 1-6")
			}
		}
		children, has := node["content"]
		if !has {
			continue
		}
		list, ok := children.([]any)
		if !ok {
			return fmt.Errorf("content must be a list")
		}
		if err := validNodes(list, adfChildren[kind]); err != nil {
			return err
		}
	}
	return nil
}
