// Package discordfake is a Discord for tests: the REST routes klaxon calls
// and a gateway websocket on 127.0.0.1 speaking the documented op-codes
// (HELLO 10, IDENTIFY 2, READY, HEARTBEAT 1 / ACK 11, RESUME 6,
// INVALID_SESSION 9, RECONNECT 7). It does not import discordgo. Like
// Discord, it only dispatches events the client's intents ask for, and it
// keeps every dispatched event so a RESUME replays what the client missed.
package discordfake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Identities the fake knows.
const (
	BotID       = "900000000000000001"
	AppID       = "900000000000000002"
	GuildID     = "900000000000000003"
	GeneralID   = "900000000000000010"
	AnnounceID  = "900000000000000011"
	CategoryID  = "900000000000000012"
	SessionID   = "fake-session"
	Token       = "fake-bot-token"
	everyoneID  = GuildID // the @everyone role has the guild's id
	ViewChannel = 1 << 10
)

// Gateway intents (docs: topics/gateway#gateway-intents).
const (
	IntentGuilds                 = 1 << 0
	IntentGuildMessages          = 1 << 9
	IntentGuildMessageReactions  = 1 << 10
	IntentDirectMessages         = 1 << 12
	IntentDirectMessageReactions = 1 << 13
	IntentMessageContent         = 1 << 15
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

func collect(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (k == "title" || k == "description" || k == "name" || k == "value" || k == "text" || k == "label") {
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

	writeMu sync.Mutex

	// InteractionTTL is how long an interaction may wait for its first
	// response (Discord: 3 s).
	InteractionTTL time.Duration
	// HeartbeatInterval is sent in HELLO.
	HeartbeatInterval time.Duration
}

// New starts a fake Discord guild with the given members (id → name), a
// #general and an #incidents channel and an "Incidents" category.
func New(users map[string]string) *Server {
	s := &Server{users: map[string]string{BotID: "klaxon"}, channels: map[string]*Channel{}, messages: map[string][]*Message{},
		interactions: map[string]*interaction{}, limits: map[string]int{}, seq: 1000000000000000000,
		InteractionTTL: 3 * time.Second, HeartbeatInterval: 2 * time.Second}
	for id, name := range users {
		s.users[id] = name
	}
	for _, c := range []*Channel{{ID: GeneralID, Name: "general"}, {ID: AnnounceID, Name: "incidents"}, {ID: CategoryID, Name: "Incidents", Type: 4}} {
		s.channels[c.ID] = c
		s.order = append(s.order, c.ID)
	}
	s.upgrader.CheckOrigin = func(*http.Request) bool { return true }
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v9/", s.serveREST)
	mux.HandleFunc("/gateway", s.serveGateway)
	mux.HandleFunc("/gateway/", s.serveGateway) // discordgo appends "/?v=9&encoding=json"
	s.srv = httptest.NewServer(mux)
	return s
}

// APIURL is the REST base, for discord.api_url.
func (s *Server) APIURL() string { return s.srv.URL + "/api/v9/" }

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
	status int
	code   int
	msg    string
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v9/")
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
	status, resp, apiErr := s.route(r.Method, strings.Split(path, "/"), body)
	s.mu.Unlock()
	if apiErr != nil {
		writeJSON(w, apiErr.status, map[string]any{"code": apiErr.code, "message": apiErr.msg})
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
	unknownChannel = &apiError{404, 10003, "Unknown Channel"}
	unknownMessage = &apiError{404, 10008, "Unknown Message"}
	notFound       = &apiError{404, 0, "404: Not Found"}
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
		s.commands = b
		for _, c := range cmds {
			if m, ok := c.(map[string]any); ok {
				m["id"] = s.snowflake()
				m["application_id"] = AppID
			}
		}
		return 200, cmds, nil
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
		if name == "" || len(name) > 100 {
			return 0, nil, &apiError{400, 50035, "Invalid Form Body (name)"}
		}
		c := &Channel{ID: s.snowflake(), Name: name, Topic: str(body, "topic"), ParentID: str(body, "parent_id")}
		if ows, ok := body["permission_overwrites"].([]any); ok {
			for _, o := range ows {
				m, _ := o.(map[string]any)
				c.Overwrites = append(c.Overwrites, Overwrite{ID: str(m, "id"), Type: int(num(m["type"])), Allow: str(m, "allow"), Deny: str(m, "deny")})
			}
		}
		s.channels[c.ID] = c
		s.order = append(s.order, c.ID)
		return 201, channelJSON(c), nil
	case method == "PATCH" && len(p) == 2 && p[0] == "channels":
		c, ok := s.channels[p[1]]
		if !ok {
			return 0, nil, unknownChannel
		}
		if t, ok := body["topic"].(string); ok {
			if len([]rune(t)) > 1024 {
				return 0, nil, &apiError{400, 50035, "Invalid Form Body (topic)"}
			}
			c.Topic = t
		}
		return 200, channelJSON(c), nil
	case method == "PUT" && len(p) == 4 && p[0] == "channels" && p[2] == "permissions":
		c, ok := s.channels[p[1]]
		if !ok {
			return 0, nil, unknownChannel
		}
		if _, known := s.users[p[3]]; !known && p[3] != everyoneID {
			return 0, nil, &apiError{404, 10013, "Unknown User"}
		}
		o := Overwrite{ID: p[3], Type: int(num(body["type"])), Allow: str(body, "allow"), Deny: str(body, "deny")}
		c.Overwrites = slices.DeleteFunc(c.Overwrites, func(x Overwrite) bool { return x.ID == o.ID })
		c.Overwrites = append(c.Overwrites, o)
		return 204, nil, nil
	case method == "POST" && len(p) == 3 && p[0] == "channels" && p[2] == "messages":
		c, ok := s.channels[p[1]]
		if !ok {
			return 0, nil, unknownChannel
		}
		m := &Message{ID: s.snowflake(), Channel: c.ID, Author: BotID, Content: str(body, "content"), Embeds: raw(body["embeds"]), Components: raw(body["components"])}
		if ref, ok := body["message_reference"].(map[string]any); ok {
			m.Reference = str(ref, "message_id")
		}
		m.Files, _ = body["__files"].([]File)
		if m.Content == "" && len(m.Embeds) == 0 && len(m.Files) == 0 {
			return 0, nil, &apiError{400, 50006, "Cannot send an empty message"}
		}
		s.messages[c.ID] = append(s.messages[c.ID], m)
		return 200, messageJSON(m), nil
	case method == "PATCH" && len(p) == 4 && p[0] == "channels" && p[2] == "messages":
		m := s.message(p[1], p[3])
		if m == nil {
			return 0, nil, unknownMessage
		}
		if m.Author != BotID {
			return 0, nil, &apiError{403, 50005, "Cannot edit a message authored by another user"}
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
		c, ok := s.channels[p[1]]
		if !ok {
			return 0, nil, unknownChannel
		}
		if s.message(c.ID, p[3]) == nil {
			return 0, nil, unknownMessage
		}
		if !slices.Contains(c.Pins, p[3]) {
			c.Pins = append(c.Pins, p[3])
		}
		return 204, nil, nil
	case method == "POST" && len(p) == 3 && p[0] == "users" && p[1] == "@me" && p[2] == "channels":
		u := str(body, "recipient_id")
		if _, known := s.users[u]; !known {
			return 0, nil, &apiError{400, 50007, "Cannot send messages to this user"}
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
			return 0, nil, &apiError{404, 10062, "Unknown interaction"}
		}
		if in.answered {
			return 0, nil, &apiError{400, 40060, "Interaction has already been acknowledged."}
		}
		if time.Since(in.created) > s.InteractionTTL {
			return 0, nil, &apiError{404, 10062, "Unknown interaction"}
		}
		in.answered = true
		data, _ := body["data"].(map[string]any)
		s.responses = append(s.responses, Response{Interaction: in.id, Kind: "callback", Type: int(num(body["type"])), Data: data, At: time.Now()})
		return 204, nil, nil
	case len(p) >= 3 && p[0] == "webhooks" && p[1] == AppID:
		in, ok := s.interactions[p[2]]
		if !ok || !in.answered {
			return 0, nil, &apiError{404, 10015, "Unknown Webhook"}
		}
		kind := "followup"
		if method == "PATCH" {
			kind = "edit"
		}
		s.responses = append(s.responses, Response{Interaction: in.id, Kind: kind, Data: body, At: time.Now()})
		return 200, map[string]any{"id": s.snowflake(), "channel_id": GeneralID, "content": str(body, "content"), "author": map[string]any{"id": BotID}}, nil
	}
	return 0, nil, notFound
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
