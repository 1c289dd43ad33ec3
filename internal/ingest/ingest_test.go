package ingest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readAll returns every row of r, or the first error other than io.EOF.
func readAll(r *Reader) ([][]string, error) {
	var rows [][]string
	values := make([]string, len(r.columns))
	for {
		err := r.Next(values)
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, append([]string(nil), values...))
	}
}

func TestReaderRows(t *testing.T) {
	want := [][]string{{"0.5", "1"}, {"0.25", "0"}}
	tests := []struct {
		name    string
		format  Format
		content string
	}{
		{"csv", CSV, "label,score,id\n1,0.5,a\n0,0.25,b\n"},
		{"csv crlf", CSV, "label,score,id\r\n1,0.5,a\r\n0,0.25,b\r\n"},
		{"csv bom", CSV, "\uFEFFlabel,score\n1,0.5\n0,0.25\n"},
		{"csv bom quoted header", CSV, "\uFEFF\"label\",\"score\"\n1,0.5\n0,0.25\n"},
		{"csv no final newline", CSV, "score,label\n0.5,1\n0.25,0"},
		{"jsonl", JSONL, `{"label": 1, "score": 0.5}` + "\n" + `{"score": "0.25", "label": "0"}` + "\n"},
		{"jsonl blank lines and crlf", JSONL, "\r\n{\"label\": 1, \"score\": 0.5}\r\n\r\n  \n{\"label\": 0, \"score\": 0.25}"},
		{"jsonl bom", JSONL, "\uFEFF{\"label\": 1, \"score\": 0.5}\n{\"label\": 0, \"score\": 0.25}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.content), Options{DisplayPath: "p", Format: tt.format, Columns: []string{"score", "label"}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReaderValuesAndLines(t *testing.T) {
	tests := []struct {
		name      string
		format    Format
		content   string
		want      [][]string
		wantLines []int
	}{
		{
			name:      "csv quoted comma and newline",
			format:    CSV,
			content:   "g,label\n\"a, b\",1\n\"two\nlines\",0\nc,1\n",
			want:      [][]string{{"a, b", "1"}, {"two\nlines", "0"}, {"c", "1"}},
			wantLines: []int{2, 3, 5},
		},
		{
			name:      "jsonl scalar kinds",
			format:    JSONL,
			content:   `{"g": true, "label": 1.50}` + "\n\n" + `{"g": null, "label": -2e3}` + "\n" + `{"g": "x\u00e9", "label": false}`,
			want:      [][]string{{"true", "1.50"}, {"", "-2e3"}, {"xé", "false"}},
			wantLines: []int{1, 3, 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.content), Options{DisplayPath: "p", Format: tt.format, Columns: []string{"g", "label"}})
			if err != nil {
				t.Fatal(err)
			}
			values := make([]string, 2)
			var got [][]string
			var lines []int
			for {
				err := r.Next(values)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, append([]string(nil), values...))
				lines = append(lines, r.Line())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLines, lines); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name       string
		format     Format
		content    string
		wantEmpty  bool
		wantLine   int
		wantColumn string
		wantText   string
	}{
		{name: "csv empty", format: CSV, content: "", wantEmpty: true},
		{name: "csv header only", format: CSV, content: "label,score\r\n", wantEmpty: true},
		{name: "jsonl empty", format: JSONL, content: "\n\n", wantEmpty: true, wantText: "at least one JSON object line"},
		{name: "csv empty wording", format: CSV, content: "label,score\n", wantEmpty: true, wantText: "a header and at least one row"},
		{name: "csv missing column", format: CSV, content: "label,prob\n1,0.5\n", wantLine: 1, wantColumn: "score",
			wantText: `p.csv:1: column "score": column not found in the header, which has "label", "prob"`},
		{name: "csv duplicate column", format: CSV, content: "label,score,score\n1,0.5,0.6\n", wantLine: 1, wantColumn: "score",
			wantText: "more than once"},
		{name: "csv short row", format: CSV, content: "label,score\n1,0.5\n1\n", wantLine: 3,
			wantText: "the row has 1 fields but the header has 2"},
		{name: "csv bare quote", format: CSV, content: "label,score\n1,0\"5\n", wantLine: 2, wantText: "bare \""},
		{name: "csv unterminated quote", format: CSV, content: "label,score\n1,\"0.5\n2,3\n", wantLine: 3, wantText: "extraneous or missing \""},
		{name: "jsonl invalid", format: JSONL, content: "{\"label\": 1, \"score\": 0.5}\n{\"label\": 1,\n", wantLine: 2, wantText: "invalid JSON"},
		{name: "jsonl not object", format: JSONL, content: "[1, 0.5]\n", wantLine: 1, wantText: "not a JSON object"},
		{name: "jsonl trailing data", format: JSONL, content: "{\"label\": 1, \"score\": 0.5} {}\n", wantLine: 1, wantText: "invalid JSON"},
		{name: "jsonl object value", format: JSONL, content: "{\"label\": 1, \"score\": {\"p\": 0.5}}\n", wantLine: 1, wantColumn: "score",
			wantText: "object or an array"},
		{name: "jsonl array value", format: JSONL, content: "{\"label\": [1], \"score\": 0.5}\n", wantLine: 1, wantColumn: "label",
			wantText: "object or an array"},
		{name: "jsonl duplicate key", format: JSONL, content: "{\"label\": 1, \"score\": 0.5}\n{\"label\": 1, \"score\": 0.5, \"label\": 0}\n", wantLine: 2,
			wantText: `p.csv:2: the key "label" appears more than once`},
		{name: "jsonl duplicate escaped key", format: JSONL, content: "{\"label\": 1, \"score\": 0.5, \"\\u006cabel\": 0}\n", wantLine: 1,
			wantText: `the key "label" appears more than once`},
		{name: "jsonl duplicate unrequested key", format: JSONL, content: "{\"label\": 1, \"score\": 0.5, \"x\": [1, {\"a\": \"},\"}], \"x\": 2}\n", wantLine: 1,
			wantText: `the key "x" appears more than once`},
		{name: "csv value too long", format: CSV, content: "label,score\n1," + strings.Repeat("9", MaxValueBytes+1) + "\n", wantLine: 2, wantColumn: "score",
			wantText: "the value is 257 bytes long"},
		{name: "jsonl value too long", format: JSONL, content: "{\"label\": \"" + strings.Repeat("a", 300) + "\", \"score\": 0.5}\n", wantLine: 1, wantColumn: "label",
			wantText: "at most 256 bytes"},
		{name: "jsonl missing key", format: JSONL, content: "{\"label\": 1, \"score\": 0.5}\n\n{\"label\": 0}\n", wantLine: 3, wantColumn: "score",
			wantText: "column not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := func() ([][]string, error) {
				r, err := NewReader(strings.NewReader(tt.content), Options{DisplayPath: "p.csv", Format: tt.format, Columns: []string{"label", "score"}})
				if err != nil {
					return nil, err
				}
				return readAll(r)
			}()
			if tt.wantEmpty {
				if !errors.Is(err, ErrEmpty) {
					t.Fatalf("error = %v (rows %v), want ErrEmpty", err, rows)
				}
				if !strings.HasPrefix(err.Error(), "p.csv: ") {
					t.Errorf("error %q does not name the file first", err)
				}
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("error %q does not contain %q", err, tt.wantText)
				}
				return
			}
			var rowErr *RowError
			if !errors.As(err, &rowErr) {
				t.Fatalf("error = %v (rows %v), want a *RowError", err, rows)
			}
			if rowErr.Line != tt.wantLine || rowErr.Column != tt.wantColumn || rowErr.Path != "p.csv" {
				t.Errorf("path, line, column = %q, %d, %q, want p.csv, %d, %q", rowErr.Path, rowErr.Line, rowErr.Column, tt.wantLine, tt.wantColumn)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

func TestOpenFormatsAndDigest(t *testing.T) {
	csvContent := "label,score\n1,0.5\n0,0.25\n"
	jsonlContent := "{\"label\": 1, \"score\": 0.5}\n{\"label\": 0, \"score\": 0.25}\n"
	var compressed bytes.Buffer
	writer := gzip.NewWriter(&compressed)
	writer.Write([]byte(jsonlContent))
	writer.Close()

	tests := []struct {
		name    string
		file    string
		format  Format
		content []byte
	}{
		{"csv by extension", "p.csv", "", []byte(csvContent)},
		{"upper-case extension", "P.CSV", "", []byte(csvContent)},
		{"ndjson", "p.ndjson", "", []byte(jsonlContent)},
		{"jsonl gzip", "p.jsonl.gz", "", compressed.Bytes()},
		{"explicit format, gzip without suffix", "predictions.data", JSONL, compressed.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path, Options{DisplayPath: tt.file, Format: tt.format, Columns: []string{"label"}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			rows, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([][]string{{"1"}, {"0"}}, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			digest, err := r.SHA256()
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(tt.content)
			if want := hex.EncodeToString(sum[:]); digest != want {
				t.Errorf("SHA256 = %s, want %s", digest, want)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "p.csv.gz")
	if err := os.WriteFile(plain, []byte("label\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(dir, "p.xlsx")
	if err := os.WriteFile(unknown, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"missing file", filepath.Join(dir, "absent.csv"), "no such file"},
		{"gz suffix on plain text", plain, "not gzip-compressed"},
		{"unknown extension", unknown, "cannot tell the format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.path, Options{Columns: []string{"label"}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for name, want := range map[string]Format{"csv": CSV, "CSV": CSV, "jsonl": JSONL, "ndjson": JSONL} {
		got, err := ParseFormat(name)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v, want %q", name, got, err, want)
		}
	}
	if _, err := ParseFormat("tsv"); err == nil {
		t.Error("ParseFormat(tsv) succeeded, want an error")
	}
}

func TestJSONLNestedAndEmptyObjects(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{"nested keys repeat legally", `{"label": 1, "score": 0.5, "m": {"label": 2, "x": [1, 2]}, "n": {"label": 3}}`, []string{"1", "0.5"}},
		{"commas and braces in strings", `{"label": "a,}{\"b", "score": "0,5"}`, []string{"a,}{\"b", "0,5"}},
		{"max value length", `{"label": "` + strings.Repeat("a", MaxValueBytes) + `", "score": 1}`, []string{strings.Repeat("a", MaxValueBytes), "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.content+"\n"), Options{DisplayPath: "p", Format: JSONL, Columns: []string{"label", "score"}})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([][]string{tt.want}, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONLMembers(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{`{}`, 0},
		{`{ }`, 0},
		{`{"a":1}`, 1},
		{`{"a":[1,2,{"b":3,"c":4}],"d":"x,y\"z,"}`, 2},
		{`{"a\\":1,"b":{}}`, 2},
	}
	for _, tt := range tests {
		if got := members([]byte(tt.text)); got != tt.want {
			t.Errorf("members(%s) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestReaderRejectsInvalidUTF8(t *testing.T) {
	tests := []struct {
		name      string
		format    Format
		delimiter rune
		content   string
		wantLine  int
		wantText  string
	}{
		{name: "csv", format: CSV, content: "label,score,g\n1,0.5,Other\n1,0.5,Oth\xe5r\n", wantLine: 3,
			wantText: `p:3: column "g": not valid UTF-8: the value "Oth\xe5r" has the byte 0xe5 at offset 3`},
		{name: "csv quoted", format: CSV, content: "label,score,g\n1,0.5,\"a,\xff\"\n", wantLine: 2, wantText: "the byte 0xff at offset 2"},
		{name: "csv encoding/csv reader", format: CSV, delimiter: '¦', content: "label¦score¦g\n1¦0.5¦Oth\xe5r\n", wantLine: 2,
			wantText: "iconv -f latin1 -t utf-8"},
		{name: "csv truncated character", format: CSV, content: "label,score,g\n1,0.5,caf\xc3\n", wantLine: 2, wantText: "the byte 0xc3 at offset 3"},
		{name: "jsonl raw byte", format: JSONL, content: "{\"label\": 1, \"score\": 0.5, \"g\": \"Oth\xe5r\"}\n", wantLine: 1,
			wantText: `p:1: column "g": not valid UTF-8: the value "Oth\xe5r"`},
		{name: "jsonl unpaired high surrogate", format: JSONL, content: "{\"label\": 1, \"score\": 0.5, \"g\": \"Oth\\ud800r\"}\n", wantLine: 1,
			wantText: `the string contains \ud800, half of a UTF-16 surrogate pair`},
		{name: "jsonl unpaired low surrogate", format: JSONL, content: "{\"label\": 1, \"score\": 0.5, \"g\": \"Oth\\uDCE5r\"}\n", wantLine: 1,
			wantText: `the string contains \uDCE5`},
		{name: "jsonl reversed pair", format: JSONL, content: "{\"label\": 1, \"score\": 0.5, \"g\": \"\\ude00\\ud83d\"}\n", wantLine: 1,
			wantText: `the string contains \ude00`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.content), Options{DisplayPath: "p", Format: tt.format, Delimiter: tt.delimiter, Columns: []string{"label", "score", "g"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = readAll(r)
			var rowErr *RowError
			if !errors.As(err, &rowErr) {
				t.Fatalf("error = %v, want a *RowError", err)
			}
			if !errors.Is(err, ErrInvalidUTF8) {
				t.Errorf("error %q does not wrap ErrInvalidUTF8", err)
			}
			if rowErr.Line != tt.wantLine || rowErr.Column != "g" {
				t.Errorf("line, column = %d, %q, want %d, \"g\"", rowErr.Line, rowErr.Column, tt.wantLine)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

func TestReaderAcceptsValidUnicode(t *testing.T) {
	tests := []struct {
		name    string
		format  Format
		content string
		want    string
	}{
		{"csv unrequested column may be invalid", CSV, "label,score,g,note\n1,0.5,Other,caf\xe9\n", "Other"},
		{"csv replacement character", CSV, "label,score,g\n1,0.5,a\uFFFDb\n", "a\uFFFDb"},
		{"jsonl surrogate pair", JSONL, "{\"label\": 1, \"score\": 0.5, \"g\": \"\\ud83d\\ude00\"}\n", "\U0001F600"},
		{"jsonl escaped replacement character", JSONL, "{\"label\": 1, \"score\": 0.5, \"g\": \"a\\ufffdb\"}\n", "a\uFFFDb"},
		{"jsonl escaped backslash before u", JSONL, "{\"label\": 1, \"score\": 0.5, \"g\": \"\\\\ud800\uFFFD\"}\n", "\\ud800\uFFFD"},
		{"jsonl unrequested key may be invalid", JSONL, "{\"label\": 1, \"score\": 0.5, \"g\": \"x\", \"note\": \"\\ud800\"}\n", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.content), Options{DisplayPath: "p", Format: tt.format, Columns: []string{"label", "score", "g"}})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := readAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0][2] != tt.want {
				t.Errorf("rows = %q, want one row with g = %q", rows, tt.want)
			}
		})
	}
}
