package cli

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/githubtest"
)

// TestActionBaselineErrorsStop checks that a failed baseline lookup stops
// the run with exit code 2, naming the endpoint, the status and what to
// change, instead of running without the rules that compare with the
// baseline. A missing release is still no baseline.
func TestActionBaselineErrorsStop(t *testing.T) {
	bin := buildBinary(t)
	srv := githubtest.NewServer(t)
	srv.AddRepo(owner, repo)
	ws := actionWorkspace(t, srv)
	pr := payload(t, "pull_request.opened.payload.json", nil)
	latest := "/repos/" + owner + "/" + repo + "/releases/latest"
	contents := "/repos/" + owner + "/" + repo + "/contents/"

	tests := []struct {
		name   string
		fault  *githubtest.Fault
		inputs map[string]string
		want   []string
	}{
		{name: "403 on the latest release", fault: &githubtest.Fault{Kind: githubtest.FaultServerError, Status: 403, PathPrefix: latest},
			want: []string{"looking up the latest release failed: GET " + latest + ": 403", "give the job permissions: contents: read"}},
		{name: "401 on the latest release", fault: &githubtest.Fault{Kind: githubtest.FaultServerError, Status: 401, PathPrefix: latest},
			want: []string{"looking up the latest release failed: GET " + latest + ": 401", "check the github-token input"}},
		{name: "502 after the retries", fault: &githubtest.Fault{Kind: githubtest.FaultServerError, Status: 502, PathPrefix: latest, Times: 4},
			want: []string{"finding the baseline pack (the latest release, asset auditpack-out.tar.gz) failed", "GET " + latest + ": 502", "re-run the job, or set the baseline input to none"}},
		{name: "403 on the base commit's configuration", fault: &githubtest.Fault{Kind: githubtest.FaultServerError, Status: 403, PathPrefix: contents},
			want: []string{"reading .auditpack.yml at the base commit", ": 403", "give the job permissions: contents: read"}},
		{name: "baseline input path that does not exist", inputs: map[string]string{"baseline": "path:nope.tar.gz"},
			want: []string{"input baseline: the baseline pack nope.tar.gz cannot be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != nil {
				srv.InjectFault(*tt.fault)
			}
			res := runAction(t, bin, ws, srv, "pull_request", pr, tt.inputs)
			wantOneError(t, res, tt.want[0])
			for _, want := range tt.want[1:] {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, res.stdout)
				}
			}
			if res.outputs["verdict"] != "" {
				t.Errorf("output verdict = %q, want none", res.outputs["verdict"])
			}
		})
	}

	t.Run("no release is no baseline", func(t *testing.T) {
		res := runAction(t, bin, ws, srv, "pull_request", pr, nil)
		wantCode(t, res, 0)
		if res.outputs["baseline"] != "missing" {
			t.Errorf("output baseline = %q, want missing\n%s", res.outputs["baseline"], res.stdout)
		}
	})
}

// TestActionMessages checks the wording of messages that depend on where
// a setting came from.
func TestActionMessages(t *testing.T) {
	bin := buildBinary(t)
	srv := githubtest.NewServer(t)
	srv.AddRepo(owner, repo)
	ws := actionWorkspace(t, srv)
	pr := payload(t, "pull_request.opened.payload.json", nil)
	writeEncryptedKey(t, filepath.Join(ws, "keys", "encrypted.key"), "right")

	dirty := actionWorkspace(t, srv)
	commitAll(t, dirty)
	writeFile(t, filepath.Join(dirty, "models", "model.json"), `{"weights": [0.5]}`)

	tests := []struct {
		name     string
		ws       string
		inputs   map[string]string
		env      map[string]string
		code     int
		want     string
		unwanted []string
	}{
		{name: "baseline none from the input", inputs: map[string]string{"baseline": "none"},
			want: "no baseline: disabled by the baseline input", unwanted: []string{"disabled in the configuration"}},
		{name: "wrong key-password", inputs: map[string]string{"key": "keys/encrypted.key", "key-password": "wrong"}, code: 2,
			want: "the password does not decrypt the encrypted private key: check the key-password input", unwanted: []string{"COSIGN_PASSWORD"}},
		{name: "empty key-password", inputs: map[string]string{"key": "keys/encrypted.key"}, code: 2,
			want: "the key-password input is empty", unwanted: []string{"COSIGN_PASSWORD"}},
		{name: "wrong COSIGN_PASSWORD", inputs: map[string]string{"key": "keys/encrypted.key"}, env: map[string]string{"COSIGN_PASSWORD": "wrong"}, code: 2,
			want: "check COSIGN_PASSWORD"},
		{name: "dirty tree is a warning annotation", ws: dirty, inputs: map[string]string{"baseline": "none", "sign": "none"},
			want: "::warning title=auditpack::The pack was made from a working tree with uncommitted changes (models/model.json)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := ws
			if tt.ws != "" {
				dir = tt.ws
			}
			res := runActionEnv(t, bin, dir, srv, "pull_request", pr, tt.inputs, tt.env)
			wantCode(t, res, tt.code)
			if got := countLines(res.stdout, tt.want); got != 1 {
				t.Errorf("%d lines contain %q, want 1:\n%s", got, tt.want, res.stdout)
			}
			for _, bad := range tt.unwanted {
				if strings.Contains(res.stdout, bad) || strings.Contains(res.summary, bad) {
					t.Errorf("output or summary contains %q:\n%s\n%s", bad, res.stdout, res.summary)
				}
			}
		})
	}
}

// writeEncryptedKey writes the demo key encrypted with password as cosign
// does.
func writeEncryptedKey(t *testing.T, path, password string) {
	t.Helper()
	key, err := attest.LoadPrivateKey(filepath.Join("..", "..", "testdata", "demo", "keys", "cosign.key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	body, err := encrypted.Encrypt(der, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: body}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestActionInterrupted checks that SIGTERM stops the Action with exit
// code 143 and one error annotation that says what happened, whether the
// signal arrives while an API request waits to be retried before the
// pack is built, or after the pack was written.
func TestActionInterrupted(t *testing.T) {
	bin := buildBinary(t)
	pr := payload(t, "pull_request.opened.payload.json", nil)
	latest := "/repos/" + owner + "/" + repo + "/releases/latest"
	comments := "/repos/" + owner + "/" + repo + "/issues/2/comments"

	tests := []struct {
		name     string
		path     string
		inputs   map[string]string
		want     string
		unwanted []string
	}{
		{name: "during the baseline lookup's backoff", path: latest,
			want: "interrupted by SIGTERM; no output was written", unwanted: []string{"context canceled"}},
		{name: "while posting the comment", path: comments, inputs: map[string]string{"baseline": "none"},
			want:     "interrupted by SIGTERM after the pack was written to auditpack-out; published: the step outputs, the job summary; not published: the pull request comment",
			unwanted: []string{"context canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := githubtest.NewServer(t)
			srv.AddRepo(owner, repo)
			ws := actionWorkspace(t, srv)
			// Every attempt fails, so the client waits between retries.
			srv.InjectFault(githubtest.Fault{Kind: githubtest.FaultServerError, Status: 502, Method: "GET", PathPrefix: tt.path, Times: 100})
			res := runActionSignal(t, bin, ws, srv, pr, tt.inputs, func() bool { return srv.CountRequests("GET", tt.path) > 0 })
			if res.code != 143 {
				t.Fatalf("exit code = %d, want 143\n%s", res.code, res.stdout)
			}
			var errorLines []string
			for _, line := range strings.Split(res.stdout, "\n") {
				if strings.HasPrefix(line, "::error") {
					errorLines = append(errorLines, line)
				}
			}
			if len(errorLines) != 1 || !strings.Contains(errorLines[0], tt.want) {
				t.Errorf("error annotations = %q, want one containing %q\n%s", errorLines, tt.want, res.stdout)
			}
			for _, bad := range tt.unwanted {
				if strings.Contains(res.stdout, bad) {
					t.Errorf("output contains %q:\n%s", bad, res.stdout)
				}
			}
		})
	}
}

// runActionSignal runs the Action as runAction does, and sends SIGTERM
// once ready reports true.
func runActionSignal(t *testing.T, bin, workspace string, srv *githubtest.Server, event []byte, inputs map[string]string, ready func() bool) actionResult {
	t.Helper()
	files := t.TempDir()
	eventPath := filepath.Join(files, "event.json")
	if err := os.WriteFile(eventPath, event, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"HOME=" + files, "GITHUB_ACTIONS=true", "GITHUB_WORKSPACE=" + workspace,
		"GITHUB_EVENT_NAME=pull_request", "GITHUB_EVENT_PATH=" + eventPath,
		"GITHUB_OUTPUT=" + filepath.Join(files, "output"), "GITHUB_STEP_SUMMARY=" + filepath.Join(files, "summary"),
		"GITHUB_API_URL=" + strings.TrimSuffix(srv.URL(), "/"), "GITHUB_SERVER_URL=https://github.com",
		"GITHUB_REPOSITORY=" + owner + "/" + repo, "GITHUB_REPOSITORY_OWNER=" + owner,
		"GITHUB_RUN_ID=4242", "GITHUB_RUN_ATTEMPT=1", "RUNNER_TEMP=" + files, "SOURCE_DATE_EPOCH=1700000000",
		"INPUT_GITHUB-TOKEN=" + srv.Token(), "INPUT_SIGN=key", "INPUT_KEY=keys/cosign.key",
	}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	cmd := exec.Command(bin, "action")
	cmd.Dir, cmd.Env = workspace, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !ready() {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the run never reached the point to interrupt\n%s%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	res := actionResult{stdout: stdout.String() + stderr.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return res
}
