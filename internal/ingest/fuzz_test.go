package ingest

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReader feeds arbitrary bytes to both parsers. A Reader must never
// panic, must return either rows, io.EOF, ErrEmpty or an error, every
// *RowError must carry a positive line, and every value returned must be
// valid UTF-8.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"label,score\n1,0.5\n0,0.25\n",
		"\uFEFFlabel,score\r\n1,0.5\r\n",
		"label,score\n\"1,2\",\"0\"\"5\"\n",
		"label,score\n1\n",
		"label,score\n1,\"0.5\n",
		"",
		"label\n",
		"{\"label\": 1, \"score\": 0.5}\n\n{\"label\": \"0\", \"score\": null}\n",
		"{\"label\": [1], \"score\": {}}\n",
		"{\"label\": 1\n",
		"\uFEFF{\"label\": true, \"score\": 1e3}\r\n",
		"[]\n",
		"label,score\nOth\xe5r,0.5\n",
		"label,score\n\"a,\xff\",0.5\n",
		"{\"label\": \"Oth\xe5r\", \"score\": 0.5}\n",
		"{\"label\": \"\\ud800\", \"score\": 0.5}\n",
		"{\"label\": \"\\ud83d\\ude00\", \"score\": \"\\\\udc00\"}\n",
	}
	for _, seed := range seeds {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}

	f.Fuzz(func(t *testing.T, data []byte, jsonl bool) {
		format := CSV
		if jsonl {
			format = JSONL
		}
		r, err := NewReader(strings.NewReader(string(data)), Options{DisplayPath: "fuzz", Format: format, Columns: []string{"label", "score", "label"}})
		if err != nil {
			checkError(t, err)
			return
		}
		values := make([]string, 3)
		for rows := 0; ; rows++ {
			err := r.Next(values)
			if err == io.EOF {
				if rows == 0 {
					t.Fatal("io.EOF before any row; want ErrEmpty")
				}
				return
			}
			if err != nil {
				checkError(t, err)
				return
			}
			for i, value := range values {
				if !utf8.ValidString(value) {
					t.Fatalf("value %d of row %d is not valid UTF-8: %q", i, rows, value)
				}
			}
			if values[0] != values[2] {
				t.Fatalf("the same column requested twice gave %q and %q", values[0], values[2])
			}
			if r.Line() < 1 {
				t.Fatalf("row %d reported line %d", rows, r.Line())
			}
		}
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var rowErr *RowError
	if errors.As(err, &rowErr) && rowErr.Line < 1 {
		t.Fatalf("RowError without a line: %v", err)
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}
