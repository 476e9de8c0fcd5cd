package slackfake

import (
	"slices"
	"strings"
)

// UserGroup is a user group as the fake holds it (docs.slack.dev
// /reference/methods/usergroups.*). Only paid workspaces have user groups:
// on a free one every usergroups method answers paid_teams_only.
type UserGroup struct {
	ID, Name, Handle, Description string
	Users                         []string
	Disabled                      bool
	Updates                       int // usergroups.users.update calls that changed it
}

// userGroups are the fake's user groups, and whether the workspace is on
// the free plan.
type userGroups struct {
	byID  map[string]*UserGroup
	order []string
	free  bool
}

func (g *UserGroup) json() map[string]any {
	deleted := 0
	if g.Disabled {
		deleted = 1763694000
	}
	return map[string]any{"id": g.ID, "team_id": TeamID, "is_usergroup": true, "name": g.Name, "description": g.Description,
		"handle": g.Handle, "date_create": 1763690000, "date_update": 1763690000, "date_delete": deleted,
		"users": slices.Clone(g.Users), "user_count": len(g.Users), "prefs": map[string]any{"channels": []any{}, "groups": []any{}}}
}

// groupNamed finds a group by handle or name. s.mu is held.
func (s *Server) groupNamed(handle, name string) *UserGroup {
	for _, id := range s.groups.order {
		if g := s.groups.byID[id]; g.Handle == handle || (name != "" && g.Name == name) {
			return g
		}
	}
	return nil
}

// callUserGroups applies one usergroups.* method. s.mu is held.
func (s *Server) callUserGroups(method string, p map[string]any) map[string]any {
	ok := func(fields map[string]any) map[string]any {
		fields["ok"] = true
		return fields
	}
	if s.groups.free {
		return fail("paid_teams_only")
	}
	if method == "usergroups.list" {
		disabled := str(p, "include_disabled") == "true" || str(p, "include_disabled") == "1"
		out := []any{}
		for _, id := range s.groups.order {
			if g := s.groups.byID[id]; !g.Disabled || disabled {
				out = append(out, g.json())
			}
		}
		return ok(map[string]any{"usergroups": out})
	}
	if method == "usergroups.create" {
		name, handle := str(p, "name"), str(p, "handle")
		switch {
		case name == "":
			return fail("invalid_name")
		case s.groupNamed("", name) != nil:
			return fail("name_already_exists")
		case handle != "" && s.groupNamed(handle, "") != nil:
			return fail("handle_already_exists")
		}
		if handle == "" {
			handle = name
		}
		g := &UserGroup{ID: s.nextID("S"), Name: name, Handle: handle, Description: str(p, "description")}
		s.groups.byID[g.ID] = g
		s.groups.order = append(s.groups.order, g.ID)
		return ok(map[string]any{"usergroup": g.json()})
	}
	g, found := s.groups.byID[str(p, "usergroup")]
	if !found {
		return fail("no_such_subteam")
	}
	switch method {
	case "usergroups.enable":
		g.Disabled = false
	case "usergroups.disable":
		g.Disabled = true
	case "usergroups.users.update":
		// "A comma separated string of encoded user IDs that represent the
		// entire list of users"; Slack refuses an empty list.
		var users []string
		for _, u := range strings.Split(str(p, "users"), ",") {
			if u = strings.TrimSpace(u); u != "" && !slices.Contains(users, u) {
				users = append(users, u)
			}
		}
		if len(users) == 0 {
			return fail("no_users_provided")
		}
		for _, u := range users {
			if _, known := s.users[u]; !known {
				return fail("invalid_users")
			}
		}
		if !slices.Equal(g.Users, users) {
			g.Updates++
		}
		g.Users = users
	}
	return ok(map[string]any{"usergroup": g.json()})
}

// SetFreePlan puts the workspace on Slack's free plan (no user groups) or
// a paid one.
func (s *Server) SetFreePlan(free bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups.free = free
}

// UserGroup returns the user group with handle, as the fake holds it.
func (s *Server) UserGroup(handle string) (UserGroup, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupNamed(handle, "")
	if g == nil {
		return UserGroup{}, false
	}
	out := *g
	out.Users = slices.Clone(g.Users)
	return out, true
}

// EditUserGroup sets a user group's members as a person would in Slack,
// creating the group if there is none; it returns its id.
func (s *Server) EditUserGroup(handle string, users ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groupNamed(handle, "")
	if g == nil {
		g = &UserGroup{ID: s.nextID("S"), Name: handle, Handle: handle}
		s.groups.byID[g.ID] = g
		s.groups.order = append(s.groups.order, g.ID)
	}
	g.Users = slices.Clone(users)
	return g.ID
}
