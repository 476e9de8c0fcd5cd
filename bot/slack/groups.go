package slack

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/klaxon-bot/klaxon/bot"
)

// On-call user groups. Slack names a user group by id; people mention it
// by handle, which is what the configuration gives. klaxon looks the
// handle up (usergroups.list, with disabled groups), creates the group
// when there is none, and sets its members with usergroups.users.update,
// which replaces them all. Slack refuses an empty user group
// (no_users_provided), so a group nobody is on call for is disabled and
// enabled again with its next members.

// userGroup is what klaxon knows of a user group.
type userGroup struct {
	id       string
	disabled bool
}

// unpaid is the error of a workspace on Slack's free plan, which has no
// user groups.
func unpaid(code string) bool {
	return code == "paid_teams_only" || code == "plan_upgrade_required"
}

// GroupMention implements bot.GroupKeeper: the handle as text; a
// <!subteam^…> mention would page the group's members on every post.
func (a *Adapter) GroupMention(handle string) string { return "@" + handle }

// SetGroup implements bot.GroupKeeper: handle's members become exactly
// userIDs.
func (a *Adapter) SetGroup(ctx context.Context, handle string, userIDs []string) error {
	g, err := a.userGroup(ctx, handle)
	if err != nil {
		return err
	}
	if len(userIDs) == 0 {
		if g.disabled {
			return nil
		}
		err := a.call("usergroups.disable", "", "disable the user group @"+handle, func() error {
			_, err := a.api.DisableUserGroupContext(ctx, g.id)
			return err
		})
		if err == nil || slackCode(err) == "no_change" {
			a.rememberGroup(handle, userGroup{id: g.id, disabled: true})
			return nil
		}
		return err
	}
	if g.disabled {
		err := a.call("usergroups.enable", "", "enable the user group @"+handle, func() error {
			_, err := a.api.EnableUserGroupContext(ctx, g.id)
			return err
		})
		if err != nil && slackCode(err) != "no_change" {
			return err
		}
		a.rememberGroup(handle, userGroup{id: g.id})
	}
	return a.call("usergroups.users.update", "", "set the members of @"+handle, func() error {
		_, err := a.api.UpdateUserGroupMembersContext(ctx, g.id, strings.Join(userIDs, ","))
		return err
	})
}

func (a *Adapter) rememberGroup(handle string, g userGroup) {
	a.groupsMu.Lock()
	defer a.groupsMu.Unlock()
	a.groups[handle] = g
}

// userGroup finds handle's user group, creating it if the workspace has
// none.
func (a *Adapter) userGroup(ctx context.Context, handle string) (userGroup, error) {
	a.groupsMu.Lock()
	g, ok := a.groups[handle]
	a.groupsMu.Unlock()
	if ok {
		return g, nil
	}
	groups, err := a.listGroups(ctx)
	if err != nil {
		return userGroup{}, err
	}
	if g, ok := groups[handle]; ok {
		a.rememberGroup(handle, g)
		return g, nil
	}
	var made slack.UserGroup
	err = a.call("usergroups.create", "", "create the user group @"+handle, func() error {
		var err error
		made, err = a.api.CreateUserGroupContext(ctx, slack.UserGroup{Name: handle, Handle: handle,
			Description: "Who is on call now, kept by klaxon. Edits are undone at the next handoff."})
		return err
	})
	if err != nil {
		return userGroup{}, a.groupError(err, handle)
	}
	a.log.Info().Str("user_group", handle).Msg("created the on-call user group")
	g = userGroup{id: made.ID}
	a.rememberGroup(handle, g)
	return g, nil
}

// listGroups reads the workspace's user groups by handle.
func (a *Adapter) listGroups(ctx context.Context) (map[string]userGroup, error) {
	var groups []slack.UserGroup
	err := a.call("usergroups.list", "", "list the user groups", func() error {
		var err error
		groups, err = a.api.GetUserGroupsContext(ctx, slack.GetUserGroupsOptionIncludeDisabled(true))
		return err
	})
	if err != nil {
		return nil, a.groupError(err, "")
	}
	out := make(map[string]userGroup, len(groups))
	for _, g := range groups {
		out[g.Handle] = userGroup{id: g.ID, disabled: g.DateDelete != 0}
	}
	return out, nil
}

// groupError explains a free workspace's refusal, which no retry mends.
func (a *Adapter) groupError(err error, handle string) error {
	if !unpaid(slackCode(err)) {
		return err
	}
	what := "on-call user groups"
	if handle != "" {
		what = "the on-call user group @" + handle
	}
	return &bot.Error{Code: bot.EUNSUPPORTED, Err: err,
		Message: fmt.Sprintf("Slack has no user groups on this workspace's plan (%s), so klaxon cannot keep %s. Mention the on-call by name, or upgrade the plan.", slackCode(err), what)}
}

// groupProblems checks at connection that the configured user groups can
// be kept: a free workspace cannot (klaxon carries on without them).
func (a *Adapter) groupProblems(ctx context.Context) []string {
	if len(a.userGroups) == 0 {
		return nil
	}
	_, err := a.listGroups(ctx)
	if err == nil || bot.ErrorCode(err) != bot.EUNSUPPORTED {
		return nil // a missing scope is reported with the others; an outage is not a problem of the setup
	}
	return []string{fmt.Sprintf("Slack user groups are not available on this workspace's plan (paid_teams_only): @%s will not follow the on-call. Everything else works.",
		strings.Join(a.userGroups, ", @"))}
}
