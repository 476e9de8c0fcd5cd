package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
)

// PermissionPinMessages lets klaxon pin its summary. Since 2026-02-23 the
// pin routes need it, and Manage Messages no longer grants it; discordgo
// v0.29 does not know it yet.
const PermissionPinMessages int64 = 1 << 51

// Application flags that say the Message Content intent is enabled
// (docs: resources/application#application-object-application-flags).
const (
	appFlagMessageContent        = 1 << 18
	appFlagMessageContentLimited = 1 << 19
)

// permNeeds names each permission klaxon's role needs and what stops
// working without it.
var permNeeds = []struct {
	bit    int64
	name   string
	breaks string
}{
	{discordgo.PermissionViewChannel, "View Channels", "everything"},
	{discordgo.PermissionSendMessages, "Send Messages", "every message"},
	{discordgo.PermissionManageChannels, "Manage Channels", "creating incident channels and setting their topics"},
	{discordgo.PermissionManageRoles, "Manage Permissions (Manage Roles)", "letting responders into private incident channels"},
	{PermissionPinMessages, "Pin Messages", "pinning the live summary"},
	{discordgo.PermissionEmbedLinks, "Embed Links", "summaries and announcements (Discord drops embeds without it)"},
	{discordgo.PermissionAttachFiles, "Attach Files", "posting the postmortem draft"},
	{discordgo.PermissionReadMessageHistory, "Read Message History", "answers as replies"},
	{discordgo.PermissionAddReactions, "Add Reactions", "giving responders reactions in private incident channels"},
}

// Check asks Discord what klaxon's role may do in the guild (and in the
// incident category, whose overwrites apply there) and whether the Message
// Content intent is enabled, and returns what is missing, one line each.
func (a *Adapter) Check(ctx context.Context) ([]string, error) {
	st, err := a.effective(ctx)
	if err != nil {
		return nil, err
	}
	return a.missing(st), nil
}

// Problems returns what the check at connection found missing.
func (a *Adapter) Problems() []string {
	p, _ := a.problems.Load().([]string)
	return p
}

var _ bot.SelfChecker = (*Adapter)(nil)

// setup is what the server grants klaxon, as the check reads it.
type setup struct {
	held     int64  // permissions where klaxon creates incident channels
	archive  string // what is wrong with the archive category, if anything
	appFlags int    // the application's flags: which privileged intents are on
	guild    *discordgo.Guild
	myRoles  []string // klaxon's roles
}

// missing lists what st leaves out, one line each.
func (a *Adapter) missing(st setup) []string {
	held, appFlags := st.held, st.appFlags
	var out []string
	for _, n := range permNeeds {
		if held&n.bit == 0 {
			out = append(out, fmt.Sprintf("Discord permission %s is missing: %s will not work. Re-invite klaxon with the invite URL in the README (permissions=%d), or grant the permission to klaxon's role.",
				n.name, n.breaks, InvitePermissions))
		}
	}
	if appFlags&(appFlagMessageContent|appFlagMessageContentLimited) == 0 {
		out = append(out, "Discord's Message Content intent is off: Discord refuses klaxon's connection until it is enabled. Turn on Bot → Privileged Gateway Intents → Message Content Intent in the developer portal.")
	}
	if st.archive != "" {
		out = append(out, st.archive)
	}
	return append(out, roleProblems(a.cfg.Roles, st.guild, st.myRoles, held, appFlags)...)
}

// effective computes klaxon's permissions where it creates incident
// channels: its roles in the guild, then the category's overwrites, as
// Discord computes them (docs: topics/permissions).
func (a *Adapter) effective(ctx context.Context) (setup, error) {
	raw, err := a.s.RequestWithBucketID("GET", discordgo.EndpointAPI+"applications/@me", nil, "applications/@me", a.opt(ctx))
	if err != nil {
		return setup{}, apiError("read the application", err)
	}
	var app struct {
		Flags int `json:"flags"`
	}
	if err := json.Unmarshal(raw, &app); err != nil {
		return setup{}, fmt.Errorf("discord: reading the application: %w", err)
	}
	me, err := a.s.User("@me", a.opt(ctx))
	if err != nil {
		return setup{}, apiError("read klaxon's own user", err)
	}
	guild, err := a.s.Guild(a.cfg.GuildID, a.opt(ctx))
	if err != nil {
		return setup{}, apiError("read the server "+a.cfg.GuildID, err)
	}
	member, err := a.s.GuildMember(a.cfg.GuildID, me.ID, a.opt(ctx))
	if err != nil {
		return setup{}, apiError("read klaxon's membership of the server", err)
	}
	roles := map[string]int64{}
	for _, r := range guild.Roles {
		roles[r.ID] = r.Permissions
	}
	st := setup{held: roles[guild.ID], appFlags: app.Flags, guild: guild, myRoles: member.Roles} // @everyone's, then klaxon's roles'
	for _, id := range member.Roles {
		st.held |= roles[id]
	}
	if st.held&discordgo.PermissionAdministrator != 0 || guild.OwnerID == me.ID {
		st.held = math.MaxInt64
		return st, nil
	}
	if id := a.cfg.ArchiveCategoryID; id != "" {
		// Archiving moves channels into it: it must be a category where
		// klaxon may manage channels.
		cat, err := a.s.Channel(id, a.opt(ctx))
		switch {
		case err != nil:
			st.archive = fmt.Sprintf("discord.archive_category_id %s cannot be read (%s): closed incidents' channels will not be archived.", id, bot.ErrorMessage(apiError("read it", err)))
		case cat.Type != discordgo.ChannelTypeGuildCategory:
			st.archive = fmt.Sprintf("discord.archive_category_id %s is not a category: closed incidents' channels will not be archived. Give the id of a category.", id)
		case overwrite(st.held, cat.PermissionOverwrites, guild.ID, member.Roles, me.ID)&discordgo.PermissionManageChannels == 0:
			st.archive = fmt.Sprintf("klaxon may not manage channels in the archive category %s: closed incidents' channels will not be moved there. Allow klaxon's role Manage Channels in it.", id)
		}
	}
	if a.cfg.CategoryID != "" {
		cat, err := a.s.Channel(a.cfg.CategoryID, a.opt(ctx))
		if err != nil {
			return setup{}, apiError("read the incident category "+a.cfg.CategoryID, err)
		}
		st.held = overwrite(st.held, cat.PermissionOverwrites, guild.ID, member.Roles, me.ID)
	}
	return st, nil
}

// overwrite applies a channel's overwrites to base: @everyone's, then the
// roles' together, then the member's.
func overwrite(base int64, ows []*discordgo.PermissionOverwrite, everyone string, roles []string, user string) int64 {
	p := base
	var allow, deny int64
	for _, o := range ows {
		switch {
		case o.ID == everyone:
			p = p&^o.Deny | o.Allow
		case o.Type == discordgo.PermissionOverwriteTypeRole && slices.Contains(roles, o.ID):
			allow |= o.Allow
			deny |= o.Deny
		}
	}
	p = p&^deny | allow
	for _, o := range ows {
		if o.Type == discordgo.PermissionOverwriteTypeMember && o.ID == user {
			p = p&^o.Deny | o.Allow
		}
	}
	if p&discordgo.PermissionViewChannel == 0 {
		return 0
	}
	return p
}

// permString writes a permission set as Discord's names, for logs.
func permString(p int64) string {
	var names []string
	for _, n := range permNeeds {
		if p&n.bit != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ", ") + " (" + strconv.FormatInt(p, 10) + ")"
}
