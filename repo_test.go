// Package klaxon_test holds checks on the repository itself, not on code.
package klaxon_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// maxTrackedSize is the largest file the repository may hold. Source,
// templates and test data stay far below it; anything larger is almost
// always a build output or a data dump committed by mistake.
const maxTrackedSize = 1 << 20

// buildOutputMagic are the first bytes of executables and object files.
var buildOutputMagic = map[string][]byte{
	"an ELF binary":       {0x7f, 'E', 'L', 'F'},
	"a Windows binary":    {'M', 'Z'},
	"a Mach-O binary":     {0xcf, 0xfa, 0xed, 0xfe},
	"a 32-bit Mach-O":     {0xce, 0xfa, 0xed, 0xfe},
	"a universal Mach-O":  {0xca, 0xfe, 0xba, 0xbe},
	"a Go archive (.a)":   []byte("!<arch>\n"),
	"a WebAssembly build": {0x00, 'a', 's', 'm'},
}

// TestNoBuildOutputIsTracked fails when a tracked file is larger than 1 MB
// or is a compiled program, as the 34 MB ./klaxon binary once was.
func TestNoBuildOutputIsTracked(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): nothing to check", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(files) < 50 {
		t.Fatalf("git ls-files listed only %d files; the check would prove nothing", len(files))
	}
	for _, f := range files {
		info, err := os.Lstat(f)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		if info.Size() > maxTrackedSize {
			t.Errorf("%s is %d bytes; tracked files stay under %d (build outputs and dumps belong in .gitignore)", f, info.Size(), maxTrackedSize)
		}
		if kind := buildOutput(t, f); kind != "" {
			t.Errorf("%s is %s; build outputs are not committed (make build writes bin/, which is ignored)", f, kind)
		}
	}
}

// buildOutput names the kind of compiled file f is, or "".
func buildOutput(t *testing.T, f string) string {
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	head := make([]byte, 8)
	n, _ := fh.Read(head)
	head = head[:n]
	for kind, magic := range buildOutputMagic {
		if bytes.HasPrefix(head, magic) {
			return kind
		}
	}
	return ""
}

// TestBuildOutputCheckCatchesABinary proves the check above can fail: the
// test binary running it is itself an executable of this platform.
func TestBuildOutputCheckCatchesABinary(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if kind := buildOutput(t, self); kind == "" {
		t.Fatalf("buildOutput(%s) found no build output in the running test binary", self)
	}
}
