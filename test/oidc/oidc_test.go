package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-githubactions"
)

const testRequestToken = "request-token-for-tests"

// startIssuer serves an issuer with the default identity on an httptest
// server whose URL is the issuer URL.
func startIssuer(t *testing.T, requestToken string) (*issuer, *httptest.Server) {
	t.Helper()
	server := httptest.NewUnstartedServer(nil)
	server.Start()
	t.Cleanup(server.Close)

	is, err := newIssuer(server.URL, defaultIdentity().claims(), requestToken, 5*time.Minute, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("newIssuer: %v", err)
	}
	server.Config.Handler = is.handler()
	return is, server
}

// verifyToken checks a token the way Fulcio does, with go-oidc, and
// returns its claims.
func verifyToken(t *testing.T, issuerURL, audience, token string) map[string]any {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), issuerURL)
	if err != nil {
		t.Fatalf("discovering issuer %s: %v", issuerURL, err)
	}
	idToken, err := provider.Verifier(&oidc.Config{ClientID: audience}).Verify(t.Context(), token)
	if err != nil {
		t.Fatalf("verifying token: %v", err)
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		t.Fatalf("decoding claims: %v", err)
	}
	return claims
}

func get(t *testing.T, url string, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for key, values := range header {
		req.Header[key] = values
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response of %s: %v", url, err)
	}
	return resp.StatusCode, body
}

func TestDiscoveryDocument(t *testing.T) {
	_, server := startIssuer(t, "")
	status, body := get(t, server.URL+discoveryPath, nil)
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", status, body)
	}
	var doc struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
		Claims  []string `json:"claims_supported"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decoding discovery document: %v", err)
	}
	if doc.Issuer != server.URL {
		t.Errorf("issuer = %q, want %q", doc.Issuer, server.URL)
	}
	if doc.JWKSURI != server.URL+jwksPath {
		t.Errorf("jwks_uri = %q, want %q", doc.JWKSURI, server.URL+jwksPath)
	}
	if diff := cmp.Diff([]string{"RS256"}, doc.Algs); diff != "" {
		t.Errorf("signing algorithms (-want +got):\n%s", diff)
	}
	for _, claim := range []string{"sub", "job_workflow_ref", "repository_id"} {
		if !strings.Contains(strings.Join(doc.Claims, " "), claim) {
			t.Errorf("claims_supported lacks %q: %v", claim, doc.Claims)
		}
	}
}

func TestTokenVerifiesWithGitHubClaims(t *testing.T) {
	_, server := startIssuer(t, "")
	status, body := get(t, server.URL+tokenPath+"?audience=sigstore", nil)
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", status, body)
	}
	claims := verifyToken(t, server.URL, "sigstore", string(body))

	want := map[string]string{
		"iss":                 server.URL,
		"aud":                 "sigstore",
		"sub":                 "repo:org/repo:ref:refs/heads/main",
		"repository":          "org/repo",
		"repository_id":       "123456789",
		"repository_owner":    "org",
		"repository_owner_id": "987654321",
		"ref":                 "refs/heads/main",
		"ref_type":            "branch",
		"workflow_ref":        "org/repo/.github/workflows/release.yml@refs/heads/main",
		"job_workflow_ref":    "org/repo/.github/workflows/release.yml@refs/heads/main",
		"job_workflow_sha":    "0123456789abcdef0123456789abcdef01234567",
		"event_name":          "push",
		"run_id":              "4242424242",
		"run_attempt":         "1",
		"runner_environment":  "github-hosted",
	}
	for name, value := range want {
		if claims[name] != value {
			t.Errorf("claim %s = %v, want %q", name, claims[name], value)
		}
	}
	exp, _ := claims["exp"].(float64)
	iat, _ := claims["iat"].(float64)
	if exp-iat != (5 * time.Minute).Seconds() {
		t.Errorf("exp - iat = %v s, want %v s", exp-iat, (5 * time.Minute).Seconds())
	}
}

func TestTokenDefaultAudience(t *testing.T) {
	_, server := startIssuer(t, "")
	_, body := get(t, server.URL+tokenPath, nil)
	claims := verifyToken(t, server.URL, "https://github.com/org", string(body))
	if claims["aud"] != "https://github.com/org" {
		t.Errorf("aud = %v, want https://github.com/org", claims["aud"])
	}
}

func TestActionsTokenWithGoGitHubActions(t *testing.T) {
	_, server := startIssuer(t, testRequestToken)
	env := map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   server.URL + actionsTokenPath + "?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": testRequestToken,
	}
	action := githubactions.New(githubactions.WithGetenv(func(key string) string { return env[key] }))

	token, err := action.GetIDToken(t.Context(), "sigstore")
	if err != nil {
		t.Fatalf("GetIDToken: %v", err)
	}
	claims := verifyToken(t, server.URL, "sigstore", token)
	if claims["sub"] != "repo:org/repo:ref:refs/heads/main" {
		t.Errorf("sub = %v, want repo:org/repo:ref:refs/heads/main", claims["sub"])
	}

	env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "wrong"
	if _, err := action.GetIDToken(t.Context(), "sigstore"); err == nil {
		t.Error("GetIDToken with a wrong request token succeeded, want an error")
	}
}

func TestActionsTokenRejectsRequests(t *testing.T) {
	tests := []struct {
		name          string
		requestToken  string
		authorization string
		wantStatus    int
	}{
		{name: "valid bearer", requestToken: testRequestToken, authorization: "Bearer " + testRequestToken, wantStatus: http.StatusOK},
		{name: "lowercase scheme", requestToken: testRequestToken, authorization: "bearer " + testRequestToken, wantStatus: http.StatusOK},
		{name: "missing header", requestToken: testRequestToken, wantStatus: http.StatusUnauthorized},
		{name: "wrong token", requestToken: testRequestToken, authorization: "Bearer nope", wantStatus: http.StatusUnauthorized},
		{name: "basic scheme", requestToken: testRequestToken, authorization: "Basic " + testRequestToken, wantStatus: http.StatusUnauthorized},
		{name: "token prefix only", requestToken: testRequestToken, authorization: "Bearer " + testRequestToken[:5], wantStatus: http.StatusUnauthorized},
		{name: "endpoint disabled", requestToken: "", authorization: "Bearer anything", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, server := startIssuer(t, tt.requestToken)
			header := http.Header{}
			if tt.authorization != "" {
				header.Set("Authorization", tt.authorization)
			}
			status, body := get(t, server.URL+actionsTokenPath+"?api-version=2.0&audience=sigstore", header)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", status, tt.wantStatus, body)
			}
			if status != http.StatusOK {
				return
			}
			var resp struct {
				Value string `json:"value"`
			}
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Fatalf("decoding response: %v", err)
			}
			verifyToken(t, server.URL, "sigstore", resp.Value)
		})
	}
}

func TestPostTokenOverrides(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantClaims map[string]any
		absent     []string
	}{
		{
			name:       "replaces a claim",
			body:       `{"repository": "acme/model", "run_attempt": "2"}`,
			wantStatus: http.StatusOK,
			wantClaims: map[string]any{"repository": "acme/model", "run_attempt": "2", "sub": "repo:org/repo:ref:refs/heads/main"},
		},
		{
			name:       "null removes a claim",
			body:       `{"job_workflow_ref": null}`,
			wantStatus: http.StatusOK,
			absent:     []string{"job_workflow_ref"},
		},
		{name: "registered claim", body: `{"iss": "https://token.actions.githubusercontent.com"}`, wantStatus: http.StatusBadRequest},
		{name: "not an object", body: `["repository"]`, wantStatus: http.StatusBadRequest},
		{name: "null body", body: `null`, wantStatus: http.StatusBadRequest},
		{name: "invalid JSON", body: `{"repository":`, wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, server := startIssuer(t, "")
			resp, err := http.Post(server.URL+tokenPath+"?audience=sigstore", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if resp.StatusCode != http.StatusOK {
				return
			}
			claims := verifyToken(t, server.URL, "sigstore", string(body))
			for name, value := range tt.wantClaims {
				if claims[name] != value {
					t.Errorf("claim %s = %v, want %v", name, claims[name], value)
				}
			}
			for _, name := range tt.absent {
				if _, ok := claims[name]; ok {
					t.Errorf("claim %s is present, want it removed", name)
				}
			}
		})
	}
}

func TestPostTokenRejectsLargeBody(t *testing.T) {
	_, server := startIssuer(t, "")
	body := `{"padding": "` + strings.Repeat("x", maxOverrideBytes) + `"}`
	resp, err := http.Post(server.URL+tokenPath, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want %d", resp.StatusCode, http.StatusRequestEntityTooLarge)
	}
}

func TestIdentityClaims(t *testing.T) {
	id := defaultIdentity()
	id.Repository = "acme/model"
	id.Ref = "refs/tags/v1.2.0"
	id.WorkflowPath = ".github/workflows/audit.yml"
	claims := id.claims()

	want := map[string]any{
		"sub":              "repo:acme/model:ref:refs/tags/v1.2.0",
		"repository_owner": "acme",
		"ref_type":         "tag",
		"job_workflow_ref": "acme/model/.github/workflows/audit.yml@refs/tags/v1.2.0",
		"workflow_ref":     "acme/model/.github/workflows/audit.yml@refs/tags/v1.2.0",
	}
	for name, value := range want {
		if claims[name] != value {
			t.Errorf("claim %s = %v, want %v", name, claims[name], value)
		}
	}
	// Fulcio v1.8.8 rejects github-workflow tokens that lack any of these.
	for _, name := range []string{
		"job_workflow_ref", "sha", "event_name", "repository", "workflow", "ref",
		"job_workflow_sha", "runner_environment", "repository_id", "repository_owner",
		"repository_owner_id", "repository_visibility", "workflow_ref", "workflow_sha",
		"run_id", "run_attempt",
	} {
		if value, _ := claims[name].(string); value == "" {
			t.Errorf("claim %s is empty or missing", name)
		}
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults", args: nil},
		{name: "tag identity", args: []string{"-repository", "acme/model", "-ref", "refs/tags/v1"}},
		{name: "localhost", args: []string{"-listen", "localhost:0"}},
		{name: "IPv6 loopback", args: []string{"-listen", "[::1]:0"}},
		{name: "all interfaces", args: []string{"-listen", "0.0.0.0:0"}, wantErr: "not a loopback address"},
		{name: "empty host", args: []string{"-listen", ":8080"}, wantErr: "not a loopback address"},
		{name: "no port", args: []string{"-listen", "127.0.0.1"}, wantErr: "is invalid"},
		{name: "repository without owner", args: []string{"-repository", "repo"}, wantErr: "use OWNER/NAME"},
		{name: "repository too deep", args: []string{"-repository", "a/b/c"}, wantErr: "use OWNER/NAME"},
		{name: "short ref", args: []string{"-ref", "main"}, wantErr: "use a full ref"},
		{name: "empty sha", args: []string{"-sha", ""}, wantErr: "sha is empty"},
		{name: "short lifetime", args: []string{"-lifetime", "10ms"}, wantErr: "too short"},
		{name: "extra argument", args: []string{"serve"}, wantErr: "unexpected argument"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			_, err := parseFlags(tt.args, &stderr)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("parseFlags: %v; output %s", err, stderr.String())
				}
				return
			}
			if !errors.Is(err, errBadUsage) {
				t.Fatalf("error = %v, want errBadUsage", err)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("output %q does not contain %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

func TestReadClaimsFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    map[string]any
		wantErr string
	}{
		{name: "overrides", content: `{"repository_visibility": "private", "environment": "prod"}`, want: map[string]any{"repository_visibility": "private", "environment": "prod"}},
		{name: "null value", content: `{"run_attempt": null}`, want: map[string]any{"run_attempt": nil}},
		{name: "array", content: `[]`, wantErr: "expected a JSON object"},
		{name: "truncated", content: `{"a": `, wantErr: "expected a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "claims.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readClaimsFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error = %v, want one naming %s and containing %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("readClaimsFile: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunRejectsRegisteredClaimInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claims.json")
	if err := os.WriteFile(path, []byte(`{"exp": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"-claims", path}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `claim "exp" is set by the issuer`) {
		t.Errorf("run error = %v, want one about the registered claim exp", err)
	}
}

func TestRunWritesURLFileAndStops(t *testing.T) {
	urlFile := filepath.Join(t.TempDir(), "issuer-url")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-url-file", urlFile}, io.Discard) }()

	var issuerURL string
	for range 200 {
		data, err := os.ReadFile(urlFile)
		if err == nil {
			issuerURL = strings.TrimSpace(string(data))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(issuerURL, "http://127.0.0.1:") {
		cancel()
		t.Fatalf("issuer URL = %q, want http://127.0.0.1:PORT", issuerURL)
	}
	_, body := get(t, issuerURL+tokenPath+"?audience=sigstore", nil)
	verifyToken(t, issuerURL, "sigstore", string(body))

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run returned %v after cancellation, want nil", err)
	}
}
