package ingest

import (
	"bytes"
	"compress/gzip"
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
