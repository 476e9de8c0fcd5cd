package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
)

// Links signs acknowledgement links: a token names one page and one
// person and expires. Acknowledging is once by nature: the first use
// acknowledges the page, and every later one is told it is acknowledged
// already, by whom.
type Links struct {
	Key []byte        // notifications.link_secret
	TTL time.Duration // how long a link works (default 24h)
}

// ErrLink is a token that is not klaxon's, was changed, or expired.
var ErrLink = errors.New("this acknowledgement link is not valid or has expired; acknowledge in chat")

func (l *Links) ttl() time.Duration {
	if l.TTL > 0 {
		return l.TTL
	}
	return 24 * time.Hour
}

// Token is the token for page and person, made at now.
func (l *Links) Token(page uuid.UUID, person string, now time.Time) string {
	payload := make([]byte, 0, 24+len(person))
	payload = append(payload, page[:]...)
	payload = binary.BigEndian.AppendUint64(payload, uint64(now.Add(l.ttl()).Unix()))
	payload = append(payload, person...)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(l.mac(payload))
}

func (l *Links) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, l.Key)
	m.Write([]byte("klaxon ack link v1\x00"))
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// Check reads a token: the page and person it names, if it is signed
// with this key and has not expired at now.
func (l *Links) Check(token string, now time.Time) (uuid.UUID, string, error) {
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return uuid.Nil, "", ErrLink
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(s)
	if err1 != nil || err2 != nil || len(payload) < 25 || !hmac.Equal(sig, l.mac(payload)) {
		return uuid.Nil, "", ErrLink
	}
	if now.Unix() > int64(binary.BigEndian.Uint64(payload[16:24])) {
		return uuid.Nil, "", ErrLink
	}
	id, _ := uuid.FromBytes(payload[:16])
	return id, string(payload[24:]), nil
}

// AckURL is the acknowledgement link for d under public, or "" without
// a public URL.
func AckURL(public string, links *Links, d bot.Delivery, now time.Time) string {
	if public == "" || links == nil {
		return ""
	}
	return public + "/ack/" + url.PathEscape(links.Token(d.PageID, d.Person, now))
}

// shortRef is six hex digits of key: enough to tell apart the texts
// klaxon sent one phone in a few minutes.
func shortRef(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:3])
}
