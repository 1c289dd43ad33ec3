// Package githubtest is a stand-in for the GitHub REST API on loopback, for
// tests of code that talks to GitHub. It serves the endpoints auditpack uses:
// issue comments, releases and their assets, contents and Git blobs.
// Responses carry GitHub's status codes, JSON error bodies, Link pagination
// and rate-limit headers. State is kept in memory for tests to seed and
// inspect, and faults such as server errors and rate limits can be injected
// into chosen requests.
package githubtest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the token a new Server accepts.
const DefaultToken = "ghs_githubtest0000000000000000000000000"

// rateLimit is the hourly quota the server reports.
const rateLimit = 5000

// Server is a GitHub REST API stand-in. Its methods are safe for concurrent
// use.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex
	token     string
	readOnly  bool
	nextID    int64
	clock     time.Time // timestamps of created objects; advances 1s per object
	used      int
	resetAt   time.Time
	repos     map[string]*repoState
	faults    []*Fault
	downloads map[string]int64 // storage token → asset ID

	// logMu guards requests apart from mu, because handlers write the
	// status while holding mu.
	logMu    sync.Mutex
	requests []Request
}

type repoState struct {
	owner, name   string
	defaultBranch string
	comments      []*Comment
	releases      []*Release
	assets        []*Asset
	files         map[string]map[string][]byte // ref → path → content
	blobs         map[string][]byte            // Git blob SHA-1 → content
}

// Comment is an issue or pull request comment held by the server.
type Comment struct {
	ID        int64
	Number    int
	Body      string
	User      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Release is a release held by the server.
type Release struct {
	ID         int64
	TagName    string
	Name       string
	Draft      bool
	Prerelease bool
	CreatedAt  time.Time
}

// Asset is a release asset held by the server, content included.
type Asset struct {
	ID          int64
	ReleaseID   int64
	Name        string
	Label       string
	ContentType string
	Content     []byte
	State       string
	CreatedAt   time.Time
}

// Request is one request the server received, as recorded in its log.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Accept   string
	// ContentType is the request's Content-Type header.
	ContentType string
	// Authorization reports whether the request carried an Authorization
	// header; its value is not recorded.
	Authorization bool
	// Status is the status code of the server's response.
	Status int
	// Fault is the kind of fault injected into this request, if any.
	Fault FaultKind
}

// NewServer starts a server on loopback that accepts DefaultToken, and stops
// it when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		token:     DefaultToken,
		nextID:    1000,
		clock:     time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		resetAt:   time.Now().Add(time.Hour).Truncate(time.Second),
		repos:     make(map[string]*repoState),
		downloads: make(map[string]int64),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// URL returns the API root, e.g. "http://127.0.0.1:41234/". The upload and
// storage endpoints live on the same root.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Token returns the token the server accepts.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// SetToken changes the accepted token. A request with another token gets
// 401 Bad credentials, one without a token 401 Requires authentication.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetReadOnly makes every write return 403 "Resource not accessible by
// integration", as GitHub does for the token of a pull request from a fork.
func (s *Server) SetReadOnly(readOnly bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readOnly = readOnly
}

// AddRepo creates an empty repository whose default branch is "main". Adding
// an existing repository does nothing.
func (s *Server) AddRepo(owner, repo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addRepoLocked(owner, repo)
}

func (s *Server) addRepoLocked(owner, repo string) *repoState {
	key := strings.ToLower(owner + "/" + repo)
	if r, ok := s.repos[key]; ok {
		return r
	}
	r := &repoState{
		owner: owner, name: repo, defaultBranch: "main",
		files: make(map[string]map[string][]byte),
		blobs: make(map[string][]byte),
	}
	s.repos[key] = r
	return r
}

// AddRelease creates a release (and the repository if needed) and returns
// its ID. Releases added later count as newer for the latest release.
func (s *Server) AddRelease(owner, repo string, rel Release) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.addRepoLocked(owner, repo)
	rel.ID = s.newIDLocked()
	rel.CreatedAt = s.tickLocked()
	r.releases = append(r.releases, &rel)
	return rel.ID
}

// AddAsset attaches an uploaded asset to a release and returns its ID.
func (s *Server) AddAsset(owner, repo string, releaseID int64, name string, content []byte) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.addRepoLocked(owner, repo)
	a := &Asset{
		ID: s.newIDLocked(), ReleaseID: releaseID, Name: name,
		ContentType: "application/octet-stream", Content: slices.Clone(content),
		State: "uploaded", CreatedAt: s.tickLocked(),
	}
	r.assets = append(r.assets, a)
	return a.ID
}

// AddComment creates a comment by user on issue number and returns its ID.
func (s *Server) AddComment(owner, repo string, number int, user, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.addRepoLocked(owner, repo)
	now := s.tickLocked()
	c := &Comment{ID: s.newIDLocked(), Number: number, Body: body, User: user, CreatedAt: now, UpdatedAt: now}
	r.comments = append(r.comments, c)
	return c.ID
}

// AddFile stores content at path for ref (a branch, tag or commit SHA;
// empty means the default branch).
func (s *Server) AddFile(owner, repo, ref, path string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.addRepoLocked(owner, repo)
	if ref == "" {
		ref = r.defaultBranch
	}
	if r.files[ref] == nil {
		r.files[ref] = make(map[string][]byte)
	}
	r.files[ref][strings.Trim(path, "/")] = slices.Clone(content)
	r.blobs[blobSHA(content)] = slices.Clone(content)
}

// Comments returns copies of the comments on issue number, oldest first.
func (s *Server) Comments(owner, repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(owner+"/"+repo)]
	if r == nil {
		return nil
	}
	var out []Comment
	for _, c := range r.comments {
		if c.Number == number {
			out = append(out, *c)
		}
	}
	return out
}

// Assets returns copies of a release's assets, oldest first.
func (s *Server) Assets(owner, repo string, releaseID int64) []Asset {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[strings.ToLower(owner+"/"+repo)]
	if r == nil {
		return nil
	}
	var out []Asset
	for _, a := range r.assets {
		if a.ReleaseID == releaseID {
			c := *a
			c.Content = slices.Clone(a.Content)
			out = append(out, c)
		}
	}
	return out
}

// Requests returns the request log, oldest first.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return slices.Clone(s.requests)
}

// CountRequests returns how many logged requests have method and path.
func (s *Server) CountRequests(method, path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func (s *Server) newIDLocked() int64 {
	s.nextID++
	return s.nextID
}

func (s *Server) tickLocked() time.Time {
	s.clock = s.clock.Add(time.Second)
	return s.clock
}

func (s *Server) repoLocked(owner, repo string) *repoState {
	return s.repos[strings.ToLower(owner+"/"+repo)]
}

// serve logs the request, applies faults, checks the token and routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// Log in arrival order. The status is filled in when the header is
	// written, before the client can see the response.
	s.logMu.Lock()
	index := len(s.requests)
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Accept: r.Header.Get("Accept"), ContentType: r.Header.Get("Content-Type"),
		Authorization: r.Header.Get("Authorization") != "",
	})
	s.logMu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, onStatus: func(status int) {
		s.logMu.Lock()
		s.requests[index].Status = status
		s.logMu.Unlock()
	}}

	// The storage host behind asset redirects is not the API: no rate-limit
	// headers, no GitHub token.
	if strings.HasPrefix(r.URL.Path, storagePrefix) {
		s.serveStorage(rec, r)
		return
	}

	s.writeRateHeaders(rec)
	if fault := s.takeFault(r); fault != nil {
		s.logMu.Lock()
		s.requests[index].Fault = fault.Kind
		s.logMu.Unlock()
		s.serveFault(rec, r, fault)
		return
	}
	if !s.authorize(rec, r) {
		return
	}
	s.route(rec, r)
}

// writeRateHeaders counts the request against the quota and sets GitHub's
// rate-limit headers.
func (s *Server) writeRateHeaders(w http.ResponseWriter) {
	s.mu.Lock()
	s.used = min(s.used+1, rateLimit)
	used, reset := s.used, s.resetAt
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(rateLimit-used))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-GitHub-Request-Id", randomHex(8))
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	token := s.token
	s.mu.Unlock()
	header := r.Header.Get("Authorization")
	if header == "" {
		writeError(w, http.StatusUnauthorized, "Requires authentication", docsRoot)
		return false
	}
	scheme, value, _ := strings.Cut(header, " ")
	if (scheme != "Bearer" && scheme != "token") || value != token {
		writeError(w, http.StatusUnauthorized, "Bad credentials", docsRoot)
		return false
	}
	return true
}

// statusRecorder reports the status written through it.
type statusRecorder struct {
	http.ResponseWriter
	onStatus func(int)
	written  bool
}

func (r *statusRecorder) WriteHeader(status int) {
	if !r.written {
		r.written = true
		r.onStatus(status)
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.written {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) String() string { return fmt.Sprintf("githubtest.Server(%s)", s.srv.URL) }
