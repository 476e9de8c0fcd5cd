//go:build integration

package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/notify"
	"github.com/klaxon-bot/klaxon/bot/notify/notifytest"
)

// selfSigned writes a certificate for 127.0.0.1 and localhost, and
// returns the pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// secureMailpit starts Mailpit requiring STARTTLS (a certificate the
// returned pool trusts) and the password s3cret-smtp for the user klaxon.
func secureMailpit(t *testing.T) (*notifytest.Mailpit, *x509.CertPool) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret-smtp"), bcrypt.MinCost)
	auth := filepath.Join(dir, "auth")
	os.WriteFile(auth, []byte("klaxon:"+string(hash)+"\n"), 0o600)
	return notifytest.StartMailpit(t, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-require-starttls", "--smtp-auth-file", auth), pool
}

// TestEmailThroughMailpit sends a page by email to a real SMTP server
// (Mailpit) that requires STARTTLS and a password, and reads the
// delivered message back from Mailpit's API.
func TestEmailThroughMailpit(t *testing.T) {
	mp, pool := secureMailpit(t)
	host, portN := "127.0.0.1", mp.Port()
	// Settings are read once (a reload makes a new Email), so each
	// variant below is an Email of its own.
	email := func(password, security string) *notify.Email {
		return &notify.Email{Host: host, Port: portN, Security: security, Username: "klaxon", Password: password,
			From: "klaxon@example.com", TLS: &tls.Config{RootCAs: pool, ServerName: "localhost"},
			PublicURL: "https://klaxon.example.com", Links: &notify.Links{Key: []byte("k")}}
	}
	e := email("s3cret-smtp", notify.SMTPStartTLS)
	ctx := context.Background()
	if err := e.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	d := delivery("p:0:0:alice:email", "alice@example.com")
	d.Summary, d.Private = "private incident INC-7 (SEV1)", true
	d.Detail = "service payments · channel #inc-7-secret"
	if res := e.Send(ctx, d); !res.Sent {
		t.Fatalf("send: %+v", res)
	}
	list := mp.Messages()
	if len(list) != 1 || list[0].Subject != "📟 Paged: private incident INC-7 (SEV1)" || list[0].To[0].Address != "alice@example.com" {
		t.Fatalf("Mailpit has %+v", list)
	}
	msg := mp.Message(list[0].ID)
	if !strings.Contains(msg.Text, "https://klaxon.example.com/ack/") || strings.Contains(msg.Text, "inc-7-secret") ||
		msg.MessageID != notify.MessageID(d.Key, e.From) || msg.Headers["Auto-Submitted"][0] != "auto-generated" {
		t.Fatalf("the mail reads:\n%s\n(Message-ID %s, headers %v)", msg.Text, msg.MessageID, msg.Headers)
	}

	// A wrong password is refused for good and names no secret.
	e = email("wrong", notify.SMTPStartTLS)
	res := e.Send(ctx, d)
	if res.Sent || !res.Permanent || strings.Contains(res.Err.Error(), "wrong") {
		t.Fatalf("a wrong password: %+v", res)
	}
	if err := e.Check(ctx); err == nil {
		t.Fatal("check passed with a wrong password")
	}
	// Without STARTTLS the server is not spoken to in the clear.
	e = email("s3cret-smtp", notify.SMTPNone)
	if res := e.Send(ctx, d); res.Sent {
		t.Fatal("a mail went out without STARTTLS to a server that requires it")
	}
}

// relay forwards connections on 127.0.0.1 to addr, counting them; Drop
// closes every connection open, as a server closing idle sessions does.
type relay struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	n     int
}

func startRelay(t *testing.T, addr string) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	t.Cleanup(func() { ln.Close(); r.Drop() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, up)
			r.n++
			r.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return r
}

func (r *relay) Port() int { return r.ln.Addr().(*net.TCPAddr).Port }

// Sessions counts the connections made through the relay.
func (r *relay) Sessions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *relay) Drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	r.conns = nil
}

// TestEmailKeepsSessionsOpen sends 40 mails, 8 at a time, through a
// relay that counts SMTP sessions to Mailpit (STARTTLS and a password):
// every mail arrives, on at most 8 sessions, not 40. When the server
// closes the sessions kept open, the next mail goes out on a new one.
func TestEmailKeepsSessionsOpen(t *testing.T) {
	mp, pool := secureMailpit(t)
	r := startRelay(t, net.JoinHostPort("127.0.0.1", fmt.Sprint(mp.Port())))
	e := &notify.Email{Host: "127.0.0.1", Port: r.Port(), Security: notify.SMTPStartTLS, Username: "klaxon", Password: "s3cret-smtp",
		From: "klaxon@example.com", TLS: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
	ctx := context.Background()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				if res := e.SendMail(ctx, fmt.Sprint("m", i), bot.Mail{To: fmt.Sprintf("s%d@example.com", i), Subject: fmt.Sprint("update ", i), Body: "INC-1 is resolved."}); !res.Sent {
					t.Errorf("mail %d: %+v", i, res)
				}
			}
		})
	}
	for i := range 40 {
		work <- i
	}
	close(work)
	wg.Wait()
	if n := len(mp.Messages()); n != 40 {
		t.Fatalf("Mailpit has %d mails, want 40", n)
	}
	if n := r.Sessions(); n > 8 {
		t.Errorf("40 mails, 8 at a time, opened %d SMTP sessions; want at most 8", n)
	}

	r.Drop()
	if res := e.SendMail(ctx, "after-drop", bot.Mail{To: "late@example.com", Subject: "after the drop", Body: "still here"}); !res.Sent {
		t.Fatalf("the first mail after the server closed the sessions: %+v", res)
	}
	if n := len(mp.Messages()); n != 41 {
		t.Fatalf("Mailpit has %d mails after the drop, want 41", n)
	}
}
