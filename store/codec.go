package store

import "github.com/goccy/go-json"

// The stores' JSON codec. Encoding and decoding are most of what a write
// transaction spends its time on (a page, an incident and a job are read
// and written for every delivery), and github.com/goccy/go-json does both
// in about half the time of encoding/json: 1,000 pages at once on bbolt
// went from about 2,500 to 3,500 pages/s. It writes the same bytes as
// encoding/json (including `omitzero`, which segmentio/encoding's encoder
// ignores) and reads them the same: TestCodecMatchesEncodingJSON holds it
// to encoding/json on every stored type, so stored values are what they
// were, and a dump of either store reads in the other.

// Encode writes a value to be stored.
func Encode(v any) ([]byte, error) { return json.Marshal(v) }

// Decode reads a stored value.
func Decode(data []byte, v any) error { return json.Unmarshal(data, v) }
