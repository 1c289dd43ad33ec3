package cli

import (
	"testing"
	"time"

	"github.com/auditpack/auditpack/internal/github"
)

func TestPreviousRelease(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	rel := func(id int64, tag string, created time.Time) github.Release {
		return github.Release{ID: id, TagName: tag, CreatedAt: created, PublishedAt: created}
	}
	draft := rel(5, "v5", day(5))
	draft.Draft, draft.PublishedAt = true, time.Time{}
	pre := rel(4, "v4-rc.1", day(4))
	pre.Prerelease = true

	tests := []struct {
		name       string
		releases   []github.Release
		currentID  int64
		currentTag string
		want       string
	}{
		{name: "skips the event's release", releases: []github.Release{rel(3, "v3", day(3)), rel(2, "v2", day(2))}, currentID: 3, currentTag: "v3", want: "v2"},
		{name: "skips by tag alone", releases: []github.Release{rel(3, "v3", day(3)), rel(2, "v2", day(2))}, currentTag: "v3", want: "v2"},
		{name: "skips drafts and prereleases", releases: []github.Release{draft, pre, rel(3, "v3", day(3)), rel(1, "v1", day(1))}, currentID: 3, want: "v1"},
		{name: "newest by creation time, not list order", releases: []github.Release{rel(1, "v1", day(1)), rel(2, "v2", day(2)), rel(9, "v9", day(9))}, currentID: 9, want: "v2"},
		{name: "tie keeps the first listed", releases: []github.Release{rel(7, "b", day(7)), rel(6, "a", day(7))}, want: "b"},
		{name: "only the event's release", releases: []github.Release{rel(3, "v3", day(3))}, currentID: 3, want: ""},
		{name: "no releases", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &releaseFetcher{currentID: tt.currentID, currentTag: tt.currentTag}
			got := previousRelease(tt.releases, f.isCurrent)
			tag := ""
			if got != nil {
				tag = got.TagName
			}
			if tag != tt.want {
				t.Errorf("previousRelease = %q, want %q", tag, tt.want)
			}
		})
	}
}
