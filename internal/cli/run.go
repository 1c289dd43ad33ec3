package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/auditpack/auditpack/internal/actions"
	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/audit"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/policy"
	"github.com/auditpack/auditpack/policies"
)

// runFlags holds the values of `auditpack run` flags.
type runFlags struct {
	config string
	out    string
	sign   string
	key    string
	sigstore
}

// sigstore holds the keyless signing flags of `auditpack run`.
type sigstore struct {
	identityToken string
	fulcioURL     string
	rekorURL      string
	rekorVersion  uint32
	tsaURL        string
	trustedRoot   string
	signingConfig string
}

func (c *Command) runCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Build the audit pack from a configuration",
		Long: `run reads the configuration, hashes the model artifacts and datasets,
computes the metrics of every evaluation, evaluates the policies, renders the
model card and summary, signs the attestations and writes the pack directory
and its .tar.gz archive.

The pack is written in full even when a blocking rule fails; the exit code
is then 1. On bad usage, configuration or input the exit code is 2 and no
output is left behind.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.run(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", config.DefaultPath, "configuration file")
	fl.StringVar(&f.out, "out", "auditpack-out", "pack directory to write; the archive is written beside it as DIR.tar.gz")
	fl.StringVar(&f.sign, "sign", "", "signing mode: keyless (Sigstore: Fulcio certificate, Rekor entry), key (sign with --key) or none (write the statements unsigned); default keyless inside GitHub Actions without --key, else key")
	fl.StringVar(&f.key, "key", "", "ECDSA P-256 private key in PEM, plain or cosign-encrypted (password from COSIGN_PASSWORD)")
	fl.StringVar(&f.identityToken, "identity-token", "", "keyless: OIDC identity token for the audience sigstore (default SIGSTORE_ID_TOKEN, else the GitHub Actions token)")
	fl.StringVar(&f.fulcioURL, "fulcio-url", "", "keyless: Fulcio base URL (default from --signing-config, else "+attest.PublicFulcioURL+")")
	fl.StringVar(&f.rekorURL, "rekor-url", "", "keyless: Rekor base URL (default from --signing-config, else "+attest.PublicRekorURL+")")
	fl.Uint32Var(&f.rekorVersion, "rekor-version", 0, "keyless: Rekor major API version, 1 or 2 (default from --signing-config, else 1); Rekor v2 needs --tsa-url")
	fl.StringVar(&f.tsaURL, "tsa-url", "", "keyless: RFC 3161 timestamp endpoint, such as https://tsa.example/api/v1/timestamp (default from --signing-config, else none)")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "keyless: trusted_root.json that each new bundle is checked against (default: the public-good root through TUF)")
	fl.StringVar(&f.signingConfig, "signing-config", "", "keyless: Sigstore signing config JSON naming Fulcio, Rekor and timestamp authorities")
	return cmd
}

func (c *Command) run(cmd *cobra.Command, f runFlags) error {
	log, err := c.logger()
	if err != nil {
		return err
	}
	var password []byte
	if p := c.Getenv("COSIGN_PASSWORD"); p != "" {
		password = []byte(p)
	}

	opts := audit.RunOptions{
		ConfigPath:      f.config,
		OutDir:          f.out,
		Sign:            audit.SignMode(f.sign),
		KeyPath:         f.key,
		KeyPassword:     password,
		SourceDateEpoch: c.Getenv("SOURCE_DATE_EPOCH"),
		ToolVersion:     c.Version,
		Builtins:        policies.FS,
		Now:             c.Now,
		Logger:          log,
		Progress:        c.Stderr,
	}
	if err := c.resolveSigning(&opts, f); err != nil {
		return err
	}

	outcome, err := audit.Run(cmd.Context(), opts)
	if err != nil {
		return usageError(err)
	}

	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "%s\n", outcome.Summary)
	fmt.Fprintf(out, "Pack: %s\nArchive: %s\n", outcome.PackDir, outcome.Archive)
	if outcome.Verdict.Result == policy.OutcomeFail {
		return &exitError{code: ExitFail, err: fmt.Errorf("%d blocking policy rule check(s) failed", outcome.Verdict.Counts.Failed)}
	}
	return nil
}

// missingIDTokenPermission is the error for keyless signing inside GitHub
// Actions when the job may not request an OIDC token.
var missingIDTokenPermission = errors.New(`keyless signing needs an OIDC token, but this GitHub Actions job may not request one (ACTIONS_ID_TOKEN_REQUEST_URL is not set). Give the job the permission, in the workflow:

    permissions:
      id-token: write
      contents: read

or sign with a key (--sign key --key FILE)`)

// resolveSigning picks the signing mode when --sign is not given, and
// fills the keyless options: the token (flag, SIGSTORE_ID_TOKEN, or the
// GitHub Actions token service), the services, and the build context.
func (c *Command) resolveSigning(opts *audit.RunOptions, f runFlags) error {
	env := actions.NewEnv(c.Getenv)
	inActions := env.InActions()
	if opts.Sign == "" {
		opts.Sign = audit.SignKey
		if inActions && f.key == "" {
			opts.Sign = audit.SignKeyless
		}
	}
	if inActions {
		if gh, err := env.Context(); err == nil {
			opts.Build = buildContext(gh)
		}
	}
	if opts.Sign != audit.SignKeyless {
		return nil
	}

	opts.FulcioURL, opts.RekorURL, opts.RekorVersion, opts.TSAURL = f.fulcioURL, f.rekorURL, f.rekorVersion, f.tsaURL
	opts.TrustedRootPath, opts.SigningConfigPath = f.trustedRoot, f.signingConfig
	switch token := firstNonEmpty(f.identityToken, c.Getenv("SIGSTORE_ID_TOKEN")); {
	case token != "":
		opts.IdentityToken = strings.TrimSpace(token)
	case inActions && env.Get(actions.VarIDTokenRequestURL) == "":
		return usageError(missingIDTokenPermission)
	case inActions:
		rt, err := actions.New(actions.Options{Getenv: c.Getenv, Stdout: c.Stdout})
		if err != nil {
			return usageError(err)
		}
		opts.IdentityTokenSource = func(ctx context.Context) (string, error) {
			return rt.IDToken(ctx, "sigstore")
		}
	}
	return nil
}

// buildContext copies the GitHub context the provenance records.
func buildContext(gh *actions.Context) *audit.BuildContext {
	bc := &audit.BuildContext{
		ServerURL: gh.ServerURL, Repository: gh.Repository, WorkflowRef: gh.WorkflowRef,
		SHA: gh.SHA, Ref: gh.Ref, EventName: gh.EventName, RunnerEnvironment: gh.RunnerEnvironment,
	}
	if gh.RunID > 0 {
		bc.RunID = fmt.Sprint(gh.RunID)
	}
	if gh.RunAttempt > 0 {
		bc.RunAttempt = fmt.Sprint(gh.RunAttempt)
	}
	return bc
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
