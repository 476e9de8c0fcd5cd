package bot_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// TestOutboundClientKeepsItsConnections sends two waves of as many
// requests as the outbox has in flight to one destination, the first all
// at once. The second reuses the first's connections: Go's default keeps
// 2 per host, so a page storm dialled (a TCP and TLS handshake) for nearly
// every page.
func TestOutboundClientKeepsItsConnections(t *testing.T) {
	var dials atomic.Int64
	var arrived sync.WaitGroup
	arrived.Add(bot.MaxInFlight)
	var first atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.Add(1) <= bot.MaxInFlight {
			arrived.Done()
			done := make(chan struct{})
			go func() { arrived.Wait(); close(done) }()
			select { // the first wave is answered once all of it is in
			case <-done:
			case <-time.After(10 * time.Second):
			}
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := bot.OutboundClient(10 * time.Second)
	wave := func() {
		var wg sync.WaitGroup
		for range bot.MaxInFlight {
			wg.Go(func() {
				resp, err := client.Post(srv.URL, "application/json", nil)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	wave()
	if n := dials.Load(); n != bot.MaxInFlight {
		t.Fatalf("the first wave dialled %d connections, want %d (all at once)", n, bot.MaxInFlight)
	}
	wave()
	if n := dials.Load(); n != bot.MaxInFlight {
		t.Errorf("two waves dialled %d connections; the second should have reused the first's %d", n, bot.MaxInFlight)
	}
}
