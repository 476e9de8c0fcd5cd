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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

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

// TestEmailThroughMailpit sends a page by email to a real SMTP server
// (Mailpit) that requires STARTTLS and a password, and reads the
// delivered message back from Mailpit's API.
func TestEmailThroughMailpit(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret-smtp"), bcrypt.MinCost)
	auth := filepath.Join(dir, "auth")
	os.WriteFile(auth, []byte("klaxon:"+string(hash)+"\n"), 0o600)
	mp := notifytest.StartMailpit(t, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-require-starttls", "--smtp-auth-file", auth)
	host, portN := "127.0.0.1", mp.Port()
	e := &notify.Email{Host: host, Port: portN, Security: notify.SMTPStartTLS, Username: "klaxon", Password: "s3cret-smtp",
		From: "klaxon@example.com", TLS: &tls.Config{RootCAs: pool, ServerName: "localhost"},
		PublicURL: "https://klaxon.example.com", Links: &notify.Links{Key: []byte("k")}}
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
	e.Password = "wrong"
	res := e.Send(ctx, d)
	if res.Sent || !res.Permanent || strings.Contains(res.Err.Error(), "wrong") {
		t.Fatalf("a wrong password: %+v", res)
	}
	if err := e.Check(ctx); err == nil {
		t.Fatal("check passed with a wrong password")
	}
	// Without STARTTLS the server is not spoken to in the clear.
	e.Password, e.Security = "s3cret-smtp", notify.SMTPNone
	if res := e.Send(ctx, d); res.Sent {
		t.Fatal("a mail went out without STARTTLS to a server that requires it")
	}
}
