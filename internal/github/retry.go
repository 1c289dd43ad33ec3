package github

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// RetryPolicy bounds how the client retries failed requests. The zero value
// of each field selects its default.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts per request, the first one
	// included. Default 4.
	MaxAttempts int
	// BaseDelay is the backoff before the first retry after a server error;
	// it doubles on every further retry. Default 1s.
	BaseDelay time.Duration
	// MaxDelay caps the backoff after a server error. Default 30s.
	MaxDelay time.Duration
	// MaxRateLimitWait caps the wait for a rate limit to lift. A limit that
	// lifts later than this is not waited for and the request fails with
	// ErrRateLimited, because a retry before the reset would only fail
	// again. Default 2m.
	MaxRateLimitWait time.Duration
	// Sleep waits for d or until ctx is done. Default: a timer that returns
	// ctx.Err() when ctx ends first. Tests inject a recorder.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now returns the current time, used against X-RateLimit-Reset.
	// Default time.Now.
	Now func() time.Time
	// Jitter returns a duration in [d/2, d]. Default: uniform random.
	Jitter func(d time.Duration) time.Duration
}

// secondaryRateLimitDefaultWait is how long GitHub asks clients to wait after
// a secondary rate limit that names no Retry-After and no exhausted quota
// ("wait at least one minute", REST API docs on rate limits).
const secondaryRateLimitDefaultWait = time.Minute

// withDefaults returns p with every zero field set to its default.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxRateLimitWait <= 0 {
		p.MaxRateLimitWait = 2 * time.Minute
	}
	if p.Sleep == nil {
		p.Sleep = sleepContext
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Jitter == nil {
		p.Jitter = halfJitter
	}
	return p
}

// backoff returns the wait before retry number retry (1 for the first).
func (p RetryPolicy) backoff(retry int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < retry && d < p.MaxDelay; i++ {
		d *= 2
	}
	return p.Jitter(min(d, p.MaxDelay))
}

func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func halfJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// retryTransport retries a request when GitHub answers with a rate limit, or
// with a server error or a transport error on a method that is safe to
// repeat. It sits below go-github, so go-github sees only the last response.
type retryTransport struct {
	base   http.RoundTripper
	policy RetryPolicy
	logger *slog.Logger
}

// decision is what the transport does after one attempt.
type decision struct {
	retry  bool
	wait   time.Duration
	reason string
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		// Every attempt after the first needs a fresh body.
		attemptReq := req
		if attempt > 1 {
			var err error
			if attemptReq, err = rewind(req); err != nil {
				return nil, err
			}
		}

		resp, err := t.base.RoundTrip(attemptReq)
		if ctx.Err() != nil {
			return resp, err
		}
		d := t.decide(req.Method, resp, err, attempt)
		if !d.retry || attempt >= t.policy.MaxAttempts || (req.Body != nil && req.GetBody == nil) {
			return resp, err
		}

		status := 0
		if resp != nil {
			status = resp.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
		}
		t.logger.LogAttrs(ctx, slog.LevelInfo, "retrying GitHub API request",
			slog.String("method", req.Method), slog.String("path", req.URL.Path),
			slog.Int("status", status), slog.String("reason", d.reason),
			slog.Int("attempt", attempt), slog.Duration("wait", d.wait))
		if err := t.policy.Sleep(ctx, d.wait); err != nil {
			return nil, err
		}
	}
}

func rewind(req *http.Request) (*http.Request, error) {
	clone := req.Clone(req.Context())
	if req.Body == nil || req.GetBody == nil {
		return clone, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	clone.Body = body
	return clone, nil
}

// decide classifies the outcome of attempt number attempt.
func (t *retryTransport) decide(method string, resp *http.Response, err error, attempt int) decision {
	if err != nil {
		if method == http.MethodGet || method == http.MethodHead {
			return decision{retry: true, wait: t.policy.backoff(attempt), reason: "transport error"}
		}
		return decision{}
	}

	switch status := resp.StatusCode; {
	case status == http.StatusForbidden || status == http.StatusTooManyRequests:
		return t.decideRateLimit(resp)
	case status >= 500 && isIdempotent(method):
		wait := t.policy.backoff(attempt)
		if after, ok := retryAfter(resp); ok && after > wait {
			wait = min(after, t.policy.MaxRateLimitWait)
		}
		return decision{retry: true, wait: wait, reason: "server error"}
	}
	return decision{}
}

// decideRateLimit tells a rate limit from any other 403 or 429, using
// go-github's classification of the response, and computes the wait that
// GitHub asks for: Retry-After if present, else the reset time when the
// quota is exhausted, else one minute.
func (t *retryTransport) decideRateLimit(resp *http.Response) decision {
	// CheckResponse reads the body and puts it back for go-github.
	checkErr := gh.CheckResponse(resp)
	var primary *gh.RateLimitError
	var secondary *gh.AbuseRateLimitError
	var other *gh.ErrorResponse
	limited := errors.As(checkErr, &primary) || errors.As(checkErr, &secondary) ||
		resp.StatusCode == http.StatusTooManyRequests ||
		(errors.As(checkErr, &other) && isSecondaryRateLimitMessage(other.Message))
	if !limited {
		return decision{}
	}

	var wait time.Duration
	reason := "secondary rate limit"
	if after, ok := retryAfter(resp); ok {
		wait = after
	} else if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		reason = "primary rate limit"
		reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
		if err != nil {
			return decision{}
		}
		// One second more, because the reset is rounded down to seconds.
		wait = time.Unix(reset, 0).Sub(t.policy.Now()) + time.Second
	} else {
		wait = secondaryRateLimitDefaultWait
	}
	if wait > t.policy.MaxRateLimitWait {
		return decision{}
	}
	return decision{retry: true, wait: max(wait, 0), reason: reason}
}

// retryAfter parses a Retry-After header given in seconds.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	seconds, err := strconv.Atoi(v)
	if err != nil || seconds < 0 {
		return 0, false
	}
	return time.Duration(seconds) * time.Second, true
}

// isIdempotent reports whether repeating method cannot create a second
// resource. POST is excluded: a 5xx may arrive after GitHub created the
// comment or asset, so those callers re-check state before retrying.
func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return true
	}
	return false
}
