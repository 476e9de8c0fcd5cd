package bolt

import (
	"syscall"

	bbolt "go.etcd.io/bbolt"
)

// releasePages tells the kernel that this process no longer needs the
// pages of the file mapping it has read so far (MADV_DONTNEED). bbolt
// maps the file read-only and shared, so the pages stay in the page cache
// and a later read faults them back in from there: nothing changes but the
// process's resident set. A long read (a 100k-event postmortem) calls it
// as it goes, so the pages it read do not stay resident. tx keeps the
// mapping in place (bbolt remaps only with no read transaction open).
func releasePages(db *bbolt.DB, tx *bbolt.Tx) {
	info := db.Info()
	size := tx.Size()
	if info == nil || info.Data == 0 || size <= 0 {
		return
	}
	// Advice only: a refusal changes nothing, so its error is not read.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, info.Data, uintptr(size), syscall.MADV_DONTNEED)
}
