package tracker

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// GitHubConfig is one repository's issues.
type GitHubConfig struct {
	ID    string // the tracker's id in klaxon's configuration
	API   string // https://api.github.com, or GitHub Enterprise's /api/v3
	Repo  string // owner/name
	Token string // a fine-grained token with Issues: read and write
	HTTP  *http.Client
}

// GitHub files tickets as issues of one repository (REST API,
// 2022-11-28).
type GitHub struct {
	id, owner, repo string
	c               client
	changedPages    int // Changed's bound
}

// NewGitHub returns the tracker for cfg.
func NewGitHub(cfg GitHubConfig) (*GitHub, error) {
	owner, repo, ok := strings.Cut(cfg.Repo, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("repo %q is not owner/name", cfg.Repo)
	}
	token := cfg.Token
	c, err := newClient("GitHub", cfg.API, cfg.HTTP, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Accept", "application/vnd.github+json")
		r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	})
	if err != nil {
		return nil, err
	}
	return &GitHub{id: cfg.ID, owner: owner, repo: repo, c: c, changedPages: changedPages}, nil
}

// ghIssue is the part of GitHub's issue klaxon reads.
type ghIssue struct {
	Number      int64     `json:"number"`
	State       string    `json:"state"`
	HTMLURL     string    `json:"html_url"`
	Body        string    `json:"body"`
	UpdatedAt   time.Time `json:"updated_at"`
	PullRequest *struct{} `json:"pull_request"`
}

func (g *GitHub) path(rest string) string {
	return "/repos/" + url.PathEscape(g.owner) + "/" + url.PathEscape(g.repo) + "/issues" + rest
}

// marker is the line in an issue's body that carries the follow-up's id.
func marker(is bot.TicketIssue) string {
	return "<!-- klaxon:followup:" + is.FollowUp.String() + " -->"
}

func (g *GitHub) ticket(i ghIssue) bot.Ticket {
	id := strconv.FormatInt(i.Number, 10)
	return bot.Ticket{Tracker: g.id, ID: id, Ref: g.repo + "#" + id, URL: i.HTMLURL, Closed: i.State == "closed"}
}

// Create implements Tracker: POST /repos/{owner}/{repo}/issues with the
// klaxon label and a marker carrying the follow-up's id.
func (g *GitHub) Create(ctx context.Context, is bot.TicketIssue) (bot.Ticket, error) {
	body := strings.Join(facts(is, codeSpan), "  \n") + "\n\n" + marker(is) + "\n"
	var out ghIssue
	err := g.c.do(ctx, http.MethodPost, g.path(""), nil, map[string]any{
		"title": title(is, 256), "body": body, "labels": []string{Label},
	}, &out)
	if err != nil {
		return bot.Ticket{}, err
	}
	return g.ticket(out), nil
}

// SearchLag implements Tracker: Find lists issues, which shows an issue as
// soon as it is made.
func (g *GitHub) SearchLag() time.Duration { return 0 }

// Find implements Tracker: the repository's klaxon issues updated since
// the follow-up was made (all of them, since an issue is updated when it
// is made), newest first, read in full (listing is consistent at once,
// unlike search).
func (g *GitHub) Find(ctx context.Context, is bot.TicketIssue) (bot.Ticket, bool, error) {
	want := marker(is)
	var found *ghIssue
	_, err := g.list(ctx, is.Created.Add(-time.Minute), "created", "desc", findPages, func(i ghIssue) bool {
		if strings.Contains(i.Body, want) {
			found = &i
			return false
		}
		return true
	})
	if err != nil || found == nil {
		return bot.Ticket{}, false, err
	}
	return g.ticket(*found), true, nil
}

// list reads the klaxon issues updated since since, page by page, until
// fn says stop or pages are read; more says the last page read was full.
// Pull requests, which the issues API lists too, are left out.
func (g *GitHub) list(ctx context.Context, since time.Time, sort, direction string, pages int, fn func(ghIssue) bool) (more bool, err error) {
	for page := 1; page <= pages; page++ {
		q := url.Values{"labels": {Label}, "state": {"all"}, "since": {since.UTC().Format(time.RFC3339)},
			"sort": {sort}, "direction": {direction}, "per_page": {"100"}, "page": {strconv.Itoa(page)}}
		var issues []ghIssue
		if err := g.c.do(ctx, http.MethodGet, g.path(""), q, nil, &issues); err != nil {
			return false, err
		}
		for _, i := range issues {
			if i.PullRequest == nil && !fn(i) {
				return false, nil
			}
		}
		if len(issues) < 100 {
			return false, nil
		}
	}
	return true, nil
}

// Check asks GitHub for the repository: the token must see it, and its
// issues must be turned on.
func (g *GitHub) Check(ctx context.Context) error {
	var repo struct {
		HasIssues bool `json:"has_issues"`
	}
	if err := g.c.do(ctx, http.MethodGet, "/repos/"+url.PathEscape(g.owner)+"/"+url.PathEscape(g.repo), nil, nil, &repo); err != nil {
		return err
	}
	if !repo.HasIssues {
		return bot.Errorf(bot.EREFUSED, "%s/%s has issues turned off (Settings → Features → Issues)", g.owner, g.repo)
	}
	return nil
}

// SetClosed implements Tracker: PATCH the issue's state (closed as
// completed, or open).
func (g *GitHub) SetClosed(ctx context.Context, id string, closed bool) error {
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return bot.Errorf(bot.EINVALID, "%q is not a GitHub issue number", id)
	}
	body := map[string]string{"state": "open", "state_reason": "reopened"}
	if closed {
		body = map[string]string{"state": "closed", "state_reason": "completed"}
	}
	return g.c.do(ctx, http.MethodPatch, g.path("/"+id), nil, body, nil)
}

// Changed implements Tracker: the klaxon issues updated since since.
func (g *GitHub) Changed(ctx context.Context, since time.Time) ([]bot.TicketState, bool, error) {
	var out []bot.TicketState
	more, err := g.list(ctx, since, "updated", "asc", g.changedPages, func(i ghIssue) bool {
		out = append(out, bot.TicketState{ID: strconv.FormatInt(i.Number, 10), Closed: i.State == "closed", Updated: i.UpdatedAt})
		return true
	})
	return out, more, err
}

// codeSpan quotes text from chat or alerts for an issue body: inside a
// code span GitHub renders no mention (@org/team), no cross-reference
// (#1), no image, link or HTML (an unclosed <!-- would hide the lines
// after it). The fence is one backtick longer than any run inside.
func codeSpan(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || s == "" {
		s = " " + s + " "
	}
	return fence + s + fence
}
