package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

type parquetRow struct {
	Label string  `parquet:"label"`
	Score float64 `parquet:"score"`
	Group *string `parquet:"group,optional"`
}

// readFile returns every row of a file opened with opts.
func readFile(t *testing.T, path string, opts Options) [][]string {
	t.Helper()
	r, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	var rows [][]string
	for {
		values := make([]string, len(opts.Columns))
		err := r.Next(values)
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rows = append(rows, values)
	}
}

func TestParquetRows(t *testing.T) {
	dir := t.TempDir()
	group := "A"
	var buffer bytes.Buffer
	if err := parquet.Write(&buffer, []parquetRow{{"1", 0.25, &group}, {"0", 0.1, nil}}); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "p.parquet")
	if err := os.WriteFile(plain, buffer.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var compressed bytes.Buffer
	gz := gzip.NewWriter(&compressed)
	gz.Write(buffer.Bytes())
	gz.Close()
	zipped := filepath.Join(dir, "p.parquet.gz")
	if err := os.WriteFile(zipped, compressed.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{plain, zipped} {
		rows := readFile(t, path, Options{Columns: []string{"group", "label", "score"}})
		want := [][]string{{"A", "1", "0.25"}, {"", "0", "0.1"}}
		if len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(want[0], ",") || strings.Join(rows[1], ",") != strings.Join(want[1], ",") {
			t.Errorf("%s: rows = %q, want %q", filepath.Base(path), rows, want)
		}
	}

	if _, err := Open(plain, Options{Columns: []string{"missing"}}); err == nil || !strings.Contains(err.Error(), `column "missing"`) {
		t.Errorf("missing column: error = %v", err)
	}
}

func TestCSVDialects(t *testing.T) {
	tests := []struct {
		name, file, content string
		opts                Options
		want                string
	}{
		{"semicolon", "p.csv", "a;b\n1;\"x;y\"\n", Options{Delimiter: ';'}, "1|x;y"},
		{"tab by extension", "p.tsv", "a\tb\n1\t2\n", Options{}, "1|2"},
		{"no header row", "p.csv", "1,2\n3,4\n", Options{Header: []string{"a", "b"}}, "1|2;3|4"},
		{"byte order mark", "p.csv", "\uFEFFa,b\n1,2\n", Options{}, "1|2"},
		{"CRLF and quoted newline", "p.csv", "a,b\r\n\"1\n1\",2\r\n", Options{}, "1\n1|2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			tt.opts.Columns = []string{"a", "b"}
			var got []string
			for _, row := range readFile(t, path, tt.opts) {
				got = append(got, strings.Join(row, "|"))
			}
			if strings.Join(got, ";") != tt.want {
				t.Errorf("rows = %q, want %q", strings.Join(got, ";"), tt.want)
			}
		})
	}
}

func TestParquetRejectsInvalidUTF8(t *testing.T) {
	group := "Oth\xe5r"
	var buffer bytes.Buffer
	if err := parquet.Write(&buffer, []parquetRow{{"1", 0.25, nil}, {"0", 0.1, &group}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "p.parquet")
	if err := os.WriteFile(path, buffer.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, Options{DisplayPath: "p.parquet", Columns: []string{"label", "group"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = readAll(r)
	var rowErr *RowError
	if !errors.As(err, &rowErr) || !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("error = %v, want a *RowError wrapping ErrInvalidUTF8", err)
	}
	if rowErr.Line != 2 || rowErr.Column != "group" {
		t.Errorf("row, column = %d, %q, want 2, \"group\"", rowErr.Line, rowErr.Column)
	}
	if !strings.Contains(err.Error(), "write the column as UTF-8 strings") {
		t.Errorf("error %q does not give the Parquet fix", err)
	}
}
