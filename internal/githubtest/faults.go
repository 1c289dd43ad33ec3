package githubtest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// FaultKind names a failure the server can inject.
type FaultKind string

// The faults a Server can inject.
const (
	// FaultServerError responds with Fault.Status (default 502) with a JSON
	// error body.
	FaultServerError FaultKind = "server-error"
	// FaultPrimaryRateLimit responds with Fault.Status (default 403) with
	// X-RateLimit-Remaining 0 and X-RateLimit-Reset Fault.ResetAfter
	// (default 60s) from now, as GitHub does when the hourly quota is used.
	FaultPrimaryRateLimit FaultKind = "primary-rate-limit"
	// FaultSecondaryRateLimit responds with 403 with GitHub's secondary rate limit
	// message and, when Fault.RetryAfter is set, a Retry-After header.
	FaultSecondaryRateLimit FaultKind = "secondary-rate-limit"
	// FaultTooManyRequests responds with 429 with the secondary rate limit message
	// and, when Fault.RetryAfter is set, a Retry-After header.
	FaultTooManyRequests FaultKind = "too-many-requests"
)

// Fault is a failure injected into the next requests that match it.
type Fault struct {
	Kind FaultKind
	// Status overrides the status code of FaultServerError and
	// FaultPrimaryRateLimit.
	Status int
	// Method restricts the fault to one HTTP method; empty matches any.
	Method string
	// PathPrefix restricts the fault to paths with this prefix; empty
	// matches any.
	PathPrefix string
	// Times is how many matching requests fail; 0 means 1.
	Times int
	// RetryAfter sets the Retry-After header of a rate limit, rounded down
	// to seconds; 0 omits the header.
	RetryAfter time.Duration
	// ResetAfter is how far in the future a primary rate limit resets;
	// 0 means 60s.
	ResetAfter time.Duration
	// AfterHandling, for FaultServerError, performs the request before
	// answering with the error, as when GitHub stores a comment but the
	// response is lost.
	AfterHandling bool
}

// InjectFault queues f. Faults are tried in the order injected; each request
// takes at most one.
func (s *Server) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// takeFault removes one use of the first fault that matches r.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			continue
		}
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		fault := *f
		return &fault
	}
	return nil
}

const secondaryRateLimitMessage = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000."

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	h := w.Header()
	switch f.Kind {
	case FaultPrimaryRateLimit:
		reset := f.ResetAfter
		if reset == 0 {
			reset = time.Minute
		}
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", strconv.Itoa(rateLimit))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(reset).Unix(), 10))
		status := f.Status
		if status == 0 {
			status = http.StatusForbidden
		}
		writeError(w, status, "API rate limit exceeded for installation ID 1000.",
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit")

	case FaultSecondaryRateLimit, FaultTooManyRequests:
		if f.RetryAfter > 0 {
			h.Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
		}
		status := http.StatusForbidden
		if f.Kind == FaultTooManyRequests {
			status = http.StatusTooManyRequests
		}
		writeError(w, status, secondaryRateLimitMessage,
			"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")

	default:
		if f.AfterHandling && s.authorize(httptest.NewRecorder(), r) {
			s.route(httptest.NewRecorder(), r)
		}
		status := f.Status
		if status == 0 {
			status = http.StatusBadGateway
		}
		writeError(w, status, http.StatusText(status), "")
	}
}
