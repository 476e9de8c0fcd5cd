// Package discordfake is a Discord for tests: the REST routes klaxon calls
// and a gateway websocket on 127.0.0.1 speaking the documented op-codes
// (HELLO 10, IDENTIFY 2, READY, HEARTBEAT 1 / ACK 11, RESUME 6,
// INVALID_SESSION 9, RECONNECT 7). It does not import discordgo. Like
// Discord, it only dispatches events the client's intents ask for, and it
// keeps every dispatched event so a RESUME replays what the client missed.
package discordfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Identities the fake knows.
const (
	BotID      = "900000000000000001"
	AppID      = "900000000000000002"
	GuildID    = "900000000000000003"
	GeneralID  = "900000000000000010"
	AnnounceID = "900000000000000011"
	CategoryID = "900000000000000012"
	// ArchiveCategoryID is a category for archived incident channels.
	ArchiveCategoryID = "900000000000000013"
	BotRoleID         = "900000000000000004" // klaxon's managed role, with the invite's permissions
	SessionID         = "fake-session"
	Token             = "fake-bot-token"
	everyoneID        = GuildID // the @everyone role has the guild's id
	ViewChannel       = 1 << 10
)

// Gateway intents (docs: topics/gateway#gateway-intents).
const (
	IntentGuilds                 = 1 << 0
	IntentGuildMessages          = 1 << 9
	IntentGuildMessageReactions  = 1 << 10
	IntentDirectMessages         = 1 << 12
	IntentDirectMessageReactions = 1 << 13
	IntentMessageContent         = 1 << 15 // privileged: enabled in the developer portal
)

// Overwrite is a permission overwrite on a channel.
type Overwrite struct {
	ID    string `json:"id"`
	Type  int    `json:"type"` // 0 role, 1 member
	Allow string `json:"allow"`
	Deny  string `json:"deny"`
}

// Channel is a channel as the fake holds it.
type Channel struct {
	ID, Name, Topic, ParentID string
	Type                      int
	Recipient                 string // for DMs
	Overwrites                []Overwrite
	Pins                      []string
}

// Message is a message as the fake holds it.
type Message struct {
	ID, Channel, Author string
	Content             string
	Embeds, Components  json.RawMessage
	Flags               int
	Edits               int
	Reference           string // the message it replies to
	Nonce               string
	Files               []File // attachments
}

// File is an attachment.
type File struct {
	Name    string
	Content []byte
}

// Rendered is everything a person reads in the message.
func (m Message) Rendered() string {
	parts := []string{m.Content}
	for _, raw := range []json.RawMessage{m.Embeds, m.Components} {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			collect(v, &parts)
		}
	}
	return strings.Join(parts, "\n")
}

// Rendered is everything a person reads in an interaction response.
func (r Response) Rendered() string {
	var parts []string
	collect(r.Data, &parts)
	return strings.Join(parts, "\n")
}

func collect(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (k == "content" || k == "title" || k == "description" || k == "name" || k == "value" || k == "text" || k == "label") {
				*out = append(*out, s)
				continue
			}
			collect(val, out)
		}
	case []any:
		for _, e := range x {
			collect(e, out)
		}
	}
}

// Response is an interaction's callback, follow-up or edit.
type Response struct {
	Interaction string
	Kind        string // "callback", "followup", "edit"
	Type        int    // callback type: 4 message, 5 deferred, 6 deferred update, 9 modal
	Data        map[string]any
	At          time.Time
}

type interaction struct {
	id, token string
	created   time.Time
	answered  bool
	sentAt    time.Time
}

type dispatch struct {
	seq    int
	name   string
	data   any
	intent int // 0: always sent
}

// Server is the fake Discord.
type Server struct {
	srv      *httptest.Server
	upgrader websocket.Upgrader
	oauth    oauth2

	mu           sync.Mutex
	seq          int64 // snowflakes
	users        map[string]string
	channels     map[string]*Channel
	order        []string
	messages     map[string][]*Message
	commands     json.RawMessage
	interactions map[string]*interaction // by token
	responses    []Response
	calls        []string
	limits       map[string]int
	delay        time.Duration
	log          []dispatch // every dispatched event, for RESUME
	conn         *websocket.Conn
	live         *websocket.Conn // conn once its session is READY or RESUMED: dispatches go there
	intents      int
	identified   int
	resumed      int
	heartbeats   int
	perms        uint64 // klaxon's role's permissions in the guild
	appFlags     int    // application flags: which privileged intents are on
	violations   []Violation
	later        []func() // dispatches a REST call causes, sent after s.mu is released
	roles        []*Role
	botPos       int                 // roles made after klaxon joined, under klaxon's
	memberRoles  map[string][]string // user → the roles people and klaxon gave them
	query        url.Values          // of the request being routed

	writeMu sync.Mutex

	// InteractionTTL is how long an interaction may wait for its first
	// response (Discord: 3 s).
	InteractionTTL time.Duration
	// InteractionTokenTTL is how long follow-ups may use an interaction's
	// token (Discord: 15 minutes).
	InteractionTokenTTL time.Duration
	// HeartbeatInterval is sent in HELLO.
	HeartbeatInterval time.Duration
}

// Violation is a request the real Discord would refuse: a limit in its
// reference, a missing permission, a deprecated route.
type Violation struct {
	Route   string
	Status  int
	Code    int
	Message string
	Fields  []string // "embeds.0.description: Must be 4096 or fewer in length."
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %d %d %s %s", v.Route, v.Status, v.Code, v.Message, strings.Join(v.Fields, "; "))
}

// New starts a strict fake Discord guild with the given members (id →
// name), a #general and an #incidents channel and an "Incidents" category.
// klaxon's role holds the permissions of the README's invite URL, and the
// application has the Message Content intent on. When t ends, the fake
// closes, and every request it refused for breaking Discord's rules that
// the test did not take with TakeViolations fails t.
func New(t testing.TB, users map[string]string) *Server {
	t.Helper()
	perms, err := InvitePermissions()
	if err != nil {
		t.Fatalf("discordfake: %v", err)
	}
	s := &Server{perms: perms, appFlags: AppFlagGatewayMessageContent, users: map[string]string{BotID: "klaxon"}, channels: map[string]*Channel{}, messages: map[string][]*Message{},
		interactions: map[string]*interaction{}, limits: map[string]int{}, seq: 1000000000000000000, memberRoles: map[string][]string{},
		InteractionTTL: 3 * time.Second, InteractionTokenTTL: 15 * time.Minute, HeartbeatInterval: 2 * time.Second}
	for id, name := range users {
		s.users[id] = name
	}
	for _, c := range []*Channel{{ID: GeneralID, Name: "general"}, {ID: AnnounceID, Name: "incidents"}, {ID: CategoryID, Name: "Incidents", Type: 4}, {ID: ArchiveCategoryID, Name: "Archive", Type: 4}} {
		s.channels[c.ID] = c
		s.order = append(s.order, c.ID)
	}
	s.upgrader.CheckOrigin = func(*http.Request) bool { return true }
	mux := http.NewServeMux()
	mux.HandleFunc(apiPrefix, s.serveREST)
	mux.HandleFunc("GET /oauth2/authorize", s.serveAuthorize)
	mux.HandleFunc("POST "+apiPrefix+"oauth2/token", s.serveToken)
	mux.HandleFunc("GET "+apiPrefix+"users/@me", s.serveMe)
	mux.HandleFunc("/api/", s.serveOtherVersion)
	mux.HandleFunc("/gateway", s.serveGateway)
	mux.HandleFunc("/gateway/", s.serveGateway) // discordgo appends "/?v=10&encoding=json"
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		s.Close()
		for _, v := range s.TakeViolations() {
			t.Errorf("discordfake: real Discord would refuse %s", v)
		}
	})
	return s
}

// APIVersion is the one version of Discord's API the fake serves: the
// current one, which Discord's published API description covers. Real
// Discord still answers v9; the fake refuses it so that nothing in klaxon
// slips back to an older version unnoticed.
const APIVersion = 10

var apiPrefix = "/api/v" + strconv.Itoa(APIVersion) + "/"

// APIURL is the REST base, for discord.api_url.
func (s *Server) APIURL() string { return s.srv.URL + apiPrefix }

// serveOtherVersion answers a REST call on another API version as Discord
// answers a version it does not serve (400, 50041), and records it.
func (s *Server) serveOtherVersion(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + r.URL.Path
	s.mu.Lock()
	s.calls = append(s.calls, route)
	s.violations = append(s.violations, Violation{Route: route, Status: 400, Code: 50041, Message: "Invalid API version provided (klaxon speaks v" + strconv.Itoa(APIVersion) + ")"})
	s.mu.Unlock()
	writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50041, "message": "Invalid API version provided"})
}

// GatewayURL is the websocket, for discord.gateway_url.
func (s *Server) GatewayURL() string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/gateway"
}

// Close stops the fake.
func (s *Server) Close() {
	s.mu.Lock()
	conn := s.conn
	s.conn, s.live = nil, nil
	s.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func (s *Server) snowflake() string {
	s.seq++
	return strconv.FormatInt(s.seq, 10)
}

// --- REST -----------------------------------------------------------------

type apiError struct {
	status    int
	code      int
	msg       string
	violation bool       // a rule of Discord's, not the state of the guild
	fields    formErrors // for 50035
}

// invalidForm is Discord's answer to a body that breaks its limits; nil
// when there are none.
func invalidForm(e formErrors) *apiError {
	if len(e) == 0 {
		return nil
	}
	return &apiError{status: 400, code: 50035, msg: "Invalid Form Body", violation: true, fields: e}
}

// missingPermissions is Discord's answer to a call the bot lacks a
// permission for.
func missingPermissions() *apiError {
	return &apiError{status: 403, code: 50013, msg: "Missing Permissions", violation: true}
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, apiPrefix)
	route := r.Method + " " + path
	var body map[string]any
	var files []File
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// Messages with attachments: payload_json plus files[n] parts.
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50035, "message": "Invalid Form Body"})
			return
		}
		json.Unmarshal([]byte(r.FormValue("payload_json")), &body)
		for field, fhs := range r.MultipartForm.File {
			if !strings.HasPrefix(field, "files[") {
				continue
			}
			for _, fh := range fhs {
				f, _ := fh.Open()
				data, _ := io.ReadAll(f)
				f.Close()
				files = append(files, File{Name: fh.Filename, Content: data})
			}
		}
		if body == nil {
			body = map[string]any{}
		}
		body["__files"] = files
	} else if data, _ := io.ReadAll(r.Body); len(data) > 0 {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50109, "message": "The request body contains invalid JSON."})
			return
		}
		switch x := v.(type) {
		case map[string]any:
			body = x
		case []any:
			body = map[string]any{"__list": x} // bulk overwrites send an array
		}
	}
	isCallback := strings.HasPrefix(path, "interactions/")
	if !isCallback && r.Header.Get("Authorization") != "Bot "+Token {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 0, "message": "401: Unauthorized"})
		return
	}
	s.mu.Lock()
	key := routeKey(r.Method, path)
	if n := s.limits[key]; n > 0 {
		s.limits[key] = n - 1
		s.calls = append(s.calls, route+" (429)")
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.Header().Set("X-RateLimit-Limit", "5")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset-After", "0.2")
		w.Header().Set("X-RateLimit-Bucket", key)
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": 0.2, "global": false})
		return
	}
	delay := s.delay
	s.calls = append(s.calls, route)
	s.mu.Unlock()
	if delay > 0 && !isCallback {
		time.Sleep(delay)
	}
	s.mu.Lock()
	s.query = r.URL.Query()
	status, resp, apiErr := s.route(r.Method, strings.Split(path, "/"), body)
	if apiErr != nil && apiErr.violation {
		v := Violation{Route: route, Status: apiErr.status, Code: apiErr.code, Message: apiErr.msg}
		for _, p := range apiErr.fields.paths() {
			v.Fields = append(v.Fields, p+": "+apiErr.fields[p])
		}
		s.violations = append(s.violations, v)
	}
	later := s.later
	s.later = nil
	s.mu.Unlock()
	for _, fn := range later {
		fn()
	}
	if apiErr != nil {
		out := map[string]any{"code": apiErr.code, "message": apiErr.msg}
		if len(apiErr.fields) > 0 {
			out["errors"] = apiErr.fields.body()
		}
		writeJSON(w, apiErr.status, out)
		return
	}
	if resp == nil {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, resp)
}

// routeKey names a route without its ids, for rate limits: "POST channels/messages".
func routeKey(method, path string) string {
	var parts []string
	for _, p := range strings.Split(path, "/") {
		if _, err := strconv.ParseInt(p, 10, 64); err != nil && !strings.HasPrefix(p, "tok-") {
			parts = append(parts, p)
		}
	}
	return method + " " + strings.Join(parts, "/")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

var (
	unknownChannel = &apiError{status: 404, code: 10003, msg: "Unknown Channel"}
	unknownMessage = &apiError{status: 404, code: 10008, msg: "Unknown Message"}
)

func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatInt(int64(v), 10)
	}
	return ""
}

func raw(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

// route applies one REST call. s.mu is held.
func (s *Server) route(method string, p []string, body map[string]any) (int, any, *apiError) {
	switch {
	case method == "PUT" && len(p) == 5 && p[0] == "applications" && p[2] == "guilds" && p[4] == "commands":
		var cmds []any
		b, _ := json.Marshal(body["__list"])
		json.Unmarshal(b, &cmds)
		if err := invalidForm(commandErrors(cmds)); err != nil {
			return 0, nil, err
		}
		s.commands = b
		for _, c := range cmds {
			if m, ok := c.(map[string]any); ok {
				m["id"] = s.snowflake()
				m["application_id"] = AppID
			}
		}
		return 200, cmds, nil
	case method == "GET" && len(p) == 2 && p[0] == "applications" && p[1] == "@me":
		return 200, map[string]any{"id": AppID, "name": "klaxon", "flags": s.appFlags, "bot": map[string]any{"id": BotID, "username": "klaxon"}}, nil
	case method == "GET" && len(p) == 2 && p[0] == "users" && p[1] == "@me":
		return 200, map[string]any{"id": BotID, "username": "klaxon", "bot": true, "discriminator": "0"}, nil
	case method == "GET" && len(p) == 2 && p[0] == "guilds" && p[1] == GuildID:
		return 200, map[string]any{"id": GuildID, "name": "Fake", "owner_id": "900000000000000099", "roles": s.rolesJSON()}, nil
	case method == "GET" && len(p) == 3 && p[0] == "guilds" && p[2] == "members":
		return s.listMembers(s.query)
	case method == "GET" && len(p) == 4 && p[0] == "guilds" && p[2] == "members":
		if _, known := s.users[p[3]]; !known {
			return 0, nil, &apiError{status: 404, code: 10007, msg: "Unknown Member"}
		}
		return 200, s.memberJSON(p[3]), nil
	case (method == "PUT" || method == "DELETE") && len(p) == 6 && p[0] == "guilds" && p[2] == "members" && p[4] == "roles":
		return s.memberRole(method, p[3], p[5])
	case method == "GET" && len(p) == 2 && p[0] == "channels":
		c, ok := s.channels[p[1]]
		if !ok {
			return 0, nil, unknownChannel
		}
		return 200, channelJSON(c), nil
	case method == "GET" && len(p) == 3 && p[0] == "guilds" && p[2] == "channels":
		var out []any
		for _, id := range s.order {
			if c := s.channels[id]; c.Recipient == "" {
				out = append(out, channelJSON(c))
			}
		}
		return 200, out, nil
	case method == "POST" && len(p) == 3 && p[0] == "guilds" && p[2] == "channels":
		name := str(body, "name")
		e := formErrors{}
		e.lenBetween("name", name, 1, maxChannelName)
		e.maxLen("topic", str(body, "topic"), maxTopic)
		if err := invalidForm(e); err != nil {
			return 0, nil, err
		}
		parent := s.channels[str(body, "parent_id")]
		if str(body, "parent_id") != "" && (parent == nil || parent.Type != 4) {
			return 0, nil, invalidForm(formErrors{"parent_id": "Category does not exist"})
		}
		// Manage Channels, in the guild or in the category it goes into.
		if parent != nil {
			if err := s.need(parent, PermManageChannels); err != nil {
				return 0, nil, err
			}
		} else if s.basePerms()&PermManageChannels == 0 {
			return 0, nil, missingPermissions()
		}
		c := &Channel{ID: s.snowflake(), Name: name, Topic: str(body, "topic"), ParentID: str(body, "parent_id")}
		if ows, ok := body["permission_overwrites"].([]any); ok {
			for _, o := range ows {
				m, _ := o.(map[string]any)
				c.Overwrites = append(c.Overwrites, Overwrite{ID: str(m, "id"), Type: int(num(m["type"])), Allow: str(m, "allow"), Deny: str(m, "deny")})
			}
			if err := s.grantable(parent, c.Overwrites); err != nil {
				return 0, nil, err
			}
		} else if parent != nil {
			c.Overwrites = append([]Overwrite(nil), parent.Overwrites...) // synced with its category
		}
		s.channels[c.ID] = c
		s.order = append(s.order, c.ID)
		return 201, channelJSON(c), nil
	case method == "PATCH" && len(p) == 2 && p[0] == "channels":
		c, ok := s.channels[p[1]]
		if !ok {
			return 0, nil, unknownChannel
		}
		if err := s.need(c, PermViewChannel|PermManageChannels); err != nil {
			return 0, nil, err
		}
		e := formErrors{}
		if n, ok := body["name"].(string); ok {
			e.lenBetween("name", n, 1, maxChannelName)
		}
		if t, ok := body["topic"].(string); ok {
			e.maxLen("topic", t, maxTopic)
		}
		var parent *Channel
		if id, ok := body["parent_id"].(string); ok {
			if parent = s.channels[id]; parent == nil || parent.Type != 4 {
				e["parent_id"] = "Category does not exist"
			}
		}
		if err := invalidForm(e); err != nil {
			return 0, nil, err
		}
		if parent != nil {
			// Moving needs Manage Channels in the category it goes into.
			if err := s.need(parent, PermManageChannels); err != nil {
				return 0, nil, err
			}
			c.ParentID = parent.ID
		}
		if t, ok := body["topic"].(string); ok {
			c.Topic = t
		}
		if n, ok := body["name"].(string); ok {
			c.Name = n
		}
		return 200, channelJSON(c), nil
	case method == "PUT" && len(p) == 4 && p[0] == "channels" && p[2] == "permissions":
		c, ok := s.channels[p[1]]
		if !ok {
			return 0, nil, unknownChannel
		}
		if _, known := s.users[p[3]]; !known && p[3] != everyoneID && p[3] != BotRoleID {
			return 0, nil, &apiError{status: 404, code: 10013, msg: "Unknown User"}
		}
		o := Overwrite{ID: p[3], Type: int(num(body["type"])), Allow: str(body, "allow"), Deny: str(body, "deny")}
		if err := s.need(c, PermViewChannel|PermManageRoles); err != nil {
			return 0, nil, err
		}
		if err := s.grantable(s.channels[c.ParentID], []Overwrite{o}); err != nil {
			return 0, nil, err
		}
		c.Overwrites = slices.DeleteFunc(c.Overwrites, func(x Overwrite) bool { return x.ID == o.ID })
		c.Overwrites = append(c.Overwrites, o)
		return 204, nil, nil
	case method == "POST" && len(p) == 3 && p[0] == "channels" && p[2] == "messages":
		c, ok := s.channels[p[1]]
		if !ok {
			return 0, nil, unknownChannel
		}
		m := &Message{ID: s.snowflake(), Channel: c.ID, Author: BotID, Content: str(body, "content"), Embeds: raw(body["embeds"]), Components: raw(body["components"]),
			Nonce: str(body, "nonce")}
		if ref, ok := body["message_reference"].(map[string]any); ok {
			m.Reference = str(ref, "message_id")
		}
		m.Files, _ = body["__files"].([]File)
		want := uint64(PermViewChannel | PermSendMessages)
		if len(m.Files) > 0 {
			want |= PermAttachFiles
		}
		if m.Reference != "" {
			want |= PermReadMessageHistory
		}
		if err := s.need(c, want); err != nil {
			return 0, nil, err
		}
		if err := invalidForm(messageErrors(body)); err != nil {
			return 0, nil, err
		}
		if m.Content == "" && len(m.Embeds) == 0 && len(m.Files) == 0 {
			return 0, nil, &apiError{status: 400, code: 50006, msg: "Cannot send an empty message", violation: true}
		}
		// "enforce_nonce: if true and nonce is present, it will be checked
		// for uniqueness in the past few minutes"; a repeat returns the
		// message already created.
		if m.Nonce != "" && body["enforce_nonce"] == true {
			for _, old := range s.messages[c.ID] {
				if old.Nonce == m.Nonce && old.Author == BotID {
					return 200, messageJSON(old), nil
				}
			}
		}
		s.messages[c.ID] = append(s.messages[c.ID], m)
		return 200, messageJSON(m), nil
	case method == "PATCH" && len(p) == 4 && p[0] == "channels" && p[2] == "messages":
		m := s.message(p[1], p[3])
		if m == nil {
			return 0, nil, unknownMessage
		}
		if m.Author != BotID {
			return 0, nil, &apiError{status: 403, code: 50005, msg: "Cannot edit a message authored by another user", violation: true}
		}
		if err := invalidForm(messageErrors(body)); err != nil {
			return 0, nil, err
		}
		if _, ok := body["content"]; ok {
			m.Content = str(body, "content")
		}
		if e, ok := body["embeds"]; ok {
			m.Embeds = raw(e)
		}
		if c, ok := body["components"]; ok {
			m.Components = raw(c)
		}
		m.Edits++
		return 200, messageJSON(m), nil
	case method == "PUT" && len(p) == 4 && p[0] == "channels" && p[2] == "pins":
		// The old route: deprecated for PUT /channels/{id}/messages/pins/{id}.
		return 0, nil, &apiError{status: 404, code: 0, msg: "deprecated route: use PUT /channels/{channel.id}/messages/pins/{message.id}", violation: true}
	case method == "PUT" && len(p) == 5 && p[0] == "channels" && p[2] == "messages" && p[3] == "pins":
		c, ok := s.channels[p[1]]
		if !ok {
			return 0, nil, unknownChannel
		}
		if err := s.need(c, PermViewChannel|PermPinMessages); err != nil {
			return 0, nil, err
		}
		if s.message(c.ID, p[4]) == nil {
			return 0, nil, unknownMessage
		}
		if !slices.Contains(c.Pins, p[4]) {
			c.Pins = append(c.Pins, p[4])
			s.later = append(s.later, func() { s.pinsUpdate(c) })
		}
		return 204, nil, nil
	case method == "POST" && len(p) == 3 && p[0] == "users" && p[1] == "@me" && p[2] == "channels":
		u := str(body, "recipient_id")
		if _, known := s.users[u]; !known {
			return 0, nil, &apiError{status: 400, code: 50007, msg: "Cannot send messages to this user"}
		}
		for _, c := range s.channels {
			if c.Recipient == u {
				return 200, channelJSON(c), nil
			}
		}
		c := &Channel{ID: s.snowflake(), Type: 1, Recipient: u}
		s.channels[c.ID] = c
		s.order = append(s.order, c.ID)
		return 200, channelJSON(c), nil
	case method == "POST" && len(p) == 4 && p[0] == "interactions" && p[3] == "callback":
		in, ok := s.interactions[p[2]]
		if !ok || in.id != p[1] {
			return 0, nil, &apiError{status: 404, code: 10062, msg: "Unknown interaction"}
		}
		if in.answered {
			return 0, nil, &apiError{status: 400, code: 40060, msg: "Interaction has already been acknowledged.", violation: true}
		}
		// "Interaction tokens are valid for 15 minutes, but the initial
		// response must be sent within 3 seconds".
		if time.Since(in.created) > s.InteractionTTL {
			return 0, nil, &apiError{status: 404, code: 10062, msg: "Unknown interaction", violation: true}
		}
		typ := int(num(body["type"]))
		data, _ := body["data"].(map[string]any)
		var e formErrors
		switch typ {
		case 4, 7: // a message, or an update of the component's message
			e = prefixed("data.", messageErrors(data))
		case 8:
			e = choicesErrors(data)
		case 9:
			e = modalErrors(data)
		case 1, 5, 6:
		default:
			e = formErrors{"type": "Value must be one of {1, 4, 5, 6, 7, 8, 9}."}
		}
		if err := invalidForm(e); err != nil {
			return 0, nil, err
		}
		in.answered = true
		s.responses = append(s.responses, Response{Interaction: in.id, Kind: "callback", Type: typ, Data: data, At: time.Now()})
		return 204, nil, nil
	case len(p) >= 3 && p[0] == "webhooks" && p[1] == AppID:
		in, ok := s.interactions[p[2]]
		if !ok || !in.answered {
			return 0, nil, &apiError{status: 404, code: 10015, msg: "Unknown Webhook", violation: true}
		}
		if time.Since(in.created) > s.InteractionTokenTTL {
			return 0, nil, &apiError{status: 401, code: 50027, msg: "Invalid Webhook Token", violation: true}
		}
		if err := invalidForm(messageErrors(body)); err != nil {
			return 0, nil, err
		}
		kind := "followup"
		if method == "PATCH" {
			kind = "edit"
		}
		s.responses = append(s.responses, Response{Interaction: in.id, Kind: kind, Data: body, At: time.Now()})
		return 200, map[string]any{"id": s.snowflake(), "channel_id": GeneralID, "content": str(body, "content"), "author": map[string]any{"id": BotID}}, nil
	}
	return 0, nil, &apiError{status: 404, code: 0, msg: "404: Not Found", violation: true}
}

func prefixed(prefix string, e formErrors) formErrors {
	out := formErrors{}
	for k, v := range e {
		out[prefix+k] = v
	}
	return out
}

func num(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

func channelJSON(c *Channel) map[string]any {
	out := map[string]any{"id": c.ID, "type": c.Type, "name": c.Name, "topic": c.Topic, "permission_overwrites": c.Overwrites}
	if c.Type != 1 {
		out["guild_id"] = GuildID
	}
	if c.ParentID != "" {
		out["parent_id"] = c.ParentID
	}
	if c.Recipient != "" {
		out["recipients"] = []any{map[string]any{"id": c.Recipient}}
	}
	return out
}

func messageJSON(m *Message) map[string]any {
	return map[string]any{"id": m.ID, "channel_id": m.Channel, "content": m.Content, "author": map[string]any{"id": m.Author, "username": "klaxon", "bot": true},
		"embeds": m.Embeds, "components": m.Components, "timestamp": time.Now().UTC().Format(time.RFC3339)}
}

func (s *Server) message(channel, id string) *Message {
	for _, m := range s.messages[channel] {
		if m.ID == id {
			return m
		}
	}
	return nil
}
