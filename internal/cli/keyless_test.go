package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sigstoreStack returns the environment of a running loopback Sigstore
// stack (test/sigstore/with-stack.sh exports it). It skips the test when
// there is none, and fails it when AUDITPACK_REQUIRE_SIGSTORE=1, which CI
// sets in .ci/sigstore.sh.
func sigstoreStack(t *testing.T) map[string]string {
	t.Helper()
	names := []string{
		"FULCIO_URL", "REKOR_URL", "TSA_URL", "SIGSTORE_TRUSTED_ROOT",
		"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
		"CERTIFICATE_IDENTITY", "CERTIFICATE_OIDC_ISSUER", "OIDC_TOKEN_URL",
	}
	env := map[string]string{}
	for _, name := range names {
		env[name] = os.Getenv(name)
		if env[name] == "" {
			if os.Getenv("AUDITPACK_REQUIRE_SIGSTORE") == "1" {
				t.Fatalf("%s is not set but AUDITPACK_REQUIRE_SIGSTORE=1: run the test through test/sigstore/with-stack.sh", name)
			}
			t.Skipf("no local Sigstore stack (%s is not set); run through test/sigstore/with-stack.sh", name)
		}
	}
	return env
}

// keylessPack signs the demo keylessly through the Actions token service
// of the stack, as a GitHub workflow would, and returns the demo directory
// and the pack directory.
func keylessPack(t *testing.T, stack map[string]string) (dir, out string) {
	t.Helper()
	dir = demo(t)
	out = filepath.Join(t.TempDir(), "pack")
	env := map[string]string{
		"GITHUB_ACTIONS":                 "true",
		"ACTIONS_ID_TOKEN_REQUEST_URL":   stack["ACTIONS_ID_TOKEN_REQUEST_URL"],
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": stack["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
		"GITHUB_REPOSITORY":              "org/repo",
		"GITHUB_WORKFLOW_REF":            "org/repo/.github/workflows/release.yml@refs/heads/main",
		"GITHUB_SHA":                     strings.Repeat("a", 40),
		"GITHUB_REF":                     "refs/heads/main",
		"GITHUB_RUN_ID":                  "42",
		"GITHUB_RUN_ATTEMPT":             "1",
	}
	res := auditpack(t, env, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--out", out,
		"--fulcio-url", stack["FULCIO_URL"], "--rekor-url", stack["REKOR_URL"], "--rekor-version", "2",
		"--tsa-url", stack["TSA_URL"], "--trusted-root", stack["SIGSTORE_TRUSTED_ROOT"])
	if res.code != ExitOK {
		t.Fatalf("run exited %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	// The summary breaks "@" with a zero-width space against @-mentions,
	// so only the part before it is compared.
	workflow, _, _ := strings.Cut(stack["CERTIFICATE_IDENTITY"], "@")
	if !strings.Contains(res.stdout, "signed keylessly with a Sigstore certificate for "+workflow) {
		t.Errorf("the summary does not name the signing identity:\n%s", res.stdout)
	}
	return dir, out
}

// verifyReport is the JSON document of `verify --output json`.
type verifyReport struct {
	OK     bool `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Cause  string `json:"cause"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

func parseVerifyReport(t *testing.T, stdout string) verifyReport {
	t.Helper()
	var r verifyReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("verify --output json printed no JSON: %v\n%s", err, stdout)
	}
	return r
}

// causes returns the causes of the failed checks.
func (r verifyReport) causes() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Cause)
		}
	}
	return out
}

func TestKeylessPackVerifies(t *testing.T) {
	stack := sigstoreStack(t)
	dir, out := keylessPack(t, stack)
	model := filepath.Join(dir, "models", "model.json")

	res := auditpack(t, nil, "verify", out, "--output", "json",
		"--certificate-identity", stack["CERTIFICATE_IDENTITY"], "--certificate-oidc-issuer", stack["CERTIFICATE_OIDC_ISSUER"],
		"--certificate-github-workflow-repository", "org/repo",
		"--trusted-root", stack["SIGSTORE_TRUSTED_ROOT"], "--timestamp-threshold", "1",
		"--type", "evaluation", "--type", "test-result", "--type", "slsaprovenance", "--type", "cyclonedx",
		"--artifact", model)
	if res.code != ExitOK {
		t.Fatalf("verify exited %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	report := parseVerifyReport(t, res.stdout)
	if !report.OK {
		t.Errorf("report ok = false:\n%s", res.stdout)
	}
	signatures := 0
	for _, c := range report.Checks {
		if c.Name == "signature" && c.OK {
			signatures++
			if !strings.Contains(c.Detail, stack["CERTIFICATE_IDENTITY"]) {
				t.Errorf("signature check does not name the identity: %s", c.Detail)
			}
		}
	}
	if signatures != 5 {
		t.Errorf("%d verified signatures, want 5:\n%s", signatures, res.stdout)
	}
}

func TestKeylessPackRejections(t *testing.T) {
	stack := sigstoreStack(t)
	_, out := keylessPack(t, stack)
	identity, issuer := stack["CERTIFICATE_IDENTITY"], stack["CERTIFICATE_OIDC_ISSUER"]
	trustedRoot := stack["SIGSTORE_TRUSTED_ROOT"]

	// One bundle of the pack, copied so that it can be altered alone.
	bundlePath := filepath.Join(out, "attestations", "policy.sigstore.json")
	original, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	alter := func(t *testing.T, change func(map[string]any)) string {
		t.Helper()
		var doc map[string]any
		if err := json.Unmarshal(original, &doc); err != nil {
			t.Fatal(err)
		}
		change(doc)
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "altered.sigstore.json")
		writeFile(t, path, string(data))
		return path
	}
	alteredPayload := alter(t, func(doc map[string]any) {
		envelope := doc["dsseEnvelope"].(map[string]any)
		payload, _ := base64.StdEncoding.DecodeString(envelope["payload"].(string))
		payload = []byte(strings.Replace(string(payload), `"result":"PASSED"`, `"result":"FAILED"`, 1))
		envelope["payload"] = base64.StdEncoding.EncodeToString(payload)
	})
	noLogEntry := alter(t, func(doc map[string]any) {
		delete(doc["verificationMaterial"].(map[string]any), "tlogEntries")
	})

	// A trusted root whose certificate authority is the timestamp
	// authority's chain: everything else stays trusted.
	var rootDoc map[string]any
	data, err := os.ReadFile(trustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rootDoc); err != nil {
		t.Fatal(err)
	}
	tsa := rootDoc["timestampAuthorities"].([]any)[0].(map[string]any)
	ca := rootDoc["certificateAuthorities"].([]any)[0].(map[string]any)
	ca["certChain"] = tsa["certChain"]
	otherRoot := filepath.Join(t.TempDir(), "other_root.json")
	otherData, _ := json.Marshal(rootDoc)
	writeFile(t, otherRoot, string(otherData))

	strict := filepath.Join(t.TempDir(), "strict.yaml")
	writeFile(t, strict, "rules:\n  - id: near-perfect-accuracy\n    metric: evaluations.*.metrics.accuracy\n    min: 0.999\n    severity: block\n")
	other := filepath.Join(t.TempDir(), "other-model.json")
	writeFile(t, other, "{}\n")

	keyless := func(target string, extra ...string) []string {
		args := []string{"verify", target, "--output", "json", "--trusted-root", trustedRoot,
			"--certificate-oidc-issuer", issuer}
		hasIdentity := false
		for _, a := range extra {
			if strings.HasPrefix(a, "--certificate-identity") {
				hasIdentity = true
			}
		}
		if !hasIdentity {
			args = append(args, "--certificate-identity", identity)
		}
		return append(args, extra...)
	}
	tests := []struct {
		name  string
		args  []string
		cause string
	}{
		{"altered payload", keyless(alteredPayload), "bad-signature"},
		{"missing log entry", keyless(noLogEntry), "missing-log-entry"},
		{"untrusted certificate chain", []string{"verify", bundlePath, "--output", "json", "--trusted-root", otherRoot,
			"--certificate-identity", identity, "--certificate-oidc-issuer", issuer}, "untrusted-certificate-chain"},
		{"other repository identity", keyless(out, "--certificate-identity", strings.Replace(identity, "org/repo", "org/repo-evil", 1)), "identity-mismatch"},
		{"identity regexp is anchored", keyless(out, "--certificate-identity-regexp", `https://github\.com/org/rep`), "identity-mismatch"},
		{"other issuer", []string{"verify", out, "--output", "json", "--trusted-root", trustedRoot,
			"--certificate-identity", identity, "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"}, "issuer-mismatch"},
		{"other repository claim", keyless(out, "--certificate-github-workflow-repository", "org/other"), "identity-mismatch"},
		{"other commit claim", keyless(out, "--certificate-github-workflow-sha", strings.Repeat("b", 40)), "identity-mismatch"},
		{"changed artifact", keyless(out, "--artifact", other), "subject-digest-mismatch"},
		{"predicate type not found", keyless(out, "--type", "https://example.com/no-such-predicate/v1"), "predicate-type-not-found"},
		{"consumer policy fails", keyless(out, "--policy", strict), "policy-failed"},
		{"timestamp threshold not met", keyless(bundlePath, "--timestamp-threshold", "2"), "missing-timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := auditpack(t, nil, tt.args...)
			if res.code != ExitFail {
				t.Fatalf("verify exited %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, ExitFail, res.stdout, res.stderr)
			}
			report := parseVerifyReport(t, res.stdout)
			causes := report.causes()
			found := false
			for _, c := range causes {
				found = found || c == tt.cause
			}
			if !found {
				t.Errorf("failed checks have causes %v, want %q\n%s", causes, tt.cause, res.stdout)
			}
		})
	}
}

func TestKeylessMissingIDTokenPermission(t *testing.T) {
	dir := demo(t)
	res := auditpack(t, map[string]string{"GITHUB_ACTIONS": "true"}, "run",
		"--config", filepath.Join(dir, ".auditpack.yml"), "--out", filepath.Join(t.TempDir(), "pack"))
	if res.code != ExitUsage {
		t.Fatalf("run exited %d, want %d\nstderr:\n%s", res.code, ExitUsage, res.stderr)
	}
	for _, want := range []string{"ACTIONS_ID_TOKEN_REQUEST_URL is not set", "permissions:", "id-token: write"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
}

func TestKeylessNeedsToken(t *testing.T) {
	dir := demo(t)
	res := auditpack(t, nil, "run", "--sign", "keyless",
		"--config", filepath.Join(dir, ".auditpack.yml"), "--out", filepath.Join(t.TempDir(), "pack"))
	if res.code != ExitUsage {
		t.Fatalf("run exited %d, want %d\nstderr:\n%s", res.code, ExitUsage, res.stderr)
	}
	if !strings.Contains(res.stderr, "--identity-token") {
		t.Errorf("stderr does not say how to pass a token:\n%s", res.stderr)
	}
}
