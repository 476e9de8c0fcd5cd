package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddrBelievesOnlyTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	for _, c := range []struct {
		remote, xff string
		want        string
	}{
		{"203.0.113.9:5000", "", "203.0.113.9"},
		{"203.0.113.9:5000", "198.51.100.1", "203.0.113.9"},                     // an untrusted peer's header is ignored
		{"10.1.2.3:5000", "198.51.100.1", "198.51.100.1"},                       // a trusted proxy names the client
		{"10.1.2.3:5000", "192.0.2.66, 198.51.100.1, 10.9.9.9", "198.51.100.1"}, // the nearest untrusted hop, not a forged first one
		{"127.0.0.1:5000", "garbage, 198.51.100.1", "198.51.100.1"},
		{"10.1.2.3:5000", "", "10.1.2.3"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", "2001:db8:1:2::/64"}, // IPv6 by /64
		{"[::ffff:203.0.113.9]:80", "", "203.0.113.9"},
	} {
		r := httptest.NewRequest("POST", "/status/subscribe", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientAddr(r, trusted); got != c.want {
			t.Errorf("clientAddr(%s, %q) = %q, want %q", c.remote, c.xff, got, c.want)
		}
	}
}
