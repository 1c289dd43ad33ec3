package lineage

import (
	"bytes"
	"strconv"
	"strings"
)

// maxPointerSize is the largest file git-lfs treats as a pointer (its
// blobSizeCutoff, 1024 bytes).
const maxPointerSize = 1024

// lfsVersionLine opens every Git LFS pointer file (spec v1).
const lfsVersionLine = "version https://git-lfs.github.com/spec/v1\n"

// LFSPointer is the content of a Git LFS pointer file
// (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
type LFSPointer struct {
	// OID is the lowercase hex SHA-256 of the content the pointer stands
	// for.
	OID string
	// Size is the content's size in bytes.
	Size int64
}

// LFSInfo marks an entry whose file is a Git LFS pointer that was not
// fetched: its SHA256 and Size are the ones the pointer declares, not a
// digest of bytes that were read.
type LFSInfo struct {
	// PointerSHA256 is the digest of the pointer file itself.
	PointerSHA256 string `json:"pointerSha256"`
	// PointerSize is the pointer file's size in bytes.
	PointerSize int64 `json:"pointerSize"`
}

// ParseLFSPointer reports whether data is a Git LFS pointer file and
// returns what it declares. It accepts the layout the spec requires: the
// version line first, then "key value" lines sorted by key, each ending in
// "\n", with an "oid sha256:<64 hex>" and a "size <bytes>" line.
func ParseLFSPointer(data []byte) (LFSPointer, bool) {
	if len(data) > maxPointerSize || !bytes.HasPrefix(data, []byte(lfsVersionLine)) || !bytes.HasSuffix(data, []byte("\n")) {
		return LFSPointer{}, false
	}
	var p LFSPointer
	haveSize := false
	prev := ""
	lines := strings.Split(strings.TrimSuffix(string(data[len(lfsVersionLine):]), "\n"), "\n")
	for _, line := range lines {
		key, value, ok := strings.Cut(line, " ")
		if !ok || key == "" || key <= prev {
			return LFSPointer{}, false
		}
		prev = key
		switch key {
		case "oid":
			hexDigest, ok := strings.CutPrefix(value, "sha256:")
			if !ok || !isLowerHex64(hexDigest) {
				return LFSPointer{}, false
			}
			p.OID = hexDigest
		case "size":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return LFSPointer{}, false
			}
			p.Size, haveSize = n, true
		}
	}
	if p.OID == "" || !haveSize {
		return LFSPointer{}, false
	}
	return p, true
}

// LFSFetchCommand returns the command that replaces the pointer at path
// (relative to the repository root) with its content.
func LFSFetchCommand(path string) string {
	return "git lfs pull --include=" + strconv.Quote(path)
}

func isLowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
