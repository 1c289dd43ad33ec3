package actions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// maxEventSize bounds the event payload read, above GitHub's 25 MB cap on
// webhook payloads.
const maxEventSize = 32 << 20

// Event is the webhook event that triggered the workflow, with the fields
// auditpack uses parsed out.
type Event struct {
	// Name is the event name, e.g. "pull_request" or "release".
	Name string
	// Action is the payload's activity type, e.g. "opened" or "published".
	Action string
	// Repository is the payload's repository.full_name.
	Repository string
	// PullRequest is set for pull_request and pull_request_target events.
	PullRequest *PullRequest
	// Release is set for release events.
	Release *Release
}

// PullRequest is the part of a pull_request payload auditpack uses.
type PullRequest struct {
	Number  int
	HTMLURL string
	Draft   bool
	BaseRef string
	BaseSHA string
	HeadRef string
	HeadSHA string
	// BaseRepository and HeadRepository are "owner/name". HeadRepository is
	// empty when the fork it came from has been deleted.
	BaseRepository string
	HeadRepository string
	// Fork is true when the head repository differs from the base
	// repository (or is gone). The workflow token of a pull_request event
	// from a fork is read-only.
	Fork bool
}

// Release is the part of a release payload auditpack uses.
type Release struct {
	ID      int64
	TagName string
	Name    string
	// UploadURL is the asset upload URL template, ending in "{?name,label}".
	UploadURL  string
	HTMLURL    string
	Draft      bool
	Prerelease bool
}

// Event reads the event named by GITHUB_EVENT_NAME from the payload file at
// GITHUB_EVENT_PATH. Errors about the file start with "GITHUB_EVENT_PATH
// FILE:".
func (e *Env) Event() (*Event, error) {
	name := e.Get(VarGitHubEventName)
	path := e.Get(VarGitHubEventPath)
	if name == "" || path == "" {
		return nil, fmt.Errorf("%s and %s must both be set to read the event", VarGitHubEventName, VarGitHubEventPath)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the event payload: %w", VarGitHubEventPath, path, err)
	}
	defer f.Close()
	payload, err := io.ReadAll(io.LimitReader(f, maxEventSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the event payload: %w", VarGitHubEventPath, path, err)
	}
	if len(payload) > maxEventSize {
		return nil, fmt.Errorf("%s %s: the event payload exceeds %d bytes", VarGitHubEventPath, path, maxEventSize)
	}
	event, err := ParseEvent(name, payload)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", VarGitHubEventPath, path, err)
	}
	return event, nil
}

// payload mirrors the fields read from a webhook payload.
type payload struct {
	Action      string    `json:"action"`
	Repository  *repoJSON `json:"repository"`
	PullRequest *struct {
		Number  int     `json:"number"`
		HTMLURL string  `json:"html_url"`
		Draft   bool    `json:"draft"`
		Base    refJSON `json:"base"`
		Head    refJSON `json:"head"`
	} `json:"pull_request"`
	Release *struct {
		ID         int64  `json:"id"`
		TagName    string `json:"tag_name"`
		Name       string `json:"name"`
		UploadURL  string `json:"upload_url"`
		HTMLURL    string `json:"html_url"`
		Draft      bool   `json:"draft"`
		Prerelease bool   `json:"prerelease"`
	} `json:"release"`
}

type refJSON struct {
	Ref  string    `json:"ref"`
	SHA  string    `json:"sha"`
	Repo *repoJSON `json:"repo"`
}

type repoJSON struct {
	FullName string `json:"full_name"`
}

// ParseEvent parses the webhook payload of the event name. It checks that
// the fields auditpack relies on are present for pull_request,
// pull_request_target and release events, and reports each missing one by
// its JSON path.
func ParseEvent(name string, data []byte) (*Event, error) {
	var p payload
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, payloadError(name, data, err)
	}
	event := &Event{Name: name, Action: p.Action}
	if p.Repository != nil {
		event.Repository = p.Repository.FullName
	}

	switch name {
	case "pull_request", "pull_request_target":
		pr, err := parsePullRequest(&p)
		if err != nil {
			return nil, fmt.Errorf("%s event: %w", name, err)
		}
		event.PullRequest = pr
	case "release":
		rel, err := parseRelease(&p)
		if err != nil {
			return nil, fmt.Errorf("%s event: %w", name, err)
		}
		event.Release = rel
	}
	return event, nil
}

// payloadError describes a payload that json.Unmarshal rejected by its JSON
// paths and JSON types, not the Go types it was decoded into.
func payloadError(name string, data []byte, err error) error {
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("the event payload is not a JSON object")
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return fmt.Errorf("the %s event payload is invalid: %s is a JSON %s, where %s is expected", name, typeErr.Field, typeErr.Value, jsonKind(typeErr.Type))
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Errorf("the %s event payload is not valid JSON: %v (at byte %d)", name, syntaxErr, syntaxErr.Offset)
	}
	return fmt.Errorf("the %s event payload is not valid JSON: %w", name, err)
}

// jsonKind names the JSON type that decodes into t, with an article.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

func parsePullRequest(p *payload) (*PullRequest, error) {
	if p.PullRequest == nil {
		return nil, errors.New("pull_request is missing")
	}
	src := p.PullRequest
	pr := &PullRequest{
		Number: src.Number, HTMLURL: src.HTMLURL, Draft: src.Draft,
		BaseRef: src.Base.Ref, BaseSHA: src.Base.SHA,
		HeadRef: src.Head.Ref, HeadSHA: src.Head.SHA,
	}
	if src.Base.Repo != nil {
		pr.BaseRepository = src.Base.Repo.FullName
	}
	if src.Head.Repo != nil {
		pr.HeadRepository = src.Head.Repo.FullName
	}

	var errs []error
	if pr.Number <= 0 {
		errs = append(errs, errors.New("pull_request.number is missing"))
	}
	if pr.BaseSHA == "" {
		errs = append(errs, errors.New("pull_request.base.sha is missing"))
	}
	if pr.HeadSHA == "" {
		errs = append(errs, errors.New("pull_request.head.sha is missing"))
	}
	if pr.BaseRepository == "" {
		errs = append(errs, errors.New("pull_request.base.repo.full_name is missing"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// Repository names are case-insensitive on GitHub.
	pr.Fork = pr.HeadRepository == "" || !strings.EqualFold(pr.HeadRepository, pr.BaseRepository)
	return pr, nil
}

func parseRelease(p *payload) (*Release, error) {
	if p.Release == nil {
		return nil, errors.New("release is missing")
	}
	src := p.Release
	rel := &Release{
		ID: src.ID, TagName: src.TagName, Name: src.Name, UploadURL: src.UploadURL,
		HTMLURL: src.HTMLURL, Draft: src.Draft, Prerelease: src.Prerelease,
	}
	var errs []error
	if rel.ID <= 0 {
		errs = append(errs, errors.New("release.id is missing"))
	}
	if rel.TagName == "" {
		errs = append(errs, errors.New("release.tag_name is missing"))
	}
	if rel.UploadURL == "" {
		errs = append(errs, errors.New("release.upload_url is missing"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rel, nil
}
