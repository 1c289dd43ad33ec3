package githubtest

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxCommentLength is GitHub's limit on a comment body, in characters.
const maxCommentLength = 65536

// maxInlineContent is the largest file the contents API returns inline.
const maxInlineContent = 1 << 20

// storagePrefix is the path of the fake storage host behind asset downloads.
const storagePrefix = "/_storage/releases/"

// Documentation links GitHub puts in error bodies, per endpoint.
const (
	docsListComments  = "https://docs.github.com/rest/issues/comments#list-issue-comments"
	docsCreateComment = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
	docsUpdateComment = "https://docs.github.com/rest/issues/comments#update-an-issue-comment"
	docsListReleases  = "https://docs.github.com/rest/releases/releases#list-releases"
	docsReleaseByTag  = "https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name"
	docsLatestRelease = "https://docs.github.com/rest/releases/releases#get-the-latest-release"
	docsGetRelease    = "https://docs.github.com/rest/releases/releases#get-a-release"
	docsListAssets    = "https://docs.github.com/rest/releases/assets#list-release-assets"
	docsUploadAsset   = "https://docs.github.com/rest/releases/assets#upload-a-release-asset"
	docsGetAsset      = "https://docs.github.com/rest/releases/assets#get-a-release-asset"
	docsDeleteAsset   = "https://docs.github.com/rest/releases/assets#delete-a-release-asset"
	docsContents      = "https://docs.github.com/rest/repos/contents#get-repository-content"
	docsBlobs         = "https://docs.github.com/rest/git/blobs#get-a-blob"
)

// params are the values of a route's {name} segments.
type params map[string]string

type route struct {
	method  string
	pattern string // segments after /repos/{owner}/{repo}/
	docs    string
	handle  func(s *Server, w http.ResponseWriter, r *http.Request, repo *repoState, p params)
}

// routeTable returns the routes in the order they are tried, so that a
// literal segment listed first wins over a {name} segment at the same place.
func routeTable() []route {
	return []route{
		{"GET", "issues/{number}/comments", docsListComments, (*Server).listComments},
		{"POST", "issues/{number}/comments", docsCreateComment, (*Server).createComment},
		{"PATCH", "issues/comments/{id}", docsUpdateComment, (*Server).updateComment},
		{"GET", "releases", docsListReleases, (*Server).listReleases},
		{"GET", "releases/latest", docsLatestRelease, (*Server).latestRelease},
		{"GET", "releases/tags/{tag}", docsReleaseByTag, (*Server).releaseByTag},
		{"GET", "releases/assets/{id}", docsGetAsset, (*Server).getAsset},
		{"DELETE", "releases/assets/{id}", docsDeleteAsset, (*Server).deleteAsset},
		{"GET", "releases/{id}/assets", docsListAssets, (*Server).listAssets},
		{"POST", "releases/{id}/assets", docsUploadAsset, (*Server).uploadAsset},
		{"GET", "releases/{id}", docsGetRelease, (*Server).getRelease},
		{"GET", "contents/{path...}", docsContents, (*Server).getContents},
		{"GET", "git/blobs/{sha}", docsBlobs, (*Server).getBlob},
	}
}

// route dispatches an authorized API request.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	segments := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(segments) < 4 || segments[0] != "repos" {
		writeNotFound(w, "")
		return
	}
	owner, name, rest := segments[1], segments[2], segments[3:]

	for _, rt := range routeTable() {
		p, ok := match(rt.pattern, rest)
		if !ok || rt.method != r.Method {
			continue
		}
		s.mu.Lock()
		repo := s.repoLocked(owner, name)
		readOnly := s.readOnly
		s.mu.Unlock()
		if repo == nil {
			writeNotFound(w, rt.docs)
			return
		}
		if readOnly && r.Method != http.MethodGet {
			writeError(w, http.StatusForbidden, "Resource not accessible by integration", rt.docs)
			return
		}
		rt.handle(s, w, r, repo, p)
		return
	}
	writeNotFound(w, "")
}

// match matches path segments against a pattern of literal, {name} and a
// final {name...} segment.
func match(pattern string, segments []string) (params, bool) {
	parts := strings.Split(pattern, "/")
	p := params{}
	for i, part := range parts {
		if strings.HasSuffix(part, "...}") {
			if i >= len(segments) {
				return nil, false
			}
			p[strings.TrimSuffix(strings.TrimPrefix(part, "{"), "...}")] = strings.Join(segments[i:], "/")
			return p, true
		}
		if i >= len(segments) {
			return nil, false
		}
		if strings.HasPrefix(part, "{") {
			if segments[i] == "" {
				return nil, false
			}
			p[strings.Trim(part, "{}")] = segments[i]
			continue
		}
		if part != segments[i] {
			return nil, false
		}
	}
	return p, len(parts) == len(segments)
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	number, err := strconv.Atoi(p["number"])
	if err != nil {
		writeNotFound(w, docsListComments)
		return
	}
	s.mu.Lock()
	var matching []Comment
	for _, c := range repo.comments {
		if c.Number == number {
			matching = append(matching, *c)
		}
	}
	s.mu.Unlock()

	lo, hi := paginate(w, r, len(matching))
	out := make([]map[string]any, 0, hi-lo)
	for _, c := range matching[lo:hi] {
		out = append(out, s.commentJSON(repo, c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	number, err := strconv.Atoi(p["number"])
	if err != nil {
		writeNotFound(w, docsCreateComment)
		return
	}
	body, ok := readCommentBody(w, r, docsCreateComment)
	if !ok {
		return
	}
	s.mu.Lock()
	now := s.tickLocked()
	c := &Comment{ID: s.newIDLocked(), Number: number, Body: body, User: "github-actions[bot]", CreatedAt: now, UpdatedAt: now}
	repo.comments = append(repo.comments, c)
	out := s.commentJSON(repo, *c)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) updateComment(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	id, _ := strconv.ParseInt(p["id"], 10, 64)
	body, ok := readCommentBody(w, r, docsUpdateComment)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range repo.comments {
		if c.ID == id {
			c.Body = body
			c.UpdatedAt = s.tickLocked()
			writeJSON(w, http.StatusOK, s.commentJSON(repo, *c))
			return
		}
	}
	writeNotFound(w, docsUpdateComment)
}

// readCommentBody decodes {"body": "..."} and enforces GitHub's length limit.
func readCommentBody(w http.ResponseWriter, r *http.Request, docs string) (string, bool) {
	var req struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docs)
		return "", false
	}
	if req.Body == nil {
		writeValidation(w, docs, validationError{Resource: "IssueComment", Code: "missing_field", Field: "body"})
		return "", false
	}
	if utf8.RuneCountInString(*req.Body) > maxCommentLength {
		writeValidation(w, docs, validationError{Resource: "IssueComment", Code: "custom", Field: "body",
			Message: "body is too long (maximum is 65536 characters)"})
		return "", false
	}
	return *req.Body, true
}

func (s *Server) commentJSON(repo *repoState, c Comment) map[string]any {
	api := s.srv.URL + "/repos/" + repo.owner + "/" + repo.name
	return map[string]any{
		"id":                 c.ID,
		"node_id":            "IC_" + strconv.FormatInt(c.ID, 10),
		"url":                api + "/issues/comments/" + strconv.FormatInt(c.ID, 10),
		"html_url":           s.srv.URL + "/" + repo.owner + "/" + repo.name + "/issues/" + strconv.Itoa(c.Number) + "#issuecomment-" + strconv.FormatInt(c.ID, 10),
		"issue_url":          api + "/issues/" + strconv.Itoa(c.Number),
		"body":               c.Body,
		"user":               map[string]any{"login": c.User, "type": userType(c.User)},
		"created_at":         c.CreatedAt.Format(time.RFC3339),
		"updated_at":         c.UpdatedAt.Format(time.RFC3339),
		"author_association": "NONE",
	}
}

func userType(login string) string {
	if strings.HasSuffix(login, "[bot]") {
		return "Bot"
	}
	return "User"
}

func (s *Server) latestRelease(w http.ResponseWriter, r *http.Request, repo *repoState, _ params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var latest *Release
	for _, rel := range repo.releases {
		if rel.Draft || rel.Prerelease {
			continue
		}
		if latest == nil || !rel.CreatedAt.Before(latest.CreatedAt) {
			latest = rel
		}
	}
	if latest == nil {
		writeNotFound(w, docsLatestRelease)
		return
	}
	writeJSON(w, http.StatusOK, s.releaseJSONLocked(repo, latest))
}

// listReleases lists the releases newest first by creation time, as
// GitHub does, with Link pagination. Drafts are listed only to a token
// with push access, so a read-only token does not see them.
func (s *Server) listReleases(w http.ResponseWriter, r *http.Request, repo *repoState, _ params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var visible []*Release
	for _, rel := range repo.releases {
		if rel.Draft && s.readOnly {
			continue
		}
		visible = append(visible, rel)
	}
	slices.SortStableFunc(visible, func(a, b *Release) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})

	lo, hi := paginate(w, r, len(visible))
	out := make([]map[string]any, 0, hi-lo)
	for _, rel := range visible[lo:hi] {
		out = append(out, s.releaseJSONLocked(repo, rel))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) releaseByTag(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rel := range repo.releases {
		// A draft is not reachable by its tag until published.
		if rel.TagName == p["tag"] && !rel.Draft {
			writeJSON(w, http.StatusOK, s.releaseJSONLocked(repo, rel))
			return
		}
	}
	writeNotFound(w, docsReleaseByTag)
}

func (s *Server) getRelease(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rel := findRelease(repo, p["id"]); rel != nil {
		writeJSON(w, http.StatusOK, s.releaseJSONLocked(repo, rel))
		return
	}
	writeNotFound(w, docsGetRelease)
}

func findRelease(repo *repoState, rawID string) *Release {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		return nil
	}
	for _, rel := range repo.releases {
		if rel.ID == id {
			return rel
		}
	}
	return nil
}

func (s *Server) releaseJSONLocked(repo *repoState, rel *Release) map[string]any {
	api := s.srv.URL + "/repos/" + repo.owner + "/" + repo.name + "/releases/" + strconv.FormatInt(rel.ID, 10)
	assets := []map[string]any{}
	for _, a := range repo.assets {
		if a.ReleaseID == rel.ID {
			assets = append(assets, s.assetJSON(repo, rel, a))
		}
	}
	// A draft has not been published; GitHub sends null.
	var published any
	if !rel.Draft {
		published = rel.CreatedAt.Format(time.RFC3339)
	}
	return map[string]any{
		"id":           rel.ID,
		"node_id":      "RE_" + strconv.FormatInt(rel.ID, 10),
		"tag_name":     rel.TagName,
		"name":         rel.Name,
		"draft":        rel.Draft,
		"prerelease":   rel.Prerelease,
		"created_at":   rel.CreatedAt.Format(time.RFC3339),
		"published_at": published,
		"url":          api,
		"assets_url":   api + "/assets",
		"upload_url":   api + "/assets{?name,label}",
		"html_url":     s.srv.URL + "/" + repo.owner + "/" + repo.name + "/releases/tag/" + rel.TagName,
		"assets":       assets,
	}
}

func (s *Server) assetJSON(repo *repoState, rel *Release, a *Asset) map[string]any {
	tag := ""
	if rel != nil {
		tag = rel.TagName
	}
	return map[string]any{
		"id":                   a.ID,
		"node_id":              "RA_" + strconv.FormatInt(a.ID, 10),
		"name":                 a.Name,
		"label":                a.Label,
		"content_type":         a.ContentType,
		"state":                a.State,
		"size":                 len(a.Content),
		"download_count":       0,
		"created_at":           a.CreatedAt.Format(time.RFC3339),
		"updated_at":           a.CreatedAt.Format(time.RFC3339),
		"url":                  s.srv.URL + "/repos/" + repo.owner + "/" + repo.name + "/releases/assets/" + strconv.FormatInt(a.ID, 10),
		"browser_download_url": s.srv.URL + "/" + repo.owner + "/" + repo.name + "/releases/download/" + tag + "/" + a.Name,
		"uploader":             map[string]any{"login": "github-actions[bot]", "type": "Bot"},
	}
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	s.mu.Lock()
	rel := findRelease(repo, p["id"])
	if rel == nil {
		s.mu.Unlock()
		writeNotFound(w, docsListAssets)
		return
	}
	var assets []*Asset
	for _, a := range repo.assets {
		if a.ReleaseID == rel.ID {
			assets = append(assets, a)
		}
	}
	lo, hi := paginate(w, r, len(assets))
	out := make([]map[string]any, 0, hi-lo)
	for _, a := range assets[lo:hi] {
		out = append(out, s.assetJSON(repo, rel, a))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) uploadAsset(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	q := r.URL.Query()
	name := sanitizeAssetName(q.Get("name"))
	if name == "" {
		writeValidation(w, docsUploadAsset, validationError{Resource: "ReleaseAsset", Code: "missing_field", Field: "name"})
		return
	}
	contentType := r.Header.Get("Content-Type")
	if contentType == "" {
		writeValidation(w, docsUploadAsset, validationError{Resource: "ReleaseAsset", Code: "missing_field", Field: "content_type"})
		return
	}
	content, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Problems reading the request body", docsUploadAsset)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rel := findRelease(repo, p["id"])
	if rel == nil {
		writeNotFound(w, docsUploadAsset)
		return
	}
	for _, a := range repo.assets {
		if a.ReleaseID == rel.ID && a.Name == name {
			writeValidation(w, docsUploadAsset, validationError{Resource: "ReleaseAsset", Code: "already_exists", Field: "name"})
			return
		}
	}
	a := &Asset{
		ID: s.newIDLocked(), ReleaseID: rel.ID, Name: name, Label: q.Get("label"),
		ContentType: contentType, Content: content, State: "uploaded", CreatedAt: s.tickLocked(),
	}
	repo.assets = append(repo.assets, a)
	writeJSON(w, http.StatusCreated, s.assetJSON(repo, rel, a))
}

// sanitizeAssetName renames as GitHub does: characters other than ASCII
// letters, digits and "._-+" become dots, and leading and trailing dots go.
func sanitizeAssetName(name string) string {
	mapped := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-+", r) {
			return r
		}
		return '.'
	}, name)
	return strings.Trim(mapped, ".")
}

func (s *Server) findAssetLocked(repo *repoState, rawID string) (int, *Asset) {
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil {
		return -1, nil
	}
	for i, a := range repo.assets {
		if a.ID == id {
			return i, a
		}
	}
	return -1, nil
}

func (s *Server) getAsset(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, a := s.findAssetLocked(repo, p["id"])
	if a == nil {
		writeNotFound(w, docsGetAsset)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/octet-stream") {
		token := randomHex(16)
		s.downloads[token] = a.ID
		w.Header().Set("Location", s.srv.URL+storagePrefix+strconv.FormatInt(a.ID, 10)+"?token="+token)
		w.WriteHeader(http.StatusFound)
		return
	}
	var rel *Release
	for _, candidate := range repo.releases {
		if candidate.ID == a.ReleaseID {
			rel = candidate
		}
	}
	writeJSON(w, http.StatusOK, s.assetJSON(repo, rel, a))
}

func (s *Server) deleteAsset(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, a := s.findAssetLocked(repo, p["id"])
	if a == nil {
		writeNotFound(w, docsDeleteAsset)
		return
	}
	repo.assets = slices.Delete(repo.assets, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

// serveStorage serves an asset behind a signed URL, like the object store
// GitHub redirects to. Such a store rejects a request that also carries an
// Authorization header.
func (s *Server) serveStorage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xml")
	if r.Header.Get("Authorization") != "" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>")
		return
	}
	s.mu.Lock()
	id, ok := s.downloads[r.URL.Query().Get("token")]
	var content []byte
	if ok {
		for _, repo := range s.repos {
			if _, a := s.findAssetLocked(repo, strconv.FormatInt(id, 10)); a != nil {
				content = a.Content
			}
		}
	}
	s.mu.Unlock()
	if !ok || strings.TrimPrefix(r.URL.Path, storagePrefix) != strconv.FormatInt(id, 10) || content == nil {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "<Error><Code>AccessDenied</Code><Message>Request has expired or is invalid</Message></Error>")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(content)))
	_, _ = w.Write(content)
}

func (s *Server) getContents(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	filePath := strings.Trim(p["path"], "/")
	s.mu.Lock()
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		ref = repo.defaultBranch
	}
	files, ok := repo.files[ref]
	content, isFile := files[filePath]
	content = slices.Clone(content)
	var children []string
	for name := range files {
		if rest, found := strings.CutPrefix(name, filePath+"/"); found {
			children = append(children, strings.SplitN(rest, "/", 2)[0])
		}
	}
	s.mu.Unlock()

	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "No commit found for the ref "+ref, docsContents)
	case isFile && wantsRaw(r):
		w.Header().Set("Content-Type", "application/vnd.github.raw")
		_, _ = w.Write(content)
	case isFile:
		writeJSON(w, http.StatusOK, s.contentJSON(repo, ref, filePath, content))
	case len(children) > 0:
		slices.Sort(children)
		children = slices.Compact(children)
		out := make([]map[string]any, 0, len(children))
		for _, child := range children {
			out = append(out, map[string]any{"type": "dir", "name": child, "path": path.Join(filePath, child)})
		}
		writeJSON(w, http.StatusOK, out)
	default:
		writeNotFound(w, docsContents)
	}
}

func (s *Server) contentJSON(repo *repoState, ref, filePath string, content []byte) map[string]any {
	sha := blobSHA(content)
	api := s.srv.URL + "/repos/" + repo.owner + "/" + repo.name
	out := map[string]any{
		"type":         "file",
		"encoding":     "base64",
		"size":         len(content),
		"name":         path.Base(filePath),
		"path":         filePath,
		"content":      encodeBase64Lines(content),
		"sha":          sha,
		"url":          api + "/contents/" + filePath + "?ref=" + ref,
		"git_url":      api + "/git/blobs/" + sha,
		"download_url": s.srv.URL + "/raw/" + repo.owner + "/" + repo.name + "/" + ref + "/" + filePath,
	}
	// Files over 1 MB come without content.
	if len(content) > maxInlineContent {
		out["encoding"] = "none"
		out["content"] = ""
	}
	return out
}

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, repo *repoState, p params) {
	s.mu.Lock()
	content, ok := repo.blobs[p["sha"]]
	s.mu.Unlock()
	if !ok {
		writeNotFound(w, docsBlobs)
		return
	}
	if wantsRaw(r) {
		w.Header().Set("Content-Type", "application/vnd.github.raw")
		_, _ = w.Write(content)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sha":      p["sha"],
		"node_id":  "B_" + p["sha"][:8],
		"size":     len(content),
		"url":      s.srv.URL + "/repos/" + repo.owner + "/" + repo.name + "/git/blobs/" + p["sha"],
		"content":  encodeBase64Lines(content),
		"encoding": "base64",
	})
}
