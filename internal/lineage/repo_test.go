package lineage

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// commitTime is the fixed committer time of test commits, given in a zone
// other than UTC to check the conversion.
var commitTime = time.Date(2024, 3, 1, 12, 30, 0, 0, time.FixedZone("CET", 3600))

// newRepo creates a repository in a temporary directory with one commit of
// model.bin and data/a.csv, and returns its directory and commit.
func newRepo(t *testing.T, remote string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"model.bin": "m", "data/a.csv": "a\n"})
	worktree, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := worktree.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	signature := &object.Signature{Name: "Test", Email: "test@example.com", When: commitTime}
	hash, err := worktree.Commit("initial", &git.CommitOptions{Author: signature, Committer: signature})
	if err != nil {
		t.Fatal(err)
	}
	if remote != "" {
		if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote}}); err != nil {
			t.Fatal(err)
		}
	}
	return dir, hash.String()
}

func TestRepositoryClean(t *testing.T) {
	dir, commit := newRepo(t, "https://user:ghp_secret@github.com/org/model.git")

	// Start from a subdirectory: the repository is found above it.
	got, err := Repository(t.Context(), filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("Repository returned nil for a repository")
	}
	if got.Commit != commit {
		t.Errorf("Commit = %s, want %s", got.Commit, commit)
	}
	if want := time.Date(2024, 3, 1, 11, 30, 0, 0, time.UTC); !got.CommitTime.Equal(want) || got.CommitTime.Location() != time.UTC {
		t.Errorf("CommitTime = %v, want %v", got.CommitTime, want)
	}
	if got.Remote != "https://github.com/org/model.git" {
		t.Errorf("Remote = %q, want the URL without credentials", got.Remote)
	}
	if got.Dirty {
		t.Error("Dirty = true for a clean worktree")
	}
}

func TestRepositoryDirty(t *testing.T) {
	tests := []struct {
		name      string
		change    func(t *testing.T, dir string)
		wantDirty bool
	}{
		{
			name:      "untracked file",
			change:    func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{"audit-pack/index.json": "{}"}) },
			wantDirty: false,
		},
		{
			name:      "modified file",
			change:    func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{"model.bin": "changed"}) },
			wantDirty: true,
		},
		{
			name: "deleted file",
			change: func(t *testing.T, dir string) {
				if err := os.Remove(filepath.Join(dir, "data", "a.csv")); err != nil {
					t.Fatal(err)
				}
			},
			wantDirty: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := newRepo(t, "")
			tt.change(t, dir)

			got, err := Repository(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			if got.Dirty != tt.wantDirty {
				t.Errorf("Dirty = %v, want %v", got.Dirty, tt.wantDirty)
			}
			if got.Remote != "" {
				t.Errorf("Remote = %q, want empty without an origin remote", got.Remote)
			}
		})
	}
}

func TestRepositoryNotARepository(t *testing.T) {
	got, err := Repository(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got != nil {
		t.Errorf("Repository = %+v, want nil outside a repository", got)
	}
}

func TestRepositoryNoCommit(t *testing.T) {
	dir := t.TempDir()
	if _, err := git.PlainInit(dir, false); err != nil {
		t.Fatal(err)
	}

	repo, err := Repository(t.Context(), dir)
	if err != nil || repo != nil {
		t.Errorf("Repository = %+v, %v; want nil, nil for a repository with no commit", repo, err)
	}
}

func TestStripCredentials(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		want   string
	}{
		{"https with token", "https://x-access-token:ghs_abc@github.com/org/repo.git", "https://github.com/org/repo.git"},
		{"https with token as user", "https://ghp_abc@github.com/org/repo", "https://github.com/org/repo"},
		{"https plain", "https://github.com/org/repo.git", "https://github.com/org/repo.git"},
		{"ssh with password", "ssh://git:secret@host:2222/org/repo.git", "ssh://git@host:2222/org/repo.git"},
		{"ssh user only", "ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"},
		{"scp-like", "git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"local path", "/srv/git/repo.git", "/srv/git/repo.git"},
		{"unparsable", "https://user:tok%zz@host/repo", "(unparsable remote URL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripCredentials(tt.remote); got != tt.want {
				t.Errorf("StripCredentials(%q) = %q, want %q", tt.remote, got, tt.want)
			}
		})
	}
}
