package cli

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

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
	// publishErr records a publishing failure other than a 403.
	publishErr error
}

func (c *Command) action(ctx context.Context) error {
	rt, err := actions.New(actions.Options{Getenv: actions.Getenv(c.Getenv), Stdout: c.Stdout})
	if err != nil {
		return usageError(fmt.Errorf("%w; use auditpack run outside GitHub Actions", err))
	}
	a := &actionRun{c: c, rt: rt}
	level := slog.LevelInfo
	if rt.Env().Get(actions.VarRunnerDebug) == "1" {
		level = slog.LevelDebug
	}
	a.log = slog.New(rt.LogHandler(level))

	code, err := a.run(ctx)
	if err != nil {
		// An error annotation shows it on the run's page; Main also prints
		// it to stderr.
		a.log.ErrorContext(ctx, err.Error(), actions.AttrTitle, "auditpack")
		return usageError(err)
	}
	if code != ExitOK {
		return &exitError{code: code, err: fmt.Errorf("the verdict fails the step (input fail-on is %s)", a.in.failOn)}
	}
	return nil
}

// run executes the steps and returns the exit code; an error means no
// decision could be reached (exit 2).
func (a *actionRun) run(ctx context.Context) (int, error) {
	env := a.rt.Env()
	var err error
	if a.gh, err = env.Context(); err != nil {
		return 0, err
	}
	if a.in, err = readActionInputs(a.rt, a.gh.Workspace); err != nil {
		return 0, err
	}
	if a.event, err = env.Event(); err != nil {
		return 0, err
	}
	if pw := a.c.Getenv("COSIGN_PASSWORD"); pw != "" && a.in.keyPassword == "" {
		a.in.keyPassword = pw
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
		if cfg, err = config.Load(a.in.config); err != nil {
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
		keyPath := a.in.key
		if sign == audit.SignNone {
			keyPath = ""
		}
		outcome, err = audit.Run(ctx, audit.RunOptions{
			ConfigPath:      a.in.config,
			OutDir:          a.in.outDir,
			Sign:            sign,
			KeyPath:         keyPath,
			KeyPassword:     password,
			SourceDateEpoch: env.Get(actions.VarSourceDateEpoch),
			ToolVersion:     a.c.Version,
			Builtins:        policies.FS,
			Now:             a.c.Now,
			Logger:          a.log,
			Policies:        g.policies,
			Baseline:        baseline,
		})
		return err
	})
	if err != nil {
		return 0, err
	}

	a.publish(ctx, cfg, g, outcome, sign)
	code := a.exitCode(outcome.Verdict)
	if code == ExitOK && a.publishErr != nil {
		return 0, a.publishErr
	}
	return code, nil
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

// signing resolves the sign input. It returns the mode and, for key
// signing, the public key, which also verifies the baseline by default.
func (a *actionRun) signing() (audit.SignMode, *ecdsa.PublicKey, error) {
	oidc := a.rt.Env().Get(actions.VarIDTokenRequestURL) != "" && a.rt.Env().Get(actions.VarIDTokenRequestToken) != ""
	mode := a.in.sign
	if mode == signAuto {
		switch {
		case a.in.key != "":
			mode = signKey
		case oidc:
			// TODO: switch to keyless here once audit offers keyless signing.
			a.warn("Keyless signing is not available in this version of auditpack yet, so the pack is unsigned. Pass a key (inputs sign: key, key) to sign it.")
			mode = signNone
		default:
			a.warn("The pack is unsigned: give the job permissions: id-token: write for keyless signing, or pass a key (inputs sign: key, key).")
			mode = signNone
		}
	}
	switch mode {
	case signKeyless:
		return "", nil, errors.New("input sign is keyless, and keyless signing is not available in this version of auditpack yet; use sign: key with a key, or sign: none")
	case signKey:
		if a.in.key == "" {
			return "", nil, errors.New("input sign is key but input key is empty: give the path of an ECDSA P-256 private key in the workspace")
		}
		key, err := attest.LoadPrivateKey(a.in.key, []byte(a.in.keyPassword))
		if err != nil {
			return "", nil, fmt.Errorf("input key: %w", err)
		}
		return audit.SignKey, &key.PublicKey, nil
	}
	return audit.SignNone, nil, nil
}

// baseline resolves the baseline pack: the baseline input, else the
// gate's configuration.
func (a *actionRun) baseline(ctx context.Context, cfg *config.Config, g *gate, signKey *ecdsa.PublicKey) (*audit.Baseline, error) {
	source := (&config.Config{Baseline: g.baseline}).BaselineSource()
	if a.in.baseline != "" {
		source, _ = config.ParseBaselineSource(a.in.baseline)
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

	var current int64
	if a.event.Release != nil {
		current = a.event.Release.ID
	}
	b, err := audit.ResolveBaseline(ctx, audit.BaselineOptions{
		Source:      source,
		Settings:    g.baseline,
		Resolve:     cfg.Resolve,
		AssetName:   filepath.Base(filepath.Clean(a.in.outDir)) + ".tar.gz",
		FallbackKey: signKey,
		Releases:    &releaseFetcher{client: a.client, owner: a.gh.Owner, repo: a.gh.Repo, currentID: current},
		TempDir:     tmp,
	})
	if err != nil {
		return nil, err
	}

	info := b.Info
	switch info.Status {
	case policy.BaselineVerified:
		a.log.InfoContext(ctx, "baseline verified", "source", info.Source, "signer", info.Signer)
	case policy.BaselineDisabled:
		a.log.InfoContext(ctx, "no baseline: disabled in the configuration")
	case policy.BaselineMissing:
		a.log.InfoContext(ctx, "no baseline found", "source", info.Source, "reason", info.Reason)
	default:
		a.warn(fmt.Sprintf("Baseline %s %s: %s", info.Source, info.Status, info.Reason))
	}
	return b, nil
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
