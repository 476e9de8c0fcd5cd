// Package golden compares what a test produced with a file under the
// test's testdata directory: the catalogue of messages, the postmortem
// draft. `go test ./pkg -run Name -update` rewrites the files instead,
// so an intended change shows as a diff a reviewer reads.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Check compares got with testdata/name (rewriting it first under
// -update) and reports a difference as an error.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (rerun the test with -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("the output differs from %s (rerun with -update if the change is intended); got:\n%s", path, got)
	}
}
