package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// JiraConfig is one Jira Cloud project.
type JiraConfig struct {
	ID        string // the tracker's id in klaxon's configuration
	URL       string // https://acme.atlassian.net
	Email     string // the account the API token belongs to
	Token     string
	Project   string // the project's key, e.g. PAY
	IssueType string // e.g. Task
	HTTP      *http.Client
}

// Jira files tickets as issues of one Jira Cloud project (REST API v3).
type Jira struct {
	id, project, issueType string
	site                   string
	c                      client
	changedPages           int // Changed's bound
}

var jiraProject = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,254}$`)

// NewJira returns the tracker for cfg.
func NewJira(cfg JiraConfig) (*Jira, error) {
	if !jiraProject.MatchString(cfg.Project) {
		return nil, fmt.Errorf("project %q is not a Jira project key (e.g. PAY)", cfg.Project)
	}
	email, token := cfg.Email, cfg.Token
	c, err := newClient("Jira", cfg.URL, cfg.HTTP, func(r *http.Request) { r.SetBasicAuth(email, token) })
	if err != nil {
		return nil, err
	}
	return &Jira{id: cfg.ID, project: cfg.Project, issueType: cfg.IssueType, site: c.base.String(), c: c, changedPages: changedPages}, nil
}

// followUpLabel carries a follow-up's id on its ticket (labels hold no
// spaces; 255 characters at most).
func followUpLabel(is bot.TicketIssue) string { return "klaxon-" + is.FollowUp.String() }

func (j *Jira) ticket(key string, closed bool) bot.Ticket {
	return bot.Ticket{Tracker: j.id, ID: key, Ref: key, URL: j.site + "/browse/" + url.PathEscape(key), Closed: closed}
}

// Create implements Tracker: POST /rest/api/3/issue with the description
// in Atlassian Document Format and labels carrying the follow-up's id.
func (j *Jira) Create(ctx context.Context, is bot.TicketIssue) (bot.Ticket, error) {
	fields := map[string]any{
		"project":     map[string]string{"key": j.project},
		"issuetype":   map[string]string{"name": j.issueType},
		"summary":     title(is, 255),
		"description": ADF(append([]string{is.Text}, facts(is, literal)...)...),
		"labels":      []string{Label, followUpLabel(is)},
	}
	var out struct {
		Key string `json:"key"`
	}
	if err := j.c.do(ctx, http.MethodPost, "/rest/api/3/issue", nil, map[string]any{"fields": fields}, &out); err != nil {
		return bot.Ticket{}, err
	}
	if out.Key == "" {
		return bot.Ticket{}, bot.Errorf(bot.EUNAVAILABLE, "Jira made an issue without saying its key")
	}
	return j.ticket(out.Key, false), nil
}

// jiraIssue is the part of a search result klaxon reads.
type jiraIssue struct {
	Key    string `json:"key"`
	Fields struct {
		Updated jiraTime `json:"updated"`
		Status  struct {
			StatusCategory struct {
				Key string `json:"key"` // new, indeterminate, done
			} `json:"statusCategory"`
		} `json:"status"`
	} `json:"fields"`
}

func (i jiraIssue) closed() bool { return i.Fields.Status.StatusCategory.Key == "done" }

// jiraTime is a time as Jira's REST API writes it: 2026-11-28T10:00:00.000+0000.
type jiraTime struct{ time.Time }

func (t *jiraTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || s == "" {
		return err
	}
	v, err := time.Parse("2006-01-02T15:04:05.000-0700", s)
	if err != nil {
		return fmt.Errorf("a Jira time: %w", err)
	}
	t.Time = v
	return nil
}

// search runs jql through /rest/api/3/search/jql (the older /search is
// gone), page by page, up to pages; more says the search has more.
func (j *Jira) search(ctx context.Context, jql string, pages int, fn func(jiraIssue)) (more bool, err error) {
	token := ""
	for range pages {
		q := url.Values{"jql": {jql}, "fields": {"status,updated"}, "maxResults": {"100"}}
		if token != "" {
			q.Set("nextPageToken", token)
		}
		var page struct {
			Issues        []jiraIssue `json:"issues"`
			NextPageToken string      `json:"nextPageToken"`
			IsLast        *bool       `json:"isLast"`
		}
		if err := j.c.do(ctx, http.MethodGet, "/rest/api/3/search/jql", q, nil, &page); err != nil {
			return false, err
		}
		for _, i := range page.Issues {
			fn(i)
		}
		if page.NextPageToken == "" || page.IsLast != nil && *page.IsLast {
			return false, nil
		}
		token = page.NextPageToken
	}
	return true, nil
}

// JiraSearchLag is how long klaxon allows Jira's search to show a new
// issue. /rest/api/3/search/jql is eventually consistent: Atlassian says
// most changes show within seconds, and some take minutes.
const JiraSearchLag = 2 * time.Minute

// SearchLag implements Tracker.
func (j *Jira) SearchLag() time.Duration { return JiraSearchLag }

// Find implements Tracker: the issue with the follow-up's label. A search,
// it may miss an issue made less than SearchLag ago.
func (j *Jira) Find(ctx context.Context, is bot.TicketIssue) (bot.Ticket, bool, error) {
	var found *jiraIssue
	_, err := j.search(ctx, fmt.Sprintf(`project = %s AND labels = "%s"`, j.project, followUpLabel(is)), findPages, func(i jiraIssue) {
		if found == nil {
			found = &i
		}
	})
	if err != nil || found == nil {
		return bot.Ticket{}, false, err
	}
	return j.ticket(found.Key, found.closed()), true, nil
}

// Changed implements Tracker. JQL compares dates in the Jira user's own
// time zone to the minute, so the query asks relatively: updated in the
// last n minutes, n rounded up.
func (j *Jira) Changed(ctx context.Context, since time.Time) ([]bot.TicketState, bool, error) {
	mins := int64(math.Ceil(time.Since(since).Minutes())) + 1
	jql := fmt.Sprintf(`project = %s AND labels = %s AND updated >= "-%dm" ORDER BY updated ASC`, j.project, Label, mins)
	var out []bot.TicketState
	more, err := j.search(ctx, jql, j.changedPages, func(i jiraIssue) {
		out = append(out, bot.TicketState{ID: i.Key, Closed: i.closed(), Updated: i.Fields.Updated.Time})
	})
	return out, more, err
}

// SetClosed implements Tracker: the first transition into the "done"
// status category (closing) or out of it (reopening). An issue already so
// is left alone: a workflow offers no transition to where an issue is.
func (j *Jira) SetClosed(ctx context.Context, id string, closed bool) error {
	var cur jiraIssue
	if err := j.c.do(ctx, http.MethodGet, "/rest/api/3/issue/"+url.PathEscape(id), url.Values{"fields": {"status"}}, nil, &cur); err != nil {
		return err
	}
	if cur.closed() == closed {
		return nil
	}
	path := "/rest/api/3/issue/" + url.PathEscape(id) + "/transitions"
	var ts struct {
		Transitions []struct {
			ID string `json:"id"`
			To struct {
				StatusCategory struct {
					Key string `json:"key"`
				} `json:"statusCategory"`
			} `json:"to"`
		} `json:"transitions"`
	}
	if err := j.c.do(ctx, http.MethodGet, path, nil, nil, &ts); err != nil {
		return err
	}
	want := func(cat string) bool { return (cat == "done") == closed }
	for _, t := range ts.Transitions {
		if want(t.To.StatusCategory.Key) {
			return j.c.do(ctx, http.MethodPost, path, nil, map[string]any{"transition": map[string]string{"id": t.ID}}, nil)
		}
	}
	state := "reopen"
	if closed {
		state = "close"
	}
	return bot.Errorf(bot.EREFUSED, "Jira's workflow offers no transition to %s %s", state, id)
}

// Check asks Jira who klaxon is (the credentials) and for the project:
// it must be visible and offer the configured issue type.
func (j *Jira) Check(ctx context.Context) error {
	if err := j.c.do(ctx, http.MethodGet, "/rest/api/3/myself", nil, nil, nil); err != nil {
		return err
	}
	var project struct {
		IssueTypes []struct {
			Name string `json:"name"`
		} `json:"issueTypes"`
	}
	if err := j.c.do(ctx, http.MethodGet, "/rest/api/3/project/"+url.PathEscape(j.project), nil, nil, &project); err != nil {
		return err
	}
	var names []string
	for _, t := range project.IssueTypes {
		if t.Name == j.issueType {
			return nil
		}
		names = append(names, t.Name)
	}
	return bot.Errorf(bot.EREFUSED, "project %s has no issue type %q (it has: %s)", j.project, j.issueType, strings.Join(names, ", "))
}

// ADF is paragraphs of plain text as an Atlassian Document Format
// document (empty ones left out: Jira refuses empty text nodes).
func ADF(paragraphs ...string) map[string]any {
	var content []any
	for _, p := range paragraphs {
		if p == "" {
			continue
		}
		content = append(content, map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": p}}})
	}
	if content == nil {
		content = []any{}
	}
	return map[string]any{"type": "doc", "version": 1, "content": content}
}

// literal leaves text as it is: Jira's document nodes are not markup.
func literal(s string) string { return s }
