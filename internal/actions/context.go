package actions

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Context is the GitHub context of a workflow run, read from the runner's
// environment variables.
type Context struct {
	// Repository is "owner/name"; Owner and Repo are its halves.
	Repository        string
	Owner             string
	Repo              string
	RepositoryID      string
	RepositoryOwnerID string
	// ServerURL, APIURL and GraphQLURL default to github.com's when unset.
	ServerURL  string
	APIURL     string
	GraphQLURL string
	EventName  string
	EventPath  string
	SHA        string
	Ref        string
	RefName    string
	RefType    string
	HeadRef    string
	BaseRef    string
	RunID      int64
	RunAttempt int64
	RunNumber  int64
	Workflow   string
	// WorkflowRef is "owner/repo/.github/workflows/file.yml@ref", the
	// workflow the run started. For a job in a reusable workflow it is the
	// caller, while the Fulcio certificate of keyless signing names the
	// reusable workflow (the token's job_workflow_ref claim).
	WorkflowRef       string
	WorkflowSHA       string
	Job               string
	Actor             string
	ActorID           string
	TriggeringActor   string
	Workspace         string
	RunnerEnvironment string
	// Debug is true when the run has debug logging enabled.
	Debug bool
}

// Context reads the GitHub context. It reports every malformed variable at
// once, naming each; unset variables stay empty or zero.
func (e *Env) Context() (*Context, error) {
	c := &Context{
		RepositoryID:      e.Get(VarGitHubRepositoryID),
		RepositoryOwnerID: e.Get(VarGitHubRepositoryOwnerID),
		ServerURL:         e.Get(VarGitHubServerURL),
		APIURL:            e.Get(VarGitHubAPIURL),
		GraphQLURL:        e.Get(VarGitHubGraphQLURL),
		EventName:         e.Get(VarGitHubEventName),
		EventPath:         e.Get(VarGitHubEventPath),
		SHA:               e.Get(VarGitHubSHA),
		Ref:               e.Get(VarGitHubRef),
		RefName:           e.Get(VarGitHubRefName),
		RefType:           e.Get(VarGitHubRefType),
		HeadRef:           e.Get(VarGitHubHeadRef),
		BaseRef:           e.Get(VarGitHubBaseRef),
		Workflow:          e.Get(VarGitHubWorkflow),
		WorkflowRef:       e.Get(VarGitHubWorkflowRef),
		WorkflowSHA:       e.Get(VarGitHubWorkflowSHA),
		Job:               e.Get(VarGitHubJob),
		Actor:             e.Get(VarGitHubActor),
		ActorID:           e.Get(VarGitHubActorID),
		TriggeringActor:   e.Get(VarGitHubTriggeringActor),
		Workspace:         e.Get(VarGitHubWorkspace),
		RunnerEnvironment: e.Get(VarRunnerEnvironment),
		Debug:             e.Get(VarRunnerDebug) == "1",
	}
	var errs []error

	// Repository as owner/name.
	if repo := e.Get(VarGitHubRepository); repo != "" {
		owner, name, ok := strings.Cut(repo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			errs = append(errs, fmt.Errorf("%s=%q is not of the form owner/name", VarGitHubRepository, repo))
		} else {
			c.Repository, c.Owner, c.Repo = repo, owner, name
		}
	}

	// Numeric run identifiers.
	for _, field := range []struct {
		name Var
		dest *int64
	}{{VarGitHubRunID, &c.RunID}, {VarGitHubRunAttempt, &c.RunAttempt}, {VarGitHubRunNumber, &c.RunNumber}} {
		raw := e.Get(field.name)
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a non-negative integer", field.name, raw))
			continue
		}
		*field.dest = n
	}

	// URLs, defaulting to github.com.
	for _, field := range []struct {
		name     Var
		dest     *string
		fallback string
	}{
		{VarGitHubServerURL, &c.ServerURL, "https://github.com"},
		{VarGitHubAPIURL, &c.APIURL, "https://api.github.com"},
		{VarGitHubGraphQLURL, &c.GraphQLURL, "https://api.github.com/graphql"},
	} {
		if *field.dest == "" {
			*field.dest = field.fallback
			continue
		}
		u, err := url.Parse(*field.dest)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			errs = append(errs, fmt.Errorf("%s is not an absolute http(s) URL without credentials", field.name))
			*field.dest = ""
			continue
		}
		*field.dest = strings.TrimSuffix(*field.dest, "/")
	}
	return c, errors.Join(errs...)
}

// RunURL returns the web URL of the run attempt, e.g.
// "https://github.com/o/r/actions/runs/42/attempts/1", or "" when the
// repository or run ID is unknown. The job summary is shown on that page.
func (c *Context) RunURL() string {
	if c.Repository == "" || c.RunID == 0 {
		return ""
	}
	u := fmt.Sprintf("%s/%s/actions/runs/%d", c.ServerURL, c.Repository, c.RunID)
	if c.RunAttempt > 0 {
		u += fmt.Sprintf("/attempts/%d", c.RunAttempt)
	}
	return u
}
