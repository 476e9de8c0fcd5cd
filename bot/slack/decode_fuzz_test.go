package slack

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeInteraction feeds arbitrary interaction payloads (buttons,
// shortcuts, view submissions) to the decoder: it returns a callback or an
// error, and never panics.
func FuzzDecodeInteraction(f *testing.F) {
	for _, seed := range []string{
		`{"type":"block_actions","user":{"id":"U1"},"channel":{"id":"C1"},"actions":[{"action_id":"klaxon.resolve","value":"x"}],"trigger_id":"t"}`,
		`{"type":"view_submission","user":{"id":"U1"},"view":{"id":"V1","callback_id":"klaxon.declare","private_metadata":"C1","state":{"values":{"title":{"title":{"type":"plain_text_input","value":"x"}}}}}}`,
		`{"type":"message_action","callback_id":"klaxon.declare_from_message","message":{"ts":"1.2","text":"x"},"is_enterprise_install":"false"}`,
		`{"is_x":"true","a":[{"is_y":"false"}]}`, `[]`, `null`, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		cb, err := decodeInteraction(json.RawMessage(payload))
		if err == nil && !json.Valid(payload) {
			t.Fatalf("decoded %q, which is not JSON, as %+v", payload, cb.Type)
		}
	})
}
