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
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/klaxon-bot/klaxon/bot/notify"
)

// mailpitBinary finds Mailpit (installed by .ci/run and the README's test
// set-up with go install github.com/axllent/mailpit@v1.33.1).
func mailpitBinary(t *testing.T) string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("Mailpit is not installed: go install github.com/axllent/mailpit@v1.33.1 (see the README's test set-up)")
	return ""
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

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
	bin := mailpitBinary(t)
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret-smtp"), bcrypt.MinCost)
	auth := filepath.Join(dir, "auth")
	os.WriteFile(auth, []byte("klaxon:"+string(hash)+"\n"), 0o600)
	smtpAddr, httpAddr := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--smtp", smtpAddr, "--listen", httpAddr, "--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, "--smtp-require-starttls", "--smtp-auth-file", auth, "--smtp-disable-rdns")
	logf, _ := os.Create(filepath.Join(dir, "mailpit.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("tcp", smtpAddr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "mailpit.log"))
			t.Fatalf("Mailpit did not start:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	host, port, _ := net.SplitHostPort(smtpAddr)
	var portN int
	fmt.Sscan(port, &portN)
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
	var list struct {
		Messages []struct {
			ID      string
			Subject string
			To      []struct{ Address string }
		} `json:"messages"`
	}
	getJSON(t, "http://"+httpAddr+"/api/v1/messages", &list)
	if len(list.Messages) != 1 || list.Messages[0].Subject != "📟 Paged: private incident INC-7 (SEV1)" || list.Messages[0].To[0].Address != "alice@example.com" {
		t.Fatalf("Mailpit has %+v", list)
	}
	var msg struct {
		Text      string
		MessageID string
	}
	getJSON(t, "http://"+httpAddr+"/api/v1/message/"+list.Messages[0].ID, &msg)
	if !strings.Contains(msg.Text, "https://klaxon.example.com/ack/") || strings.Contains(msg.Text, "inc-7-secret") ||
		msg.MessageID != notify.MessageID(d.Key, e.From) {
		t.Fatalf("the mail reads:\n%s\n(Message-ID %s)", msg.Text, msg.MessageID)
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

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
