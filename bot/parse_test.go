package bot_test

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klaxon-bot/klaxon/bot"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{``, nil},
		{`   `, nil},
		{`declare Checkout is down`, []string{"declare", "Checkout", "is", "down"}},
		{`declare "Checkout is down" sev:1`, []string{"declare", "Checkout is down", "sev:1"}},
		{`declare 'single quoted' x`, []string{"declare", "single quoted", "x"}},
		{`declare “Smart quotes” sev:2`, []string{"declare", "Smart quotes", "sev:2"}},
		{`declare ‘curly single’`, []string{"declare", "curly single"}},
		{`service:"web api" x`, []string{"service:web api", "x"}},
		{`"say \"hi\""`, []string{`say "hi"`}},
		{`'it\'s'`, nil}, // backslash escapes only inside double quotes: unterminated
		{`""`, []string{""}},
		{`a  	 b`, []string{"a", "b"}},
		{`Zahlungsausfall 支付失败 🔥`, []string{"Zahlungsausfall", "支付失败", "🔥"}},
		{"e\u0301", []string{"é"}}, // combining accent composed to one rune
		{"multi\nline", []string{"multi", "line"}},
	}
	for _, tt := range tests {
		got, err := bot.Tokenize(tt.in)
		if tt.want == nil && tt.in != "" && strings.TrimSpace(tt.in) != "" {
			if err == nil {
				t.Errorf("Tokenize(%q) = %q; want an error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Tokenize(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenizeRefusesBadInput(t *testing.T) {
	tests := []struct {
		name, in, wantMsg string
	}{
		{"unterminated quote", `declare "Checkout is down`, "quote is not closed"},
		{"invalid utf-8", "declare \xff\xfe", "not valid UTF-8"},
		{"control character", "declare a\x00b", "control character"},
		{"oversized", "declare " + strings.Repeat("x", bot.MaxCommandBytes), "the limit is"},
	}
	for _, tt := range tests {
		_, err := bot.Tokenize(tt.in)
		if bot.ErrorCode(err) != bot.EINVALID || !strings.Contains(bot.ErrorMessage(err), tt.wantMsg) {
			t.Errorf("%s: err = %v; want invalid with %q", tt.name, err, tt.wantMsg)
		}
	}
}

func TestSplitOption(t *testing.T) {
	tests := []struct {
		word, key, val string
		ok             bool
	}{
		{"sev:1", "sev", "1", true},
		{"SEV:critical", "sev", "critical", true},
		{"service:", "service", "", true},
		{"Error:", "", "", false}, // unknown key: a title word
		{"https://example.com", "", "", false},
		{"plain", "", "", false},
	}
	for _, tt := range tests {
		k, v, ok := bot.SplitOption(tt.word, "sev", "service")
		if k != tt.key || v != tt.val || ok != tt.ok {
			t.Errorf("SplitOption(%q) = %q, %q, %v; want %q, %q, %v", tt.word, k, v, ok, tt.key, tt.val, tt.ok)
		}
	}
}

func TestSlug(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Checkout is down", 80, "checkout-is-down"},
		{"  API: 500s on /v2/pay!!  ", 80, "api-500s-on-v2-pay"},
		{"Café crème brûlée", 80, "cafe-creme-brulee"},
		{"支付失败", 80, ""},
		{"DB 支付 down", 80, "db-down"},
		{"a very long title that goes on and on", 20, "a-very-long-title"},
		{"abcdefghijklmnopqrstuvwxyz", 10, "abcdefghij"},
		{"--__--", 80, ""},
		{"ÆØÅ Straße Łódź", 80, "aeoa-strasse-lodz"},
	}
	for _, tt := range tests {
		got := bot.Slug(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("Slug(%q, %d) = %q; want %q", tt.in, tt.max, got, tt.want)
		}
		if len(got) > tt.max {
			t.Errorf("Slug(%q, %d) = %q is longer than %d", tt.in, tt.max, got, tt.max)
		}
	}
}

func TestParseMention(t *testing.T) {
	tests := []struct {
		in   string
		want bot.User
		ok   bool
	}{
		{"<@U024BE7LH>", bot.User{ID: "U024BE7LH"}, true},
		{"<@U024BE7LH|alice>", bot.User{ID: "U024BE7LH", Name: "alice"}, true},
		{"<@!80351110224678912>", bot.User{ID: "80351110224678912"}, true},
		{"<@80351110224678912>", bot.User{ID: "80351110224678912"}, true},
		{"@alice", bot.User{ID: "alice", Name: "alice"}, true},
		{"@zoë.b", bot.User{ID: "zoë.b", Name: "zoë.b"}, true},
		{"alice", bot.User{}, false},
		{"@", bot.User{}, false},
		{"<#C123>", bot.User{}, false},
		{"<@>", bot.User{}, false},
	}
	for _, tt := range tests {
		got, ok := bot.ParseMention(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseMention(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalizeEmoji(t *testing.T) {
	for in, want := range map[string]string{"pushpin": "📌", ":pushpin:": "📌", "📌": "📌", "Eyes": "👀", ":partyparrot:": "partyparrot"} {
		if got := bot.NormalizeEmoji(in); got != want {
			t.Errorf("NormalizeEmoji(%q) = %q; want %q", in, got, want)
		}
	}
}

// quote writes word so that Tokenize reads it back as one word.
func quote(word string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(word) + `"`
}

// FuzzTokenize checks that the parser never panics, that what it accepts
// is valid text, and that its words survive quoting and parsing again.
func FuzzTokenize(f *testing.F) {
	for _, seed := range []string{
		`declare "Checkout is down" sev:1 service:payments private`,
		`update “smart” quotes ‘here’`, `role comms <@U123|alice>`, `"a\"b" 'c d' e:"f g"`,
		"支付失败 🔥 e\u0301", `"unterminated`, "\xff", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := bot.Tokenize(line)
		if err != nil {
			if bot.ErrorCode(err) != bot.EINVALID || bot.ErrorMessage(err) == "" {
				t.Fatalf("Tokenize(%q) failed without a user-safe message: %v", line, err)
			}
			return
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			if !utf8.ValidString(w) {
				t.Fatalf("Tokenize(%q) produced invalid UTF-8 %q", line, w)
			}
			quoted[i] = quote(w)
		}
		again, err := bot.Tokenize(strings.Join(quoted, " "))
		if err != nil && len(strings.Join(quoted, " ")) <= bot.MaxCommandBytes {
			t.Fatalf("re-tokenizing the quoted words of %q: %v", line, err)
		}
		if err == nil && !reflect.DeepEqual(again, words) && !(len(again) == 0 && len(words) == 0) {
			t.Fatalf("Tokenize(%q) = %q, but the quoted words parse as %q", line, words, again)
		}
	})
}
