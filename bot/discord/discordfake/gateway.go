package discordfake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

type frame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int            `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

// serveGateway speaks the gateway protocol on one connection.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	old := s.conn
	s.conn, s.live = conn, nil
	s.mu.Unlock()
	if old != nil {
		old.Close()
	}
	defer func() {
		s.mu.Lock()
		if s.conn == conn {
			s.conn, s.live = nil, nil
		}
		s.mu.Unlock()
		conn.Close()
	}()
	// Discord closes a session on a version it does not serve with 4012.
	if v := r.URL.Query().Get("v"); v != strconv.Itoa(APIVersion) {
		s.mu.Lock()
		s.violations = append(s.violations, Violation{Route: "gateway connect", Code: 4012, Message: "Invalid API version ?v=" + v + " (klaxon speaks v" + strconv.Itoa(APIVersion) + ")"})
		s.mu.Unlock()
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4012, "Invalid API version."), time.Now().Add(time.Second))
		return
	}
	s.write(conn, map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.HeartbeatInterval.Milliseconds()}})
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "Decode error"), time.Now().Add(time.Second))
			return
		}
		switch f.Op {
		case 1: // heartbeat
			s.mu.Lock()
			s.heartbeats++
			s.mu.Unlock()
			s.write(conn, map[string]any{"op": 11})
		case 2: // identify
			var id struct {
				Token   string `json:"token"`
				Intents int    `json:"intents"`
			}
			json.Unmarshal(f.D, &id)
			if id.Token != "Bot "+Token && id.Token != Token {
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."), time.Now().Add(time.Second))
				return
			}
			// A privileged intent the application does not have enabled in
			// the developer portal closes the session (close code 4014).
			s.mu.Lock()
			if id.Intents&IntentMessageContent != 0 && s.appFlags&(AppFlagGatewayMessageContent|AppFlagGatewayMessageContentLimited) == 0 {
				s.violations = append(s.violations, Violation{Route: "gateway IDENTIFY", Code: 4014, Message: "Disallowed intent(s): MESSAGE_CONTENT is not enabled"})
				s.mu.Unlock()
				conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4014, "Disallowed intent(s)."), time.Now().Add(time.Second))
				return
			}
			// READY comes first: dispatches reach the session only after it.
			s.intents = id.Intents
			s.identified++
			s.live = conn
			s.writeMu.Lock()
			s.mu.Unlock()
			conn.WriteJSON(map[string]any{"op": 0, "t": "READY", "d": map[string]any{"v": APIVersion, "session_id": SessionID, "resume_gateway_url": s.GatewayURL(),
				"user":        map[string]any{"id": BotID, "username": "klaxon", "bot": true, "discriminator": "0"},
				"guilds":      []any{map[string]any{"id": GuildID, "unavailable": true}},
				"application": map[string]any{"id": AppID, "flags": 0}}})
			s.writeMu.Unlock()
		case 6: // resume: replay what the client has not seen
			var res struct {
				SessionID string `json:"session_id"`
				Seq       int    `json:"seq"`
			}
			json.Unmarshal(f.D, &res)
			if res.SessionID != SessionID {
				s.write(conn, map[string]any{"op": 9, "d": false})
				continue
			}
			// The replay, then RESUMED, then new dispatches, in order.
			s.mu.Lock()
			s.resumed++
			var replay []dispatch
			for _, d := range s.log {
				if d.seq > res.Seq && s.wants(d) {
					replay = append(replay, d)
				}
			}
			s.live = conn
			s.writeMu.Lock()
			s.mu.Unlock()
			for _, d := range replay {
				conn.WriteJSON(map[string]any{"op": 0, "t": d.name, "s": d.seq, "d": d.data})
			}
			conn.WriteJSON(map[string]any{"op": 0, "t": "RESUMED", "d": map[string]any{}})
			s.writeMu.Unlock()
		}
	}
}

func (s *Server) write(conn *websocket.Conn, v any) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return conn.WriteJSON(v)
}

// wants reports whether the client's intents cover d. s.mu is held.
func (s *Server) wants(d dispatch) bool { return d.intent == 0 || s.intents&d.intent != 0 }

// Dispatch sends an event to the client if its intents cover intent (0:
// always), and keeps it for RESUME. It returns the event's sequence.
func (s *Server) Dispatch(name string, data any, intent int) int {
	s.mu.Lock()
	seq := len(s.log) + 1
	d := dispatch{seq: seq, name: name, data: data, intent: intent}
	s.log = append(s.log, d)
	conn := s.live
	send := conn != nil && s.wants(d)
	s.mu.Unlock()
	if send {
		s.write(conn, map[string]any{"op": 0, "t": name, "s": seq, "d": data})
	}
	return seq
}

// Reconnect sends RECONNECT (op 7): the client should resume.
func (s *Server) Reconnect() {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		s.write(conn, map[string]any{"op": 7, "d": nil})
	}
}

// InvalidSession sends INVALID_SESSION (op 9).
func (s *Server) InvalidSession(resumable bool) {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		s.write(conn, map[string]any{"op": 9, "d": resumable})
	}
}

// Stats reports identifies, resumes and heartbeats seen.
func (s *Server) Stats() (identified, resumed, heartbeats int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identified, s.resumed, s.heartbeats
}

// Connected reports whether a client is connected and identified.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live != nil
}
