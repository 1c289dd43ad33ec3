package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// identity contains the few values that GitHub Actions derives most token
// claims from. The zero value is invalid, so start from defaultIdentity.
type identity struct {
	Repository        string
	RepositoryID      string
	RepositoryOwnerID string
	Ref               string
	SHA               string
	WorkflowPath      string
	EventName         string
	RunID             string
}

// defaultIdentity returns the identity of a push to main running the
// workflow .github/workflows/release.yml of org/repo.
func defaultIdentity() identity {
	return identity{
		Repository:        "org/repo",
		RepositoryID:      "123456789",
		RepositoryOwnerID: "987654321",
		Ref:               "refs/heads/main",
		SHA:               "0123456789abcdef0123456789abcdef01234567",
		WorkflowPath:      ".github/workflows/release.yml",
		EventName:         "push",
		RunID:             "4242424242",
	}
}

// validate reports every field that cannot form GitHub-like claims.
func (id identity) validate() error {
	var errs []error
	owner, name, ok := strings.Cut(id.Repository, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		errs = append(errs, fmt.Errorf("-repository %q is invalid: use OWNER/NAME", id.Repository))
	}
	if !strings.HasPrefix(id.Ref, "refs/") {
		errs = append(errs, fmt.Errorf("-ref %q is invalid: use a full ref such as refs/heads/main or refs/tags/v1.0.0", id.Ref))
	}
	required := []struct{ name, value string }{
		{"-repository-id", id.RepositoryID},
		{"-owner-id", id.RepositoryOwnerID},
		{"-sha", id.SHA},
		{"-workflow", id.WorkflowPath},
		{"-event", id.EventName},
		{"-run-id", id.RunID},
	}
	for _, field := range required {
		if field.value == "" {
			errs = append(errs, fmt.Errorf("%s is empty: give a non-empty value", field.name))
		}
	}
	return errors.Join(errs...)
}

// claims returns the claims of a GitHub Actions job token, without the
// registered claims iss, aud, iat, nbf, exp and jti. sub has the form
// repo:OWNER/NAME:ref:REF and the workflow refs OWNER/NAME/PATH@REF.
// Fulcio v1.8.8 (pkg/identity/github/principal.go) rejects a
// github-workflow token that lacks any of the sixteen claims it reads.
func (id identity) claims() map[string]any {
	owner, _, _ := strings.Cut(id.Repository, "/")
	workflowRef := id.Repository + "/" + id.WorkflowPath + "@" + id.Ref
	refType := "branch"
	if strings.HasPrefix(id.Ref, "refs/tags/") {
		refType = "tag"
	}
	return map[string]any{
		"sub":                   "repo:" + id.Repository + ":ref:" + id.Ref,
		"actor":                 owner,
		"actor_id":              id.RepositoryOwnerID,
		"base_ref":              "",
		"event_name":            id.EventName,
		"head_ref":              "",
		"job_workflow_ref":      workflowRef,
		"job_workflow_sha":      id.SHA,
		"ref":                   id.Ref,
		"ref_protected":         "false",
		"ref_type":              refType,
		"repository":            id.Repository,
		"repository_id":         id.RepositoryID,
		"repository_owner":      owner,
		"repository_owner_id":   id.RepositoryOwnerID,
		"repository_visibility": "public",
		"run_attempt":           "1",
		"run_id":                id.RunID,
		"run_number":            "1",
		"runner_environment":    "github-hosted",
		"sha":                   id.SHA,
		"workflow":              "release",
		"workflow_ref":          workflowRef,
		"workflow_sha":          id.SHA,
	}
}

// isRegisteredClaim reports whether the issuer sets the claim for every
// token. Those claims cannot be overridden, because a token whose iss or
// exp disagrees with the issuer would only test a verifier's rejections.
func isRegisteredClaim(name string) bool {
	switch name {
	case "iss", "aud", "iat", "nbf", "exp", "jti":
		return true
	}
	return false
}

// mergeClaims copies overrides over base and rejects registered claims.
func mergeClaims(base, overrides map[string]any) (map[string]any, error) {
	merged := make(map[string]any, len(base)+len(overrides))
	for key, value := range base {
		merged[key] = value
	}
	for key, value := range overrides {
		if isRegisteredClaim(key) {
			return nil, fmt.Errorf("claim %q is set by the issuer and cannot be overridden", key)
		}
		if value == nil {
			delete(merged, key)
			continue
		}
		merged[key] = value
	}
	return merged, nil
}

// readClaimsFile reads a JSON object of claim overrides. A null value
// removes a default claim, which tests a verifier's missing-claim path.
func readClaimsFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading claims file: %w", err)
	}
	overrides, err := decodeClaims(data)
	if err != nil {
		return nil, fmt.Errorf("claims file %q: %w", path, err)
	}
	return overrides, nil
}

// decodeClaims parses a JSON object of claim overrides.
func decodeClaims(data []byte) (map[string]any, error) {
	var overrides map[string]any
	if err := json.Unmarshal(data, &overrides); err != nil {
		return nil, fmt.Errorf("decoding claims: %w (expected a JSON object such as {\"repository\": \"org/repo\"})", err)
	}
	if overrides == nil {
		return nil, errors.New("claims must be a JSON object, not null")
	}
	return overrides, nil
}
