package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// AlertIntake records decoded alerts; commands.Alerts implements it.
type AlertIntake interface {
	Intake(ctx context.Context, alerts []bot.Alert) (bot.AlertReceipt, error)
}

// Source is how one alert source proves itself. A source with a token
// or a username accepts either credential; a source with an HMAC secret
// (Grafana) must also sign the body.
type Source struct {
	Token      string // Authorization: Bearer <token>
	Username   string // Authorization: Basic
	Password   string
	HMACSecret string // Grafana: X-Grafana-Alerting-Signature
	// HMACWithoutTimestamp accepts a signature over the body alone, with
	// no X-Grafana-Alerting-Timestamp: such a request can be replayed for
	// ever, so it is an explicit opt-in.
	HMACWithoutTimestamp bool
}

// Open reports whether the source takes alerts from anyone who can reach
// the listener.
func (s Source) Open() bool { return s.Token == "" && s.Username == "" && s.HMACSecret == "" }

// Grafana's signature headers and how old a signed timestamp may be.
const (
	GrafanaSignatureHeader = "X-Grafana-Alerting-Signature"
	GrafanaTimestampHeader = "X-Grafana-Alerting-Timestamp"
	maxSignatureAge        = 5 * time.Minute
)

// decoders are the alert endpoints: /alerts/<source>.
var decoders = map[string]func([]byte) ([]bot.Alert, error){
	"alertmanager": DecodeAlertmanager,
	"grafana":      DecodeGrafana,
	"generic":      DecodeGeneric,
}

// alertHandler serves POST /alerts/{source}. Bad payloads get a 4xx with
// the reason and nothing is written; Alertmanager retries only 5xx, which
// klaxon answers only when its own store fails.
func alertHandler(intake AlertIntake, sources map[string]Source, clock bot.Clock, log zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("source")
		decode, known := decoders[name]
		src, enabled := sources[name]
		if !known || !enabled {
			jsonError(w, http.StatusNotFound, fmt.Sprintf("alert source %q is not enabled (alerts.sources)", name))
			return
		}
		if !src.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon", Basic realm="klaxon"`)
			jsonError(w, http.StatusUnauthorized, "missing or wrong credentials for alert source "+name)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxAlertBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				jsonError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", MaxAlertBody))
				return
			}
			jsonError(w, http.StatusBadRequest, "could not read the body")
			return
		}
		if src.HMACSecret != "" {
			if err := verifyGrafana(src.HMACSecret, src.HMACWithoutTimestamp, r.Header, body, clock.Now()); err != nil {
				jsonError(w, http.StatusUnauthorized, err.Error())
				return
			}
		}
		alerts, err := decode(body)
		if err != nil {
			jsonError(w, http.StatusBadRequest, err.Error())
			return
		}
		receipt, err := intake.Intake(r.Context(), alerts)
		if err != nil {
			log.Error().Err(err).Str("source", name).Int("alerts", len(alerts)).Msg("alert intake failed")
			status := http.StatusServiceUnavailable // the sender retries
			if bot.ErrorCode(err) == bot.EINVALID {
				status = http.StatusUnprocessableEntity
			}
			jsonError(w, status, bot.ErrorMessage(err))
			return
		}
		log.Debug().Str("source", name).Int("alerts", len(alerts)).Int("declared", receipt.Declared).Msg("alerts received")
		writeJSON(w, http.StatusOK, receipt)
	})
}

// authorized checks the bearer token or basic credentials in constant time.
func (s Source) authorized(r *http.Request) bool {
	if s.Token == "" && s.Username == "" {
		return true
	}
	if s.Token != "" {
		if got, ok := bearer(r); ok && equal(got, s.Token) {
			return true
		}
	}
	if s.Username != "" {
		if u, p, ok := r.BasicAuth(); ok && equal(u, s.Username) && equal(p, s.Password) {
			return true
		}
	}
	return false
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return h[len(prefix):], true
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// GrafanaSignature is the hex HMAC-SHA256 Grafana sends: of the body, or
// of "<timestamp>:<body>" when a timestamp header is configured.
func GrafanaSignature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	if timestamp != "" {
		mac.Write([]byte(timestamp + ":"))
	}
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func verifyGrafana(secret string, withoutTimestamp bool, h http.Header, body []byte, now time.Time) error {
	got := h.Get(GrafanaSignatureHeader)
	if got == "" {
		return errors.New("the " + GrafanaSignatureHeader + " header is missing")
	}
	ts := h.Get(GrafanaTimestampHeader)
	if ts == "" && !withoutTimestamp {
		return errors.New("the " + GrafanaTimestampHeader + " header is missing: set the contact point's HMAC timestamp header to it (a signature without a time can be replayed for ever)")
	}
	if ts != "" {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return errors.New("the " + GrafanaTimestampHeader + " header is not a Unix time")
		}
		if age := now.Sub(time.Unix(sec, 0)); age > maxSignatureAge || age < -maxSignatureAge {
			return fmt.Errorf("the signature timestamp is %s away from klaxon's clock; the limit is %s", age.Round(time.Second), maxSignatureAge)
		}
	}
	want := GrafanaSignature(secret, ts, body)
	if !hmac.Equal([]byte(got), []byte(want)) {
		return errors.New("the signature does not match the body")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, reason string) {
	writeJSON(w, status, map[string]string{"error": reason})
}
