package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "k.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("kv")); return err }); err != nil {
		t.Fatal(err)
	}
	return s
}

func put(key string) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error { return tx.Bucket([]byte("kv")).Put([]byte(key), []byte("v")) }
}

func (s *Store) has(t *testing.T, key string) bool {
	t.Helper()
	var ok bool
	s.db.View(func(tx *bbolt.Tx) error { ok = tx.Bucket([]byte("kv")).Get([]byte(key)) != nil; return nil })
	return ok
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openInternal(t)
	errNo := errors.New("refused")
	const n = 60
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			fn := put(fmt.Sprint(i))
			switch i % 3 {
			case 1: // writes a key, then fails: the key must not land
				fn = func(tx *bbolt.Tx) error {
					put(fmt.Sprint(i))(tx)
					return errNo
				}
			case 2: // panics after writing
				fn = func(tx *bbolt.Tx) error {
					put(fmt.Sprint(i))(tx)
					panic("bad write")
				}
			}
			results[i] = s.update(fn)
		})
	}
	wg.Wait()
	for i, err := range results {
		switch i % 3 {
		case 0:
			if err != nil || !s.has(t, fmt.Sprint(i)) {
				t.Errorf("write %d: err = %v, stored = %v; want stored", i, err, s.has(t, fmt.Sprint(i)))
			}
		case 1:
			if !errors.Is(err, errNo) || s.has(t, fmt.Sprint(i)) {
				t.Errorf("failing write %d: err = %v, stored = %v; want its error and nothing stored", i, err, s.has(t, fmt.Sprint(i)))
			}
		case 2:
			if err == nil || s.has(t, fmt.Sprint(i)) {
				t.Errorf("panicking write %d: err = %v, stored = %v; want an error and nothing stored", i, err, s.has(t, fmt.Sprint(i)))
			}
		}
	}
}

func TestWritesAfterCloseAreRefused(t *testing.T) {
	s := openInternal(t)
	var wg sync.WaitGroup
	acked := make(chan string, 100)
	for i := range 100 {
		wg.Go(func() {
			if s.update(put(fmt.Sprint(i))) == nil {
				acked <- fmt.Sprint(i)
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(acked)
	if err := s.update(put("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: err = %v; want ErrClosed", err)
	}
	// Every write that was acknowledged is in the file.
	re, err := Open(s.path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	for key := range acked {
		if !re.has(t, key) {
			t.Errorf("acknowledged write %s is missing after Close", key)
		}
	}
}
