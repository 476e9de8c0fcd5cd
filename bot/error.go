package bot

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. A code says what kind of failure happened; the Mux maps it to
// a reply once, at the edge.
const (
	EINVALID     = "invalid"     // the user's input is wrong; usage help follows
	ENOTFOUND    = "not_found"   // the thing asked for does not exist
	ECONFLICT    = "conflict"    // the request clashes with current state
	EFORBIDDEN   = "forbidden"   // the user may not do this
	EUNSUPPORTED = "unsupported" // the platform cannot do this
	EUNAVAILABLE = "unavailable" // a platform or service klaxon depends on failed; trying again may work
	EREFUSED     = "refused"     // a platform refused the request for good (a 4xx other than 429)
	EINTERNAL    = "internal"    // klaxon failed; details are in the log only
	ETOOMANY     = "too_many"    // the caller asked too often; RetryAfter says when to ask again
)

// Error is an error whose Message is safe to show to a user in chat. Err, if
// set, carries internal detail for the log and is never shown.
type Error struct {
	Code    string
	Message string
	Err     error
	// RetryAfter is how long the platform asked klaxon to wait (a 429).
	RetryAfter time.Duration
	// Field names the input that is wrong, when one is (the API's
	// problem details say it): title, severity, fields.<id>, …
	Field string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps err as an internal failure. The user sees msg; the log sees err.
func Internal(err error, msg string) *Error {
	return &Error{Code: EINTERNAL, Message: msg, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err. Errors that carry no
// user-safe message get a generic one, so internals never reach chat.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok && e.Message != "" {
		return e.Message
	}
	return "Something went wrong inside klaxon. The details are in its log."
}

// Transient reports whether trying err's call again may work, and how
// long the platform asked to wait, if it did. Refusals (a 4xx other than
// 429), missing things, bad input and what the platform cannot do are
// final; anything else (unreachable, 5xx, 429, klaxon's own trouble) may
// pass.
func Transient(err error) (bool, time.Duration) {
	if e, ok := errors.AsType[*Error](err); ok {
		switch e.Code {
		case EREFUSED, ENOTFOUND, EINVALID, EFORBIDDEN, EUNSUPPORTED, ECONFLICT:
			return false, 0
		}
		return true, e.RetryAfter
	}
	return err != nil, 0
}

// HTTPStatus is the HTTP status that answers an error with code: 404,
// 400, 403, 409, else 500.
func HTTPStatus(err error) int {
	switch ErrorCode(err) {
	case ENOTFOUND:
		return 404
	case EINVALID:
		return 400
	case EFORBIDDEN:
		return 403
	case ECONFLICT:
		return 409
	case ETOOMANY:
		return 429
	}
	return 500
}
