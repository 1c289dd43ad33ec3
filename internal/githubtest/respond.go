package githubtest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const docsRoot = "https://docs.github.com/rest"

// validationError is one entry of the errors list of a 422 response.
type validationError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field"`
	Message  string `json:"message,omitempty"`
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes GitHub's error body: message, documentation_url and
// status as a string.
func writeError(w http.ResponseWriter, status int, message, docs string) {
	body := map[string]any{"message": message, "status": strconv.Itoa(status)}
	if docs != "" {
		body["documentation_url"] = docs
	}
	writeJSON(w, status, body)
}

// writeValidation writes a 422 Validation Failed response.
func writeValidation(w http.ResponseWriter, docs string, errs ...validationError) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            errs,
		"documentation_url": docs,
		"status":            "422",
	})
}

func writeNotFound(w http.ResponseWriter, docs string) {
	if docs == "" {
		docs = docsRoot
	}
	writeError(w, http.StatusNotFound, "Not Found", docs)
}

// paginate returns the slice bounds of the requested page of n items and
// sets the Link header with rel prev, next, last and first. As on GitHub,
// prev and first appear only after page 1, and next and last only before the
// last page.
func paginate(w http.ResponseWriter, r *http.Request, n int) (lo, hi int) {
	q := r.URL.Query()
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage < 1 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	last := max(1, (n+perPage-1)/perPage)

	link := func(p int, rel string) string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
		v := r.URL.Query()
		v.Set("page", strconv.Itoa(p))
		v.Set("per_page", strconv.Itoa(perPage))
		u.RawQuery = v.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}

	lo = min((page-1)*perPage, n)
	hi = min(lo+perPage, n)
	return lo, hi
}

// blobSHA returns the Git blob object ID of content.
func blobSHA(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

// encodeBase64Lines encodes content as GitHub does in the contents and blobs
// APIs: base64 in lines of 60 characters, each ending with a line break.
func encodeBase64Lines(content []byte) string {
	encoded := base64.StdEncoding.EncodeToString(content)
	var b strings.Builder
	for len(encoded) > 60 {
		b.WriteString(encoded[:60])
		b.WriteByte('\n')
		encoded = encoded[60:]
	}
	if encoded != "" {
		b.WriteString(encoded)
		b.WriteByte('\n')
	}
	return b.String()
}

// wantsRaw reports whether the Accept header requests a raw media type.
func wantsRaw(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/vnd.github.raw") || strings.Contains(accept, "application/vnd.github.v3.raw")
}
