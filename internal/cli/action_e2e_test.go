package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/githubtest"
)

// payloads holds GitHub's example webhook payloads, shared read-only.
const payloads = "../../../shared/github/webhook-payloads"

const (
	owner = "Codertocat"
	repo  = "Hello-World"
	// baseSHA is pull_request.base.sha in the example payloads.
	baseSHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
)

// buildBinary builds cmd/auditpack into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "auditpack")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/auditpack")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// payload reads an example payload and applies edit to its JSON.
func payload(t *testing.T, name string, edit func(map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(payloads, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("webhook payload examples not found at %s; they ship in the shared folder beside the repository", payloads)
	}
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(doc)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// actionResult is one run of the Action as the runner runs it.
type actionResult struct {
	code int
	// stdout is the standard output followed by the standard error, as
	// the log shows them; stderr is the standard error alone.
	stdout  string
	stderr  string
	outputs map[string]string
	summary string
}

// runAction runs the binary with the `action` argument in workspace, with
// only the environment a runner sets for a container action: the INPUT_*
// variables, the GITHUB_* context, the event file and the file commands.
func runAction(t *testing.T, bin, workspace string, srv *githubtest.Server, event string, body []byte, inputs map[string]string) actionResult {
	t.Helper()
	return runActionEnv(t, bin, workspace, srv, event, body, inputs, nil)
}

// runActionEnv is runAction with more environment variables, such as the
// ACTIONS_ID_TOKEN_REQUEST_* pair a job with id-token: write gets.
func runActionEnv(t *testing.T, bin, workspace string, srv *githubtest.Server, event string, body []byte, inputs, extraEnv map[string]string) actionResult {
	t.Helper()
	files := t.TempDir()
	eventPath := filepath.Join(files, "event.json")
	outputPath := filepath.Join(files, "output")
	summaryPath := filepath.Join(files, "summary")
	if err := os.WriteFile(eventPath, body, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"HOME=" + files,
		"CI=true",
		"GITHUB_ACTIONS=true",
		"GITHUB_WORKSPACE=" + workspace,
		"GITHUB_EVENT_NAME=" + event,
		"GITHUB_EVENT_PATH=" + eventPath,
		"GITHUB_OUTPUT=" + outputPath,
		"GITHUB_STEP_SUMMARY=" + summaryPath,
		"GITHUB_API_URL=" + strings.TrimSuffix(srv.URL(), "/"),
		"GITHUB_SERVER_URL=https://github.com",
		"GITHUB_REPOSITORY=" + owner + "/" + repo,
		"GITHUB_REPOSITORY_OWNER=" + owner,
		"GITHUB_RUN_ID=4242",
		"GITHUB_RUN_ATTEMPT=1",
		"GITHUB_SHA=0123456789abcdef0123456789abcdef01234567",
		"RUNNER_TEMP=" + files,
		"SOURCE_DATE_EPOCH=1700000000",
		"INPUT_GITHUB-TOKEN=" + srv.Token(),
		"INPUT_CONFIG=.auditpack.yml",
		"INPUT_OUTPUT-DIR=auditpack-out",
		"INPUT_SIGN=key",
		"INPUT_KEY=keys/cosign.key",
		"INPUT_COMMENT=true",
		"INPUT_UPLOAD-RELEASE-ASSETS=true",
		"INPUT_FAIL-ON=block",
	}
	// A later entry of the same name wins (os/exec keeps the last).
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	for k, v := range extraEnv {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(bin, "action")
	cmd.Dir = workspace
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := actionResult{stdout: stdout.String() + stderr.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running the action: %v", err)
	}
	if data, err := os.ReadFile(outputPath); err == nil {
		res.outputs = parseOutputs(t, string(data))
	}
	if data, err := os.ReadFile(summaryPath); err == nil {
		res.summary = string(data)
	}
	// The add-mask command is the one line that may carry the token. An
	// empty github-token input has nothing to mask.
	for _, line := range strings.Split(res.stdout, "\n") {
		if strings.Contains(line, srv.Token()) && line != "::add-mask::"+srv.Token() {
			t.Errorf("the token appears in the log: %q", line)
		}
	}
	if token, set := inputs["github-token"]; (!set || token != "") && !strings.Contains(res.stdout, "::add-mask::"+srv.Token()) {
		t.Errorf("the token was not masked")
	}
	if strings.Contains(res.summary, srv.Token()) {
		t.Errorf("the token appears in the summary")
	}
	return res
}

// parseOutputs reads a GITHUB_OUTPUT file as the runner does: name=value
// lines and name<<DELIMITER blocks.
func parseOutputs(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var value []string
			closed := false
			for sc.Scan() {
				if sc.Text() == delim {
					closed = true
					break
				}
				value = append(value, sc.Text())
			}
			if !closed {
				t.Fatalf("output %s: delimiter %s never closes", name, delim)
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok {
			out[name] = value
		}
	}
	return out
}

// actionWorkspace copies the demo into a workspace and stores its
// configuration and policy at the base commit of the example pull request.
func actionWorkspace(t *testing.T, srv *githubtest.Server) string {
	t.Helper()
	ws := demo(t)
	for _, name := range []string{".auditpack.yml", "policies/demo.yaml"} {
		data, err := os.ReadFile(filepath.Join(ws, name))
		if err != nil {
			t.Fatal(err)
		}
		srv.AddFile(owner, repo, baseSHA, name, data)
	}
	return ws
}

func wantCode(t *testing.T, res actionResult, code int) {
	t.Helper()
	if res.code != code {
		t.Fatalf("exit code = %d, want %d\n%s", res.code, code, res.stdout)
	}
}

func TestActionEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	srv := githubtest.NewServer(t)
	srv.AddRepo(owner, repo)
	ws := actionWorkspace(t, srv)

	// A release publishes the pack; a re-run replaces the assets.
	releaseID := srv.AddRelease(owner, repo, githubtest.Release{TagName: "0.0.1"})
	release := payload(t, "release.published.payload.json", func(doc map[string]any) {
		doc["release"].(map[string]any)["id"] = releaseID
	})
	var firstAssets []githubtest.Asset
	t.Run("release uploads assets", func(t *testing.T) {
		res := runAction(t, bin, ws, srv, "release", release, nil)
		wantCode(t, res, 0)
		firstAssets = srv.Assets(owner, repo, releaseID)
		names := assetNames(firstAssets)
		for _, want := range []string{"auditpack-out.tar.gz", "auditpack-out.evaluation.sigstore.json", "auditpack-out.aibom.sigstore.json"} {
			if !names[want] {
				t.Errorf("release assets %v lack %s", names, want)
			}
		}
		if res.outputs["verdict"] != "pass" {
			t.Errorf("output verdict = %q, want pass", res.outputs["verdict"])
		}
		if !strings.Contains(res.summary, "the one this run publishes") {
			t.Errorf("summary does not explain the missing baseline:\n%s", res.summary)
		}
	})
	t.Run("release re-run replaces assets", func(t *testing.T) {
		res := runAction(t, bin, ws, srv, "release", release, nil)
		wantCode(t, res, 0)
		again := srv.Assets(owner, repo, releaseID)
		if len(again) != len(firstAssets) {
			t.Fatalf("after a re-run the release has %d assets, want %d", len(again), len(firstAssets))
		}
		for _, a := range again {
			for _, b := range firstAssets {
				if a.ID == b.ID {
					t.Errorf("asset %s (id %d) was not replaced", a.Name, a.ID)
				}
			}
		}
	})

	// The next release compares with 0.0.1, skipping itself, a newer
	// prerelease and a draft.
	t.Run("release compares with previous release", func(t *testing.T) {
		srv.AddRelease(owner, repo, githubtest.Release{TagName: "0.0.2-rc.1", Prerelease: true})
		srv.AddRelease(owner, repo, githubtest.Release{TagName: "0.0.3", Draft: true})
		nextID := srv.AddRelease(owner, repo, githubtest.Release{TagName: "0.0.2"})
		next := payload(t, "release.published.payload.json", func(doc map[string]any) {
			rel := doc["release"].(map[string]any)
			rel["id"], rel["tag_name"] = nextID, "0.0.2"
		})
		res := runAction(t, bin, ws, srv, "release", next, nil)
		wantCode(t, res, 0)
		if res.outputs["baseline"] != "verified" {
			t.Errorf("output baseline = %q, want verified\n%s", res.outputs["baseline"], res.stdout)
		}
		if !strings.Contains(res.summary, "release 0.0.1, asset auditpack-out.tar.gz") {
			t.Errorf("summary does not name release 0.0.1 as the baseline:\n%s", res.summary)
		}
		if got := srv.CountRequests("GET", "/repos/"+owner+"/"+repo+"/releases"); got == 0 {
			t.Errorf("the releases were not listed")
		}
	})

	// A pull request compares with the latest release's pack (0.0.2) and
	// keeps one comment.
	pr := payload(t, "pull_request.opened.payload.json", nil)
	var commentURL string
	t.Run("pull request creates comment", func(t *testing.T) {
		res := runAction(t, bin, ws, srv, "pull_request", pr, nil)
		wantCode(t, res, 0)
		comments := srv.Comments(owner, repo, 2)
		if len(comments) != 1 {
			t.Fatalf("got %d comments, want 1", len(comments))
		}
		body := comments[0].Body
		for _, want := range []string{"<!-- auditpack:config:.auditpack.yml -->", "Verdict: PASS", "release 0.0.2, asset auditpack-out.tar.gz, verified", "policies as of the base commit f95f852", "+0"} {
			if !strings.Contains(body, want) {
				t.Errorf("comment lacks %q:\n%s", want, body)
			}
		}
		commentURL = res.outputs["comment-url"]
		if commentURL == "" {
			t.Errorf("output comment-url is empty")
		}
		if res.outputs["baseline"] != "verified" {
			t.Errorf("output baseline = %q, want verified", res.outputs["baseline"])
		}
		bundles := strings.Split(res.outputs["bundles"], "\n")
		if len(bundles) != 5 || !strings.HasPrefix(bundles[0], "auditpack-out/attestations/") {
			t.Errorf("output bundles = %q, want five paths under auditpack-out/attestations", res.outputs["bundles"])
		}
		if !strings.Contains(res.stdout, "::group::auditpack: building the pack") {
			t.Errorf("the log has no group for the build:\n%s", res.stdout)
		}
		if !strings.Contains(res.stdout, "pull request comment created url=") {
			t.Errorf("the log does not say the comment was created:\n%s", res.stdout)
		}
	})
	t.Run("pull request re-run edits comment", func(t *testing.T) {
		sync := payload(t, "pull_request.synchronize.payload.json", nil)
		res := runAction(t, bin, ws, srv, "pull_request", sync, nil)
		wantCode(t, res, 0)
		comments := srv.Comments(owner, repo, 2)
		if len(comments) != 1 {
			t.Fatalf("got %d comments after the re-run, want 1", len(comments))
		}
		if comments[0].UpdatedAt.Equal(comments[0].CreatedAt) {
			t.Errorf("the comment was not edited")
		}
		if res.outputs["comment-url"] != commentURL {
			t.Errorf("comment-url = %q, want the first run's %q", res.outputs["comment-url"], commentURL)
		}
		if !strings.Contains(res.stdout, "pull request comment updated url=") || strings.Contains(res.stdout, "comment created") {
			t.Errorf("the log does not say the comment was updated:\n%s", res.stdout)
		}
	})

	// The pull request's own policy change does not apply.
	t.Run("pull request cannot loosen its gate", func(t *testing.T) {
		strict := strings.Replace(readFile(t, filepath.Join(ws, "policies/demo.yaml")), "min: 0.7", "min: 0.99", 1)
		loose := strings.Replace(strict, "min: 0.99", "min: 0.1", 1)
		ws2 := demo(t)
		srv.AddFile(owner, repo, baseSHA, ".auditpack.yml", []byte(readFile(t, filepath.Join(ws2, ".auditpack.yml"))))
		srv.AddFile(owner, repo, baseSHA, "policies/demo.yaml", []byte(strict))
		writeFile(t, filepath.Join(ws2, "policies/demo.yaml"), loose)
		t.Cleanup(func() {
			srv.AddFile(owner, repo, baseSHA, "policies/demo.yaml", []byte(readFile(t, filepath.Join(ws, "policies/demo.yaml"))))
		})

		res := runAction(t, bin, ws2, srv, "pull_request", pr, map[string]string{"baseline": "none"})
		wantCode(t, res, 1)
		if res.outputs["verdict"] != "fail" || res.outputs["failed"] != "1" {
			t.Errorf("outputs verdict=%q failed=%q, want fail and 1", res.outputs["verdict"], res.outputs["failed"])
		}
		if !strings.Contains(res.stdout, "::error file=policies/demo.yaml,title=auditpack rule accuracy-floor::") {
			t.Errorf("no error annotation for accuracy-floor:\n%s", res.stdout)
		}
		body := srv.Comments(owner, repo, 2)[0].Body
		if !strings.Contains(body, "Policy changes proposed by this pull request (not applied)") || !strings.Contains(body, "| `policies/demo.yaml` | modified |") {
			t.Errorf("comment does not show the proposed change:\n%s", body)
		}
	})

	// A fork's read-only token: a warning and the summary, exit 0.
	t.Run("fork pull request warns", func(t *testing.T) {
		fork := payload(t, "pull_request.opened.payload.json", func(doc map[string]any) {
			pull := doc["pull_request"].(map[string]any)
			pull["number"] = 3
			pull["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "forker/Hello-World"
		})
		srv.SetReadOnly(true)
		defer srv.SetReadOnly(false)
		res := runAction(t, bin, ws, srv, "pull_request", fork, nil)
		wantCode(t, res, 0)
		if !strings.Contains(res.stdout, "::warning title=auditpack::The pull request comment was not posted because this pull request comes from a fork") {
			t.Errorf("no fork warning:\n%s", res.stdout)
		}
		if !strings.Contains(res.summary, "comes from a fork") || !strings.Contains(res.summary, "Verdict: PASS") {
			t.Errorf("summary lacks the verdict or the fork note:\n%s", res.summary)
		}
		if got := srv.Comments(owner, repo, 3); len(got) != 0 {
			t.Errorf("fork pull request got %d comments, want 0", len(got))
		}
		if res.outputs["comment-url"] != "" {
			t.Errorf("comment-url = %q, want empty", res.outputs["comment-url"])
		}
	})

	t.Run("keyless without id-token permission", func(t *testing.T) {
		res := runAction(t, bin, ws, srv, "pull_request", pr, map[string]string{"sign": "keyless", "key": ""})
		wantCode(t, res, 2)
		// The runner turns %0A in an annotation into a line break.
		log := strings.ReplaceAll(res.stdout, "%0A", "\n")
		for _, want := range []string{"ACTIONS_ID_TOKEN_REQUEST_URL is not set", "    permissions:\n      id-token: write\n"} {
			if !strings.Contains(log, want) {
				t.Errorf("output lacks %q:\n%s", want, res.stdout)
			}
		}
		if res.outputs["verdict"] != "" {
			t.Errorf("output verdict = %q, want none: the run stops before the pack is built", res.outputs["verdict"])
		}
	})
	t.Run("auto without id-token or key is unsigned", func(t *testing.T) {
		res := runAction(t, bin, ws, srv, "pull_request", pr, map[string]string{"sign": "auto", "key": "", "baseline": "none"})
		wantCode(t, res, 0)
		if !strings.Contains(res.stdout, "::warning title=auditpack::The pack is unsigned: give the job permissions: id-token: write") {
			t.Errorf("no unsigned warning:\n%s", res.stdout)
		}
		if !strings.HasSuffix(strings.Split(res.outputs["bundles"], "\n")[0], ".intoto.json") {
			t.Errorf("bundles = %q, want unsigned statements", res.outputs["bundles"])
		}
		const reason = "unsigned (no key and no OIDC token were available; add permissions: id-token: write or a key to sign)"
		if !strings.Contains(res.summary, reason) {
			t.Errorf("summary does not say why the pack is unsigned:\n%s", res.summary)
		}
		if card := readFile(t, filepath.Join(ws, "auditpack-out", "summary.md")); !strings.Contains(card, reason) {
			t.Errorf("summary.md does not say why the pack is unsigned:\n%s", card)
		}
		if strings.Contains(res.summary, "--sign none") {
			t.Errorf("summary blames --sign none, which the Action was not given:\n%s", res.summary)
		}
	})
	t.Run("sign none is unsigned by choice", func(t *testing.T) {
		res := runAction(t, bin, ws, srv, "pull_request", pr, map[string]string{"sign": "none", "key": "", "baseline": "none"})
		wantCode(t, res, 0)
		if !strings.Contains(res.summary, "unsigned (input sign is none)") {
			t.Errorf("summary does not say the sign input chose an unsigned pack:\n%s", res.summary)
		}
		if strings.Contains(res.stdout, "The pack is unsigned") {
			t.Errorf("a chosen unsigned pack gets the warning for a missing key:\n%s", res.stdout)
		}
	})
	t.Run("bad input is reported", func(t *testing.T) {
		res := runAction(t, bin, ws, srv, "pull_request", pr, map[string]string{"fail-on": "sometimes", "comment": "yes",
			"rekor-version": "3", "fulcio-url": "fulcio.example", "tsa-url": "https://user:secret@tsa.example/"})
		wantCode(t, res, 2)
		for _, want := range []string{`input fail-on is \"sometimes\"`, `input comment is \"yes\"`, `input rekor-version is \"3\"`,
			`input fulcio-url: \"fulcio.example\" is not an absolute http(s) URL`, "input tsa-url: the URL must not contain credentials"} {
			if !strings.Contains(res.stdout, strings.ReplaceAll(want, `\"`, `"`)) {
				t.Errorf("output lacks %s:\n%s", want, res.stdout)
			}
		}
		if strings.Contains(res.stdout, "secret") {
			t.Errorf("the password in input tsa-url appears in the output:\n%s", res.stdout)
		}
	})
}

func TestActionOutsideActions(t *testing.T) {
	bin := buildBinary(t)
	cmd := exec.Command(bin, "action")
	cmd.Env = []string{"HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("exit = %v, want code 2\n%s", err, out)
	}
	if !strings.Contains(string(out), "not running in GitHub Actions") {
		t.Errorf("output = %s, want the reason", out)
	}
}

func assetNames(assets []githubtest.Asset) map[string]bool {
	names := map[string]bool{}
	for _, a := range assets {
		names[a.Name] = true
	}
	return names
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
