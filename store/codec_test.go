package store

import (
	stdjson "encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// The stores' codec (Encode, Decode) is not encoding/json, but values must
// stay what they were: older builds, exports and the PostgreSQL store read
// the same JSON. Every type the store keeps is filled, field by field,
// with awkward values, and must be written byte for byte as encoding/json
// writes it and read back as encoding/json reads it. (This test is how
// segmentio/encoding's encoder was ruled out: it writes `omitzero` fields.)
func TestCodecMatchesEncodingJSON(t *testing.T) {
	stored := []any{
		&bot.Incident{}, &bot.Event{}, &bot.Page{}, &bot.Job{}, &bot.FollowUp{}, &bot.HeartbeatState{},
		&bot.IdempotencyRecord{}, &bot.MessageRef{}, &bot.OnCallChange{}, &bot.PostmortemVersion{},
		&bot.Profile{}, &bot.Subscriber{}, &bot.Session{}, &bot.Reminder{}, &bot.AlertReceipt{},
	}
	// Round 3 leaves strings empty and slices empty; round 4 leaves
	// pointers nil; round 5 leaves every other field empty, so a struct
	// whose IsZero looks at one field (a user without an id) is written
	// with its other fields set.
	texts := []string{"<script>&amp;</script>", "quote \" backslash \\ tab\t nl\n nul\x00", "🔥 日本語 \u2028\u2029", "", "plain", "\u00e9\t<>"}
	for _, v := range stored {
		for round, text := range texts {
			name := fmt.Sprintf("%T/%d", v, round)
			fill(reflect.ValueOf(v).Elem(), text, round, 0)
			want, err := stdjson.Marshal(v)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got, err := Encode(v)
			if err != nil || string(got) != string(want) {
				t.Fatalf("%s: the store's codec writes (%v)\n%s\nencoding/json writes\n%s", name, err, got, want)
			}
			a := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			b := reflect.New(reflect.TypeOf(v).Elem()).Interface()
			if err := stdjson.Unmarshal(want, a); err != nil {
				t.Fatalf("%s: encoding/json reads its own output: %v", name, err)
			}
			if err := Decode(want, b); err != nil {
				t.Fatalf("%s: the store's codec cannot read encoding/json's output: %v", name, err)
			}
			// bbolt's values live in its mapped file, released and remapped
			// as it grows: nothing decoded may still point into the input.
			for i := range want {
				want[i] = 'x'
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: read differently (or points into its input):\nencoding/json %+v\nthe store's codec %+v", name, a, b)
			}
		}
	}
}

// fill sets every settable field of v to a value that is not its zero,
// strings to text, so that everything an encoder may write is written.
func fill(v reflect.Value, text string, round, depth int) {
	if depth > 6 {
		return
	}
	if v.Type() == reflect.TypeFor[stdjson.RawMessage]() {
		raw, _ := stdjson.Marshal(map[string]any{"text": text, "n": round})
		v.SetBytes(raw)
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		v.SetBool(round%2 == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(round*37 - 5))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(round*37 + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(round) + 0.25)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), text, round+i, depth+1)
		}
	case reflect.Slice:
		n := 2
		if round == 3 {
			n = 0 // empty, not nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(s.Index(i), text, round+i, depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, fmt.Sprintf("%s%d", text, i), round+i, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, text, round+i, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		if round == 4 {
			v.SetZero() // nil pointers are written too
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), text, round, depth+1)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 6, 3, 4, 5, 123456789*(round%2), time.FixedZone("X", 3600*round))))
			return
		}
		for i := range v.NumField() {
			switch {
			case !v.Type().Field(i).IsExported():
			case round == 5 && i%2 == 0:
				v.Field(i).SetZero()
			default:
				fill(v.Field(i), text, round, depth+1)
			}
		}
	}
}
