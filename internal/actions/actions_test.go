package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeEnv is an environment for tests.
type fakeEnv map[string]string

func (f fakeEnv) get(name string) string { return f[name] }

// lockedBuffer is a bytes.Buffer safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestRuntime returns a runtime over env with GITHUB_ACTIONS=true and
// output and summary files in a temporary directory.
func newTestRuntime(t *testing.T, env fakeEnv) (*Runtime, *lockedBuffer, fakeEnv) {
	t.Helper()
	dir := t.TempDir()
	if env == nil {
		env = fakeEnv{}
	}
	env["GITHUB_ACTIONS"] = "true"
	env["GITHUB_OUTPUT"] = filepath.Join(dir, "output")
	env["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "summary.md")
	out := &lockedBuffer{}
	rt, err := New(Options{Getenv: env.get, Stdout: out})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return rt, out, env
}

func TestVariablesDeclared(t *testing.T) {
	vars := Variables()
	seen := map[Var]bool{}
	var sensitive []Var
	for i, v := range vars {
		if seen[v.Name] {
			t.Errorf("%s declared twice", v.Name)
		}
		seen[v.Name] = true
		if v.Description == "" {
			t.Errorf("%s has no description", v.Name)
		}
		if i > 0 && vars[i-1].Name > v.Name {
			t.Errorf("%s listed after %s", v.Name, vars[i-1].Name)
		}
		if v.Sensitive {
			sensitive = append(sensitive, v.Name)
		}
	}
	want := []Var{VarIDTokenRequestToken, VarRuntimeToken, VarGitHubToken}
	if diff := cmp.Diff(want, sensitive); diff != "" {
		t.Errorf("sensitive variables (-want +got):\n%s", diff)
	}
	for _, v := range []Var{VarGitHubWorkflowRef, VarGitHubAPIURL, VarGitHubEventPath, VarSourceDateEpoch} {
		if !seen[v] {
			t.Errorf("%s not declared", v)
		}
	}
}

func TestEnvGetOnlyDeclared(t *testing.T) {
	env := NewEnv(fakeEnv{"HOME": "/root", "GITHUB_SHA": "abc"}.get)
	if got := env.Get("HOME"); got != "" {
		t.Errorf("undeclared HOME read as %q", got)
	}
	if got := env.Get(VarGitHubSHA); got != "abc" {
		t.Errorf("GITHUB_SHA = %q, want abc", got)
	}
}

func TestEnvInput(t *testing.T) {
	env := NewEnv(fakeEnv{
		"INPUT_GITHUB-TOKEN": " ghs_x \n",
		"INPUT_CONFIG_PATH":  "cfg/.auditpack.yml",
		"INPUT_MODE":         "",
	}.get)
	tests := []struct{ name, want string }{
		{"github-token", "ghs_x"},
		{"config path", "cfg/.auditpack.yml"},
		{"Config Path", "cfg/.auditpack.yml"},
		{"mode", ""},
		{"absent", ""},
	}
	for _, tt := range tests {
		if got := env.Input(tt.name); got != tt.want {
			t.Errorf("Input(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestContext(t *testing.T) {
	env := NewEnv(fakeEnv{
		"GITHUB_REPOSITORY":    "octo/demo",
		"GITHUB_RUN_ID":        "9876543210",
		"GITHUB_RUN_ATTEMPT":   "2",
		"GITHUB_SERVER_URL":    "https://ghe.example.com/",
		"GITHUB_API_URL":       "https://ghe.example.com/api/v3",
		"GITHUB_WORKFLOW_REF":  "octo/demo/.github/workflows/audit.yml@refs/heads/main",
		"GITHUB_SHA":           "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
		"GITHUB_EVENT_NAME":    "pull_request",
		"RUNNER_DEBUG":         "1",
		"GITHUB_REPOSITORY_ID": "42",
	}.get)

	c, err := env.Context()
	if err != nil {
		t.Fatalf("Context: %v", err)
	}

	want := &Context{
		Repository: "octo/demo", Owner: "octo", Repo: "demo", RepositoryID: "42",
		ServerURL: "https://ghe.example.com", APIURL: "https://ghe.example.com/api/v3",
		GraphQLURL: "https://api.github.com/graphql",
		EventName:  "pull_request", SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
		RunID: 9876543210, RunAttempt: 2,
		WorkflowRef: "octo/demo/.github/workflows/audit.yml@refs/heads/main",
		Debug:       true,
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Context (-want +got):\n%s", diff)
	}
	if got := c.RunURL(); got != "https://ghe.example.com/octo/demo/actions/runs/9876543210/attempts/2" {
		t.Errorf("RunURL = %q", got)
	}
}

func TestContextErrors(t *testing.T) {
	env := NewEnv(fakeEnv{
		"GITHUB_REPOSITORY": "no-slash",
		"GITHUB_RUN_ID":     "12x",
		"GITHUB_API_URL":    "https://user:pw@ghe.example.com/api/v3",
	}.get)

	_, err := env.Context()

	for _, want := range []string{`GITHUB_REPOSITORY="no-slash" is not of the form owner/name`, `GITHUB_RUN_ID="12x"`, "GITHUB_API_URL is not an absolute"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "pw@") {
		t.Errorf("error repeats the URL's credentials: %v", err)
	}
}

const payloadDir = "../../../shared/github/webhook-payloads"

func readPayload(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(payloadDir, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("webhook payload examples not found at %s", payloadDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseEventExamples(t *testing.T) {
	pr := &PullRequest{
		Number: 2, HTMLURL: "https://github.com/Codertocat/Hello-World/pull/2",
		BaseRef: "master", BaseSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
		HeadRef: "changes", HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
		BaseRepository: "Codertocat/Hello-World", HeadRepository: "Codertocat/Hello-World",
	}
	release := &Release{
		ID: 17372790, TagName: "0.0.1",
		UploadURL: "https://uploads.github.com/repos/Codertocat/Hello-World/releases/17372790/assets{?name,label}",
		HTMLURL:   "https://github.com/Codertocat/Hello-World/releases/tag/0.0.1",
	}
	tests := []struct {
		file, event string
		want        *Event
	}{
		{"pull_request.opened.payload.json", "pull_request", &Event{Name: "pull_request", Action: "opened", Repository: "Codertocat/Hello-World", PullRequest: pr}},
		{"pull_request.synchronize.payload.json", "pull_request", &Event{Name: "pull_request", Action: "synchronize", Repository: "Codertocat/Hello-World", PullRequest: pr}},
		{"pull_request.opened.with-organization.payload.json", "pull_request_target", &Event{Name: "pull_request_target", Action: "opened", Repository: "Codertocat/Hello-World", PullRequest: pr}},
		{"release.published.payload.json", "release", &Event{Name: "release", Action: "published", Repository: "Codertocat/Hello-World", Release: release}},
		{"release.released.json", "release", &Event{Name: "release", Action: "released", Repository: "Codertocat/Hello-World", Release: release}},
		{"push.payload.json", "push", &Event{Name: "push", Repository: "Codertocat/Hello-World"}},
		{"workflow_dispatch.payload.json", "workflow_dispatch", &Event{Name: "workflow_dispatch", Repository: "octo-org/octo-repo"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseEvent(tt.event, readPayload(t, tt.file))
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
		})
	}
}

// editPayload decodes a payload, applies edit and encodes it again.
func editPayload(t *testing.T, data []byte, edit func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestParseEventFork(t *testing.T) {
	base := readPayload(t, "pull_request.opened.payload.json")
	head := func(m map[string]any) map[string]any {
		return m["pull_request"].(map[string]any)["head"].(map[string]any)
	}
	tests := []struct {
		name     string
		edit     func(map[string]any)
		wantFork bool
		wantHead string
	}{
		{"same repository", func(map[string]any) {}, false, "Codertocat/Hello-World"},
		{"same repository other case", func(m map[string]any) {
			head(m)["repo"].(map[string]any)["full_name"] = "codertocat/hello-world"
		}, false, "codertocat/hello-world"},
		{"fork", func(m map[string]any) {
			head(m)["repo"].(map[string]any)["full_name"] = "mallory/Hello-World"
		}, true, "mallory/Hello-World"},
		{"deleted fork", func(m map[string]any) { head(m)["repo"] = nil }, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseEvent("pull_request", editPayload(t, base, tt.edit))
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if ev.PullRequest.Fork != tt.wantFork {
				t.Errorf("Fork = %v, want %v", ev.PullRequest.Fork, tt.wantFork)
			}
			if ev.PullRequest.HeadRepository != tt.wantHead {
				t.Errorf("HeadRepository = %q, want %q", ev.PullRequest.HeadRepository, tt.wantHead)
			}
		})
	}
}

func TestParseEventErrors(t *testing.T) {
	tests := []struct {
		name, event, payload string
		want                 []string
	}{
		{"not JSON", "pull_request", "{", []string{"the pull_request event payload is not valid JSON"}},
		{"array", "pull_request", "[]", []string{"the event payload is not a JSON object"}},
		{"string", "push", `"push"`, []string{"the event payload is not a JSON object"}},
		{"empty file", "push", "", []string{"the event payload is not a JSON object"}},
		{"no pull_request", "pull_request", `{"action":"opened"}`, []string{"pull_request is missing"}},
		{"empty pull_request", "pull_request", `{"pull_request":{}}`, []string{"pull_request.number is missing", "pull_request.base.sha is missing", "pull_request.head.sha is missing"}},
		{"release without id", "release", `{"release":{"tag_name":"v1"}}`, []string{"release.id is missing", "release.upload_url is missing"}},
		{"wrong type", "release", `{"release":{"id":"seven"}}`, []string{"release.id is a JSON string, where a number is expected"}},
		{"object for string", "pull_request", `{"pull_request":{"number":1,"base":{"sha":{}}}}`, []string{"pull_request.base.sha is a JSON object, where a string is expected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEvent(tt.event, []byte(tt.payload))
			for _, want := range tt.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v does not contain %q", err, want)
				}
			}
			if err != nil && strings.Contains(err.Error(), "Go ") {
				t.Errorf("error %v names a Go type", err)
			}
		})
	}
}

func TestEnvEvent(t *testing.T) {
	data := readPayload(t, "release.published.payload.json")
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	ev, err := NewEnv(fakeEnv{"GITHUB_EVENT_NAME": "release", "GITHUB_EVENT_PATH": path}.get).Event()
	if err != nil {
		t.Fatalf("Event: %v", err)
	}
	if ev.Release == nil || ev.Release.ID != 17372790 {
		t.Errorf("release = %+v", ev.Release)
	}

	_, err = NewEnv(fakeEnv{"GITHUB_EVENT_NAME": "release", "GITHUB_EVENT_PATH": path + ".missing"}.get).Event()
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v, want ErrNotExist", err)
	}

	array := filepath.Join(t.TempDir(), "array.json")
	if err := os.WriteFile(array, []byte("[]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = NewEnv(fakeEnv{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": array}.get).Event()
	if want := "GITHUB_EVENT_PATH " + array + ": the event payload is not a JSON object"; err == nil || err.Error() != want {
		t.Errorf("array payload: error %v, want %q", err, want)
	}
	_, err = NewEnv(fakeEnv{}.get).Event()
	if err == nil || !strings.Contains(err.Error(), "GITHUB_EVENT_NAME and GITHUB_EVENT_PATH") {
		t.Errorf("unset variables: error %v", err)
	}
}

func TestNewOutsideActions(t *testing.T) {
	_, err := New(Options{Getenv: fakeEnv{"GITHUB_TOKEN": "ghs_secret"}.get, Stdout: &bytes.Buffer{}})
	if !errors.Is(err, ErrNotInActions) {
		t.Errorf("error = %v, want ErrNotInActions", err)
	}
}

func TestNewMasksSensitiveVariables(t *testing.T) {
	_, out, _ := newTestRuntime(t, fakeEnv{
		"GITHUB_TOKEN":                   "ghs_tokenvalue",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc%request\ntoken",
		"GITHUB_REPOSITORY":              "octo/demo",
	})

	want := "::add-mask::oidc%25request%0Atoken\n::add-mask::oidc%25request\n::add-mask::token\n::add-mask::ghs_tokenvalue\n"
	if got := out.String(); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

// parseOutputFile reads a GITHUB_OUTPUT file the way the runner does:
// "name<<delimiter" starts a value that ends at a line equal to delimiter.
func parseOutputFile(t *testing.T, data string) map[string]string {
	t.Helper()
	outputs := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delimiter, ok := strings.Cut(lines[i], "<<")
		if !ok {
			t.Fatalf("line %d %q is not a heredoc start", i+1, lines[i])
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delimiter; i++ {
			value = append(value, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("output %q has no closing delimiter", name)
		}
		outputs[name] = strings.Join(value, "\n")
	}
	return outputs
}

func TestSetOutput(t *testing.T) {
	rt, _, env := newTestRuntime(t, nil)
	values := map[string]string{
		"verdict":     "pass",
		"empty":       "",
		"report":      "line one\nline two\n\nEOF\n_GitHubActionsFileCommandDelimeter_\nghadelimiter_\n",
		"crlf":        "a\r\nb",
		"pack-digest": "sha256:0123",
	}
	for _, name := range []string{"verdict", "empty", "report", "crlf", "pack-digest"} {
		if err := rt.SetOutput(name, values[name]); err != nil {
			t.Fatalf("SetOutput(%q): %v", name, err)
		}
	}

	data, err := os.ReadFile(env["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(values, parseOutputFile(t, string(data))); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if strings.Count(string(data), "ghadelimiter_") < 10 {
		t.Errorf("delimiters not random-suffixed ghadelimiter_: %q", data)
	}
}

func TestSetOutputErrors(t *testing.T) {
	rt, _, env := newTestRuntime(t, nil)
	for _, name := range []string{"", "a\nb", "a=b", "a<<b"} {
		if err := rt.SetOutput(name, "v"); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	delete(env, "GITHUB_OUTPUT")
	if err := rt.SetOutput("ok", "v"); err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT is not set") {
		t.Errorf("unset GITHUB_OUTPUT: error %v", err)
	}
}

func TestAppendSummary(t *testing.T) {
	rt, _, env := newTestRuntime(t, fakeEnv{"GITHUB_TOKEN": "ghs_hidden"})
	if err := rt.AppendSummary("# Verdict\n"); err != nil {
		t.Fatal(err)
	}
	if err := rt.AppendSummary("token ghs_hidden must not show"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Verdict\ntoken *** must not show\n"; string(data) != want {
		t.Errorf("summary = %q, want %q", data, want)
	}

	err = rt.AppendSummary(strings.Repeat("x", maxSummarySize))
	if !errors.Is(err, ErrSummaryTooLarge) {
		t.Errorf("oversized append: error %v, want ErrSummaryTooLarge", err)
	}
	after, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if len(after) != len(data) {
		t.Errorf("failed append changed the file from %d to %d bytes", len(data), len(after))
	}
}

func TestAnnotate(t *testing.T) {
	tests := []struct {
		name string
		a    Annotation
		want string
	}{
		{
			name: "error with location",
			a:    Annotation{Level: LevelErrorAnnotation, Message: "accuracy 0.71 < 0.80", Title: "Rule acc-min failed", File: "policies/main.yml", Line: 12, Column: 5},
			want: "::error col=5,file=policies/main.yml,line=12,title=Rule acc-min failed::accuracy 0.71 < 0.80\n",
		},
		{
			name: "escaping",
			a:    Annotation{Level: LevelWarningAnnotation, Message: "100% sure\r\nsecond line", File: "C:\\a,b:c.yml", Title: "50%"},
			want: "::warning file=C%3A\\a%2Cb%3Ac.yml,title=50%25::100%25 sure%0D%0Asecond line\n",
		},
		{
			name: "notice without properties",
			a:    Annotation{Level: LevelNoticeAnnotation, Message: "baseline v1.2.0"},
			want: "::notice::baseline v1.2.0\n",
		},
		{
			name: "secret in message",
			a:    Annotation{Level: LevelErrorAnnotation, Message: "bad token ghs_abc", Title: "ghs_abc"},
			want: "::error title=***::bad token ***\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, out, _ := newTestRuntime(t, nil)
			if err := rt.Mask("ghs_abc"); err != nil {
				t.Fatal(err)
			}
			before := len(out.String())

			if err := rt.Annotate(tt.a); err != nil {
				t.Fatal(err)
			}

			if got := out.String()[before:]; got != tt.want {
				t.Errorf("command = %q, want %q", got, tt.want)
			}
		})
	}

	rt, _, _ := newTestRuntime(t, nil)
	if err := rt.Annotate(Annotation{Level: "fatal", Message: "x"}); err == nil {
		t.Errorf("level fatal accepted")
	}
}

func TestGroup(t *testing.T) {
	rt, out, _ := newTestRuntime(t, nil)
	failure := errors.New("step failed")

	err := rt.Group("Evaluate %s policies", func() error {
		return rt.Debug("inside\nthe group")
	})
	if err != nil {
		t.Fatal(err)
	}
	err = rt.Group("failing", func() error { return failure })

	if !errors.Is(err, failure) {
		t.Errorf("Group error = %v, want the function's error", err)
	}
	want := "::group::Evaluate %25s policies\n::debug::inside%0Athe group\n::endgroup::\n::group::failing\n::endgroup::\n"
	if got := out.String(); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestSecretInput(t *testing.T) {
	rt, out, _ := newTestRuntime(t, fakeEnv{"INPUT_GITHUB-TOKEN": "ghp_fromInput", "INPUT_MODE": "pr"})

	token, err := rt.SecretInput("github-token")
	if err != nil || token != "ghp_fromInput" {
		t.Fatalf("SecretInput = %q, %v", token, err)
	}
	if got := rt.Input("mode"); got != "pr" {
		t.Errorf("Input(mode) = %q", got)
	}
	if got := out.String(); got != "::add-mask::ghp_fromInput\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := rt.Redact("Authorization: Bearer ghp_fromInput"); got != "Authorization: Bearer ***" {
		t.Errorf("Redact = %q", got)
	}
}

func TestIDToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer request-token" || r.URL.Query().Get("audience") != "sigstore" {
			http.Error(w, "denied", http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(`{"value":"eyJhbGciOi.payload.signature"}`))
	}))
	t.Cleanup(srv.Close)
	rt, out, _ := newTestRuntime(t, fakeEnv{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   srv.URL + "/token?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
	})

	token, err := rt.IDToken(context.Background(), "sigstore")
	if err != nil {
		t.Fatalf("IDToken: %v", err)
	}
	if token != "eyJhbGciOi.payload.signature" {
		t.Errorf("token = %q", token)
	}
	if !strings.HasSuffix(out.String(), "::add-mask::eyJhbGciOi.payload.signature\n") {
		t.Errorf("token not masked; stdout = %q", out.String())
	}
	if _, err := rt.IDToken(context.Background(), "other"); err == nil {
		t.Errorf("denied request succeeded")
	}
}

func TestLogHandler(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string
	}{
		{"info plain line", func(l *slog.Logger) { l.Info("evaluated", "rules", 12, "verdict", "pass") }, "evaluated rules=12 verdict=pass\n"},
		{"info quoted value", func(l *slog.Logger) { l.Info("reading", "path", "my file.csv") }, "reading path=\"my file.csv\"\n"},
		{"info cannot inject a command", func(l *slog.Logger) { l.Info("value:\n  ::add-mask::x\r::stop-commands::y") }, "value:\n  %3A:add-mask::x\n%3A:stop-commands::y\n"},
		{"debug", func(l *slog.Logger) { l.Debug("100% done\nnext") }, "::debug::100%25 done%0Anext\n"},
		{"warning", func(l *slog.Logger) { l.Warn("comment not posted", "reason", "fork") }, "::warning::comment not posted reason=fork\n"},
		{"notice", func(l *slog.Logger) { l.Log(context.Background(), LevelNotice, "baseline found") }, "::notice::baseline found\n"},
		{
			"error with annotation properties",
			func(l *slog.Logger) {
				l.Error("rule failed", AttrFile, "policies/a:b.yml", AttrLine, 7, AttrTitle, "acc, min", "measured", 0.71)
			},
			"::error file=policies/a%3Ab.yml,line=7,title=acc%2C min::rule failed measured=0.71\n",
		},
		{"groups and attrs", func(l *slog.Logger) {
			l.With("run", 3).WithGroup("eval").Info("done", "rows", 10, slog.Group("cm", "tp", 1))
		}, "done run=3 eval.rows=10 eval.cm.tp=1\n"},
		{"secret redacted", func(l *slog.Logger) {
			l.Error("request failed: Bearer ghs_secretvalue", "header", "token ghs_secretvalue")
		}, "::error::request failed: Bearer *** header=\"token ***\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, out, _ := newTestRuntime(t, fakeEnv{"GITHUB_TOKEN": "ghs_secretvalue"})
			before := len(out.String())

			tt.log(slog.New(rt.LogHandler(nil)))

			if got := out.String()[before:]; got != tt.want {
				t.Errorf("stdout = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLogHandlerLevel(t *testing.T) {
	rt, out, _ := newTestRuntime(t, nil)
	logger := slog.New(rt.LogHandler(slog.LevelWarn))

	logger.Info("hidden")
	logger.Debug("hidden")
	logger.Warn("shown")

	if got := out.String(); got != "::warning::shown\n" {
		t.Errorf("stdout = %q", got)
	}
}

func TestLogHandlerConcurrent(t *testing.T) {
	rt, out, _ := newTestRuntime(t, nil)
	logger := slog.New(rt.LogHandler(nil))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				logger.Info("line", "worker", i)
			}
		}()
	}
	wg.Wait()

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("got %d lines, want 400", len(lines))
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "line worker=") {
			t.Errorf("interleaved line %q", line)
		}
	}
}
