package lineage

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"hash"
)

// Options tunes [Hash]. The zero value hashes with SHA-256 only, as
// [HashPath] does.
type Options struct {
	// Progress, when not nil, is called with the number of bytes read after
	// every read, from several goroutines at once.
	Progress func(n int64)

	// MD5 also computes, in the same pass over each file, the MD5 digests
	// DVC records: File.MD5 over the raw bytes (DVC 3) and File.LegacyMD5
	// with DVC 2's text normalization. They are not written to
	// lineage.json.
	MD5 bool

	// DetectLFS recognizes Git LFS pointer files. A pointer's entry then
	// carries the digest and size the pointer declares for the content,
	// never the pointer's own digest, and LFS records the pointer.
	DetectLFS bool
}

// dvcChunkSize is the read size of DVC 2's md5 (LOCAL_CHUNK_SIZE, 1 MiB),
// which applies its line-ending normalization to each chunk separately.
const dvcChunkSize = 1 << 20

// dvcTextSniffSize is how many leading bytes DVC inspects to decide that a
// file is text (DEFAULT_CHUNK_SIZE in dvc_data's istextfile).
const dvcTextSniffSize = 512

// dvcDigests computes the raw MD5 of a stream and DVC 2's "md5-dos2unix":
// when the first 512 bytes look like text, every "\r\n" within each 1 MiB
// chunk is replaced by "\n" before hashing.
type dvcDigests struct {
	raw    hash.Hash
	legacy hash.Hash
	// chunk buffers the stream into DVC's 1 MiB chunks.
	chunk []byte
	// text is decided once the first 512 bytes (or the whole stream) are in.
	text    bool
	decided bool
}

func newDVCDigests() *dvcDigests {
	return &dvcDigests{raw: md5.New(), legacy: md5.New(), chunk: make([]byte, 0, dvcChunkSize)}
}

func (d *dvcDigests) Write(p []byte) (int, error) {
	d.raw.Write(p)
	n := len(p)
	for len(p) > 0 {
		room := dvcChunkSize - len(d.chunk)
		take := min(room, len(p))
		d.chunk = append(d.chunk, p[:take]...)
		p = p[take:]
		if len(d.chunk) == dvcChunkSize {
			d.flush()
		}
	}
	return n, nil
}

func (d *dvcDigests) flush() {
	if !d.decided {
		d.text = isDVCText(d.chunk[:min(len(d.chunk), dvcTextSniffSize)])
		d.decided = true
	}
	if d.text {
		d.legacy.Write(bytes.ReplaceAll(d.chunk, []byte("\r\n"), []byte("\n")))
	} else {
		d.legacy.Write(d.chunk)
	}
	d.chunk = d.chunk[:0]
}

// sums returns the raw and the legacy MD5 in hex.
func (d *dvcDigests) sums() (raw, legacy string) {
	if len(d.chunk) > 0 {
		d.flush()
	}
	return hex.EncodeToString(d.raw.Sum(nil)), hex.EncodeToString(d.legacy.Sum(nil))
}

// isDVCText applies dvc_data's istextblock: an empty block is text, a
// block with a NUL byte is binary, and otherwise a block is text when at
// most 30% of its bytes are outside printable ASCII and \n \r \t \f \b.
func isDVCText(block []byte) bool {
	if len(block) == 0 {
		return true
	}
	if bytes.IndexByte(block, 0) >= 0 {
		return false
	}
	nontext := 0
	for _, c := range block {
		switch {
		case c >= 32 && c < 127, c == '\n', c == '\r', c == '\t', c == '\f', c == '\b':
		default:
			nontext++
		}
	}
	return float64(nontext)/float64(len(block)) <= 0.30
}

// headWriter keeps the first maxPointerSize+1 bytes written to it, enough
// to recognize a Git LFS pointer and to know that a file is too long to be
// one.
type headWriter struct {
	buf []byte
}

func (h *headWriter) Write(p []byte) (int, error) {
	if room := maxPointerSize + 1 - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (h *headWriter) bytes() []byte { return h.buf }
