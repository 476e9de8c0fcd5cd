package subscribe_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/subscribe"
)

// mailbox records what was sent; refuse makes the next sends fail.
type mailbox struct {
	mu     sync.Mutex
	sent   []bot.Mail
	keys   []string
	refuse bool
}

func (m *mailbox) SendMail(_ context.Context, key string, mail bot.Mail) bot.SendResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refuse {
		return bot.SendResult{Err: fmt.Errorf("421 try later")}
	}
	m.sent, m.keys = append(m.sent, mail), append(m.keys, key)
	return bot.SendResult{Sent: true}
}

// take returns and forgets what was sent.
func (m *mailbox) take() []bot.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sent
	m.sent = nil
	return out
}

type env struct {
	*commandstest.Env
	subs *subscribe.Subscriptions
	box  *mailbox
}

func newEnv(t *testing.T) *env {
	e := commandstest.New(t, commandstest.Services("payments", "search"))
	box := &mailbox{}
	subs := subscribe.New(e.Store, subscribe.Config{Title: "Acme Status", PublicURL: "https://status.example.com/",
		Secret: []byte("0123456789abcdef0123"), Services: bot.Services{{ID: "payments", Name: "Payments"}, {ID: "search", Name: "Search"}},
		Mailer: box, Wake: e.Wake}, e.Clock, zerolog.Nop())
	e.Incidents.Follow(subs)
	e.Outbox.Handle(bot.OpStatusNotice, subs)
	e.Outbox.Handle(bot.OpStatusMail, subs)
	return &env{Env: e, subs: subs, box: box}
}

var linkRE = regexp.MustCompile(`https://status\.example\.com/status/(confirm|unsubscribe)\?t=(\S+)`)

// link finds the token of the kind of link in a mail.
func link(t *testing.T, m bot.Mail, kind string) string {
	t.Helper()
	for _, l := range linkRE.FindAllStringSubmatch(m.Body, -1) {
		if l[1] == kind {
			return l[2]
		}
	}
	t.Fatalf("no %s link in %q", kind, m.Body)
	return ""
}

// subscribe runs the whole opt-in for addr and returns its confirmation.
func (e *env) subscribe(t *testing.T, addr string, services ...string) {
	t.Helper()
	if err := e.subs.Request(context.Background(), addr, services, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	e.Drain()
	mails := e.box.take()
	if len(mails) != 1 || mails[0].To != addr {
		t.Fatalf("confirmation mails = %+v", mails)
	}
	if _, _, err := e.subs.Confirm(context.Background(), link(t, mails[0], "confirm"), "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
}

func (e *env) subscribers(t *testing.T) int {
	t.Helper()
	n, err := e.Store.CountSubscribers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDoubleOptInStoresOnlyConfirmedAddresses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.subs.Request(ctx, "ann@example.com", []string{"Payments"}, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	e.Drain()
	mails := e.box.take()
	if len(mails) != 1 {
		t.Fatalf("mails = %+v", mails)
	}
	m := mails[0]
	if m.To != "ann@example.com" || m.Subject != "Confirm your subscription to Acme Status" || !strings.Contains(m.Body, "for Payments") {
		t.Errorf("confirmation = %+v", m)
	}
	if n := e.subscribers(t); n != 0 {
		t.Fatalf("%d subscribers before confirming", n)
	}
	token := link(t, m, "confirm")
	addr, services, err := e.subs.ReadConfirm(token, "192.0.2.9")
	if err != nil || addr != "ann@example.com" || !slices.Equal(services, []string{"Payments"}) {
		t.Fatalf("ReadConfirm = %q %v %v", addr, services, err)
	}
	if n := e.subscribers(t); n != 0 {
		t.Fatalf("reading the link subscribed: %d", n)
	}
	if _, _, err := e.subs.Confirm(ctx, token, "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.subs.Confirm(ctx, token, "192.0.2.9"); err != nil { // a second click changes nothing
		t.Fatal(err)
	}
	if n := e.subscribers(t); n != 1 {
		t.Fatalf("subscribers = %d, want 1", n)
	}

	// A link that was changed, or whose time ran out, subscribes nobody.
	forged := strings.Replace(token, token[:4], "AAAA", 1)
	if _, _, err := e.subs.Confirm(ctx, forged, "192.0.2.9"); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("a forged link: %v", err)
	}
	if err := e.subs.Request(ctx, "bo@example.com", nil, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	e.Drain()
	late := link(t, e.box.take()[0], "confirm")
	e.Clock.Advance(subscribe.DefaultConfirmTTL + time.Minute)
	if _, _, err := e.subs.Confirm(ctx, late, "192.0.2.9"); err == nil || !strings.Contains(bot.ErrorMessage(err), "expired") {
		t.Errorf("an expired link: %v", err)
	}
	// An unsubscribe link is no confirmation link.
	if _, _, err := e.subs.Confirm(ctx, strings.TrimPrefix(e.subs.UnsubscribeURL(bot.SubscriberID("x@example.com")), "https://status.example.com/status/unsubscribe?t="), "192.0.2.9"); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("an unsubscribe token confirmed: %v", err)
	}
	if n := e.subscribers(t); n != 1 {
		t.Fatalf("subscribers = %d, want 1", n)
	}
}

func TestRequestsAreCheckedAndLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, c := range []struct{ addr, service, want string }{
		{"not an address", "", "email: enter one email address"},
		{"Ann <ann@example.com>", "", "email:"},
		{"ann@example.com\r\nBcc: all@example.com", "", "email:"},
		{"ann@localhost", "", "email:"},
		{"ann@example.com", "billing", `service: there is no service "billing"`},
	} {
		var services []string
		if c.service != "" {
			services = []string{c.service}
		}
		err := e.subs.Request(ctx, c.addr, services, "192.0.2.50")
		if bot.ErrorCode(err) != bot.EINVALID || !strings.Contains(bot.ErrorMessage(err), c.want) {
			t.Errorf("Request(%q, %q) = %v, want %q", c.addr, c.service, err, c.want)
		}
	}
	e.Drain()
	if mails := e.box.take(); len(mails) != 0 {
		t.Fatalf("bad requests sent %d mails", len(mails))
	}

	// One address gets PerAddress confirmation mails a day, whoever asks;
	// later requests are answered alike and send nothing.
	for i := range subscribe.PerAddress + 2 {
		if err := e.subs.Request(ctx, "carol@example.com", nil, fmt.Sprintf("198.51.100.%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	e.Drain()
	if mails := e.box.take(); len(mails) != subscribe.PerAddress {
		t.Errorf("%d confirmation mails to one address, want %d", len(mails), subscribe.PerAddress)
	}

	// One client gets PerClient requests an hour; then 429 until the
	// window ends.
	for i := range subscribe.PerClient {
		if err := e.subs.Request(ctx, fmt.Sprintf("u%d@example.com", i), nil, "203.0.113.7"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	err := e.subs.Request(ctx, "one-more@example.com", nil, "203.0.113.7")
	if bot.ErrorCode(err) != bot.ETOOMANY || bot.HTTPStatus(err) != 429 {
		t.Fatalf("request past the limit: %v", err)
	}
	// Guessing links counts as asking too.
	if _, _, err := e.subs.ReadConfirm("guess.guess", "203.0.113.7"); bot.ErrorCode(err) != bot.ETOOMANY {
		t.Errorf("a bad link past the limit: %v", err)
	}
	e.Clock.Advance(subscribe.ClientWindow)
	if err := e.subs.Request(ctx, "one-more@example.com", nil, "203.0.113.7"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestPublicChangesAreMailedToWhoWantsThem(t *testing.T) {
	e := newEnv(t)
	e.subscribe(t, "all@example.com")
	e.subscribe(t, "pay@example.com", "payments")
	e.subscribe(t, "search@example.com", "search")

	e.Do("alice", "general", "/incident declare Checkout is down sev:1 service:payments")
	ch := e.Incident(1).Channel.ID
	e.Do("alice", "general", "/incident declare Token leak sev:1 service:payments private")
	e.Do("alice", e.Incident(2).Channel.ID, "/incident resolve")
	e.Do("alice", ch, "/incident update internal: bad deploy of api-7")
	e.Do("alice", ch, "/incident update --public Card payments fail; we are rolling back")
	e.Do("alice", ch, "/incident resolve rolled back api-7 after the bad deploy")
	e.Do("alice", ch, "/incident reopen errors again")

	got := map[string][]string{}
	for _, m := range e.box.take() {
		got[m.To] = append(got[m.To], m.Subject)
	}
	want := []string{
		"[Acme Status] Investigating: INC-1 Checkout is down",
		"[Acme Status] Update: INC-1 Checkout is down",
		"[Acme Status] Resolved: INC-1 Checkout is down",
		"[Acme Status] Reopened: INC-1 Checkout is down",
	}
	for _, addr := range []string{"all@example.com", "pay@example.com"} {
		if !slices.Equal(got[addr], want) {
			t.Errorf("%s got:\n%s\nwant:\n%s", addr, strings.Join(got[addr], "\n"), strings.Join(want, "\n"))
		}
	}
	if len(got["search@example.com"]) != 0 {
		t.Errorf("a search subscriber got payments mail: %v", got["search@example.com"])
	}
}

func TestNoticeMailSaysOnlyWhatIsPublic(t *testing.T) {
	e := newEnv(t)
	e.subscribe(t, "ann@example.com", "payments")
	e.Do("alice", "general", "/incident declare Checkout is down sev:1 service:payments")
	ch := e.Incident(1).Channel.ID
	e.Do("alice", ch, "/incident update internal: bob's deploy of api-7 broke it")
	e.Do("alice", ch, "/incident update --public Card payments fail; we are rolling back")
	e.Do("alice", ch, "/incident resolve rolled back api-7 (bob)")
	mails := e.box.take()
	if len(mails) != 3 {
		t.Fatalf("mails = %d", len(mails))
	}
	for _, m := range mails {
		if strings.Contains(m.Body, "bob") || strings.Contains(m.Body, "api-7") || strings.Contains(m.Body, ch) {
			t.Errorf("a mail leaks what is not public:\n%s", m.Body)
		}
		unsub := "https://status.example.com/status/unsubscribe?t=" + link(t, m, "unsubscribe")
		if m.Headers["List-Unsubscribe"] != "<"+unsub+">" || m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
			t.Errorf("headers = %v", m.Headers)
		}
		if m.Headers["List-Id"] != `"Acme Status" <status.status.example.com>` {
			t.Errorf("List-Id = %q", m.Headers["List-Id"])
		}
		if !strings.Contains(m.Body, "https://status.example.com/status#INC-1") || !strings.Contains(m.Body, "subscribed to Payments on Acme Status") {
			t.Errorf("body:\n%s", m.Body)
		}
	}
	if !strings.Contains(mails[1].Body, "Card payments fail; we are rolling back") || !strings.Contains(mails[1].Body, "Severity: SEV1") {
		t.Errorf("the update's mail:\n%s", mails[1].Body)
	}
}

func TestUnsubscribeEndsMailAndDropsWhatIsQueued(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.subscribe(t, "ann@example.com")
	e.subscribe(t, "bo@example.com")
	// The mail server is down: the notices' mails wait in the outbox.
	e.box.refuse = true
	e.Do("alice", "general", "/incident declare Checkout is down sev:1 service:payments")
	e.Do("alice", e.Incident(1).Channel.ID, "/incident update --public Card payments fail")
	token := strings.TrimPrefix(e.subs.UnsubscribeURL(bot.SubscriberID("ANN@example.com")), "https://status.example.com/status/unsubscribe?t=")
	if err := e.subs.CheckUnsubscribe(token, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if err := e.subs.Unsubscribe(ctx, token, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if err := e.subs.Unsubscribe(ctx, token, "192.0.2.1"); err != nil { // a second click is fine
		t.Fatal(err)
	}
	if n := e.subscribers(t); n != 1 {
		t.Fatalf("subscribers = %d, want 1", n)
	}
	e.box.mu.Lock()
	e.box.refuse = false
	e.box.mu.Unlock()
	e.Wait(time.Hour)
	for _, m := range e.box.take() {
		if m.To != "bo@example.com" {
			t.Errorf("a mail to %s after unsubscribing: %s", m.To, m.Subject)
		}
	}
	if err := e.subs.Unsubscribe(ctx, token+"x", "192.0.2.1"); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("a changed unsubscribe link: %v", err)
	}
}

func TestAlertDeclaredIncidentsAreMailedOnlyOncePublic(t *testing.T) {
	e := newEnv(t)
	e.subscribe(t, "ann@example.com")
	// An unlisted incident (as alerts declare them) is not on the status
	// page, so it is not mailed until a person posts a public update.
	err := e.Store.Update(context.Background(), func(tx bot.Tx) error {
		inc := &bot.Incident{ID: bot.NewID(), Title: "High error rate", Severity: bot.DefaultSeverities()[1], Status: bot.StatusOpen,
			Platform: bot.PlatformConsole, Unlisted: true, DeclaredAt: e.Clock.Now(), UpdatedAt: e.Clock.Now()}
		return tx.CreateIncident(inc)
	})
	if err != nil {
		t.Fatal(err)
	}

	e.Do("alice", "general", "/incident update INC-1 looking")
	if mails := e.box.take(); len(mails) != 0 {
		t.Fatalf("an unlisted incident was mailed: %+v", mails)
	}
	e.Do("alice", "general", "/incident update INC-1 --public Some requests fail")
	mails := e.box.take()
	if len(mails) != 1 || !strings.Contains(mails[0].Subject, "Update: INC-1 High error rate") {
		t.Fatalf("mails = %+v", mails)
	}
}

func TestParseAddress(t *testing.T) {
	for in, ok := range map[string]bool{
		"ann@example.com": true, " ann@example.com ": true, "a.b+c@sub.example.co.uk": true,
		"": false, "ann": false, "ann@": false, "@example.com": false, "ann@example": false, "ann@.example.com": false,
		"ann@example.com.": false, "ann@example.com, bo@example.com": false, `"Ann" <ann@example.com>`: false,
		"ann@exa mple.com": false, strings.Repeat("a", 250) + "@example.com": false,
	} {
		got, err := subscribe.ParseAddress(in)
		if (err == nil) != ok || (ok && got != strings.TrimSpace(in)) {
			t.Errorf("ParseAddress(%q) = %q, %v; want ok=%v", in, got, err, ok)
		}
	}
}

func TestLinksStayWithTheirSecret(t *testing.T) {
	e := newEnv(t)
	other := subscribe.New(e.Store, subscribe.Config{Title: "Acme Status", PublicURL: "https://status.example.com",
		Secret: []byte("another secret of twenty"), Mailer: e.box, Wake: e.Wake}, e.Clock, zerolog.Nop())
	u, err := url.Parse(other.UnsubscribeURL(bot.SubscriberID("ann@example.com")))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.subs.CheckUnsubscribe(u.Query().Get("t"), "192.0.2.1"); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("a link signed with another secret: %v", err)
	}
}

// TestANoticeToManyIsWrittenInParts: 1,200 subscribers get one mail each,
// written FanOutPart at a time, in order.
func TestANoticeToManyIsWrittenInParts(t *testing.T) {
	e := newEnv(t)
	err := e.Store.Update(context.Background(), func(tx bot.Tx) error {
		for i := range 1200 {
			addr := fmt.Sprintf("user%d@example.com", i)
			if err := tx.PutSubscriber(&bot.Subscriber{ID: bot.SubscriberID(addr), Email: addr, Confirmed: e.Clock.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Do("alice", "general", "/incident declare Checkout is down sev:1 service:payments")
	e.Do("alice", e.Incident(1).Channel.ID, "/incident update --public Card payments fail")
	per := map[string][]string{}
	for _, m := range e.box.take() {
		per[m.To] = append(per[m.To], strings.SplitN(m.Subject, ": ", 2)[0])
	}
	if len(per) != 1200 {
		t.Fatalf("%d addresses got mail, want 1200", len(per))
	}
	for addr, subjects := range per {
		if !slices.Equal(subjects, []string{"[Acme Status] Investigating", "[Acme Status] Update"}) {
			t.Fatalf("%s got %v", addr, subjects)
		}
	}
}
