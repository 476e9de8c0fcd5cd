package slackfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/websocket"
)

// serveSocket accepts a Socket Mode connection: it says hello, resends what
// is still unacknowledged, pings, and reads acknowledgements.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	// Hello comes first on a connection. The connection then joins in the
	// same step as the fake takes what to resend: an envelope made before
	// that is resent here, one made after is sent by enqueue; none twice.
	s.write(conn, map[string]any{"type": "hello", "num_connections": 1,
		"debug_info":      map[string]any{"host": "fake-slack", "approximate_connection_time": 3600},
		"connection_info": map[string]any{"app_id": AppID}})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.conns = append(s.conns, conn)
	s.connSeq++
	var old *websocket.Conn
	if len(s.conns) > max(s.maxConns, 1) {
		// Slack allows several per app (SetMaxConnections); beyond that,
		// and by default one, the newest wins.
		old, s.conns = s.conns[0], s.conns[1:]
	}
	// Resend what was not acknowledged on a connection that is gone.
	var resend []*envelope
	for _, e := range s.pending {
		if e.conn == nil || !slices.Contains(s.conns, e.conn) {
			resend = append(resend, e)
		}
	}
	s.mu.Unlock()
	if old != nil {
		old.Close()
	}
	for _, e := range resend {
		s.sendOn(conn, e, true)
	}

	done := make(chan struct{})
	go s.pingLoop(conn, done)
	defer close(done)
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			s.mu.Lock()
			s.conns = slices.DeleteFunc(s.conns, func(c *websocket.Conn) bool { return c == conn })
			s.mu.Unlock()
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &ack) != nil || ack.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		if _, seen := s.acks[ack.EnvelopeID]; !seen {
			s.acks[ack.EnvelopeID] = ack.Payload
			s.ackAt[ack.EnvelopeID] = time.Now()
		}
		for i, e := range s.pending {
			if e.id == ack.EnvelopeID {
				s.pending = append(s.pending[:i], s.pending[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
	}
}

func (s *Server) pingLoop(conn *websocket.Conn, done chan struct{}) {
	t := time.NewTicker(s.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			s.writeMu.Lock()
			err := conn.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
			s.writeMu.Unlock()
			if err != nil {
				return
			}
		}
	}
}

func (s *Server) write(conn *websocket.Conn, v any) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return conn.WriteJSON(v)
}

// send writes an envelope to the current connection, if there is one. It
// stays pending until acknowledged.
func (s *Server) send(e *envelope, retry bool) {
	s.mu.Lock()
	conn := s.pick()
	s.mu.Unlock()
	s.sendOn(conn, e, retry)
}

// pick returns the connection for the next envelope, or nil. Slack spreads
// envelopes over an app's connections. Call with s.mu held.
func (s *Server) pick() *websocket.Conn {
	if len(s.conns) == 0 {
		return nil
	}
	conn := s.conns[s.next%len(s.conns)]
	s.next++
	return conn
}

// sendOn writes e to conn (none: it waits for the next connection).
func (s *Server) sendOn(conn *websocket.Conn, e *envelope, retry bool) {
	s.mu.Lock()
	if retry {
		e.retries++
	}
	e.sentAt, e.conn = time.Now(), conn
	if _, ok := s.firstSent[e.id]; !ok && conn != nil {
		s.firstSent[e.id] = e.sentAt
	}
	msg := map[string]any{"envelope_id": e.id, "type": e.kind, "payload": e.payload,
		"accepts_response_payload": e.kind != "events_api", "retry_attempt": e.retries}
	if e.retries > 0 {
		msg["retry_reason"] = "timeout"
	}
	s.mu.Unlock()
	if conn != nil {
		s.write(conn, msg)
	}
}

// redeliverLoop resends envelopes that stayed unacknowledged too long.
func (s *Server) redeliverLoop() {
	for {
		time.Sleep(100 * time.Millisecond)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		var due []*envelope
		if s.RedeliverAfter > 0 && len(s.conns) > 0 {
			for _, e := range s.pending {
				if time.Since(e.sentAt) > s.RedeliverAfter {
					due = append(due, e)
				}
			}
		}
		s.mu.Unlock()
		for _, e := range due {
			s.send(e, true)
		}
	}
}

// enqueue creates an envelope and sends it (or keeps it for the next
// connection) and returns its id.
func (s *Server) enqueue(kind string, payload any) string {
	s.mu.Lock()
	e := &envelope{id: s.nextID("env-"), kind: kind, payload: payload}
	s.pending = append(s.pending, e)
	s.envelopes[e.id] = e
	conn := s.pick() // with the append: a connection joining now resends it or gets it here, not both
	s.mu.Unlock()
	s.sendOn(conn, e, false)
	return e.id
}

// DropConnection closes the socket without a word, as a network failure
// would. The client is expected to reconnect.
func (s *Server) DropConnection() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, conn := range conns {
		conn.Close()
	}
}

// SetMaxConnections lets an app hold n Socket Mode connections at once
// (Slack allows up to 10), over which envelopes are spread; the default is
// 1, where a new connection replaces the old.
func (s *Server) SetMaxConnections(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxConns = min(n, 10)
}

// OpenConnections is how many sockets are open now.
func (s *Server) OpenConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// SendDisconnect asks the client to reconnect, as Slack does before it
// rotates a connection.
func (s *Server) SendDisconnect() {
	s.mu.Lock()
	conns := slices.Clone(s.conns)
	s.mu.Unlock()
	for _, conn := range conns {
		s.write(conn, map[string]any{"type": "disconnect", "reason": "refresh_requested", "debug_info": map[string]any{"host": "fake-slack"}})
	}
}

// Connections returns how many socket connections were accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connSeq
}

// Connected reports whether a client is connected now.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns) > 0
}

// SendAgain writes envelope id again under the same id, with the next
// retry_attempt, as Slack does when it did not hear the acknowledgement in
// time: an acknowledgement already read counts as lost. The envelope is
// pending again until acknowledged. It reports whether id was ever made.
func (s *Server) SendAgain(id string) bool {
	s.mu.Lock()
	e, ok := s.envelopes[id]
	if ok && !slices.Contains(s.pending, e) {
		s.pending = append(s.pending, e)
	}
	s.mu.Unlock()
	if ok {
		s.send(e, true)
	}
	return ok
}
