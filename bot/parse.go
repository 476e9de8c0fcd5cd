package bot

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxCommandBytes bounds a command line. Slack caps slash-command text at
// 4,000 characters; a longer line is refused, not truncated.
const MaxCommandBytes = 8000

// quotes maps each opening quote to its closing quote. Phones and macOS turn
// "…" into “…”, so the typographic forms count too.
var quotes = map[rune]rune{'"': '"', '\'': '\'', '“': '”', '”': '”', '‘': '’', '„': '“', '«': '»'}

// Tokenize splits a command line into words. Quotes group words:
// `declare "Checkout is down" sev:1` gives [declare, Checkout is down, sev:1],
// and a quote inside a word continues it: `service:"web api"` gives
// [service:web api]. Inside double quotes a backslash escapes the next
// character. Each word is normalized to NFC, so "é" typed as e + accent and
// as one character are the same word. The input must be valid UTF-8 without
// control characters.
func Tokenize(line string) ([]string, error) {
	if len(line) > MaxCommandBytes {
		return nil, Errorf(EINVALID, "That command is %d bytes long; the limit is %d.", len(line), MaxCommandBytes)
	}
	if !utf8.ValidString(line) {
		return nil, Errorf(EINVALID, "That command is not valid UTF-8 text.")
	}
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		closing rune // non-zero while inside quotes
		escaped bool
	)
	for _, r := range line {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return nil, Errorf(EINVALID, "That command contains a control character (U+%04X).", r)
		}
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case closing != 0 && r == '\\' && closing == '"':
			escaped = true
		case closing != 0 && r == closing:
			closing = 0
		case closing != 0:
			cur.WriteRune(r)
		case quotes[r] != 0:
			closing = quotes[r]
			inWord = true
		case unicode.IsSpace(r):
			if inWord {
				words = append(words, norm.NFC.String(cur.String()))
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if closing != 0 || escaped {
		return nil, Errorf(EINVALID, "A quote is not closed. Put quotes around the whole title, e.g. \"Checkout is down\".")
	}
	if inWord {
		words = append(words, norm.NFC.String(cur.String()))
	}
	return words, nil
}

// SplitOption reads a "key:value" word whose key is one of keys (any case).
// Words whose key is unknown are not options, so a title like
// "Error: disk full" stays a title.
func SplitOption(word string, keys ...string) (key, value string, ok bool) {
	k, v, found := strings.Cut(word, ":")
	if !found {
		return "", "", false
	}
	for _, want := range keys {
		if strings.EqualFold(k, want) {
			return want, v, true
		}
	}
	return "", "", false
}

// ligatures spells out letters that Unicode does not decompose into a base
// letter and an accent.
var ligatures = strings.NewReplacer("ß", "ss", "æ", "ae", "ø", "o", "œ", "oe", "đ", "d", "ł", "l", "þ", "th", "ð", "d")

// Slug turns text into a channel-name fragment that Slack and Discord both
// accept: lower-case ASCII letters, digits and single hyphens, at most max
// bytes, cut at a word boundary where possible. Accents are dropped
// ("Café" → "cafe", "Straße" → "strasse"); other scripts are left out.
func Slug(text string, max int) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFD.String(ligatures.Replace(strings.ToLower(text))) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// combining accent: drop it, keep the base letter
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			hyphen = true
		}
	}
	s := b.String()
	if len(s) <= max {
		return s
	}
	s = s[:max]
	if i := strings.LastIndexByte(s, '-'); i > max/2 {
		s = s[:i]
	}
	return strings.TrimRight(s, "-")
}

// maxLengthDays bounds the lengths ParseLength reads, far below where a
// time.Duration overflows.
const maxLengthDays = 3653

// ParseLength reads a length: 90m, 4h, 2d or 1w.
func ParseLength(s string) (time.Duration, error) {
	if n, unit := strings.TrimRight(s, "dw"), strings.TrimLeft(s, "0123456789"); (unit == "d" || unit == "w") && n != "" {
		v, err := strconv.Atoi(n)
		if err == nil && v > 0 {
			if unit == "w" && v <= maxLengthDays {
				v *= 7
			}
			if v > maxLengthDays {
				return 0, Errorf(EINVALID, "%q is longer than ten years.", s)
			}
			return time.Duration(v) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, Errorf(EINVALID, "%q is not a duration like 90m, 4h or 2d.", s)
	}
	return d, nil
}

// QuoteArg quotes s as one argument of a command line, so Tokenize reads
// it back whole: the web console and Discord's options build command
// lines with it.
func QuoteArg(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
