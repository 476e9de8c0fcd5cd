package discordfake

import "strconv"

// Permission computation, as in docs topics/permissions#permission-overwrites:
// the base is @everyone's and the member's roles' permissions (all of them
// for an administrator); a channel applies @everyone's overwrite, then the
// roles', then the member's; without View Channel nothing else is left.

// basePerms is klaxon's permissions in the guild. s.mu is held.
func (s *Server) basePerms() uint64 {
	p := uint64(everyonePerms) | s.perms
	if p&PermAdministrator != 0 {
		return allPerms
	}
	return p
}

// channelPerms is klaxon's permissions in channel c. s.mu is held.
func (s *Server) channelPerms(c *Channel) uint64 {
	if c.Recipient != "" { // a DM
		return PermViewChannel | PermSendMessages | PermReadMessageHistory | PermAddReactions | PermEmbedLinks | PermAttachFiles | PermPinMessages
	}
	p := s.basePerms()
	if p == allPerms {
		return p
	}
	apply := func(id string) {
		for _, o := range c.Overwrites {
			if o.ID == id {
				p &^= parsePerms(o.Deny)
				p |= parsePerms(o.Allow)
			}
		}
	}
	apply(everyoneID)
	apply(BotRoleID)
	apply(BotID)
	if p&PermViewChannel == 0 {
		return 0
	}
	if p&PermSendMessages == 0 {
		p &^= PermMentionEveryone | PermEmbedLinks | PermAttachFiles
	}
	return p
}

func parsePerms(s string) uint64 {
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// need returns Missing Permissions unless klaxon holds every bit of want in
// c. s.mu is held.
func (s *Server) need(c *Channel, want uint64) *apiError {
	if s.channelPerms(c)&want != want {
		return missingPermissions()
	}
	return nil
}

// grantable refuses overwrites that allow or deny bits klaxon does not hold:
// "Only permissions your bot has in the guild or parent channel (if
// applicable) can be allowed/denied" (docs: resources/channel
// #edit-channel-permissions). s.mu is held.
func (s *Server) grantable(parent *Channel, ows []Overwrite) *apiError {
	held := s.basePerms()
	if parent != nil {
		held = s.channelPerms(parent)
	}
	for _, o := range ows {
		if (parsePerms(o.Allow)|parsePerms(o.Deny))&^held != 0 {
			return missingPermissions()
		}
	}
	return nil
}
