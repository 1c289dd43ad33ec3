package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditpack/auditpack/internal/githubtest"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// countLines returns how many lines of text contain substr.
func countLines(text, substr string) int {
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

// wantOneError checks that a run that stopped with exit code 2 printed one
// error annotation, containing want, and nothing on stderr.
func wantOneError(t *testing.T, res actionResult, want string) {
	t.Helper()
	wantCode(t, res, 2)
	var errorLines []string
	for _, line := range strings.Split(res.stdout, "\n") {
		if strings.HasPrefix(line, "::error title=auditpack::") {
			errorLines = append(errorLines, line)
		}
	}
	if len(errorLines) != 1 {
		t.Fatalf("got %d error annotations, want 1:\n%s", len(errorLines), res.stdout)
	}
	if !strings.Contains(errorLines[0], want) {
		t.Errorf("error annotation %q does not contain %q", errorLines[0], want)
	}
	if res.stderr != "" {
		t.Errorf("stderr repeats the error annotation: %q", res.stderr)
	}
}

func TestActionStopsOnBadSetup(t *testing.T) {
	bin := buildBinary(t)
	srv := githubtest.NewServer(t)
	srv.AddRepo(owner, repo)
	ws := actionWorkspace(t, srv)
	pr := payload(t, "pull_request.opened.payload.json", nil)
	outside := filepath.Join(t.TempDir(), "out")
	linkTarget := t.TempDir()
	if err := os.Symlink(linkTarget, filepath.Join(ws, "linked")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		inputs   map[string]string
		env      map[string]string
		event    []byte
		want     string
		unwanted []string
	}{
		{name: "output-dir above the workspace", inputs: map[string]string{"output-dir": "../escape"},
			want: "invalid action inputs: input output-dir " + filepath.Join(filepath.Dir(ws), "escape") + " is outside the workspace " + ws},
		{name: "absolute output-dir outside the workspace", inputs: map[string]string{"output-dir": outside},
			want: "invalid action inputs: input output-dir " + outside + " is outside the workspace"},
		{name: "output-dir is the workspace", inputs: map[string]string{"output-dir": "."},
			want: "invalid action inputs: input output-dir names the workspace " + ws + " itself"},
		{name: "output-dir through a symbolic link", inputs: map[string]string{"output-dir": "linked/out"},
			want: "invalid action inputs: input output-dir " + filepath.Join(ws, "linked", "out") + " leads outside the workspace"},
		{name: "output-dir holds the configuration", inputs: map[string]string{"output-dir": "cfg", "config": "cfg/.auditpack.yml"},
			want: "invalid action inputs: input output-dir " + filepath.Join(ws, "cfg") + " contains the configuration file"},
		{name: "empty github-token", inputs: map[string]string{"github-token": ""},
			want: "input github-token is empty, but reading the policies at the pull request's base commit needs a token for the GitHub API: remove github-token"},
		{name: "missing configuration", inputs: map[string]string{"config": "nope.yml"},
			want: "input config: nope.yml does not exist: check that actions/checkout runs before this step", unwanted: []string{"--config"}},
		{name: "workspace not set", env: map[string]string{"GITHUB_WORKSPACE": ""},
			want: "GITHUB_WORKSPACE is not set: the runner sets it", unwanted: []string{"outside the workspace"}},
		{name: "event payload not an object", event: []byte("[]"),
			want: "/event.json: the event payload is not a JSON object", unwanted: []string{"Go value", "actions.payload"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			event := pr
			if tt.event != nil {
				event = tt.event
			}
			before := len(srv.Requests())
			res := runActionEnv(t, bin, ws, srv, "pull_request", event, tt.inputs, tt.env)
			wantOneError(t, res, tt.want)
			for _, bad := range tt.unwanted {
				if strings.Contains(res.stdout, bad) {
					t.Errorf("output contains %q:\n%s", bad, res.stdout)
				}
			}
			if got := len(srv.Requests()) - before; got != 0 {
				t.Errorf("the run sent %d API requests before it stopped, want 0", got)
			}
			if res.outputs["verdict"] != "" {
				t.Errorf("output verdict = %q, want none: the run stops before the pack is built", res.outputs["verdict"])
			}
		})
	}

	if _, err := os.Stat(filepath.Join(filepath.Dir(ws), "escape")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a pack directory was created outside the workspace (stat: %v)", err)
	}
	if entries, _ := os.ReadDir(linkTarget); len(entries) != 0 {
		t.Errorf("the run wrote %d entries through the symbolic link", len(entries))
	}
}

func TestActionPublishingMessages(t *testing.T) {
	bin := buildBinary(t)
	srv := githubtest.NewServer(t)
	srv.AddRepo(owner, repo)
	ws := actionWorkspace(t, srv)
	pr := payload(t, "pull_request.opened.payload.json", nil)

	t.Run("comment 403 outside a fork", func(t *testing.T) {
		srv.SetReadOnly(true)
		defer srv.SetReadOnly(false)
		res := runAction(t, bin, ws, srv, "pull_request", pr, map[string]string{"baseline": "none"})
		wantCode(t, res, 0)
		var warning string
		for _, line := range strings.Split(res.stdout, "\n") {
			if strings.HasPrefix(line, "::warning title=auditpack::The pull request comment was not posted") {
				warning = line
			}
		}
		if !strings.Contains(warning, "because the token cannot write comments") {
			t.Errorf("warning = %q, want the token named as the cause\n%s", warning, res.stdout)
		}
		if !strings.HasSuffix(warning, "give the job permissions: pull-requests: write.") {
			t.Errorf("warning = %q, want it to end with the permission to add", warning)
		}
	})

	t.Run("release edited skips the upload", func(t *testing.T) {
		releaseID := srv.AddRelease(owner, repo, githubtest.Release{TagName: "0.1.0"})
		edited := payload(t, "release.published.payload.json", func(doc map[string]any) {
			doc["action"] = "edited"
			doc["release"].(map[string]any)["id"] = releaseID
		})
		res := runAction(t, bin, ws, srv, "release", edited, map[string]string{"baseline": "none"})
		wantCode(t, res, 0)
		want := `::notice title=auditpack::The release assets were not uploaded because the release event's type is "edited"`
		if !strings.Contains(res.stdout, want) {
			t.Errorf("no notice about the skipped upload:\n%s", res.stdout)
		}
		if got := srv.Assets(owner, repo, releaseID); len(got) != 0 {
			t.Errorf("the edited release got %d assets, want 0", len(got))
		}
	})

	t.Run("baseline that is not a pack", func(t *testing.T) {
		res := runAction(t, bin, ws, srv, "pull_request", pr, map[string]string{"baseline": "path:policies/demo.yaml"})
		wantCode(t, res, 0)
		const want = "::warning title=auditpack::Baseline path policies/demo.yaml refused: it is not an audit pack: "
		var warning string
		for _, line := range strings.Split(res.stdout, "\n") {
			if strings.HasPrefix(line, want) {
				warning = line
			}
		}
		if warning == "" {
			t.Errorf("no warning that the baseline is not a pack:\n%s", res.stdout)
		}
		for _, bad := range []string{"refused: refused", "signature"} {
			if strings.Contains(warning, bad) {
				t.Errorf("the baseline warning %q contains %q", warning, bad)
			}
		}
		if res.outputs["baseline"] != "refused" {
			t.Errorf("output baseline = %q, want refused", res.outputs["baseline"])
		}
	})

	t.Run("dirty working tree is flagged in the comment", func(t *testing.T) {
		dirty := actionWorkspace(t, srv)
		commitAll(t, dirty)
		writeFile(t, filepath.Join(dirty, "models", "model.json"), `{"weights": [0.5]}`)
		res := runAction(t, bin, dirty, srv, "pull_request", pr, map[string]string{"baseline": "none", "sign": "none"})
		wantCode(t, res, 0)
		comments := srv.Comments(owner, repo, 2)
		if len(comments) == 0 {
			t.Fatal("no comment was posted")
		}
		body := comments[len(comments)-1].Body
		for name, text := range map[string]string{"comment": body, "job summary": res.summary} {
			if !strings.Contains(text, "uncommitted changes (`models/model.json`)") {
				t.Errorf("the %s does not flag the modified model:\n%s", name, text)
			}
		}
	})

	t.Run("publishing error printed once", func(t *testing.T) {
		res := runActionEnv(t, bin, ws, srv, "pull_request", pr, map[string]string{"baseline": "none"},
			map[string]string{"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "missing", "output")})
		wantOneError(t, res, "opening GITHUB_OUTPUT file")
		if !strings.Contains(res.summary, "Verdict: PASS") {
			t.Errorf("the job summary was not written after the failed outputs:\n%s", res.summary)
		}
	})
}

// TestRunPrintsErrorsToStderr checks that the command line, unlike the
// Action, still prints its errors to stderr.
func TestRunPrintsErrorsToStderr(t *testing.T) {
	bin := buildBinary(t)
	cmd := exec.Command(bin, "run", "--config", filepath.Join(t.TempDir(), "nope.yml"), "--sign", "none")
	cmd.Env = []string{"HOME=" + t.TempDir()}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit = %v, want code 2\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "auditpack: ") || !strings.Contains(stderr.String(), "configuration file not found") {
		t.Errorf("stderr = %q, want the error", stderr.String())
	}
}

// commitAll makes dir a Git repository whose one commit holds every file
// in it.
func commitAll(t *testing.T, dir string) {
	t.Helper()
	repository, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	worktree, err := repository.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := worktree.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	signature := &object.Signature{Name: "test", Email: "test@example.com", When: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := worktree.Commit("all files", &git.CommitOptions{Author: signature}); err != nil {
		t.Fatal(err)
	}
}
