package ingest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// csvOutcome is everything a CSV source reports for an input: the header
// error, or each row's values and line up to the first error, which is
// compared by its message.
type csvOutcome struct {
	Rows  [][]string
	Lines []int
	Err   string
}

// readCSVOutcome reads content with source, which is newFastCSVSource or
// newStdCSVSource behind a common signature.
func readCSVOutcome(source func(io.Reader, Options) (rowSource, error), content string, opts Options) csvOutcome {
	var out csvOutcome
	rows, err := source(skipBOM(strings.NewReader(content)), opts)
	if err != nil {
		out.Err = err.Error()
		return out
	}
	values := make([]string, len(opts.Columns))
	for {
		line, err := rows.next(values)
		if err == io.EOF {
			return out
		}
		if err != nil {
			out.Err = err.Error()
			return out
		}
		out.Rows = append(out.Rows, append([]string(nil), values...))
		out.Lines = append(out.Lines, line)
	}
}

func fastSource(r io.Reader, opts Options) (rowSource, error) { return newFastCSVSource(r, opts) }
func stdSource(r io.Reader, opts Options) (rowSource, error)  { return newStdCSVSource(r, opts) }

// compareCSVSources fails t when the fast reader and encoding/csv disagree
// on content.
func compareCSVSources(t *testing.T, content string, opts Options) {
	t.Helper()
	fast := readCSVOutcome(fastSource, content, opts)
	std := readCSVOutcome(stdSource, content, opts)
	if diff := cmp.Diff(std, fast); diff != "" {
		t.Errorf("input %q, options %+v: fast reader differs from encoding/csv (-encoding/csv +fast):\n%s", content, opts, diff)
	}
}

func TestFastCSVMatchesEncodingCSV(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"plain", "a,b,c\n1,2,3\n4,5,6\n"},
		{"crlf", "a,b,c\r\n1,2,3\r\n4,5,6\r\n"},
		{"no final newline", "a,b,c\n1,2,3\n4,5,6"},
		{"final carriage return", "a,b,c\n1,2,3\r"},
		{"lone carriage return inside a field", "a,b,c\n1,x\ry,3\n"},
		{"carriage return before crlf", "a,b,c\n1,2,3\r\r\n"},
		{"bom", "\uFEFFa,b,c\n1,2,3\n"},
		{"empty lines skipped", "\n\na,b,c\n\n1,2,3\r\n\r\n4,5,6\n\n"},
		{"whitespace line is a record", "a,b,c\n \n"},
		{"quoted fields", "a,b,c\n\"1\",\"2\",\"3\"\n"},
		{"doubled quotes", "a,b,c\n\"x\"\"y\",\"\"\"\",\"\"\n"},
		{"quoted delimiter", "a,b,c\n\"1,5\",2,\"3,\"\n"},
		{"newline inside quotes", "a,b,c\n\"line one\nline two\",2,3\n4,5,6\n"},
		{"crlf inside quotes", "a,b,c\n\"x\r\ny\",2,3\r\n"},
		{"empty line inside quotes", "a,b,c\n1,\"x\n\ny\",3\n"},
		{"quoted header", "\"a\",\"b\",\"c\"\n1,2,3\n"},
		{"empty fields", "a,b,c\n,,\n\"\",,\"\"\n"},
		{"utf-8 values", "a,b,c\né,日本,😀\n"},
		{"invalid utf-8", "a,b,c\n\xff,\xfe\xfd,\"\xc3\"\n"},
		{"bare quote unquoted", "a,b,c\n1,2\"x,3\n"},
		{"bare quote later in line", "a,b,c\n1,2,3\n4,5,x\"\n"},
		{"text after closing quote", "a,b,c\n1,\"2\"x,3\n"},
		{"unterminated quote", "a,b,c\n1,\"2,3\n"},
		{"unterminated quote at end without newline", "a,b,c\n1,2,\"3"},
		{"unterminated quote over lines", "a,b,c\n1,\"2\n3\n4"},
		{"quote error on a continuation line", "a,b,c\n1,\"2\nx\"y,3\n"},
		{"bare quote after a multi-line field", "a,b,c\n\"1\n2\",x\"y,3\n"},
		{"too few fields", "a,b,c\n1,2\n"},
		{"too many fields", "a,b,c\n1,2,3,4\n"},
		{"too many fields after quotes", "a,b,c\n\"1\",\"2\",\"3\",\"4\"\n"},
		{"header only", "a,b,c\n"},
		{"empty", ""},
		{"only newlines", "\n\r\n\n"},
		{"duplicate header", "a,b,a\n1,2,3\n"},
		{"missing column", "x,b,c\n1,2,3\n"},
		{"bad header", "a,\"b,c\n1,2,3\n"},
		{"tabs and spaces kept", "a,b,c\n 1 ,\t2\t, \"3\"\n"},
	}
	columnSets := [][]string{{"a", "b", "c"}, {"c", "a"}, {"b", "b"}, {"c"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, columns := range columnSets {
				compareCSVSources(t, tt.content, Options{DisplayPath: "p.csv", Columns: columns})
			}
		})
	}
}

func TestFastCSVOptionsMatchEncodingCSV(t *testing.T) {
	tests := []struct {
		name    string
		content string
		opts    Options
	}{
		{"semicolon", "a;b;c\n1;\"2;x\";3\n", Options{Delimiter: ';'}},
		{"tab", "a\tb\tc\n1\t2\t3\n", Options{Delimiter: '\t'}},
		{"configured header", "1,2,3\n4,5,6\n", Options{Header: []string{"a", "b", "c"}}},
		{"configured header, wrong width", "1,2,3\n4,5\n", Options{Header: []string{"a", "b", "c"}}},
		{"configured header, empty file", "", Options{Header: []string{"a", "b", "c"}}},
		{"line longer than the buffer", "a,b,c\n" + strings.Repeat("x", 200<<10) + ",\"" + strings.Repeat("y\n", 50<<10) + "\",3\n", Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.DisplayPath = "p.csv"
			opts.Columns = []string{"c", "a"}
			compareCSVSources(t, tt.content, opts)
		})
	}
}

func TestFastCSVValuesSurviveLaterRows(t *testing.T) {
	// Values handed out earlier must not change while later rows are read,
	// because scan passes them to another goroutine in batches.
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "%d,\"v%d\"\n", i, i)
	}
	r, err := NewReader(strings.NewReader(b.String()), Options{DisplayPath: "p.csv", Format: CSV, Columns: []string{"b", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	var kept [][]string
	for {
		values := make([]string, 2)
		err := r.Next(values)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, values)
	}
	for i, values := range kept {
		if want := []string{fmt.Sprintf("v%d", i), fmt.Sprint(i)}; !cmp.Equal(values, want) {
			t.Fatalf("row %d reads %q after the whole file was read, want %q", i, values, want)
		}
	}
}

// FuzzFastCSV compares the fast reader with encoding/csv on arbitrary
// input: both must give the same rows, lines and first error.
func FuzzFastCSV(f *testing.F) {
	seeds := []string{
		"a,b,c\n1,2,3\n",
		"a,b,c\r\n\"1\r\n\",\"\"\"\",3\r\n",
		"\uFEFFa,b\n\n1,2\r",
		"a,b,c\n1,\"2\"x,3\n",
		"a,b,c\n1,2\"x,3\n",
		"a,b,c\n1,\"2\n",
		"a;b;c\n1;2;3\n",
		"a,b\n1,2,3\n\"x\ny\",\"z\"\n",
		"a,b,c\nOth\xe5r,\"\xff,\xc3\",3\n",
	}
	for _, seed := range seeds {
		f.Add(seed, byte(','), false)
		f.Add(seed, byte(';'), true)
	}
	f.Fuzz(func(t *testing.T, content string, delimiter byte, configuredHeader bool) {
		if delimiter >= 0x80 || delimiter == '"' || delimiter == '\r' || delimiter == '\n' || delimiter == 0 {
			delimiter = ','
		}
		opts := Options{DisplayPath: "fuzz.csv", Columns: []string{"c", "a"}, Delimiter: rune(delimiter)}
		if configuredHeader {
			opts.Header = []string{"a", "b", "c"}
		}
		compareCSVSources(t, content, opts)
	})
}

// BenchmarkCSVSources reads 200,000 rows of the benchmark's layout with
// both CSV sources and reports rows per second.
func BenchmarkCSVSources(b *testing.B) {
	var content strings.Builder
	content.WriteString("label,prediction,score,race,sex\n")
	races := []string{"African-American", "Caucasian", "Hispanic"}
	const rows = 200_000
	for i := range rows {
		fmt.Fprintf(&content, "%d,%d,0.%04d,%s,%s\n", i%2, i%3%2, i%10000, races[i%3], []string{"Female", "Male"}[i%2])
	}
	data := content.String()
	opts := Options{DisplayPath: "bench.csv", Columns: []string{"label", "prediction", "score", "race", "sex"}}
	for _, source := range []struct {
		name string
		open func(io.Reader, Options) (rowSource, error)
	}{{"fast", fastSource}, {"encoding-csv", stdSource}} {
		b.Run(source.name, func(b *testing.B) {
			values := make([]string, len(opts.Columns))
			for b.Loop() {
				rows, err := source.open(skipBOM(strings.NewReader(data)), opts)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := rows.next(values); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
