package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const (
	digestA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	digestB = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

// fixedPredicate has keys out of order, nested values, HTML characters and
// numbers of several forms, to pin down the canonical encoding.
type fixedPredicate struct {
	Zeta     string         `json:"zeta"`
	Alpha    int            `json:"alpha"`
	Ratio    float64        `json:"ratio"`
	Nested   map[string]any `json:"nested"`
	Note     string         `json:"note"`
	Unicode  string         `json:"unicode"`
	Missing  *float64       `json:"missing"`
	Passed   bool           `json:"passed"`
	Elements []int          `json:"elements"`
}

func fixedInput() ([]Subject, fixedPredicate) {
	subjects := []Subject{
		{Name: "models/model.onnx", Digest: map[string]string{"sha256": digestA}},
		{Name: "models/tokenizer.json", Digest: map[string]string{"sha512": strings.Repeat("ab", 64), "sha256": digestB}},
	}
	predicate := fixedPredicate{
		Zeta:     "last",
		Alpha:    1,
		Ratio:    0.8125,
		Nested:   map[string]any{"b": 2.5, "a": []string{"x", "y"}, "big": 1e21},
		Note:     "<a & b>",
		Unicode:  "Zoë",
		Passed:   true,
		Elements: []int{3, 1, 2},
	}
	return subjects, predicate
}

func TestNewStatementGolden(t *testing.T) {
	subjects, predicate := fixedInput()
	got, err := NewStatement(subjects, PredicateEvaluation, predicate)
	if err != nil {
		t.Fatalf("NewStatement: %v", err)
	}

	golden := filepath.Join("testdata", "statement.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("statement bytes differ from %s (run with -update if the change is intended)\ngot:  %s\nwant: %s", golden, got, want)
	}
}

func TestNewStatementCanonical(t *testing.T) {
	subjects, predicate := fixedInput()
	first, err := NewStatement(subjects, PredicateEvaluation, predicate)
	if err != nil {
		t.Fatalf("NewStatement: %v", err)
	}
	second, err := NewStatement(subjects, PredicateEvaluation, predicate)
	if err != nil {
		t.Fatalf("NewStatement: %v", err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("two calls gave different bytes:\n%s\n%s", first, second)
	}

	again, err := canonicalJSON(first)
	if err != nil {
		t.Fatalf("canonicalJSON: %v", err)
	}
	if !bytes.Equal(first, again) {
		t.Errorf("output is not a fixed point of canonicalJSON:\n%s\n%s", first, again)
	}
	if bytes.ContainsAny(first, "\n\t") {
		t.Errorf("output contains a newline or tab: %s", first)
	}
	if !bytes.HasPrefix(first, []byte(`{"_type":"https://in-toto.io/Statement/v1","predicate":{`)) {
		t.Errorf("output does not start with sorted _type then predicate: %s", first)
	}
}

func TestNewStatementParsesBack(t *testing.T) {
	subjects, predicate := fixedInput()
	data, err := NewStatement(subjects, PredicateEvaluation, predicate)
	if err != nil {
		t.Fatalf("NewStatement: %v", err)
	}

	got, err := ParseStatement(data)
	if err != nil {
		t.Fatalf("ParseStatement: %v", err)
	}
	if got.PredicateType != PredicateEvaluation {
		t.Errorf("PredicateType = %q, want %q", got.PredicateType, PredicateEvaluation)
	}
	if diff := cmp.Diff(subjects, got.Subjects); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
	if !bytes.Equal(got.Raw, data) {
		t.Errorf("Raw differs from the input")
	}

	var gotPredicate, wantPredicate any
	if err := json.Unmarshal(got.Predicate, &gotPredicate); err != nil {
		t.Fatalf("predicate is not JSON: %v", err)
	}
	wantJSON, _ := json.Marshal(predicate)
	if err := json.Unmarshal(wantJSON, &wantPredicate); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantPredicate, gotPredicate); diff != "" {
		t.Errorf("predicate (-want +got):\n%s", diff)
	}
}

func TestNewStatementRejects(t *testing.T) {
	good := []Subject{{Name: "model.onnx", Digest: map[string]string{"sha256": digestA}}}
	tooMany := make([]Subject, MaxSubjects+1)
	for i := range tooMany {
		tooMany[i] = Subject{Name: fmt.Sprintf("f%d", i), Digest: map[string]string{"sha256": digestA}}
	}

	tests := []struct {
		name          string
		subjects      []Subject
		predicateType string
		predicate     any
		wantMessage   string
	}{
		{"no subjects", nil, PredicateEvaluation, map[string]any{}, "at least one subject"},
		{"too many subjects", tooMany, PredicateEvaluation, map[string]any{}, "1025 subjects; the maximum is 1024"},
		{"subject without name", []Subject{{Digest: map[string]string{"sha256": digestA}}}, PredicateEvaluation, map[string]any{}, "subject 0 has no name"},
		{"duplicate subject", append(good, good[0]), PredicateEvaluation, map[string]any{}, `subject "model.onnx" appears more than once`},
		{"no sha256", []Subject{{Name: "m", Digest: map[string]string{"sha512": strings.Repeat("a", 128)}}}, PredicateEvaluation, map[string]any{}, `subject "m" has no sha256 digest`},
		{"short sha256", []Subject{{Name: "m", Digest: map[string]string{"sha256": "abc"}}}, PredicateEvaluation, map[string]any{}, "is not 64 lowercase hex digits"},
		{"uppercase sha256", []Subject{{Name: "m", Digest: map[string]string{"sha256": strings.ToUpper(digestA)}}}, PredicateEvaluation, map[string]any{}, "is not 64 lowercase hex digits"},
		{"non-hex sha256", []Subject{{Name: "m", Digest: map[string]string{"sha256": strings.Repeat("g", 64)}}}, PredicateEvaluation, map[string]any{}, "is not 64 lowercase hex digits"},
		{"relative predicate type", good, "evaluation/v1", map[string]any{}, `predicate type "evaluation/v1" is not an absolute URI`},
		{"empty predicate type", good, "", map[string]any{}, `predicate type "" is not an absolute URI`},
		{"predicate is array", good, PredicateEvaluation, []int{1}, "predicate must encode as a JSON object"},
		{"predicate is null", good, PredicateEvaluation, nil, "predicate must encode as a JSON object"},
		{"predicate not encodable", good, PredicateEvaluation, map[string]any{"f": func() {}}, "encoding predicate as JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewStatement(tt.subjects, tt.predicateType, tt.predicate)
			if err == nil {
				t.Fatalf("NewStatement succeeded with %s", got)
			}
			if !errors.Is(err, ErrStatement) {
				t.Errorf("error %v does not wrap ErrStatement", err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error %q does not contain %q", err, tt.wantMessage)
			}
		})
	}
}

func TestParseStatementRejects(t *testing.T) {
	const subject = `[{"name":"m","digest":{"sha256":"` + digestA + `"}}]`
	tests := []struct {
		name        string
		input       string
		wantMessage string
	}{
		{"not JSON", `{`, "parsing in-toto statement"},
		{"fifth field", `{"_type":"https://in-toto.io/Statement/v1","subject":` + subject + `,"predicateType":"https://x.test/p","predicate":{},"extra":1}`, "parsing in-toto statement"},
		{"proto field name", `{"_type":"https://in-toto.io/Statement/v1","subject":` + subject + `,"predicate_type":"https://x.test/p","predicate":{}}`, "exactly the top-level fields"},
		{"repeated field", `{"_type":"https://in-toto.io/Statement/v1","subject":` + subject + `,"predicateType":"https://x.test/p","predicateType":"https://x.test/q","predicate":{}}`, "parsing in-toto statement"},
		{"unknown type", `{"_type":"https://in-toto.io/Statement/v2","subject":` + subject + `,"predicateType":"https://x.test/p","predicate":{}}`, `statement _type is "https://in-toto.io/Statement/v2"`},
		{"no subjects", `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"https://x.test/p","predicate":{}}`, "validating statement"},
		{"subject without digest", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"m"}],"predicateType":"https://x.test/p","predicate":{}}`, "validating statement"},
		{"no predicate", `{"_type":"https://in-toto.io/Statement/v1","subject":` + subject + `,"predicateType":"https://x.test/p"}`, "validating statement"},
		{"relative predicate type", `{"_type":"https://in-toto.io/Statement/v1","subject":` + subject + `,"predicateType":"p","predicate":{}}`, "is not an absolute URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStatement([]byte(tt.input))
			if err == nil {
				t.Fatal("ParseStatement succeeded")
			}
			if !errors.Is(err, ErrStatement) {
				t.Errorf("error %v does not wrap ErrStatement", err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error %q does not contain %q", err, tt.wantMessage)
			}
		})
	}
}

func TestParseStatementAcceptsV01(t *testing.T) {
	input := `{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"m","digest":{"sha256":"` + digestA + `"}}],"predicateType":"https://x.test/p","predicate":{"a":1}}`
	st, err := ParseStatement([]byte(input))
	if err != nil {
		t.Fatalf("ParseStatement: %v", err)
	}
	if st.PredicateType != "https://x.test/p" || len(st.Subjects) != 1 || st.Subjects[0].Digest["sha256"] != digestA {
		t.Errorf("ParseStatement = %+v", st)
	}
}

func TestWriteUnsigned(t *testing.T) {
	subjects, predicate := fixedInput()
	statement, err := NewStatement(subjects, PredicateEvaluation, predicate)
	if err != nil {
		t.Fatalf("NewStatement: %v", err)
	}

	var out bytes.Buffer
	if err := WriteUnsigned(&out, statement); err != nil {
		t.Fatalf("WriteUnsigned: %v", err)
	}
	if !bytes.Equal(out.Bytes(), statement) {
		t.Errorf("written bytes differ from the statement")
	}

	out.Reset()
	err = WriteUnsigned(&out, []byte(`{"_type":"x"}`))
	if !errors.Is(err, ErrStatement) {
		t.Errorf("WriteUnsigned of an invalid statement: error %v, want ErrStatement", err)
	}
	if out.Len() != 0 {
		t.Errorf("WriteUnsigned wrote %d bytes of an invalid statement", out.Len())
	}
}
