package discordfake

import (
	"net/url"
	"slices"
	"strconv"
)

// Role is a server role other than @everyone and klaxon's own, as the fake
// holds it (docs: topics/permissions#role-object).
type Role struct {
	ID, Name string
	Position int
	Managed  bool // an integration's role, which nobody can be given
}

// botRolePosition is klaxon's role's position: above every role made
// after klaxon joined (Discord creates roles at position 1, under the
// others) unless a test raises one. s.mu is held.
func (s *Server) botRolePosition() int { return s.botPos + 1 }

func (s *Server) rolesJSON() []any {
	out := []any{
		map[string]any{"id": everyoneID, "name": "@everyone", "permissions": strconv.FormatUint(everyonePerms, 10), "position": 0},
		map[string]any{"id": BotRoleID, "name": "klaxon", "permissions": strconv.FormatUint(s.perms, 10), "position": s.botRolePosition(), "managed": true},
	}
	for _, r := range s.roles {
		out = append(out, map[string]any{"id": r.ID, "name": r.Name, "permissions": "0", "position": r.Position, "managed": r.Managed})
	}
	return out
}

func (s *Server) memberJSON(id string) map[string]any {
	roles := append([]string{}, s.memberRoles[id]...)
	if id == BotID {
		roles = append(roles, BotRoleID)
	}
	return map[string]any{"user": map[string]any{"id": id, "username": s.users[id]}, "roles": roles}
}

// listMembers is List Guild Members (docs: resources/guild#list-guild-members):
// "limit: max number of members to return (1-1000)", "after: the highest
// user id in the previous page", and it needs the Server Members intent
// enabled for the application. s.mu is held.
func (s *Server) listMembers(q url.Values) (int, any, *apiError) {
	if s.appFlags&(AppFlagGatewayGuildMembers|AppFlagGatewayGuildMembersLimited) == 0 {
		return 0, nil, &apiError{status: 403, code: 50001, msg: "Missing Access", violation: true}
	}
	limit := 1
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if limit < 1 || limit > 1000 {
		return 0, nil, invalidForm(formErrors{"limit": "int value should be less than or equal to 1000."})
	}
	after, _ := strconv.ParseUint(q.Get("after"), 10, 64)
	var ids []uint64
	for id := range s.users {
		if n, err := strconv.ParseUint(id, 10, 64); err == nil && n > after {
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	out := []any{}
	for _, n := range ids[:min(limit, len(ids))] {
		out = append(out, s.memberJSON(strconv.FormatUint(n, 10)))
	}
	return 200, out, nil
}

// memberRole is Add or Remove Guild Member Role (docs: resources/guild
// #add-guild-member-role): it needs Manage Roles, and "roles ... can only
// be managed by members with a higher role" (topics/permissions#permission-hierarchy).
// s.mu is held.
func (s *Server) memberRole(method, user, roleID string) (int, any, *apiError) {
	if _, known := s.users[user]; !known {
		return 0, nil, &apiError{status: 404, code: 10007, msg: "Unknown Member"}
	}
	i := slices.IndexFunc(s.roles, func(r *Role) bool { return r.ID == roleID })
	if i < 0 {
		return 0, nil, &apiError{status: 404, code: 10011, msg: "Unknown Role"}
	}
	r := s.roles[i]
	if s.basePerms()&PermManageRoles == 0 || r.Position >= s.botRolePosition() || r.Managed {
		return 0, nil, missingPermissions()
	}
	held := s.memberRoles[user]
	if method == "PUT" && !slices.Contains(held, roleID) {
		s.memberRoles[user] = append(held, roleID)
	}
	if method == "DELETE" {
		s.memberRoles[user] = slices.DeleteFunc(held, func(id string) bool { return id == roleID })
	}
	return 204, nil, nil
}

// AddRole creates a role the way a person does in Server Settings: at
// position 1, under every other role (so below klaxon's). It returns its id.
func (s *Server) AddRole(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.roles {
		r.Position++
	}
	s.botPos++
	r := &Role{ID: s.snowflake(), Name: name, Position: 1}
	s.roles = append(s.roles, r)
	return r.ID
}

// RaiseRole drags a role above klaxon's, where klaxon may not give it.
func (s *Server) RaiseRole(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	top := s.botRolePosition()
	for _, r := range s.roles {
		if r.ID == id {
			r.Position = top + 1
		}
	}
}

// RoleMembers lists who holds role id, sorted.
func (s *Server) RoleMembers(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for user, roles := range s.memberRoles {
		if slices.Contains(roles, id) {
			out = append(out, user)
		}
	}
	slices.Sort(out)
	return out
}

// GiveRole gives user role id as a person would by hand.
func (s *Server) GiveRole(user, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(s.memberRoles[user], id) {
		s.memberRoles[user] = append(s.memberRoles[user], id)
	}
}

// SetServerMembersIntent turns the application's Server Members intent on
// or off in the fake developer portal.
func (s *Server) SetServerMembersIntent(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appFlags &^= AppFlagGatewayGuildMembers
	if on {
		s.appFlags |= AppFlagGatewayGuildMembers
	}
}
