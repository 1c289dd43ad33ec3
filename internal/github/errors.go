package github

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Sentinel errors that an *APIError wraps, so that callers can test the kind
// of failure with errors.Is.
var (
	// ErrForbidden means GitHub answered 403 for a reason other than a rate
	// limit, typically "Resource not accessible by integration": the token
	// lacks the permission, as the read-only token of a pull request from a
	// fork does.
	ErrForbidden = errors.New("forbidden")

	// ErrUnauthorized means GitHub answered 401: the token is missing,
	// expired or wrong.
	ErrUnauthorized = errors.New("unauthorized")

	// ErrNotFound means GitHub answered 404. GitHub also answers 404 for a
	// private repository the token cannot see.
	ErrNotFound = errors.New("not found")

	// ErrRateLimited means a primary or secondary rate limit was still in
	// force after the retries the policy allows.
	ErrRateLimited = errors.New("rate limited")

	// ErrTooLarge means a download exceeded the size limit given by the
	// caller or MaxFileSize.
	ErrTooLarge = errors.New("too large")
)

// APIError is a failed GitHub REST call. Its text names the method, the
// request path and the status, never the host, query, token or a URL with
// credentials.
type APIError struct {
	// Method is the HTTP method, e.g. "GET".
	Method string
	// Path is the request path without host or query, e.g.
	// "/repos/octo/demo/issues/7/comments".
	Path string
	// StatusCode is the HTTP status, or 0 when no response arrived.
	StatusCode int
	// Message is GitHub's error message, e.g. "Resource not accessible by
	// integration", or the transport error when no response arrived.
	Message string
	// Kind is one of the ErrXxx sentinels, or nil.
	Kind error
	// Err is the underlying error from go-github or the transport.
	Err error
}

// Error returns "METHOD PATH: STATUS MESSAGE".
func (e *APIError) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("%s %s: %s", e.Method, e.Path, e.Message)
	}
	text := http.StatusText(e.StatusCode)
	if e.Message != "" {
		text = e.Message
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.StatusCode, text)
}

// Unwrap returns the sentinel kind and the underlying error.
func (e *APIError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// newAPIError classifies err, returned by a go-github call for method and
// path, into an *APIError. It returns nil when err is nil.
func newAPIError(method, path string, err error) error {
	if err == nil {
		return nil
	}
	apiErr := &APIError{Method: method, Path: path, Err: err}

	var rateErr *gh.RateLimitError
	var abuseErr *gh.AbuseRateLimitError
	var respErr *gh.ErrorResponse
	switch {
	case errors.As(err, &rateErr):
		apiErr.StatusCode = statusOf(rateErr.Response)
		apiErr.Message = rateErr.Message
		apiErr.Kind = ErrRateLimited
	case errors.As(err, &abuseErr):
		apiErr.StatusCode = statusOf(abuseErr.Response)
		apiErr.Message = abuseErr.Message
		apiErr.Kind = ErrRateLimited
	case errors.As(err, &respErr):
		apiErr.StatusCode = statusOf(respErr.Response)
		apiErr.Message = describeErrorResponse(respErr)
		apiErr.Kind = kindOfStatus(apiErr.StatusCode, respErr.Message)
	default:
		// A transport error: keep its cause but drop the URL that
		// *url.Error would print, because the path is already named.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			apiErr.Message = urlErr.Err.Error()
		} else {
			apiErr.Message = err.Error()
		}
	}
	return apiErr
}

// kindOfStatus maps an error status to its sentinel.
func kindOfStatus(status int, message string) error {
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusForbidden && isSecondaryRateLimitMessage(message):
		return ErrRateLimited
	case status == http.StatusForbidden:
		return ErrForbidden
	}
	return nil
}

// describeErrorResponse returns GitHub's message followed by the validation
// codes, e.g. "Validation Failed (ReleaseAsset.name already_exists)".
func describeErrorResponse(r *gh.ErrorResponse) string {
	if len(r.Errors) == 0 {
		return r.Message
	}
	details := make([]string, 0, len(r.Errors))
	for _, e := range r.Errors {
		if e.Code == "custom" || e.Code == "" {
			details = append(details, e.Message)
			continue
		}
		details = append(details, fmt.Sprintf("%s.%s %s", e.Resource, e.Field, e.Code))
	}
	return fmt.Sprintf("%s (%s)", r.Message, strings.Join(details, "; "))
}

// hasValidationCode reports whether err is a 422 whose errors list code.
func hasValidationCode(err error, code string) bool {
	var respErr *gh.ErrorResponse
	if !errors.As(err, &respErr) || statusOf(respErr.Response) != http.StatusUnprocessableEntity {
		return false
	}
	for _, e := range respErr.Errors {
		if e.Code == code {
			return true
		}
	}
	return false
}

// isSecondaryRateLimitMessage reports whether a 403 or 429 message is
// GitHub's secondary rate limit text.
func isSecondaryRateLimitMessage(message string) bool {
	m := strings.ToLower(message)
	return strings.Contains(m, "secondary rate limit") || strings.Contains(m, "abuse detection")
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// isServerError reports whether err is an *APIError with a 5xx status.
func isServerError(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode >= 500
}
