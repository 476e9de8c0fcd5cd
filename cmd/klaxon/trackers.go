package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/tracker"
	"github.com/klaxon-bot/klaxon/commands/tickets"
)

// trackers builds the configured trackers by id, checking each key.
func (c *Config) trackers(client *http.Client) (map[string]bot.Tracker, error) {
	out := map[string]bot.Tracker{}
	for i, t := range c.Trackers {
		key := fmt.Sprintf("trackers[%d]", i)
		if t.ID == "" || bot.Slug(t.ID, 40) != t.ID {
			return nil, bad(key+".id", "%q must be lower-case letters, digits and -", t.ID)
		}
		if _, dup := out[t.ID]; dup {
			return nil, bad(key+".id", "%q is used twice", t.ID)
		}
		if t.Token == "" {
			return nil, bad(key+".token", "is required: a GitHub token with Issues read and write, or a Jira API token")
		}
		switch tickets.Private(t.PrivateFollowUps) {
		case "", tickets.PrivateNever, tickets.PrivateWithoutTitle, tickets.PrivateWithTitle:
		default:
			return nil, bad(key+".private_followups", "%q is not one of never, without_title, with_title", t.PrivateFollowUps)
		}
		var (
			tr  bot.Tracker
			err error
		)
		switch t.Type {
		case "github":
			if t.APIURL == "" {
				t.APIURL = "https://api.github.com"
			}
			if err := checkURL(t.APIURL, "https", "http"); err != nil {
				return nil, bad(key+".api_url", "%v", err)
			}
			if tr, err = tracker.NewGitHub(tracker.GitHubConfig{ID: t.ID, API: t.APIURL, Repo: t.Repo, Token: t.Token.Reveal(), HTTP: client}); err != nil {
				return nil, bad(key+".repo", "%v", err)
			}
		case "jira":
			if err := checkURL(t.URL, "https", "http"); err != nil {
				return nil, bad(key+".url", "%v (your site, e.g. https://acme.atlassian.net)", err)
			}
			if t.Email == "" {
				return nil, bad(key+".email", "is required: the email of the account the API token belongs to")
			}
			if t.IssueType == "" {
				return nil, bad(key+".issue_type", "is required, e.g. Task")
			}
			if tr, err = tracker.NewJira(tracker.JiraConfig{ID: t.ID, URL: t.URL, Email: t.Email, Token: t.Token.Reveal(),
				Project: t.Project, IssueType: t.IssueType, HTTP: client}); err != nil {
				return nil, bad(key+".project", "%v", err)
			}
		default:
			return nil, bad(key+".type", "%q is not one of github, jira", t.Type)
		}
		out[t.ID] = tr
	}
	if id := c.FollowUps.Tracker; id != "" && out[id] == nil {
		return nil, bad("followups.tracker", "%q is not one of the trackers", id)
	}
	for i, s := range c.Services {
		if s.Tracker != "" && out[s.Tracker] == nil {
			return nil, bad(fmt.Sprintf("services[%d].tracker", i), "%q is not one of the trackers", s.Tracker)
		}
	}
	if c.FollowUps.SyncEvery < 30*time.Second || c.FollowUps.SyncEvery > time.Hour {
		return nil, bad("followups.sync_every", "must be between 30s and 1h")
	}
	return out, nil
}

// trackerRoutes says which tracker each service's follow-ups go to.
func (c *Config) trackerRoutes() tickets.Routes {
	r := tickets.Routes{Default: c.FollowUps.Tracker, ByService: map[string]string{}, Private: map[string]tickets.Private{}}
	for _, s := range c.Services {
		if s.Tracker != "" {
			r.ByService[s.ID] = s.Tracker
		}
	}
	for _, t := range c.Trackers {
		if t.PrivateFollowUps != "" {
			r.Private[t.ID] = tickets.Private(t.PrivateFollowUps)
		}
	}
	return r
}

// syncTickets asks the trackers what changed every interval, until ctx
// ends (on the leader).
func syncTickets(ctx context.Context, clock bot.Clock, every time.Duration, current func() *tickets.Tickets) error {
	if every <= 0 {
		every = 2 * time.Minute
	}
	bot.Every(ctx, clock, every, nil, func(ctx context.Context, _ time.Time) {
		if t := current(); t != nil { // none while no tracker is configured
			t.Sync(ctx)
		}
	})
	return nil
}
