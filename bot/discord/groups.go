package discord

import (
	"context"
	"fmt"
	"slices"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
)

// On-call roles. klaxon gives a configured role to exactly the people on
// call and takes it from everyone else. Discord has no route for "members
// with a role", so klaxon lists the server's members (which needs the
// Server Members intent switched on), then adds and removes the role one
// member at a time. Discord lets klaxon assign only roles below its own
// highest role, and only with Manage Roles.

// membersPage is the most members one List Guild Members call returns.
const membersPage = 1000

// appFlagGuildMembers and appFlagGuildMembersLimited say the Server
// Members intent is on (docs: resources/application#application-object-application-flags).
const (
	appFlagGuildMembers        = 1 << 14
	appFlagGuildMembersLimited = 1 << 15
)

// GroupMention implements bot.GroupKeeper: the role's mention, which does
// not notify its holders because klaxon's messages only let user
// mentions notify (allowed_mentions).
func (a *Adapter) GroupMention(roleID string) string { return "<@&" + roleID + ">" }

// SetGroup implements bot.GroupKeeper: the role roleID is held by exactly
// userIDs.
func (a *Adapter) SetGroup(ctx context.Context, roleID string, userIDs []string) error {
	holders := map[string]bool{}
	for after := ""; ; {
		members, err := a.s.GuildMembers(a.cfg.GuildID, after, membersPage, a.opt(ctx))
		if err != nil {
			return apiError("list the server's members (is the Server Members intent on?)", err)
		}
		for _, m := range members {
			if m.User != nil && slices.Contains(m.Roles, roleID) {
				holders[m.User.ID] = true
			}
		}
		if len(members) < membersPage {
			break
		}
		after = members[len(members)-1].User.ID
	}
	for _, id := range userIDs {
		if holders[id] {
			delete(holders, id)
			continue
		}
		if err := a.s.GuildMemberRoleAdd(a.cfg.GuildID, id, roleID, a.opt(ctx)); err != nil {
			return apiError("give the on-call role to a member", err)
		}
	}
	for id := range holders {
		if err := a.s.GuildMemberRoleRemove(a.cfg.GuildID, id, roleID, a.opt(ctx)); err != nil {
			return apiError("take the on-call role from a member", err)
		}
	}
	return nil
}

var _ bot.GroupKeeper = (*Adapter)(nil)

// roleProblems says why klaxon cannot keep the configured on-call roles:
// a role the server does not have, one at or above klaxon's highest role,
// Manage Roles missing, or the Server Members intent off.
func roleProblems(roles []string, guild *discordgo.Guild, myRoles []string, held int64, appFlags int) []string {
	if len(roles) == 0 {
		return nil
	}
	var out []string
	if held&discordgo.PermissionManageRoles == 0 {
		out = append(out, "Discord permission Manage Roles is missing: klaxon cannot keep the on-call roles (schedules' discord_role).")
	}
	if appFlags&(appFlagGuildMembers|appFlagGuildMembersLimited) == 0 {
		out = append(out, "Discord's Server Members intent is off: klaxon cannot see who holds the on-call roles (schedules' discord_role). Turn on Bot → Privileged Gateway Intents → Server Members Intent in the developer portal.")
	}
	top := 0
	for _, r := range guild.Roles {
		if slices.Contains(myRoles, r.ID) {
			top = max(top, r.Position)
		}
	}
	for _, id := range roles {
		i := slices.IndexFunc(guild.Roles, func(r *discordgo.Role) bool { return r.ID == id })
		switch {
		case i < 0:
			out = append(out, fmt.Sprintf("Discord role %s (a schedule's discord_role) is not a role of the server: copy its id with Developer Mode on (Server Settings → Roles → Copy Role ID).", id))
		case guild.Roles[i].Position >= top:
			out = append(out, fmt.Sprintf("Discord role @%s is not below klaxon's highest role, so Discord will not let klaxon give it: drag klaxon's role above it in Server Settings → Roles.", guild.Roles[i].Name))
		case guild.Roles[i].Managed:
			out = append(out, fmt.Sprintf("Discord role @%s belongs to an integration and cannot be given to people: create an ordinary role for the on-call.", guild.Roles[i].Name))
		}
	}
	return out
}
