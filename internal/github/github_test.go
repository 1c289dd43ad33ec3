package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/auditpack/auditpack/internal/githubtest"
)

// sleepRecorder replaces time.Sleep in the retry policy and records waits.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return nil
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// newTestClient returns a client for srv whose retries do not sleep and
// whose jitter is the identity.
func newTestClient(t *testing.T, srv *githubtest.Server) (*Client, *sleepRecorder) {
	t.Helper()
	rec := &sleepRecorder{}
	c, err := New(srv.URL(), "", srv.Token(), srv.Client(), nil, WithRetryPolicy(RetryPolicy{
		Sleep:  rec.sleep,
		Jitter: func(d time.Duration) time.Duration { return d },
	}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec
}

// checkNoToken fails when err's text contains the server's token.
func checkNoToken(t *testing.T, srv *githubtest.Server, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), srv.Token()) {
		t.Errorf("error text contains the token: %v", err)
	}
}

func TestUpsertCommentCreatesThenEdits(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddRepo("octo", "demo")
	c, _ := newTestClient(t, srv)
	ctx := t.Context()

	url1, created, err := c.UpsertComment(ctx, "octo", "demo", 7, ".auditpack.yml", "first verdict")
	if err != nil {
		t.Fatalf("first UpsertComment: %v", err)
	}
	if !created {
		t.Errorf("first UpsertComment reports an edit, want created")
	}
	url2, created, err := c.UpsertComment(ctx, "octo", "demo", 7, ".auditpack.yml", "second verdict")
	if err != nil {
		t.Fatalf("second UpsertComment: %v", err)
	}
	if created {
		t.Errorf("second UpsertComment reports created, want an edit")
	}

	comments := srv.Comments("octo", "demo", 7)
	if len(comments) != 1 {
		t.Fatalf("got %d comments, want 1", len(comments))
	}
	want := "<!-- auditpack:.auditpack.yml -->\nsecond verdict"
	if comments[0].Body != want {
		t.Errorf("body = %q, want %q", comments[0].Body, want)
	}
	if url1 != url2 || !strings.HasSuffix(url1, fmt.Sprintf("#issuecomment-%d", comments[0].ID)) {
		t.Errorf("URLs %q and %q do not both name comment %d", url1, url2, comments[0].ID)
	}
}

func TestUpsertCommentFindsMarkerOnLaterPage(t *testing.T) {
	srv := githubtest.NewServer(t)
	for i := range 250 {
		body := fmt.Sprintf("chatter %d", i)
		if i == 230 {
			body = "old report\n" + MarkerComment("models/a.yml")
		}
		srv.AddComment("octo", "demo", 3, "someone", body)
	}
	// Another marker must not match.
	srv.AddComment("octo", "demo", 3, "github-actions[bot]", MarkerComment("models/b.yml"))
	c, _ := newTestClient(t, srv)

	if _, _, err := c.UpsertComment(t.Context(), "octo", "demo", 3, "models/a.yml", "new report"); err != nil {
		t.Fatalf("UpsertComment: %v", err)
	}

	comments := srv.Comments("octo", "demo", 3)
	if len(comments) != 251 {
		t.Fatalf("got %d comments, want 251 (no new one)", len(comments))
	}
	if got := comments[230].Body; got != MarkerComment("models/a.yml")+"\nnew report" {
		t.Errorf("comment 230 body = %q", got)
	}
	var pages []string
	for _, r := range srv.Requests() {
		if r.Method == "GET" {
			pages = append(pages, r.RawQuery)
		}
	}
	want := []string{"per_page=100", "page=2&per_page=100", "page=3&per_page=100"}
	if strings.Join(pages, " ") != strings.Join(want, " ") {
		t.Errorf("list queries = %q, want %q", pages, want)
	}
}

func TestUpsertCommentTruncatesLongBody(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddRepo("octo", "demo")
	c, _ := newTestClient(t, srv)
	long := strings.Repeat("| metric | 0.91 |\n", 5000)

	if _, _, err := c.UpsertComment(t.Context(), "octo", "demo", 1, "m", long); err != nil {
		t.Fatalf("UpsertComment: %v", err)
	}

	body := srv.Comments("octo", "demo", 1)[0].Body
	if n := utf8.RuneCountInString(body); n > MaxCommentLength {
		t.Errorf("body has %d characters, over %d", n, MaxCommentLength)
	}
	if !strings.HasSuffix(body, "\n"+DefaultTruncationNotice) {
		t.Errorf("body does not end with the notice: %q", body[len(body)-80:])
	}
	if !strings.HasPrefix(body, MarkerComment("m")) {
		t.Errorf("body lost its marker")
	}
}

func TestUpsertCommentNoDuplicateAfterLostResponse(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddRepo("octo", "demo")
	srv.InjectFault(githubtest.Fault{Kind: githubtest.FaultServerError, Method: "POST", AfterHandling: true})
	c, rec := newTestClient(t, srv)

	_, created, err := c.UpsertComment(t.Context(), "octo", "demo", 5, "m", "report")
	if err != nil {
		t.Fatalf("UpsertComment: %v", err)
	}
	if !created {
		t.Errorf("UpsertComment reports an edit of the comment its lost POST stored, want created")
	}

	if n := len(srv.Comments("octo", "demo", 5)); n != 1 {
		t.Errorf("got %d comments, want 1", n)
	}
	if got := srv.CountRequests("POST", "/repos/octo/demo/issues/5/comments"); got != 1 {
		t.Errorf("POST sent %d times, want 1", got)
	}
	if got := srv.CountRequests("PATCH", fmt.Sprintf("/repos/octo/demo/issues/comments/%d", srv.Comments("octo", "demo", 5)[0].ID)); got != 1 {
		t.Errorf("PATCH sent %d times, want 1", got)
	}
	if len(rec.recorded()) != 1 {
		t.Errorf("waits = %v, want one backoff", rec.recorded())
	}
}

func TestUpsertCommentErrors(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*githubtest.Server)
		token      string
		wantKind   error
		wantText   string
		wantStatus int
	}{
		{
			name:       "read-only token",
			setup:      func(s *githubtest.Server) { s.SetReadOnly(true) },
			wantKind:   ErrForbidden,
			wantText:   "POST /repos/octo/demo/issues/2/comments: 403 Resource not accessible by integration",
			wantStatus: 403,
		},
		{
			name:       "wrong token",
			token:      "ghp_wrongwrongwrong",
			wantKind:   ErrUnauthorized,
			wantText:   "GET /repos/octo/demo/issues/2/comments: 401 Bad credentials",
			wantStatus: 401,
		},
		{
			name:       "unknown repository",
			setup:      func(s *githubtest.Server) {},
			wantKind:   ErrNotFound,
			wantText:   "GET /repos/octo/other/issues/2/comments: 404 Not Found",
			wantStatus: 404,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := githubtest.NewServer(t)
			srv.AddRepo("octo", "demo")
			if tt.setup != nil {
				tt.setup(srv)
			}
			token := srv.Token()
			if tt.token != "" {
				token = tt.token
			}
			c, err := New(srv.URL(), "", token, srv.Client(), nil)
			if err != nil {
				t.Fatal(err)
			}
			repo := "demo"
			if tt.wantKind == ErrNotFound {
				repo = "other"
			}

			_, _, err = c.UpsertComment(t.Context(), "octo", repo, 2, "m", "body")

			if !errors.Is(err, tt.wantKind) {
				t.Errorf("error %v is not %v", err, tt.wantKind)
			}
			if err == nil || err.Error() != tt.wantText {
				t.Errorf("error text = %v, want %q", err, tt.wantText)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.wantStatus {
				t.Errorf("APIError status = %+v, want %d", apiErr, tt.wantStatus)
			}
			if errors.Is(err, ErrRateLimited) {
				t.Errorf("error %v should not be a rate limit", err)
			}
			checkNoToken(t, srv, err)
			if strings.Contains(fmt.Sprint(err), token) {
				t.Errorf("error text contains the client's token")
			}
			if n := len(srv.Requests()); n > 2 {
				t.Errorf("%d requests sent; a 4xx must not be retried", n)
			}
		})
	}
}

func TestUpsertCommentRejectsBadMarker(t *testing.T) {
	c, err := New("https://api.github.com", "", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{"", "a-->b", "a\nb", "x>"} {
		if _, _, err := c.UpsertComment(t.Context(), "o", "r", 1, marker, "b"); err == nil {
			t.Errorf("marker %q accepted", marker)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	tests := []struct {
		name      string
		faults    []githubtest.Fault
		wantErr   error
		wantWaits func(t *testing.T, waits []time.Duration)
		wantSent  int
	}{
		{
			name:     "server error then success",
			faults:   []githubtest.Fault{{Kind: githubtest.FaultServerError, Times: 2}},
			wantSent: 3,
			wantWaits: func(t *testing.T, waits []time.Duration) {
				want := []time.Duration{time.Second, 2 * time.Second}
				if fmt.Sprint(waits) != fmt.Sprint(want) {
					t.Errorf("waits = %v, want %v", waits, want)
				}
			},
		},
		{
			name:     "server error on every attempt",
			faults:   []githubtest.Fault{{Kind: githubtest.FaultServerError, Status: 503, Times: 10}},
			wantErr:  errors.New("GET /repos/octo/demo/releases/latest: 503 Service Unavailable"),
			wantSent: 4,
		},
		{
			name:     "primary rate limit lifting soon",
			faults:   []githubtest.Fault{{Kind: githubtest.FaultPrimaryRateLimit, ResetAfter: 30 * time.Second}},
			wantSent: 2,
			wantWaits: func(t *testing.T, waits []time.Duration) {
				if len(waits) != 1 || waits[0] < 29*time.Second || waits[0] > 32*time.Second {
					t.Errorf("waits = %v, want one of about 30s", waits)
				}
			},
		},
		{
			name:     "primary rate limit lifting in an hour",
			faults:   []githubtest.Fault{{Kind: githubtest.FaultPrimaryRateLimit, ResetAfter: time.Hour}},
			wantErr:  ErrRateLimited,
			wantSent: 1,
		},
		{
			name:     "secondary rate limit with Retry-After",
			faults:   []githubtest.Fault{{Kind: githubtest.FaultSecondaryRateLimit, RetryAfter: 5 * time.Second}},
			wantSent: 2,
			wantWaits: func(t *testing.T, waits []time.Duration) {
				if fmt.Sprint(waits) != "[5s]" {
					t.Errorf("waits = %v, want [5s]", waits)
				}
			},
		},
		{
			name:     "secondary rate limit without Retry-After",
			faults:   []githubtest.Fault{{Kind: githubtest.FaultSecondaryRateLimit}},
			wantSent: 2,
			wantWaits: func(t *testing.T, waits []time.Duration) {
				if fmt.Sprint(waits) != "[1m0s]" {
					t.Errorf("waits = %v, want [1m0s]", waits)
				}
			},
		},
		{
			name:     "429 with Retry-After",
			faults:   []githubtest.Fault{{Kind: githubtest.FaultTooManyRequests, RetryAfter: 3 * time.Second}},
			wantSent: 2,
			wantWaits: func(t *testing.T, waits []time.Duration) {
				if fmt.Sprint(waits) != "[3s]" {
					t.Errorf("waits = %v, want [3s]", waits)
				}
			},
		},
		{
			name:     "secondary rate limit persisting",
			faults:   []githubtest.Fault{{Kind: githubtest.FaultSecondaryRateLimit, RetryAfter: time.Second, Times: 9}},
			wantErr:  ErrRateLimited,
			wantSent: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := githubtest.NewServer(t)
			srv.AddRelease("octo", "demo", githubtest.Release{TagName: "v1"})
			for _, f := range tt.faults {
				srv.InjectFault(f)
			}
			c, rec := newTestClient(t, srv)

			rel, err := c.LatestRelease(t.Context(), "octo", "demo")

			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("LatestRelease: %v", err)
			case tt.wantErr == nil && rel.TagName != "v1":
				t.Errorf("tag = %q, want v1", rel.TagName)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("LatestRelease succeeded, want %v", tt.wantErr)
			case tt.wantErr == ErrRateLimited && !errors.Is(err, ErrRateLimited):
				t.Errorf("error %v is not ErrRateLimited", err)
			case tt.wantErr != nil && tt.wantErr != ErrRateLimited && err.Error() != tt.wantErr.Error():
				t.Errorf("error = %q, want %q", err, tt.wantErr)
			}
			if errors.Is(err, ErrForbidden) {
				t.Errorf("rate limit %v classified as forbidden", err)
			}
			if got := srv.CountRequests("GET", "/repos/octo/demo/releases/latest"); got != tt.wantSent {
				t.Errorf("sent %d requests, want %d", got, tt.wantSent)
			}
			if tt.wantWaits != nil {
				tt.wantWaits(t, rec.recorded())
			}
		})
	}
}

func TestNotFoundIsNotRetried(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddRelease("octo", "demo", githubtest.Release{TagName: "v1", Prerelease: true})
	c, rec := newTestClient(t, srv)

	_, err := c.LatestRelease(t.Context(), "octo", "demo")

	if !errors.Is(err, ErrNotFound) {
		t.Errorf("error %v is not ErrNotFound", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("sent %d requests, want 1", n)
	}
	if len(rec.recorded()) != 0 {
		t.Errorf("waited %v, want no wait", rec.recorded())
	}
}

func TestReleaseByTag(t *testing.T) {
	srv := githubtest.NewServer(t)
	id := srv.AddRelease("octo", "demo", githubtest.Release{TagName: "v2.0.0", Name: "Two"})
	srv.AddAsset("octo", "demo", id, "pack.tar.gz", []byte("pack"))
	srv.AddRelease("octo", "demo", githubtest.Release{TagName: "v3.0.0", Draft: true})
	c, _ := newTestClient(t, srv)

	rel, err := c.ReleaseByTag(t.Context(), "octo", "demo", "v2.0.0")
	if err != nil {
		t.Fatalf("ReleaseByTag: %v", err)
	}
	if rel.ID != id || rel.Name != "Two" || len(rel.Assets) != 1 || rel.Assets[0].Name != "pack.tar.gz" {
		t.Errorf("release = %+v", rel)
	}
	wantUpload := fmt.Sprintf("%srepos/octo/demo/releases/%d/assets{?name,label}", srv.URL(), id)
	if rel.UploadURL != wantUpload {
		t.Errorf("upload URL = %q, want %q", rel.UploadURL, wantUpload)
	}
	if _, err := c.ReleaseByTag(t.Context(), "octo", "demo", "v3.0.0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("draft by tag: error %v, want ErrNotFound", err)
	}
}

func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUploadReleaseAssetReplaces(t *testing.T) {
	srv := githubtest.NewServer(t)
	id := srv.AddRelease("octo", "demo", githubtest.Release{TagName: "v1"})
	srv.AddAsset("octo", "demo", id, "other.txt", []byte("keep"))
	for i := range 120 {
		srv.AddAsset("octo", "demo", id, fmt.Sprintf("filler-%03d.bin", i), nil)
	}
	oldID := srv.AddAsset("octo", "demo", id, "auditpack.tar.gz", []byte("old"))
	c, _ := newTestClient(t, srv)
	path := writeTemp(t, "pack.tar.gz", []byte("new pack bytes"))

	asset, err := c.UploadReleaseAsset(t.Context(), "octo", "demo", id, "auditpack.tar.gz", path)
	if err != nil {
		t.Fatalf("UploadReleaseAsset: %v", err)
	}

	if asset.ID == oldID || asset.Name != "auditpack.tar.gz" || asset.Size != 14 || asset.ContentType != "application/gzip" {
		t.Errorf("asset = %+v", asset)
	}
	var named []githubtest.Asset
	for _, a := range srv.Assets("octo", "demo", id) {
		if a.Name == "auditpack.tar.gz" {
			named = append(named, a)
		}
	}
	if len(named) != 1 || string(named[0].Content) != "new pack bytes" {
		t.Errorf("assets named auditpack.tar.gz = %+v, want one with the new content", named)
	}
	if n := len(srv.Assets("octo", "demo", id)); n != 122 {
		t.Errorf("release has %d assets, want 122", n)
	}
}

func TestUploadReleaseAssetRetries(t *testing.T) {
	tests := []struct {
		name  string
		fault githubtest.Fault
	}{
		{"rate limit rewinds the body", githubtest.Fault{Kind: githubtest.FaultSecondaryRateLimit, Method: "POST", RetryAfter: time.Second}},
		{"server error after storing", githubtest.Fault{Kind: githubtest.FaultServerError, Method: "POST", AfterHandling: true}},
		{"server error before storing", githubtest.Fault{Kind: githubtest.FaultServerError, Method: "POST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := githubtest.NewServer(t)
			id := srv.AddRelease("octo", "demo", githubtest.Release{TagName: "v1"})
			srv.InjectFault(tt.fault)
			c, _ := newTestClient(t, srv)
			path := writeTemp(t, "index.json", []byte(`{"formatVersion":"1"}`))

			if _, err := c.UploadReleaseAsset(t.Context(), "octo", "demo", id, "index.json", path); err != nil {
				t.Fatalf("UploadReleaseAsset: %v", err)
			}

			assets := srv.Assets("octo", "demo", id)
			if len(assets) != 1 || string(assets[0].Content) != `{"formatVersion":"1"}` || assets[0].ContentType != "application/json" {
				t.Errorf("assets = %+v", assets)
			}
		})
	}
}

func TestUploadReleaseAssetBadInput(t *testing.T) {
	srv := githubtest.NewServer(t)
	id := srv.AddRelease("octo", "demo", githubtest.Release{TagName: "v1"})
	c, _ := newTestClient(t, srv)
	path := writeTemp(t, "a.json", []byte("{}"))
	tests := []struct{ name, asset, path, want string }{
		{"space in name", "my pack.json", path, "contains ' '"},
		{"leading dot", ".hidden", path, "starts or ends with a dot"},
		{"missing file", "a.json", filepath.Join(t.TempDir(), "missing.json"), "no such file"},
		{"directory", "a.json", t.TempDir(), "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.UploadReleaseAsset(t.Context(), "octo", "demo", id, tt.asset, tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("bad input sent %d requests", n)
	}
}

func TestDownloadReleaseAsset(t *testing.T) {
	srv := githubtest.NewServer(t)
	id := srv.AddRelease("octo", "demo", githubtest.Release{TagName: "v1"})
	content := bytes.Repeat([]byte("baseline "), 1000)
	assetID := srv.AddAsset("octo", "demo", id, "auditpack.tar.gz", content)
	c, _ := newTestClient(t, srv)

	tests := []struct {
		name     string
		assetID  int64
		maxBytes int64
		wantErr  error
	}{
		{"whole asset", assetID, int64(len(content)), nil},
		{"over the limit", assetID, 100, ErrTooLarge},
		{"missing asset", 999999, 1 << 20, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := c.DownloadReleaseAsset(t.Context(), "octo", "demo", tt.assetID, &buf, tt.maxBytes)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want %v", err, tt.wantErr)
				}
				if int64(buf.Len()) > tt.maxBytes {
					t.Errorf("wrote %d bytes past the limit %d", buf.Len(), tt.maxBytes)
				}
				return
			}
			if err != nil {
				t.Fatalf("DownloadReleaseAsset: %v", err)
			}
			if n != int64(len(content)) || !bytes.Equal(buf.Bytes(), content) {
				t.Errorf("downloaded %d bytes, content equal: %v", n, bytes.Equal(buf.Bytes(), content))
			}
		})
	}

	// The storage host got no token, and the API request asked for the
	// binary media type.
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/_storage/") && (r.Authorization || r.Status != http.StatusOK) {
			t.Errorf("storage request %+v carried a token or failed", r)
		}
		if strings.HasPrefix(r.Path, "/repos/") && r.Accept != "application/octet-stream" {
			t.Errorf("asset request Accept = %q", r.Accept)
		}
	}
}

func TestFileAtRef(t *testing.T) {
	srv := githubtest.NewServer(t)
	base := "0123456789abcdef0123456789abcdef01234567"
	policy := []byte("rules:\n  - metric: accuracy\n    min: 0.8\n")
	big := bytes.Repeat([]byte("0123456789abcdef"), 70000) // 1.1 MB
	srv.AddFile("octo", "demo", base, "policies/main.yml", policy)
	srv.AddFile("octo", "demo", base, "data/big.csv", big)
	srv.AddFile("octo", "demo", "", "policies/main.yml", []byte("head version"))
	c, _ := newTestClient(t, srv)

	tests := []struct {
		name    string
		path    string
		ref     string
		want    []byte
		wantErr string
		wantIs  error
	}{
		{name: "file at base commit", path: "policies/main.yml", ref: base, want: policy},
		{name: "default branch", path: "/policies/main.yml", ref: "", want: []byte("head version")},
		{name: "file over 1 MB through blobs", path: "data/big.csv", ref: base, want: big},
		{name: "missing file", path: "policies/none.yml", ref: base, wantIs: ErrNotFound},
		{name: "unknown ref", path: "policies/main.yml", ref: "feedface", wantIs: ErrNotFound},
		{name: "directory", path: "policies", ref: base, wantErr: "is a directory"},
		{name: "parent segment", path: "../etc/passwd", ref: base, wantErr: "without \"..\""},
		{name: "empty path", path: "", ref: base, wantErr: "invalid repository file path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.FileAtRef(t.Context(), "octo", "demo", tt.path, tt.ref)
			switch {
			case tt.wantIs != nil:
				if !errors.Is(err, tt.wantIs) {
					t.Errorf("error = %v, want %v", err, tt.wantIs)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("FileAtRef: %v", err)
			case !bytes.Equal(got, tt.want):
				t.Errorf("got %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestTruncateComment(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		max    int
		notice string
		want   string
	}{
		{"short body unchanged", "abc\n", 10, "N", "abc\n"},
		{"exact length unchanged", "abcdefghij", 10, "N", "abcdefghij"},
		{"cut at line break", "line one\nline two\nline three\n", 24, "N", "line one\n\nN"},
		{"no line break", "abcdefghijklmnopqrstuvwxyz", 12, "N", "abcde\n\nN"},
		{"open code fence closed", "intro\n```\ncode 1\ncode 2\ncode 3\n", 28, "[cut]", "intro\n```\ncode 1\n```\n\n[cut]"},
		{"tilde fence closed", "~~~\na\nb\nc\nd\ne\nf\n", 15, "N", "~~~\na\nb\n~~~\n\nN"},
		{"characters not bytes", "ééééé\néééé\n", 10, "N", "ééé\n\nN"},
		{"notice longer than max", "body body body", 4, "notice", "noti"},
		{"zero max", "body", 0, "N", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TruncateComment(tt.body, tt.max, tt.notice)
			if got != tt.want {
				t.Errorf("TruncateComment = %q, want %q", got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.max {
				t.Errorf("result has %d characters, over %d", n, tt.max)
			}
			if !utf8.ValidString(got) {
				t.Errorf("result is not valid UTF-8")
			}
		})
	}
}

func TestNewURLs(t *testing.T) {
	tests := []struct {
		name, base, upload   string
		wantBase, wantUpload string
		wantErr              string
	}{
		{name: "github.com default", wantBase: "https://api.github.com/", wantUpload: "https://uploads.github.com/"},
		{name: "github.com explicit", base: "https://api.github.com", wantBase: "https://api.github.com/", wantUpload: "https://uploads.github.com/"},
		{name: "enterprise server", base: "https://ghe.example.com/api/v3", wantBase: "https://ghe.example.com/api/v3/", wantUpload: "https://ghe.example.com/api/uploads/"},
		{name: "data residency", base: "https://api.acme.ghe.com", wantBase: "https://api.acme.ghe.com/", wantUpload: "https://uploads.acme.ghe.com/"},
		{name: "explicit upload", base: "http://127.0.0.1:9/", upload: "http://127.0.0.1:9/up", wantBase: "http://127.0.0.1:9/", wantUpload: "http://127.0.0.1:9/up/"},
		{name: "credentials", base: "https://user:secret@ghe.example.com/api/v3", wantErr: "must not contain credentials"},
		{name: "relative", base: "api/v3", wantErr: "not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.base, tt.upload, "tok", nil, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error text contains the URL's password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.gh.BaseURL.String(); got != tt.wantBase {
				t.Errorf("base = %q, want %q", got, tt.wantBase)
			}
			if got := c.gh.UploadURL.String(); got != tt.wantUpload {
				t.Errorf("upload = %q, want %q", got, tt.wantUpload)
			}
		})
	}
}

func TestContentType(t *testing.T) {
	tests := map[string]string{
		"auditpack-v1.tar.gz":      "application/gzip",
		"evaluation.sigstore.json": "application/json",
		"statements.jsonl":         "application/jsonl",
		"summary.md":               "text/markdown; charset=utf-8",
		"model.onnx":               "application/octet-stream",
		"REPORT.JSON":              "application/json",
	}
	for name, want := range tests {
		if got := ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestListReleases(t *testing.T) {
	srv := githubtest.NewServer(t)
	srv.AddRepo("octo", "empty")
	const published = 230 // three pages of 100
	for i := range published {
		srv.AddRelease("octo", "many", githubtest.Release{TagName: fmt.Sprintf("v1.0.%d", i)})
	}
	srv.AddRelease("octo", "many", githubtest.Release{TagName: "v2.0.0-rc.1", Prerelease: true})
	srv.AddRelease("octo", "many", githubtest.Release{TagName: "v2.0.0", Draft: true})
	c, _ := newTestClient(t, srv)

	tests := []struct {
		name      string
		repo      string
		wantCount int
		wantFirst string
		wantLast  string
		wantPages int
		wantErr   error
	}{
		{name: "every page", repo: "many", wantCount: published + 2, wantFirst: "v2.0.0", wantLast: "v1.0.0", wantPages: 3},
		{name: "no releases", repo: "empty", wantCount: 0, wantPages: 1},
		{name: "missing repository", repo: "absent", wantErr: ErrNotFound, wantPages: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/repos/octo/" + tt.repo + "/releases"
			before := srv.CountRequests("GET", path)
			releases, err := c.ListReleases(t.Context(), "octo", tt.repo)
			if got := srv.CountRequests("GET", path) - before; got != tt.wantPages {
				t.Errorf("%d requests, want %d", got, tt.wantPages)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ListReleases: %v", err)
			}
			if len(releases) != tt.wantCount {
				t.Fatalf("got %d releases, want %d", len(releases), tt.wantCount)
			}
			if tt.wantCount == 0 {
				return
			}
			if releases[0].TagName != tt.wantFirst || releases[len(releases)-1].TagName != tt.wantLast {
				t.Errorf("first %s, last %s; want %s and %s", releases[0].TagName, releases[len(releases)-1].TagName, tt.wantFirst, tt.wantLast)
			}
			draft, rc := releases[0], releases[1]
			if !draft.Draft || !draft.PublishedAt.IsZero() || draft.CreatedAt.IsZero() {
				t.Errorf("draft = %+v, want Draft with a creation time and no publication time", draft)
			}
			if !rc.Prerelease || rc.PublishedAt.IsZero() {
				t.Errorf("prerelease = %+v, want Prerelease with a publication time", rc)
			}
		})
	}

	if _, err := c.ListReleases(t.Context(), "octo", "a/b"); err == nil || !strings.Contains(err.Error(), "invalid GitHub repository name") {
		t.Errorf("bad repository name: error = %v", err)
	}
}
