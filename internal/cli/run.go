package cli

import (
	"fmt"

	"github.com/spf13/cobra"

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
	fl.StringVar(&f.sign, "sign", string(audit.SignKey), "signing mode: key (sign with --key) or none (write the statements unsigned)")
	fl.StringVar(&f.key, "key", "", "ECDSA P-256 private key in PEM, plain or cosign-encrypted (password from COSIGN_PASSWORD)")
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

	outcome, err := audit.Run(cmd.Context(), audit.RunOptions{
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
	})
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
