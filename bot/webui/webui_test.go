package webui

import "testing"

// A sign-in's return address only ever goes back into the console.
func TestSafeReturn(t *testing.T) {
	u := &UI{cfg: Config{BasePath: "/k/app"}}
	for in, want := range map[string]string{
		"/k/app/incidents/4?show=pages": "/k/app/incidents/4?show=pages",
		"":                              "/k/app/",
		"https://evil.example.com/":     "/k/app/",
		"//evil.example.com/x":          "/k/app/",
		"/\\evil.example.com":           "/k/app/",
		"/app\r\nSet-Cookie: x=1":       "/k/app/",
		"javascript:alert(1)":           "/k/app/",
	} {
		if got := u.safeReturn(in); got != want {
			t.Errorf("safeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}
