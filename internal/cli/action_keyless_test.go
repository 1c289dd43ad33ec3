package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/githubtest"
)

// TestActionKeylessEndToEnd runs the Action binary as the runner runs the
// container, in a job with id-token: write, against the local Sigstore
// stack: a release signs its pack keylessly (sign: auto), the pack verifies
// by the workflow's identity, and a pull request verifies that pack as its
// baseline by the keyless signer the configuration names.
func TestActionKeylessEndToEnd(t *testing.T) {
	stack := sigstoreStack(t)
	bin := buildBinary(t)
	srv := githubtest.NewServer(t)
	srv.AddRepo(owner, repo)
	ws := actionWorkspace(t, srv)
	identity, issuer, trustedRoot := stack["CERTIFICATE_IDENTITY"], stack["CERTIFICATE_OIDC_ISSUER"], stack["SIGSTORE_TRUSTED_ROOT"]

	// What the runner sets for a job with permissions: id-token: write.
	env := map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   stack["ACTIONS_ID_TOKEN_REQUEST_URL"],
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": stack["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
		"GITHUB_WORKFLOW_REF":            strings.TrimPrefix(identity, "https://github.com/"),
		"GITHUB_REF":                     "refs/tags/0.0.1",
		"RUNNER_ENVIRONMENT":             "github-hosted",
	}
	// The release run names the services one by one, the pull request run
	// through the stack's signing config.
	services := map[string]string{
		"sign": "auto", "key": "",
		"fulcio-url": stack["FULCIO_URL"], "rekor-url": stack["REKOR_URL"], "rekor-version": "2",
		"tsa-url": stack["TSA_URL"], "trusted-root": trustedRoot,
	}
	fromSigningConfig := map[string]string{
		"sign": "auto", "key": "", "signing-config": os.Getenv("SIGSTORE_SIGNING_CONFIG"), "trusted-root": trustedRoot,
	}
	if fromSigningConfig["signing-config"] == "" {
		t.Fatal("SIGSTORE_SIGNING_CONFIG is not set although the stack runs: test/sigstore/start.sh exports it")
	}

	releaseID := srv.AddRelease(owner, repo, githubtest.Release{TagName: "0.0.1"})
	release := payload(t, "release.published.payload.json", func(doc map[string]any) {
		doc["release"].(map[string]any)["id"] = releaseID
	})
	t.Run("release signs keylessly", func(t *testing.T) {
		res := runActionEnv(t, bin, ws, srv, "release", release, services, env)
		wantCode(t, res, 0)
		if strings.Contains(res.stdout, "The pack is unsigned") {
			t.Errorf("sign: auto left the pack unsigned:\n%s", res.stdout)
		}
		bundles := strings.Split(res.outputs["bundles"], "\n")
		if len(bundles) != 5 {
			t.Fatalf("output bundles = %q, want five", res.outputs["bundles"])
		}
		for _, b := range bundles {
			if !strings.HasSuffix(b, ".sigstore.json") {
				t.Errorf("bundle %s is not a Sigstore bundle", b)
			}
		}
		if !strings.Contains(res.summary, "signed keylessly") {
			t.Errorf("summary does not say the pack is signed keylessly:\n%s", res.summary)
		}
		if !assetNames(srv.Assets(owner, repo, releaseID))["auditpack-out.tar.gz"] {
			t.Errorf("the archive was not uploaded to the release")
		}
		// The OIDC token is masked before anything could print it.
		if !regexp.MustCompile(`(?m)^::add-mask::[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`).MatchString(res.stdout) {
			t.Errorf("no add-mask command for the OIDC token:\n%s", res.stdout)
		}
	})

	t.Run("pack verifies by the workflow identity", func(t *testing.T) {
		cmd := exec.Command(bin, "verify", filepath.Join(ws, "auditpack-out.tar.gz"),
			"--certificate-identity", identity, "--certificate-oidc-issuer", issuer,
			"--trusted-root", trustedRoot, "--artifact", filepath.Join(ws, "models", "model.json"))
		cmd.Env = []string{"HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("auditpack verify: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "auditpack-out.tar.gz verified") {
			t.Errorf("verify output lacks the verdict:\n%s", out)
		}

		cmd = exec.Command(bin, "verify", filepath.Join(ws, "auditpack-out.tar.gz"),
			"--certificate-identity", strings.Replace(identity, "/repo/", "/repo-evil/", 1)+"x", "--certificate-oidc-issuer", issuer,
			"--trusted-root", trustedRoot)
		cmd.Env = []string{"HOME=" + t.TempDir()}
		out, err = cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != ExitFail {
			t.Errorf("verify with another identity: %v, want exit code %d\n%s", err, ExitFail, out)
		}
	})

	// The pull request's gate comes from the base commit, so the baseline
	// settings are stored there.
	config := readFile(t, filepath.Join(ws, ".auditpack.yml"))
	workflow, _, _ := strings.Cut(identity, "@")
	pr := payload(t, "pull_request.opened.payload.json", nil)
	tests := []struct {
		name         string
		baseline     string
		wantStatus   string
		wantInReport string
	}{
		{
			name:         "baseline verifies by keyless identity",
			baseline:     "baseline:\n  identity: " + identity + "\n  issuer: " + issuer + "\n",
			wantStatus:   "verified",
			wantInReport: "release 0.0.1, asset auditpack-out.tar.gz, verified",
		},
		{
			name:       "baseline verifies by identity regexp",
			baseline:   "baseline:\n  identity_regexp: " + regexp.QuoteMeta(workflow) + "@.*\n  issuer: " + issuer + "\n",
			wantStatus: "verified",
			// The certificate's identity, not the pattern it matched.
			wantInReport: "keyless " + identity + " (issuer " + issuer + ")",
		},
		{
			name:         "baseline of another signer refused",
			baseline:     "baseline:\n  identity: https://github.com/org/other/.github/workflows/release.yml@refs/heads/main\n  issuer: " + issuer + "\n",
			wantStatus:   "refused",
			wantInReport: "it did not verify: signature",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.AddFile(owner, repo, baseSHA, ".auditpack.yml", []byte(config+tt.baseline))
			res := runActionEnv(t, bin, ws, srv, "pull_request", pr, fromSigningConfig, env)
			wantCode(t, res, 0)
			if res.outputs["baseline"] != tt.wantStatus {
				t.Errorf("output baseline = %q, want %q\n%s", res.outputs["baseline"], tt.wantStatus, res.stdout)
			}
			if !strings.Contains(res.summary, tt.wantInReport) && !strings.Contains(res.stdout, tt.wantInReport) {
				t.Errorf("neither the summary nor the log contains %q\nsummary:\n%s\nlog:\n%s", tt.wantInReport, res.summary, res.stdout)
			}
		})
	}
}
