// Package github is the GitHub REST client that the auditpack Action uses:
// it upserts the pull request comment, replaces release assets, downloads a
// baseline pack and reads files at a commit. It wraps go-github v60 and adds
// bounded retries, typed errors and error text free of tokens.
package github

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// DefaultBaseURL is the REST API root of github.com, used when New gets an
// empty base URL.
const DefaultBaseURL = "https://api.github.com/"

// Client calls the GitHub REST API. It is safe for concurrent use.
type Client struct {
	gh      *gh.Client
	storage *http.Client // follows asset redirects without the token
	policy  RetryPolicy
	logger  *slog.Logger
}

// Option configures a Client.
type Option func(*Client)

// WithRetryPolicy sets the retry policy; zero fields keep their defaults.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) { c.policy = p }
}

// New returns a client for the REST API at baseURL, authenticated with token.
//
// baseURL is GITHUB_API_URL: empty for github.com, or for GitHub Enterprise
// Server "https://HOST/api/v3". uploadURL is the root for release asset
// uploads. When it is empty, it is derived from baseURL: "api.X" becomes
// "uploads.X", ".../api/v3" becomes ".../api/uploads", and any other URL is
// used as is. httpClient supplies the transport and timeout (nil means
// http.DefaultClient's); logger receives retry notices (nil discards them).
func New(baseURL, uploadURL, token string, httpClient *http.Client, logger *slog.Logger, opts ...Option) (*Client, error) {
	c := &Client{logger: logger}
	for _, opt := range opts {
		opt(c)
	}
	c.policy = c.policy.withDefaults()
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}

	base, err := parseRoot("base URL", baseURL, DefaultBaseURL)
	if err != nil {
		return nil, err
	}
	upload, err := parseRoot("upload URL", uploadURL, deriveUploadURL(base))
	if err != nil {
		return nil, err
	}

	// The retry transport sits below go-github's token transport, so the
	// token is set once and every attempt carries it.
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	transport := httpClient.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	retrying := &retryTransport{base: transport, policy: c.policy, logger: c.logger}
	apiHTTP := *httpClient
	apiHTTP.Transport = retrying
	c.gh = gh.NewClient(&apiHTTP)
	if token != "" {
		c.gh = c.gh.WithAuthToken(token)
	}
	c.gh.BaseURL = base
	c.gh.UploadURL = upload

	// Asset downloads redirect to a storage host that rejects a second
	// credential, so that client carries no token.
	storageHTTP := *httpClient
	storageHTTP.Transport = retrying
	c.storage = &storageHTTP
	return c, nil
}

// parseRoot parses an API root URL, defaulting to fallback, and rejects one
// that carries credentials or is not absolute HTTP(S).
func parseRoot(what, raw, fallback string) (*url.URL, error) {
	if raw == "" {
		raw = fallback
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing GitHub %s: %w", what, err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("GitHub %s must not contain credentials: pass the token separately", what)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("GitHub %s %q is not an absolute http(s) URL", what, u.Redacted())
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

// deriveUploadURL returns the upload root that belongs to an API root.
func deriveUploadURL(base *url.URL) string {
	u := *base
	switch {
	case strings.HasPrefix(u.Host, "api."):
		u.Host = "uploads." + strings.TrimPrefix(u.Host, "api.")
	case strings.HasSuffix(u.Path, "/api/v3/"):
		u.Path = strings.TrimSuffix(u.Path, "/api/v3/") + "/api/uploads/"
	}
	return u.String()
}

// checkRepo rejects an owner or repository name that would change the path.
func checkRepo(owner, repo string) error {
	for _, part := range []struct{ what, value string }{{"owner", owner}, {"repository", repo}} {
		if part.value == "" || strings.ContainsAny(part.value, "/?#%") || part.value == "." || part.value == ".." {
			return fmt.Errorf("invalid GitHub %s name %q", part.what, part.value)
		}
	}
	return nil
}

// sleep waits between operation-level retries.
func (c *Client) sleep(ctx context.Context, retry int) error {
	return c.policy.Sleep(ctx, c.policy.backoff(retry))
}

// closeQuietly closes a response body whose content is no longer needed.
func closeQuietly(rc io.Closer) {
	_ = rc.Close()
}
