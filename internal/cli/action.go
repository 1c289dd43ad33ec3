package cli

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/auditpack/auditpack/internal/actions"
	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/audit"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/github"
	"github.com/auditpack/auditpack/internal/policy"
	"github.com/auditpack/auditpack/policies"
)

func (c *Command) actionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "action",
		Short: "Run as the GitHub Action: build the pack and publish the results",
		Long: `action is the entry point of the auditpack GitHub Action. It reads the
action's inputs from the INPUT_* variables and the event from
GITHUB_EVENT_NAME and GITHUB_EVENT_PATH, builds the pack as run does, and
publishes: the pull request comment, the job summary, step outputs,
annotations and, on a published release, the release assets.

It refuses to run outside GitHub Actions (GITHUB_ACTIONS must be true).
Exit codes are those of run; the fail-on input decides which verdicts
exit with 1. A 403 on the comment or an upload is a warning.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.action(cmd.Context())
		},
	}
}

// actionRun carries one invocation of the Action through its steps.
type actionRun struct {
	c      *Command
	rt     *actions.Runtime
	log    *slog.Logger
	in     actionInputs
	gh     *actions.Context
	event  *actions.Event
	client *github.Client
	// notes end up in the comment and the summary.
	notes []string
	// unsignedReason explains in the pack's summary why the pack is
	// unsigned. signing sets it.
	unsignedReason string
	// publishErr records a publishing failure other than a 403.
	publishErr error

	// ctx is the invocation's context; a signal cancels it.
	ctx context.Context
	// passwordFrom names where keyPassword came from, for its errors.
	passwordFrom string
	// packDir is the pack once written; empty before.
	packDir string
	// published and unpublished list what publishing did and did not
	// reach, for the message when a signal stops the run.
	published, unpublished []string
}

func (c *Command) action(ctx context.Context) error {
	rt, err := actions.New(actions.Options{Getenv: actions.Getenv(c.Getenv), Stdout: c.Stdout})
	if err != nil {
		return usageError(fmt.Errorf("%w; use auditpack run outside GitHub Actions", err))
	}
	a := &actionRun{c: c, rt: rt, ctx: ctx}
	level := slog.LevelInfo
	if rt.Env().Get(actions.VarRunnerDebug) == "1" {
		level = slog.LevelDebug
	}
	a.log = slog.New(rt.LogHandler(level))

	// An error is printed once, as an error annotation, which the log
	// shows and the run's page lists. An exitError without an error makes
	// Main exit with its code and print nothing more to stderr.
	code, err := a.run(ctx)
	if ctx.Err() != nil {
		return a.interrupted(ctx)
	}
	switch {
	case err != nil:
		a.log.ErrorContext(ctx, err.Error(), actions.AttrTitle, "auditpack")
		return &exitError{code: ExitUsage}
	case code != ExitOK:
		return &exitError{code: code, err: fmt.Errorf("the verdict fails the step (input fail-on is %s)", a.in.failOn)}
	case a.publishErr != nil:
		// fail annotated each publishing error when it happened.
		return &exitError{code: ExitUsage}
	}
	return nil
}

// interrupted reports a run that a signal stopped, in one error
// annotation, and returns the exit code of the signal: 128 plus its
// number. The error a step returned after the cancellation (such as
// "context canceled") says nothing more and is not shown. Once the pack
// is written, the message says what was and was not published.
func (a *actionRun) interrupted(ctx context.Context) error {
	cause := "interrupted"
	code := ExitSignal + int(syscall.SIGINT)
	var interrupt *Interrupt
	if errors.As(context.Cause(ctx), &interrupt) {
		cause, code = interrupt.Error(), interrupt.ExitCode()
	}
	var msg string
	switch {
	case a.packDir == "":
		msg = cause + "; no output was written"
	default:
		msg = fmt.Sprintf("%s after the pack was written to %s", cause, a.displayPath(a.packDir))
		if len(a.published) > 0 {
			msg += "; published: " + strings.Join(a.published, ", ")
		} else {
			msg += "; nothing was published"
		}
		if len(a.unpublished) > 0 {
			msg += "; not published: " + strings.Join(a.unpublished, ", ")
		}
	}
	a.log.Error(msg, actions.AttrTitle, "auditpack")
	return &exitError{code: code}
}

// run executes the steps and returns the exit code of the verdict; an
// error means no decision could be reached (exit 2). A publishing failure
// is left in a.publishErr.
func (a *actionRun) run(ctx context.Context) (int, error) {
	env := a.rt.Env()
	var err error
	if a.gh, err = env.Context(); err != nil {
		return 0, err
	}
	if a.gh.Workspace != "" {
		a.gh.Workspace = absPath(a.gh.Workspace)
	}
	if a.in, err = readActionInputs(a.rt, a.gh.Workspace); err != nil {
		return 0, err
	}
	if a.event, err = env.Event(); err != nil {
		return 0, err
	}
	if err := a.checkToken(); err != nil {
		return 0, err
	}
	a.passwordFrom = "the key-password input"
	if pw := a.c.Getenv("COSIGN_PASSWORD"); pw != "" && a.in.keyPassword == "" {
		a.in.keyPassword, a.passwordFrom = pw, "COSIGN_PASSWORD"
		if err := a.rt.Mask(pw); err != nil {
			return 0, err
		}
	}
	if a.client, err = github.New(a.gh.APIURL, "", a.in.token, nil, a.log); err != nil {
		return 0, err
	}

	// Configuration, policies and signing are settled before the long work.
	var cfg *config.Config
	var g *gate
	var sign audit.SignMode
	var signKeyPub *ecdsa.PublicKey
	err = a.rt.Group("auditpack: configuration and policies", func() error {
		if cfg, err = a.loadConfig(); err != nil {
			return err
		}
		if g, err = a.loadGate(ctx, cfg); err != nil {
			return err
		}
		sign, signKeyPub, err = a.signing()
		return err
	})
	if err != nil {
		return 0, err
	}
	a.notes = append(a.notes, g.notes...)

	var baseline *audit.Baseline
	err = a.rt.Group("auditpack: baseline", func() error {
		baseline, err = a.baseline(ctx, cfg, g, signKeyPub)
		return err
	})
	if err != nil {
		return 0, err
	}

	var outcome *audit.Outcome
	err = a.rt.Group("auditpack: building the pack", func() error {
		password := []byte(nil)
		if a.in.keyPassword != "" {
			password = []byte(a.in.keyPassword)
		}
		opts := audit.RunOptions{
			ConfigPath:      a.in.config,
			OutDir:          a.in.outDir,
			Sign:            sign,
			UnsignedReason:  a.unsignedReason,
			KeyPassword:     password,
			SourceDateEpoch: env.Get(actions.VarSourceDateEpoch),
			ToolVersion:     a.c.Version,
			Builtins:        policies.FS,
			Now:             a.c.Now,
			Logger:          a.log,
			Policies:        g.policies,
			Baseline:        baseline,
			Build:           buildContext(a.gh),
		}
		switch sign {
		case audit.SignKey:
			opts.KeyPath = a.in.key
		case audit.SignKeyless:
			a.keyless(&opts)
		}
		outcome, err = audit.Run(ctx, opts)
		return err
	})
	if err != nil {
		return 0, err
	}
	a.packDir = outcome.PackDir

	a.publish(ctx, cfg, g, outcome, sign)
	return a.exitCode(outcome.Verdict), nil
}

// loadConfig loads the configuration file of the config input. A missing
// file is reported by the input's name, where config.Load would name the
// --config flag of the command line.
func (a *actionRun) loadConfig() (*config.Config, error) {
	if _, err := os.Stat(a.in.config); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("input config: %s does not exist: check that actions/checkout runs before this step, and set the config input to the configuration file's path relative to the workspace (default %s; see docs/config.md)",
			a.displayPath(a.in.config), config.DefaultPath)
	}
	return config.Load(a.in.config)
}

// checkToken rejects an empty github-token input before the first API
// call that needs a token. Without a token GitHub responds with 401, or 404
// for a private repository, which would hide the cause.
func (a *actionRun) checkToken() error {
	if a.in.token != "" {
		return nil
	}
	switch {
	case a.event.PullRequest != nil:
		return emptyTokenError("reading the policies at the pull request's base commit")
	case a.event.Release != nil && a.in.upload && isPublish(a.event):
		return emptyTokenError("uploading the release assets (input upload-release-assets)")
	}
	return nil
}

// emptyTokenError is the error for an empty github-token input when use
// needs the GitHub API.
func emptyTokenError(use string) error {
	return fmt.Errorf("input github-token is empty, but %s needs a token for the GitHub API: remove github-token from the step's with: block so that it defaults to ${{ github.token }}, or pass a token that is set (a missing secret, or one that a pull request from a fork cannot read, expands to an empty string)", use)
}

// loadGate reads the policies at the base commit on pull request events
// and from the working tree otherwise.
func (a *actionRun) loadGate(ctx context.Context, cfg *config.Config) (*gate, error) {
	pr := a.event.PullRequest
	if pr == nil || pr.BaseSHA == "" {
		return workingTreeGate(cfg)
	}
	abs, err := filepath.Abs(a.in.config)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", a.in.config, err)
	}
	rel, err := repoPath(a.gh.Workspace, abs)
	if err != nil {
		return nil, fmt.Errorf("reading the policies at the base commit needs the configuration inside GITHUB_WORKSPACE: %w", err)
	}
	owner, repo, ok := strings.Cut(pr.BaseRepository, "/")
	if !ok {
		owner, repo = a.gh.Owner, a.gh.Repo
	}
	a.log.InfoContext(ctx, "reading the policies at the pull request's base commit", "config", rel, "base", pr.BaseSHA)
	return baseGate(ctx, a.client, owner, repo, pr.BaseSHA, rel, cfg)
}

// errActionIDTokenPermission is the error for sign: keyless in a job that
// may not request an OIDC token.
var errActionIDTokenPermission = errors.New(`input sign is keyless, but this job may not request an OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL is not set). Give the job the permission in the workflow:

    permissions:
      id-token: write
      contents: read

(a job-level permissions block replaces the workflow's, so list every permission the job needs, such as pull-requests: write or contents: write), or sign with a key (inputs sign: key and key)`)

// signing resolves the sign input. It returns the mode and, for key
// signing, the public key, which also verifies the baseline by default.
func (a *actionRun) signing() (audit.SignMode, *ecdsa.PublicKey, error) {
	env := a.rt.Env()
	oidc := env.Get(actions.VarIDTokenRequestURL) != "" && env.Get(actions.VarIDTokenRequestToken) != ""
	mode := a.in.sign
	if mode == signAuto {
		switch {
		case oidc:
			mode = signKeyless
			if a.in.key != "" {
				a.log.Info("input key is ignored: sign is auto and the job may request an OIDC token, so the pack is signed keylessly; set sign: key to sign with the key")
			}
		case a.in.key != "":
			mode = signKey
		default:
			a.warn("The pack is unsigned: give the job permissions: id-token: write for keyless signing, or pass a key (inputs sign: key, key).")
			a.unsignedReason = "no key and no OIDC token were available; add permissions: id-token: write or a key to sign"
			mode = signNone
		}
	} else if mode == signNone {
		a.unsignedReason = "input sign is none"
	}
	switch mode {
	case signKeyless:
		if env.Get(actions.VarIDTokenRequestURL) == "" {
			return "", nil, errActionIDTokenPermission
		}
		if env.Get(actions.VarIDTokenRequestToken) == "" {
			return "", nil, errors.New("input sign is keyless and ACTIONS_ID_TOKEN_REQUEST_URL is set, but ACTIONS_ID_TOKEN_REQUEST_TOKEN is not; the runner sets both for a job with permissions: id-token: write, so check that nothing in the workflow clears it")
		}
		if a.in.key != "" && a.in.sign == signKeyless {
			return "", nil, errors.New("input sign is keyless but input key is set too; drop one of them")
		}
		return audit.SignKeyless, nil, nil
	case signKey:
		if a.in.key == "" {
			return "", nil, errors.New("input sign is key but input key is empty: give the path of an ECDSA P-256 private key in the workspace")
		}
		key, err := attest.LoadPrivateKey(a.in.key, []byte(a.in.keyPassword))
		if err != nil {
			return "", nil, fmt.Errorf("input key: %w", a.passwordError(err))
		}
		return audit.SignKey, &key.PublicKey, nil
	}
	return audit.SignNone, nil, nil
}

// passwordError rewords a wrong or missing key password, which attest
// explains in terms of the command line's COSIGN_PASSWORD, for the input
// that gave the password.
func (a *actionRun) passwordError(err error) error {
	if !errors.Is(err, attest.ErrPassword) || a.passwordFrom == "COSIGN_PASSWORD" {
		return err
	}
	if a.in.keyPassword == "" {
		return fmt.Errorf("%w: the private key is encrypted and the key-password input is empty: pass the key's password in the key-password input, from a secret", attest.ErrPassword)
	}
	return fmt.Errorf("%w: the password does not decrypt the encrypted private key: check the key-password input", attest.ErrPassword)
}

// keyless fills the keyless signing options: the token from the Actions
// token service (audience sigstore), requested only when the certificate
// is, and the services of the inputs.
func (a *actionRun) keyless(opts *audit.RunOptions) {
	opts.IdentityTokenSource = func(ctx context.Context) (string, error) {
		return a.rt.IDToken(ctx, "sigstore")
	}
	opts.FulcioURL, opts.RekorURL, opts.RekorVersion, opts.TSAURL = a.in.fulcioURL, a.in.rekorURL, a.in.rekorVersion, a.in.tsaURL
	opts.TrustedRootPath, opts.SigningConfigPath = a.in.trustedRoot, a.in.signingConfig
}

// baseline resolves the baseline pack: the baseline input, else the
// gate's configuration.
func (a *actionRun) baseline(ctx context.Context, cfg *config.Config, g *gate, signKey *ecdsa.PublicKey) (*audit.Baseline, error) {
	source := (&config.Config{Baseline: g.baseline}).BaselineSource()
	sourceFrom := ""
	sourceError := func(msg string) error { return g.cfg.Errorf("baseline.source", "%s", msg) }
	if a.in.baseline != "" {
		source, _ = config.ParseBaselineSource(a.in.baseline)
		sourceFrom = "the baseline input"
		sourceError = func(msg string) error { return errors.New("input baseline: " + msg) }
	}
	if a.in.token == "" && (source.Kind == config.BaselineLatestRelease || source.Kind == config.BaselineTag) {
		return nil, emptyTokenError("finding the baseline " + source.String() + " (from input baseline, else the configuration's baseline.source, where none skips it)")
	}

	// Inside the container RUNNER_TEMP names a host path that is not
	// mounted, so the image's /tmp is the fallback.
	tmp, err := os.MkdirTemp(a.rt.Env().Get(actions.VarRunnerTemp), "auditpack-baseline-")
	if err != nil {
		if tmp, err = os.MkdirTemp("", "auditpack-baseline-"); err != nil {
			return nil, fmt.Errorf("creating a directory for the baseline: %w", err)
		}
	}
	defer os.RemoveAll(tmp)

	fetcher := &releaseFetcher{client: a.client, owner: a.gh.Owner, repo: a.gh.Repo}
	if rel := a.event.Release; rel != nil {
		fetcher.currentID, fetcher.currentTag = rel.ID, rel.TagName
	}
	b, err := audit.ResolveBaseline(ctx, audit.BaselineOptions{
		Source:          source,
		Settings:        g.baseline,
		Resolve:         cfg.Resolve,
		AssetName:       filepath.Base(filepath.Clean(a.in.outDir)) + ".tar.gz",
		FallbackKey:     signKey,
		TrustedRootPath: a.in.trustedRoot,
		TrustedRootFrom: "the trusted-root input",
		Releases:        fetcher,
		TempDir:         tmp,
		SourceFrom:      sourceFrom,
		SourceError:     sourceError,
	})
	if err != nil {
		var apiErr *github.APIError
		if errors.As(err, &apiErr) && (apiErr.StatusCode >= 500 || apiErr.StatusCode == 0) {
			return nil, fmt.Errorf("%w; GitHub did not answer after retries: re-run the job, or set the baseline input to none to skip the comparison with the baseline", err)
		}
		return nil, withPermissionHint(err)
	}

	info := b.Info
	switch info.Status {
	case policy.BaselineVerified:
		a.log.InfoContext(ctx, "baseline verified", "source", info.Source, "signer", info.Signer)
	case policy.BaselineDisabled:
		a.log.InfoContext(ctx, "no baseline: "+info.Reason)
	case policy.BaselineMissing:
		a.log.InfoContext(ctx, "no baseline found", "source", info.Source, "reason", info.Reason)
	default:
		a.warn(fmt.Sprintf("Baseline %s %s: %s", info.Source, info.Status, info.Reason))
	}
	return b, nil
}

// withPermissionHint adds to a GitHub API error of 401 or 403 what the
// job needs: reading releases and files takes permissions: contents: read.
func withPermissionHint(err error) error {
	switch {
	case errors.Is(err, github.ErrForbidden):
		return fmt.Errorf("%w; give the job permissions: contents: read (a job-level permissions block replaces the workflow's, so list every permission the job needs)", err)
	case errors.Is(err, github.ErrUnauthorized):
		return fmt.Errorf("%w; GitHub rejected the token: check the github-token input (the default ${{ github.token }} works when the job has permissions: contents: read)", err)
	}
	return err
}

// warn logs a warning annotation and keeps it for the report.
func (a *actionRun) warn(message string) {
	a.log.Warn(message, actions.AttrTitle, "auditpack")
	a.notes = append(a.notes, message)
}

// exitCode maps the verdict to the exit code through the fail-on input.
func (a *actionRun) exitCode(v *policy.Verdict) int {
	switch {
	case a.in.failOn == failOnNever:
		return ExitOK
	case v.Result == policy.OutcomeFail:
		return ExitFail
	case v.Result == policy.OutcomeWarn && a.in.failOn == failOnWarn:
		return ExitFail
	}
	return ExitOK
}

// commentMarker identifies the comment of one configuration.
func commentMarker(configRel string) string {
	return "config:" + strings.ReplaceAll(configRel, "--", "-")
}
