package dvc

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/auditpack/auditpack/internal/lineage"
)

// Check compares entry with the dataset hashed with lineage.Options.MD5
// set, and returns the outcome for lineage.json. file is how the outcome
// names the DVC file.
func Check(entry Entry, file string, got lineage.Entry) lineage.DVCCheck {
	c := lineage.DVCCheck{File: file, Stage: entry.Stage, Kind: entry.Kind, Scheme: entry.Scheme}
	notCheckable := func(format string, args ...any) lineage.DVCCheck {
		c.Status, c.Detail = lineage.DVCNotCheckable, fmt.Sprintf(format, args...)
		return c
	}
	mismatch := func(format string, args ...any) lineage.DVCCheck {
		c.Status, c.Detail = lineage.DVCMismatched, fmt.Sprintf(format, args...)
		return c
	}

	// Which digest was recorded, and whether it can be recomputed.
	switch {
	case entry.MD5 != "":
		c.Hash = "md5:" + entry.MD5
	case entry.ETag != "":
		c.Hash, c.Scheme = "etag:"+entry.ETag, "etag"
		return notCheckable("etag is the checksum of the remote storage (S3, HTTP or Azure) and cannot be recomputed from local files")
	case entry.Checksum != "":
		c.Hash, c.Scheme = "checksum:"+entry.Checksum, "checksum"
		return notCheckable("checksum is HDFS's own digest and cannot be recomputed from local files")
	default:
		return notCheckable("the entry records no digest")
	}
	if entry.Scheme != SchemeMD5 && entry.Scheme != SchemeMD5Dos2Unix {
		return notCheckable("hash scheme %q is not supported; only md5 (DVC 3) and DVC 2's md5 are", entry.Scheme)
	}
	if hasLFSPointer(got) {
		return notCheckable("the local copy holds Git LFS pointers, not the content; fetch it with git lfs pull")
	}

	// Type, then size and file count, then the digest.
	if entry.IsDir() != (got.Type == lineage.TypeDirectory) {
		return mismatch("DVC records a %s, the path is a %s", kindName(entry.IsDir()), got.Type)
	}
	if entry.Size >= 0 && entry.Size != got.Size {
		return mismatch("DVC records %d bytes, the path has %d", entry.Size, got.Size)
	}
	if entry.IsDir() && entry.NFiles >= 0 && entry.NFiles != int64(len(got.Files)) {
		return mismatch("DVC records %d files, the directory has %d", entry.NFiles, len(got.Files))
	}

	var sum string
	if entry.IsDir() {
		sum = DirMD5(got.Files, entry.Scheme)
	} else {
		sum = fileMD5(got.MD5, got.LegacyMD5, entry.Scheme)
	}
	if sum == "" || strings.HasSuffix(sum, "-.dir") {
		return notCheckable("the MD5 digests were not computed; hash with lineage.Options.MD5")
	}
	if sum != entry.MD5 {
		return mismatch("md5 (%s) of the local copy is %s, DVC records %s", entry.Scheme, sum, entry.MD5)
	}
	c.Status = lineage.DVCMatched
	return c
}

// DirMD5 returns DVC's digest of a directory with files ("<md5>.dir"),
// using each file's MD5 in scheme. It returns "-.dir" when a file lacks
// that MD5.
func DirMD5(files []lineage.File, scheme string) string {
	byPath := make(map[string]string, len(files))
	for _, f := range files {
		sum := fileMD5(f.MD5, f.LegacyMD5, scheme)
		if sum == "" {
			return "-.dir"
		}
		byPath[f.Path] = sum
	}

	// json.dumps(list, sort_keys=True): ", " and ": " separators, keys
	// sorted ("md5" < "relpath"), non-ASCII escaped.
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range slices.Sorted(maps.Keys(byPath)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`{"md5": `)
		writePythonString(&b, byPath[p])
		b.WriteString(`, "relpath": `)
		writePythonString(&b, p)
		b.WriteByte('}')
	}
	b.WriteByte(']')
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:]) + ".dir"
}

func fileMD5(raw, legacy, scheme string) string {
	if scheme == SchemeMD5Dos2Unix {
		return legacy
	}
	return raw
}

// writePythonString writes s as Python's json.dumps does by default
// (ensure_ascii=True).
func writePythonString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

func hasLFSPointer(e lineage.Entry) bool {
	if e.LFS != nil {
		return true
	}
	for _, f := range e.Files {
		if f.LFS != nil {
			return true
		}
	}
	return false
}

func kindName(dir bool) string {
	if dir {
		return "directory"
	}
	return "file"
}
