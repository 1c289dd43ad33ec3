package actions

import (
	"os"
	"slices"
	"strings"
)

// Var is the name of an environment variable that auditpack reads.
type Var string

// The environment variables auditpack reads. Each one is declared in
// Variables with a description and whether it is secret; Env reads no
// other variable, inputs aside.
const (
	VarCI                      Var = "CI"
	VarGitHubActions           Var = "GITHUB_ACTIONS"
	VarGitHubToken             Var = "GITHUB_TOKEN"
	VarIDTokenRequestURL       Var = "ACTIONS_ID_TOKEN_REQUEST_URL"
	VarIDTokenRequestToken     Var = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	VarRuntimeToken            Var = "ACTIONS_RUNTIME_TOKEN"
	VarGitHubAPIURL            Var = "GITHUB_API_URL"
	VarGitHubServerURL         Var = "GITHUB_SERVER_URL"
	VarGitHubGraphQLURL        Var = "GITHUB_GRAPHQL_URL"
	VarGitHubRepository        Var = "GITHUB_REPOSITORY"
	VarGitHubRepositoryID      Var = "GITHUB_REPOSITORY_ID"
	VarGitHubRepositoryOwner   Var = "GITHUB_REPOSITORY_OWNER"
	VarGitHubRepositoryOwnerID Var = "GITHUB_REPOSITORY_OWNER_ID"
	VarGitHubEventName         Var = "GITHUB_EVENT_NAME"
	VarGitHubEventPath         Var = "GITHUB_EVENT_PATH"
	VarGitHubSHA               Var = "GITHUB_SHA"
	VarGitHubRef               Var = "GITHUB_REF"
	VarGitHubRefName           Var = "GITHUB_REF_NAME"
	VarGitHubRefType           Var = "GITHUB_REF_TYPE"
	VarGitHubHeadRef           Var = "GITHUB_HEAD_REF"
	VarGitHubBaseRef           Var = "GITHUB_BASE_REF"
	VarGitHubRunID             Var = "GITHUB_RUN_ID"
	VarGitHubRunAttempt        Var = "GITHUB_RUN_ATTEMPT"
	VarGitHubRunNumber         Var = "GITHUB_RUN_NUMBER"
	VarGitHubWorkflow          Var = "GITHUB_WORKFLOW"
	VarGitHubWorkflowRef       Var = "GITHUB_WORKFLOW_REF"
	VarGitHubWorkflowSHA       Var = "GITHUB_WORKFLOW_SHA"
	VarGitHubJob               Var = "GITHUB_JOB"
	VarGitHubActor             Var = "GITHUB_ACTOR"
	VarGitHubActorID           Var = "GITHUB_ACTOR_ID"
	VarGitHubTriggeringActor   Var = "GITHUB_TRIGGERING_ACTOR"
	VarGitHubWorkspace         Var = "GITHUB_WORKSPACE"
	VarGitHubOutput            Var = "GITHUB_OUTPUT"
	VarGitHubStepSummary       Var = "GITHUB_STEP_SUMMARY"
	VarRunnerDebug             Var = "RUNNER_DEBUG"
	VarRunnerEnvironment       Var = "RUNNER_ENVIRONMENT"
	VarRunnerOS                Var = "RUNNER_OS"
	VarRunnerTemp              Var = "RUNNER_TEMP"
	VarSourceDateEpoch         Var = "SOURCE_DATE_EPOCH"
)

// Variable declares an environment variable: its name, what it holds, and
// whether its value is secret and must be masked in logs.
type Variable struct {
	Name        Var
	Description string
	Sensitive   bool
}

// Variables returns every declared variable, sorted by name.
func Variables() []Variable {
	vars := []Variable{
		{VarCI, "Set to true by most CI systems, GitHub Actions included.", false},
		{VarGitHubActions, "Set to true when running inside GitHub Actions.", false},
		{VarGitHubToken, "Token for the GitHub REST API, when the workflow passes one through the environment.", true},
		{VarIDTokenRequestURL, "URL from which the job requests an OIDC token; set when the job has permission id-token: write.", false},
		{VarIDTokenRequestToken, "Bearer token for requesting an OIDC token.", true},
		{VarRuntimeToken, "Token of the Actions runtime services (cache, artifacts).", true},
		{VarGitHubAPIURL, "REST API root, e.g. https://api.github.com or https://HOST/api/v3 on GitHub Enterprise Server.", false},
		{VarGitHubServerURL, "Web root of the GitHub instance, e.g. https://github.com.", false},
		{VarGitHubGraphQLURL, "GraphQL API URL.", false},
		{VarGitHubRepository, "Repository running the workflow, as owner/name.", false},
		{VarGitHubRepositoryID, "Numeric ID of the repository, which survives renames.", false},
		{VarGitHubRepositoryOwner, "Login of the repository owner.", false},
		{VarGitHubRepositoryOwnerID, "Numeric ID of the repository owner.", false},
		{VarGitHubEventName, "Name of the event that triggered the workflow, e.g. pull_request.", false},
		{VarGitHubEventPath, "Path of the file holding the event's webhook payload.", false},
		{VarGitHubSHA, "Commit SHA that triggered the workflow; for pull_request, the test merge commit.", false},
		{VarGitHubRef, "Fully qualified ref that triggered the workflow, e.g. refs/pull/7/merge.", false},
		{VarGitHubRefName, "Short ref name, e.g. main or v1.2.0.", false},
		{VarGitHubRefType, "Type of the ref: branch or tag.", false},
		{VarGitHubHeadRef, "Head branch of a pull request.", false},
		{VarGitHubBaseRef, "Base branch of a pull request.", false},
		{VarGitHubRunID, "Unique numeric ID of the workflow run.", false},
		{VarGitHubRunAttempt, "Attempt number of the run, from 1.", false},
		{VarGitHubRunNumber, "Run number of the workflow, from 1.", false},
		{VarGitHubWorkflow, "Name of the workflow.", false},
		{VarGitHubWorkflowRef, "Workflow file reference, owner/repo/.github/workflows/f.yml@ref.", false},
		{VarGitHubWorkflowSHA, "Commit SHA of the workflow file.", false},
		{VarGitHubJob, "ID of the current job.", false},
		{VarGitHubActor, "Login of the user that triggered the run.", false},
		{VarGitHubActorID, "Numeric ID of the actor.", false},
		{VarGitHubTriggeringActor, "Login of the user that started this attempt of the run.", false},
		{VarGitHubWorkspace, "Working directory holding the checkout.", false},
		{VarGitHubOutput, "File to which step outputs are appended.", false},
		{VarGitHubStepSummary, "File to which the job summary Markdown is appended.", false},
		{VarRunnerDebug, "Set to 1 when debug logging is enabled for the run.", false},
		{VarRunnerEnvironment, "github-hosted or self-hosted.", false},
		{VarRunnerOS, "Operating system of the runner: Linux, Windows or macOS.", false},
		{VarRunnerTemp, "Temporary directory of the runner, emptied after each job.", false},
		{VarSourceDateEpoch, "Unix time to use instead of the clock for reproducible timestamps.", false},
	}
	slices.SortFunc(vars, func(a, b Variable) int { return strings.Compare(string(a.Name), string(b.Name)) })
	return vars
}

// Getenv returns the value of an environment variable, or "" when unset.
type Getenv func(name string) string

// Env reads declared environment variables and action inputs through one
// getter, so that tests can replace the environment.
type Env struct {
	getenv   Getenv
	declared map[Var]Variable
}

// NewEnv returns an Env that reads through getenv; nil means os.Getenv.
func NewEnv(getenv Getenv) *Env {
	if getenv == nil {
		getenv = os.Getenv
	}
	declared := make(map[Var]Variable)
	for _, v := range Variables() {
		declared[v.Name] = v
	}
	return &Env{getenv: getenv, declared: declared}
}

// Get returns the value of a declared variable. An undeclared name returns
// "", so that every variable read is listed in Variables.
func (e *Env) Get(name Var) string {
	if _, ok := e.declared[name]; !ok {
		return ""
	}
	return e.getenv(string(name))
}

// InActions reports whether GITHUB_ACTIONS is "true".
func (e *Env) InActions() bool {
	return e.Get(VarGitHubActions) == "true"
}

// Input returns the action input name, read from INPUT_<NAME> with spaces
// replaced by underscores and letters upper-cased as the runner sets it (a
// hyphen stays a hyphen), with surrounding white space trimmed.
func (e *Env) Input(name string) string {
	return strings.TrimSpace(e.getenv(inputVar(name)))
}

// inputVar returns the variable that holds input name.
func inputVar(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
}

// secrets returns the non-empty values of the declared sensitive variables.
func (e *Env) secrets() []string {
	var values []string
	for _, v := range Variables() {
		if v.Sensitive {
			if value := e.Get(v.Name); value != "" {
				values = append(values, value)
			}
		}
	}
	return values
}
