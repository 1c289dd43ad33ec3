package lineage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareReportsUnhashablePath(t *testing.T) {
	tests := []struct {
		name string
		// path is the recorded path, data or a path inside it.
		path string
		// change replaces the recorded content under base.
		change     func(t *testing.T, base string)
		wantStatus string
		wantDetail string
	}{
		{
			name: "empty directory",
			path: "data",
			change: func(t *testing.T, base string) {
				removeAll(t, filepath.Join(base, "data"))
				if err := os.Mkdir(filepath.Join(base, "data"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantStatus: StatusChanged,
			wantDetail: "contains no regular file",
		},
		{
			name: "symbolic link loop",
			path: "data",
			change: func(t *testing.T, base string) {
				removeAll(t, filepath.Join(base, "data"))
				symlink(t, "data", filepath.Join(base, "data"))
			},
			wantStatus: StatusChanged,
			wantDetail: "too many levels of symbolic links",
		},
		{
			name: "link inside leads outside",
			path: "data",
			change: func(t *testing.T, base string) {
				writeFiles(t, base, map[string]string{"outside.csv": "9\n"})
				if err := os.Remove(filepath.Join(base, "data", "a.csv")); err != nil {
					t.Fatal(err)
				}
				symlink(t, filepath.Join(base, "outside.csv"), filepath.Join(base, "data", "a.csv"))
			},
			wantStatus: StatusChanged,
			wantDetail: "points outside the directory",
		},
		{
			name: "parent is a file",
			path: "data/sub",
			change: func(t *testing.T, base string) {
				removeAll(t, filepath.Join(base, "data"))
				writeFiles(t, base, map[string]string{"data": "not a directory\n"})
			},
			wantStatus: StatusMissing,
			wantDetail: "not a directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			writeFiles(t, base, map[string]string{"data/sub/a.csv": "1\n", "data/a.csv": "2\n"})
			recorded, err := HashPath(t.Context(), base, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, base)

			got, err := Compare(t.Context(), base, recorded, Options{})
			if err != nil {
				t.Fatalf("Compare = %v, want a %s result", err, tt.wantStatus)
			}
			if got.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s (detail %q)", got.Status, tt.wantStatus, got.Detail)
			}
			if !strings.Contains(got.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", got.Detail, tt.wantDetail)
			}
		})
	}
}

func TestCompareCancelledIsError(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"data/a.csv": "1\n"})
	recorded, err := HashPath(t.Context(), base, "data")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Compare(ctx, base, recorded, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Compare = %v, want context.Canceled", err)
	}
}

func removeAll(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}
