package pack

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenArchiveRejectsDataAfterGzipStream(t *testing.T) {
	valid := makeArchive(t, validEntries(), nil)
	var second bytes.Buffer
	zw := gzip.NewWriter(&second)
	zw.Write([]byte("hidden"))
	zw.Close()

	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"junk appended", append(bytes.Clone(valid), "junk"...), "data follows the end of the gzip stream"},
		{"one zero byte appended", append(bytes.Clone(valid), 0), "data follows the end of the gzip stream"},
		{"second gzip stream", append(bytes.Clone(valid), second.Bytes()...), "data follows the end of the gzip stream"},
		{"data after the end-of-archive marker", makeArchive(t, validEntries(), []byte("not padding")), "other than zero padding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenArchive(t.Context(), bytes.NewReader(tt.data), Limits{})
			if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("OpenArchive error = %v, want ErrInvalidPack containing %q", err, tt.wantErr)
			}
		})
	}

	// The writer's own archive, and zero padding, still open.
	for name, data := range map[string][]byte{"plain": valid, "zero padding": makeArchive(t, validEntries(), make([]byte, 10240))} {
		if _, err := OpenArchive(t.Context(), bytes.NewReader(data), Limits{}); err != nil {
			t.Errorf("%s: OpenArchive: %v", name, err)
		}
	}
}

func TestOpenDirectoryRejectsSpecialFilesBeforeReading(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, dir string)
		wantErr string
	}{
		{
			name: "index.json is a symbolic link",
			tamper: func(t *testing.T, dir string) {
				if err := os.Rename(filepath.Join(dir, IndexName), filepath.Join(dir, "index.real")); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("index.real", filepath.Join(dir, IndexName)); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: `"index.json" is a symbolic link`,
		},
		{
			name: "index.json is a named pipe",
			tamper: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, IndexName)); err != nil {
					t.Fatal(err)
				}
				if err := syscall.Mkfifo(filepath.Join(dir, IndexName), 0o644); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			},
			wantErr: `"index.json" is a named pipe`,
		},
		{
			name: "named pipe beside the files",
			tamper: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			},
			wantErr: `"pipe" is a named pipe`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "pack")
			buildPack(t, dir, sortedTestNames())
			tt.tamper(t, dir)
			_, err := Open(t.Context(), dir)
			if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open error = %v, want ErrInvalidPack containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestOpenRejectsSpecialPackPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pack.tar.gz")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, err := Open(t.Context(), path)
	if !errors.Is(err, ErrInvalidPack) || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("Open error = %v, want ErrInvalidPack naming a named pipe", err)
	}
}
