package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// call sends a request to srv with the given token and returns the status,
// headers and body.
func call(t *testing.T, srv *Server, method, path, token string, body io.Reader, header map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+strings.TrimPrefix(path, "/"), body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(data)
}

func TestPaginationLinks(t *testing.T) {
	srv := NewServer(t)
	for i := range 7 {
		srv.AddComment("o", "r", 1, "u", fmt.Sprint(i))
	}
	base := srv.URL() + "repos/o/r/issues/1/comments"
	tests := []struct {
		query     string
		wantLink  string
		wantCount int
	}{
		{"per_page=3", fmt.Sprintf(`<%[1]s?page=2&per_page=3>; rel="next", <%[1]s?page=3&per_page=3>; rel="last"`, base), 3},
		{"per_page=3&page=2", fmt.Sprintf(`<%[1]s?page=1&per_page=3>; rel="prev", <%[1]s?page=3&per_page=3>; rel="next", <%[1]s?page=3&per_page=3>; rel="last", <%[1]s?page=1&per_page=3>; rel="first"`, base), 3},
		{"per_page=3&page=3", fmt.Sprintf(`<%[1]s?page=2&per_page=3>; rel="prev", <%[1]s?page=1&per_page=3>; rel="first"`, base), 1},
		{"", "", 7},
		{"per_page=500", "", 7},
		{"per_page=3&page=9", fmt.Sprintf(`<%[1]s?page=3&per_page=3>; rel="prev", <%[1]s?page=1&per_page=3>; rel="first"`, base), 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			status, header, body := call(t, srv, "GET", "repos/o/r/issues/1/comments?"+tt.query, DefaultToken, nil, nil)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			if got := header.Get("Link"); got != tt.wantLink {
				t.Errorf("Link = %q\nwant   %q", got, tt.wantLink)
			}
			var comments []map[string]any
			if err := json.Unmarshal([]byte(body), &comments); err != nil {
				t.Fatal(err)
			}
			if len(comments) != tt.wantCount {
				t.Errorf("got %d comments, want %d", len(comments), tt.wantCount)
			}
		})
	}
}

func TestErrorBodies(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*Server)
		method     string
		path       string
		token      string
		body       string
		header     map[string]string
		wantStatus int
		wantBody   map[string]any
	}{
		{
			name: "bad credentials", method: "GET", path: "repos/o/r/releases/latest", token: "wrong",
			wantStatus: 401, wantBody: map[string]any{"message": "Bad credentials", "documentation_url": docsRoot, "status": "401"},
		},
		{
			name: "no token", method: "GET", path: "repos/o/r/releases/latest",
			wantStatus: 401, wantBody: map[string]any{"message": "Requires authentication", "documentation_url": docsRoot, "status": "401"},
		},
		{
			name: "unknown repository", method: "GET", path: "repos/o/missing/releases/latest", token: DefaultToken,
			wantStatus: 404, wantBody: map[string]any{"message": "Not Found", "documentation_url": docsLatestRelease, "status": "404"},
		},
		{
			name: "read-only token", setup: func(s *Server) { s.SetReadOnly(true) },
			method: "POST", path: "repos/o/r/issues/1/comments", token: DefaultToken, body: `{"body":"x"}`,
			wantStatus: 403, wantBody: map[string]any{"message": "Resource not accessible by integration", "documentation_url": docsCreateComment, "status": "403"},
		},
		{
			name: "duplicate asset", setup: func(s *Server) { s.AddAsset("o", "r", 1001, "a.json", nil) },
			method: "POST", path: "repos/o/r/releases/1001/assets?name=a.json", token: DefaultToken, body: "{}",
			header:     map[string]string{"Content-Type": "application/json"},
			wantStatus: 422,
			wantBody: map[string]any{
				"message": "Validation Failed", "documentation_url": docsUploadAsset, "status": "422",
				"errors": []any{map[string]any{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}},
			},
		},
		{
			name: "comment too long", method: "POST", path: "repos/o/r/issues/1/comments", token: DefaultToken,
			body:       `{"body":"` + strings.Repeat("é", maxCommentLength+1) + `"}`,
			wantStatus: 422,
			wantBody: map[string]any{
				"message": "Validation Failed", "documentation_url": docsCreateComment, "status": "422",
				"errors": []any{map[string]any{"resource": "IssueComment", "code": "custom", "field": "body", "message": "body is too long (maximum is 65536 characters)"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := NewServer(t)
			srv.AddRelease("o", "r", Release{TagName: "v1"}) // ID 1001
			if tt.setup != nil {
				tt.setup(srv)
			}
			status, header, body := call(t, srv, tt.method, tt.path, tt.token, strings.NewReader(tt.body), tt.header)
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantBody) {
				t.Errorf("body = %v\nwant %v", got, tt.wantBody)
			}
			for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
				if header.Get(h) == "" {
					t.Errorf("header %s missing", h)
				}
			}
		})
	}
}

func TestRateLimitHeadersCount(t *testing.T) {
	srv := NewServer(t)
	srv.AddRepo("o", "r")
	_, h1, _ := call(t, srv, "GET", "repos/o/r/issues/1/comments", DefaultToken, nil, nil)
	_, h2, _ := call(t, srv, "GET", "repos/o/r/issues/1/comments", DefaultToken, nil, nil)
	if h1.Get("X-RateLimit-Remaining") != "4999" || h2.Get("X-RateLimit-Remaining") != "4998" || h2.Get("X-RateLimit-Used") != "2" {
		t.Errorf("remaining %s then %s, used %s", h1.Get("X-RateLimit-Remaining"), h2.Get("X-RateLimit-Remaining"), h2.Get("X-RateLimit-Used"))
	}
	if h1.Get("X-RateLimit-Reset") != h2.Get("X-RateLimit-Reset") {
		t.Errorf("reset moved within the window")
	}
}

func TestFaults(t *testing.T) {
	srv := NewServer(t)
	srv.AddRepo("o", "r")
	srv.InjectFault(Fault{Kind: FaultPrimaryRateLimit, Method: "POST"})
	srv.InjectFault(Fault{Kind: FaultServerError, Times: 2})
	srv.InjectFault(Fault{Kind: FaultTooManyRequests, RetryAfter: 7_000_000_000})

	// The POST-only fault skips GETs, which take the next faults in order.
	want := []struct {
		status     int
		retryAfter string
	}{{502, ""}, {502, ""}, {429, "7"}, {200, ""}}
	for i, w := range want {
		status, header, _ := call(t, srv, "GET", "repos/o/r/issues/1/comments", DefaultToken, nil, nil)
		if status != w.status || header.Get("Retry-After") != w.retryAfter {
			t.Errorf("request %d: status %d Retry-After %q, want %d %q", i, status, header.Get("Retry-After"), w.status, w.retryAfter)
		}
	}
	status, header, body := call(t, srv, "POST", "repos/o/r/issues/1/comments", DefaultToken, strings.NewReader(`{"body":"x"}`), nil)
	if status != 403 || header.Get("X-RateLimit-Remaining") != "0" || !strings.Contains(body, "API rate limit exceeded") {
		t.Errorf("primary rate limit: %d %q %s", status, header.Get("X-RateLimit-Remaining"), body)
	}
	if n := len(srv.Comments("o", "r", 1)); n != 0 {
		t.Errorf("rate-limited POST stored %d comments", n)
	}
	log := srv.Requests()
	if log[0].Fault != FaultServerError || log[3].Fault != "" || log[4].Fault != FaultPrimaryRateLimit {
		t.Errorf("request log faults = %q %q %q", log[0].Fault, log[3].Fault, log[4].Fault)
	}
}

func TestAssetDownloadRedirect(t *testing.T) {
	srv := NewServer(t)
	id := srv.AddRelease("o", "r", Release{TagName: "v1"})
	assetID := srv.AddAsset("o", "r", id, "pack.tar.gz", []byte("bytes"))
	path := fmt.Sprintf("repos/o/r/releases/assets/%d", assetID)

	status, header, _ := call(t, srv, "GET", path, DefaultToken, nil, map[string]string{"Accept": "application/octet-stream"})
	if status != http.StatusFound || !strings.Contains(header.Get("Location"), storagePrefix) {
		t.Fatalf("status %d Location %q", status, header.Get("Location"))
	}
	location := strings.TrimPrefix(header.Get("Location"), strings.TrimSuffix(srv.URL(), "/"))

	if status, _, body := call(t, srv, "GET", location, DefaultToken, nil, nil); status != 400 || !strings.Contains(body, "Only one auth mechanism") {
		t.Errorf("storage with token: %d %s", status, body)
	}
	if status, _, body := call(t, srv, "GET", location, "", nil, nil); status != 200 || body != "bytes" {
		t.Errorf("storage without token: %d %q", status, body)
	}
	if status, _, _ := call(t, srv, "GET", storagePrefix+"1?token=forged", "", nil, nil); status != 403 {
		t.Errorf("forged storage token: status %d, want 403", status)
	}
}

func TestContentsAPI(t *testing.T) {
	srv := NewServer(t)
	srv.AddFile("o", "r", "abc123", "dir/policy.yml", []byte("min: 0.8\n"))
	srv.AddFile("o", "r", "abc123", "dir/sub/x.txt", []byte("x"))

	status, _, body := call(t, srv, "GET", "repos/o/r/contents/dir/policy.yml?ref=abc123", DefaultToken, nil, nil)
	if status != 200 || !strings.Contains(body, `"content":"bWluOiAwLjgK\n"`) || !strings.Contains(body, `"sha":"`+blobSHA([]byte("min: 0.8\n"))) {
		t.Errorf("file: %d %s", status, body)
	}
	status, _, body = call(t, srv, "GET", "repos/o/r/contents/dir?ref=abc123", DefaultToken, nil, nil)
	if status != 200 || !strings.Contains(body, `"name":"policy.yml"`) || !strings.Contains(body, `"name":"sub"`) {
		t.Errorf("directory: %d %s", status, body)
	}
	status, _, body = call(t, srv, "GET", "repos/o/r/contents/dir/policy.yml?ref=abc123", DefaultToken, nil, map[string]string{"Accept": "application/vnd.github.raw+json"})
	if status != 200 || body != "min: 0.8\n" {
		t.Errorf("raw: %d %q", status, body)
	}
	if status, _, _ := call(t, srv, "GET", "repos/o/r/contents/dir/policy.yml?ref=zzz", DefaultToken, nil, nil); status != 404 {
		t.Errorf("unknown ref: status %d", status)
	}
}

func TestBlobSHAMatchesGit(t *testing.T) {
	// `printf 'hello\n' | git hash-object --stdin`
	if got := blobSHA([]byte("hello\n")); got != "ce013625030ba8dba906f756967f9e9ca394464a" {
		t.Errorf("blobSHA = %s", got)
	}
}

func TestListReleases(t *testing.T) {
	srv := NewServer(t)
	srv.AddRepo("o", "empty")
	for i := range 5 {
		srv.AddRelease("o", "r", Release{TagName: fmt.Sprintf("v%d", i)})
	}
	srv.AddRelease("o", "r", Release{TagName: "v5", Draft: true})
	base := srv.URL() + "repos/o/r/releases"

	tests := []struct {
		name     string
		path     string
		readOnly bool
		wantTags []string
		wantLink string
	}{
		{name: "newest first", path: "repos/o/r/releases", wantTags: []string{"v5", "v4", "v3", "v2", "v1", "v0"}},
		{name: "first page", path: "repos/o/r/releases?per_page=4", wantTags: []string{"v5", "v4", "v3", "v2"},
			wantLink: fmt.Sprintf(`<%[1]s?page=2&per_page=4>; rel="next", <%[1]s?page=2&per_page=4>; rel="last"`, base)},
		{name: "second page", path: "repos/o/r/releases?per_page=4&page=2", wantTags: []string{"v1", "v0"},
			wantLink: fmt.Sprintf(`<%[1]s?page=1&per_page=4>; rel="prev", <%[1]s?page=1&per_page=4>; rel="first"`, base)},
		{name: "drafts hidden from a read-only token", path: "repos/o/r/releases", readOnly: true, wantTags: []string{"v4", "v3", "v2", "v1", "v0"}},
		{name: "no releases", path: "repos/o/empty/releases", wantTags: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.SetReadOnly(tt.readOnly)
			defer srv.SetReadOnly(false)
			status, header, body := call(t, srv, "GET", tt.path, DefaultToken, nil, nil)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			if got := header.Get("Link"); got != tt.wantLink {
				t.Errorf("Link = %q\nwant   %q", got, tt.wantLink)
			}
			var releases []struct {
				TagName     string  `json:"tag_name"`
				Draft       bool    `json:"draft"`
				PublishedAt *string `json:"published_at"`
			}
			if err := json.Unmarshal([]byte(body), &releases); err != nil {
				t.Fatalf("body is not a JSON list: %v\n%s", err, body)
			}
			tags := []string{}
			for _, r := range releases {
				tags = append(tags, r.TagName)
				if r.Draft != (r.PublishedAt == nil) {
					t.Errorf("release %s: draft %v but published_at %v", r.TagName, r.Draft, r.PublishedAt)
				}
			}
			if strings.Join(tags, ",") != strings.Join(tt.wantTags, ",") {
				t.Errorf("tags = %v, want %v", tags, tt.wantTags)
			}
		})
	}

	t.Run("missing repository", func(t *testing.T) {
		status, _, body := call(t, srv, "GET", "repos/o/nothing/releases", DefaultToken, nil, nil)
		if status != http.StatusNotFound || !strings.Contains(body, "list-releases") {
			t.Errorf("status %d body %s, want 404 with the endpoint's documentation link", status, body)
		}
	})
}
