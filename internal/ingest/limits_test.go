package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// maxMessageBytes bounds the message of any error about an over-long line:
// it must not repeat the line.
const maxMessageBytes = 1000

func TestRowLengthLimit(t *testing.T) {
	over := MaxRowBytes + 1
	nul := strings.Repeat("\x00", 2*MaxRowBytes)
	tests := []struct {
		name      string
		format    Format
		delimiter rune
		header    []string
		content   string
		wantLine  int
		wantText  string
	}{
		{"csv header without newline", CSV, 0, nil, nul, 1, "the header row is longer than 1048576 bytes"},
		{"csv long row", CSV, 0, nil, "a,b\n1,2\n1," + strings.Repeat("x", over) + "\n", 3, "the row is longer than 1048576 bytes"},
		{"csv long row with configured header", CSV, 0, []string{"a", "b"}, "1,2\n1," + strings.Repeat("x", over) + "\n", 2, "the row is longer"},
		{"csv unclosed quote over short lines", CSV, 0, nil, "a,b\n1,\"" + strings.Repeat("x\n", over/2+1), 2, "every quoted field is closed"},
		{"csv multi-byte delimiter header without newline", CSV, '→', nil, nul, 1, "the header row is longer than 1048576 bytes"},
		{"csv multi-byte delimiter long row", CSV, '→', nil, "a→b\n1→2\n1→" + strings.Repeat("x", over) + "\n", 3, "the row is longer"},
		{"csv multi-byte delimiter unclosed quote", CSV, '→', nil, "a→b\n1→\"" + strings.Repeat("x\n", over/2+csvReadAhead), 0, "every quoted field is closed"},
		{"jsonl long line", JSONL, 0, nil, "{\"a\": 1, \"b\": 2}\n{\"a\": \"" + strings.Repeat("x", over) + "\"}\n", 2, "the line is longer than 1048576 bytes"},
		{"jsonl without newline", JSONL, 0, nil, nul, 1, "the line is longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{DisplayPath: "eval/p", Format: tt.format, Columns: []string{"a", "b"}, Delimiter: tt.delimiter, Header: tt.header}
			r, err := NewReader(strings.NewReader(tt.content), opts)
			if err == nil {
				_, err = readAll(r)
			}
			var rowErr *RowError
			if !errors.As(err, &rowErr) {
				t.Fatalf("error = %v, want a *RowError", err)
			}
			if tt.wantLine != 0 && rowErr.Line != tt.wantLine {
				t.Errorf("line = %d, want %d", rowErr.Line, tt.wantLine)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantText)
			}
			if len(err.Error()) > maxMessageBytes {
				t.Errorf("the message is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestRowJustWithinLimit(t *testing.T) {
	for _, delimiter := range []string{",", "→"} {
		// A line of exactly MaxRowBytes, newline included.
		value := strings.Repeat("x", MaxRowBytes-len("1"+delimiter+"\n"))
		content := "a" + delimiter + "b\n1" + delimiter + value + "\n2" + delimiter + "y\n"
		opts := Options{DisplayPath: "p", Format: CSV, Columns: []string{"a"}, Delimiter: []rune(delimiter)[0]}
		r, err := NewReader(strings.NewReader(content), opts)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := readAll(r)
		if err != nil || len(rows) != 2 {
			t.Errorf("delimiter %q: %d rows, error %v; want 2 rows", delimiter, len(rows), err)
		}
	}
}

func TestMissingColumnExcerptsHeader(t *testing.T) {
	var header []string
	for i := range 5000 {
		header = append(header, "feature_"+strings.Repeat("x", i%7)+"\x01")
	}
	content := strings.Join(header, ",") + "\n" + strings.Repeat("1,", len(header)-1) + "1\n"
	for _, delimiter := range []rune{0, '→'} {
		if delimiter != 0 {
			content = strings.ReplaceAll(content, ",", string(delimiter))
		}
		_, err := NewReader(strings.NewReader(content), Options{DisplayPath: "p.csv", Format: CSV, Columns: []string{"label"}, Delimiter: delimiter})
		if err == nil {
			t.Fatal("no error for a missing column")
		}
		message := err.Error()
		if len(message) > 500 {
			t.Errorf("delimiter %q: the message is %d bytes long", delimiter, len(message))
		}
		if !strings.Contains(message, `"feature_\x01"`) || !strings.Contains(message, "(5000 columns in all)") {
			t.Errorf("delimiter %q: message = %q, want the first names escaped and the count", delimiter, message)
		}
	}
}

func TestOpenRejectsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe.csv")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	regular := filepath.Join(dir, "p.csv")
	if err := os.WriteFile(regular, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	subdir := filepath.Join(dir, "eval.csv")
	if err := os.Mkdir(subdir, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want string // "" for success
	}{
		{"named pipe", pipe, "predictions eval/x.csv is a named pipe, not a regular file: write the data to a file"},
		{"device", os.DevNull, "predictions eval/x.csv is a device, not a regular file"},
		{"directory", subdir, "predictions eval/x.csv is a directory: give a file"},
		{"symbolic link to a file", link, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				r, err := Open(tt.path, Options{DisplayPath: "eval/x.csv", Format: CSV, Columns: []string{"a"}})
				if err == nil {
					_, err = readAll(r)
					r.Close()
				}
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Open blocked")
			}
			if tt.want == "" {
				if err != nil {
					t.Errorf("error = %v, want none", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want && !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to start with %q", err, tt.want)
			}
		})
	}
}

func TestOpenDamagedGzip(t *testing.T) {
	var buffer bytes.Buffer
	writer := gzip.NewWriter(&buffer)
	writer.Write([]byte("a,b\n" + strings.Repeat("1,2\n", 10000)))
	writer.Close()
	whole := buffer.Bytes()
	corrupt := bytes.Clone(whole)
	corrupt[len(corrupt)-6] ^= 0xff // a byte of the CRC-32 trailer

	tests := []struct {
		name    string
		content []byte
	}{
		{"header only", whole[:10]},
		{"truncated", whole[:len(whole)/2]},
		{"checksum mismatch", corrupt},
		{"truncated header", whole[:5]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.csv.gz")
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path, Options{DisplayPath: "eval/p.csv.gz", Columns: []string{"a"}})
			if err == nil {
				_, err = readAll(r)
				if err == nil {
					_, err = r.SHA256()
				}
				r.Close()
			}
			var gzipErr *GzipError
			if !errors.As(err, &gzipErr) {
				t.Fatalf("error = %v, want a *GzipError", err)
			}
			if want := "eval/p.csv.gz: the gzip data is truncated or corrupt"; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %q, want it to start with %q", err, want)
			}
		})
	}
}
