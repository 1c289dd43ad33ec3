package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/policies"
)

// testRunOptions returns the options of a test run: a fixed time and tool
// version, the shipped presets and no log output.
func testRunOptions(config, out string, sign SignMode, key string) RunOptions {
	return RunOptions{
		ConfigPath:      config,
		OutDir:          out,
		Sign:            sign,
		KeyPath:         key,
		SourceDateEpoch: "1700000000",
		ToolVersion:     "test",
		Builtins:        policies.FS,
		Now:             func() time.Time { return time.Unix(1700000000, 0) },
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// signedDemoPack signs the demo with the demo key and returns the pack directory.
func signedDemoPack(t *testing.T, build *BuildContext) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pack")
	opts := testRunOptions(filepath.Join("..", "..", "testdata", "demo", ".auditpack.yml"), out, SignKey,
		filepath.Join("..", "..", "testdata", "demo", "keys", "cosign.key"))
	opts.Build = build
	_, err := Run(t.Context(), opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out
}

// verifiedPredicate verifies one bundle of the pack with the demo key and
// returns its predicate type and predicate.
func verifiedPredicate(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	key, err := attest.LoadPublicKey(filepath.Join("..", "..", "testdata", "demo", "keys", "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, DirAttestations, name+attest.BundleExtension))
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.Verify(t.Context(), data, attest.VerifyOptions{PublicKey: key})
	if err != nil {
		t.Fatalf("verifying %s: %v", name, err)
	}
	return v.PredicateType, v.Predicate
}

func TestEvaluationPredicateMatchesSchema(t *testing.T) {
	dir := signedDemoPack(t, nil)
	predicateType, predicate := verifiedPredicate(t, dir, "evaluation")
	if predicateType != attest.PredicateEvaluation {
		t.Fatalf("predicate type = %s", predicateType)
	}

	schemaFile, err := os.Open(filepath.Join("..", "..", "docs", "schemas", "evaluation-v1.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer schemaFile.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(schemaFile)
	if err != nil {
		t.Fatalf("reading the schema: %v", err)
	}
	compiler := jsonschema.NewCompiler()
	if err := compiler.AddResource("evaluation-v1.schema.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := compiler.Compile("evaluation-v1.schema.json")
	if err != nil {
		t.Fatalf("compiling the schema: %v", err)
	}

	tests := []struct {
		name   string
		change func(map[string]any)
		valid  bool
	}{
		{name: "real predicate", change: func(map[string]any) {}, valid: true},
		{name: "no packFiles", change: func(p map[string]any) { delete(p, "packFiles") }},
		{name: "uppercase digest", change: func(p map[string]any) {
			p["packFiles"].([]any)[0].(map[string]any)["sha256"] = "ABC"
		}},
		{name: "local createdAt", change: func(p map[string]any) { p["createdAt"] = "2023-11-14T22:13:20+01:00" }},
		{name: "unknown verdict", change: func(p map[string]any) { p["verdict"].(map[string]any)["result"] = "maybe" }},
		{name: "no attestations", change: func(p map[string]any) { delete(p, "attestations") }},
		{name: "attestation without payload digest", change: func(p map[string]any) {
			delete(p["attestations"].([]any)[0].(map[string]any), "payloadSha256")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(predicate, &doc); err != nil {
				t.Fatal(err)
			}
			tt.change(doc)
			data, _ := json.Marshal(doc)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			err = schema.Validate(inst)
			if tt.valid && err != nil {
				t.Errorf("the predicate does not match the schema: %v", err)
			}
			if !tt.valid && err == nil {
				t.Error("the changed predicate matches the schema")
			}
		})
	}
}

func TestEvaluationPredicateSignsAttestationPayloads(t *testing.T) {
	dir := signedDemoPack(t, nil)
	_, predicate := verifiedPredicate(t, dir, "evaluation")
	var pred EvaluationPredicate
	if err := json.Unmarshal(predicate, &pred); err != nil {
		t.Fatal(err)
	}
	key, err := attest.LoadPublicKey(filepath.Join("..", "..", "testdata", "demo", "keys", "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}

	var paths []string
	for _, f := range pred.Attestations {
		paths = append(paths, f.Path)
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		v, err := attest.Verify(t.Context(), data, attest.VerifyOptions{PublicKey: key})
		if err != nil {
			t.Fatalf("verifying %s: %v", f.Path, err)
		}
		sum := sha256.Sum256(v.Raw)
		if got := hex.EncodeToString(sum[:]); f.PayloadSHA256 != got {
			t.Errorf("%s: payloadSha256 = %s, want the SHA-256 of its payload %s", f.Path, f.PayloadSHA256, got)
		}
	}
	want := []string{"attestations/aibom.sigstore.json", "attestations/model-signing.sigstore.json", "attestations/policy.sigstore.json", "attestations/provenance.sigstore.json"}
	if !slices.Equal(paths, want) {
		t.Errorf("attestations = %v, want %v", paths, want)
	}
	for _, f := range pred.PackFiles {
		if strings.HasPrefix(f.Path, DirAttestations+"/") {
			t.Errorf("packFiles lists the attestation %s", f.Path)
		}
	}
}

// The payload digest covers the statement bytes only, not the signature,
// key or certificate around them, so a keyless bundle, whose certificate
// and log entry differ on every run, is bound the same way. An unsigned
// pack shows it: its statements are the same bytes a signer would sign.
func TestPayloadDigestsDoNotDependOnTheSigner(t *testing.T) {
	signed := signedDemoPack(t, nil)
	_, predicate := verifiedPredicate(t, signed, "evaluation")
	var signedPred EvaluationPredicate
	if err := json.Unmarshal(predicate, &signedPred); err != nil {
		t.Fatal(err)
	}

	unsigned := filepath.Join(t.TempDir(), "pack")
	_, err := Run(t.Context(), testRunOptions(filepath.Join("..", "..", "testdata", "demo", ".auditpack.yml"), unsigned, SignNone, ""))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(unsigned, DirAttestations, "evaluation"+attest.UnsignedExtension))
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.ParseStatement(data)
	if err != nil {
		t.Fatal(err)
	}
	var unsignedPred EvaluationPredicate
	if err := json.Unmarshal(st.Predicate, &unsignedPred); err != nil {
		t.Fatal(err)
	}

	digests := map[string]string{}
	for _, f := range unsignedPred.Attestations {
		statement, err := os.ReadFile(filepath.Join(unsigned, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(statement)
		if got := hex.EncodeToString(sum[:]); got != f.PayloadSHA256 {
			t.Errorf("%s: payloadSha256 = %s, the file's SHA-256 is %s", f.Path, f.PayloadSHA256, got)
		}
		digests[strings.TrimSuffix(f.Path, attest.UnsignedExtension)] = f.PayloadSHA256
	}
	for _, f := range signedPred.Attestations {
		name := strings.TrimSuffix(f.Path, attest.BundleExtension)
		if name == DirAttestations+"/provenance" {
			continue // records the signing mode
		}
		if digests[name] != f.PayloadSHA256 {
			t.Errorf("%s: payloadSha256 %s signed, %s unsigned; want the same statement", name, f.PayloadSHA256, digests[name])
		}
	}
}

func TestTestResultPredicate(t *testing.T) {
	dir := signedDemoPack(t, &BuildContext{Repository: "org/repo", RunID: "42"})
	predicateType, predicate := verifiedPredicate(t, dir, "policy")
	if predicateType != attest.PredicateTestResult {
		t.Fatalf("predicate type = %s", predicateType)
	}
	var got TestResult
	if err := json.Unmarshal(predicate, &got); err != nil {
		t.Fatal(err)
	}
	if got.Result != "PASSED" {
		t.Errorf("result = %s, want PASSED (the demo passes)", got.Result)
	}
	if len(got.PassedTests) == 0 || len(got.FailedTests) != 0 {
		t.Errorf("passed %v, failed %v", got.PassedTests, got.FailedTests)
	}
	if len(got.Configuration) == 0 || len(got.Configuration[0].Digest["sha256"]) != 64 {
		t.Errorf("configuration = %+v, want the policy files with digests", got.Configuration)
	}
	if got.URL != "https://github.com/org/repo/actions/runs/42" {
		t.Errorf("url = %q", got.URL)
	}
}

func TestProvenancePredicate(t *testing.T) {
	build := &BuildContext{
		ServerURL: "https://github.com", Repository: "org/repo",
		WorkflowRef: "org/repo/.github/workflows/release.yml@refs/tags/v1.0.0",
		SHA:         "0123456789abcdef0123456789abcdef01234567", Ref: "refs/tags/v1.0.0",
		EventName: "release", RunID: "42", RunAttempt: "2", RunnerEnvironment: "github-hosted",
	}
	dir := signedDemoPack(t, build)
	predicateType, predicate := verifiedPredicate(t, dir, "provenance")
	if predicateType != attest.PredicateSLSAProvenance {
		t.Fatalf("predicate type = %s", predicateType)
	}
	var got Provenance
	if err := json.Unmarshal(predicate, &got); err != nil {
		t.Fatal(err)
	}
	if got.BuildDefinition.BuildType != BuildTypeRun {
		t.Errorf("buildType = %s", got.BuildDefinition.BuildType)
	}
	if want := "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1.0.0"; got.RunDetails.Builder.ID != want {
		t.Errorf("builder.id = %s, want %s", got.RunDetails.Builder.ID, want)
	}
	if got.RunDetails.Metadata == nil || got.RunDetails.Metadata.InvocationID != "https://github.com/org/repo/actions/runs/42/attempts/2" {
		t.Errorf("metadata = %+v", got.RunDetails.Metadata)
	}
	deps := got.BuildDefinition.ResolvedDependencies
	if len(deps) < 3 {
		t.Fatalf("resolvedDependencies = %+v, want the source, the config and the policies", deps)
	}
	if deps[0].URI != "git+https://github.com/org/repo@refs/tags/v1.0.0" || deps[0].Digest["gitCommit"] != build.SHA {
		t.Errorf("source dependency = %+v", deps[0])
	}
	for _, d := range deps[1:] {
		if len(d.Digest["sha256"]) != 64 {
			t.Errorf("dependency %+v has no sha256", d)
		}
	}
	var byproducts []string
	for _, b := range got.RunDetails.Byproducts {
		byproducts = append(byproducts, b.Name)
	}
	if !slices.Contains(byproducts, FileMetrics) || !slices.Contains(byproducts, FileSummary) {
		t.Errorf("byproducts = %v, want the pack documents", byproducts)
	}
}

func TestKeySignedPackIsReproducible(t *testing.T) {
	first := signedDemoPack(t, nil)
	second := signedDemoPack(t, nil)
	for _, name := range []string{"evaluation", "policy", "provenance", "aibom"} {
		a, err := os.ReadFile(filepath.Join(first, DirAttestations, name+attest.BundleExtension))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(second, DirAttestations, name+attest.BundleExtension))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s bundles differ between two runs of the same inputs", name)
		}
	}
}
