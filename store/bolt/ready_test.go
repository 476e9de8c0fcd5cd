package bolt

import (
	"path/filepath"
	"testing"
)

// Ready is true only while the store takes writes: a store whose file
// fails writes (here: closed under it) is not ready.
func TestReadyMeansTakingWrites(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "k.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ready(); err != nil {
		t.Fatalf("a fresh store is not ready: %v", err)
	}
	s.db.Close() // every write fails from here, as on a full disk
	if err := s.Ready(); err == nil {
		t.Fatal("a store that cannot write says it is ready")
	}
}
