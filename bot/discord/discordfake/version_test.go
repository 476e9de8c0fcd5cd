package discordfake

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestOnlyTheCurrentAPIVersionIsServed: a REST call or a gateway session on
// v9 is refused as Discord refuses a version it does not serve, and
// recorded, so a test that slips back to an older version fails.
func TestOnlyTheCurrentAPIVersionIsServed(t *testing.T) {
	s := New(t, nil)
	resp, err := http.Get(strings.Replace(s.APIURL(), "/api/v10/", "/api/v9/", 1) + "gateway/bot")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /api/v9/gateway/bot = %d; want 400 (50041)", resp.StatusCode)
	}
	conn, _, err := websocket.DefaultDialer.Dial(s.GatewayURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4012 {
		t.Errorf("gateway on v=9: read = %v; want close 4012", err)
	}
	vs := s.TakeViolations()
	if len(vs) != 2 || vs[0].Code != 50041 || vs[1].Code != 4012 {
		t.Errorf("violations = %+v; want 50041 (REST) then 4012 (gateway)", vs)
	}
}
