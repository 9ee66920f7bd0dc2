package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// tokenUpstream is a loopback HTTP service that answers 200 only to the
// bearer token it currently accepts, and records the Authorization header of
// the last request per path: what the Nimbus server's health checks sent.
type tokenUpstream struct {
	*httptest.Server
	mu     sync.Mutex
	accept string
	last   map[string]string
}

func newTokenUpstream(t *testing.T, accept string) *tokenUpstream {
	t.Helper()
	u := &tokenUpstream{accept: accept, last: map[string]string{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		defer u.mu.Unlock()
		got := r.Header.Get("Authorization")
		u.last[r.URL.Path] = got
		if got != "Bearer "+u.accept {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *tokenUpstream) setAccept(token string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.accept = token
}

// sawToken waits until the health checks of path carry token (the server
// checks every 50ms in tests).
func (u *tokenUpstream) sawToken(path, token string) func(*terraform.State) error {
	return func(*terraform.State) error {
		var last string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			u.mu.Lock()
			last = u.last[path]
			u.mu.Unlock()
			if last == "Bearer "+token {
				return nil
			}
		}
		if last == "" {
			return fmt.Errorf("no health check of %s reached the upstream", path)
		}
		return fmt.Errorf("the health checks of %s do not carry the expected token (last Authorization header has %d characters)", path, len(last))
	}
}

// serviceHealthIs checks the service's health on the server.
func serviceHealthIs(t *testing.T, env *testAccEnv, name, want string) func(*terraform.State) error {
	return func(*terraform.State) error {
		svc, err := env.Client(t).Services.Get(t.Context(), name)
		if err != nil {
			return err
		}
		if svc.Status.Health != want {
			return fmt.Errorf("service %q health is %q, want %q", name, svc.Status.Health, want)
		}
		return nil
	}
}

// TestAccService_writeOnlyToken: external.auth.token_wo reaches the server
// (its health checks authenticate with it) but never plan or state; bumping
// token_wo_version applies a new token in place; a backend change for
// another reason (health_path) and a labels change keep the token, because
// every backend PATCH sends it again from the configuration.
func TestAccService_writeOnlyToken(t *testing.T) {
	// Not parallel: isolateWorkDirs sets TF_ACC_TEMP_DIR.
	env := newTestServer(t)
	requireLocalServer(t, env)
	workDirs := isolateWorkDirs(t)
	name := testAccName("wotok")
	const tok1, tok2 = "wo-bearer-token-one", "wo-bearer-token-two"
	up := newTokenUpstream(t, tok1)
	cfg := func(token string, version int, healthPath, labels string) string {
		return env.Config(fmt.Sprintf(`
resource "nimbus_service" "test" {
  name       = %q
  labels     = %s
  wait_until = "healthy"
  external = {
    url         = %q
    health_path = %q
    auth = {
      kind             = "bearer"
      token_wo         = %q
      token_wo_version = %d
    }
  }
}`, name, labels, up.URL, healthPath, token, version))
	}
	authIs := func(version int64) statecheck.StateCheck {
		return stateIs(svcAddr, "external", knownvalue.ObjectPartial(map[string]knownvalue.Check{
			"auth": knownvalue.ObjectExact(map[string]knownvalue.Check{
				"kind": knownvalue.StringExact(api.AuthKindBearer), "token": knownvalue.Null(),
				"token_wo": knownvalue.Null(), "token_wo_version": knownvalue.Int64Exact(version),
			}),
		}))
	}
	var gen string
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowWriteOnly,
		CheckDestroy:           checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				Config:           cfg(tok1, 1, "/healthz", "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "health", knownvalue.StringExact(api.HealthHealthy)),
					authIs(1),
					stateNeverContains{secret: tok1},
				},
				Check: resource.ComposeTestCheckFunc(
					up.sawToken("/healthz", tok1),
					stateFileNeverContains(workDirs, tok1),
					captureAttr(svcAddr, "generation", &gen),
				),
			},
			{
				// The upstream now wants the new token: the apply waits until
				// the health checks carry it.
				PreConfig: func() { up.setAccept(tok2) },
				Config:    cfg(tok2, 2, "/healthz", "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(svcAddr, tfpath("generation")),
						plancheck.ExpectUnknownValue(svcAddr, tfpath("endpoints")),
					},
					PostApplyPostRefresh: emptyPlan,
				},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "health", knownvalue.StringExact(api.HealthHealthy)),
					authIs(2),
					stateNeverContains{secret: tok2},
				},
				Check: resource.ComposeTestCheckFunc(
					attrDiffers(svcAddr, "generation", &gen),
					up.sawToken("/healthz", tok2),
					stateFileNeverContains(workDirs, tok2),
				),
			},
			{
				// A backend change without a version bump: the PATCH sends
				// the token again, so the new path's checks authenticate.
				Config:           cfg(tok2, 2, "/livez", "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: emptyPlan},
				Check: resource.ComposeTestCheckFunc(
					up.sawToken("/livez", tok2),
					serviceHealthIs(t, env, name, api.HealthHealthy),
				),
			},
			{
				// Labels only: the backend on the server is untouched.
				Config:           cfg(tok2, 2, "/livez", `{ team = "search" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{
					stateIs(svcAddr, "labels", knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("search")})),
				},
				Check: resource.ComposeTestCheckFunc(
					up.sawToken("/livez", tok2),
					serviceHealthIs(t, env, name, api.HealthHealthy),
					stateFileNeverContains(workDirs, tok2),
				),
			},
			{
				ResourceName: svcAddr, ImportState: true, ImportStateId: name, ImportStateVerify: true,
				// The version is configuration only; wait_until is not server data.
				ImportStateVerifyIgnore: []string{"external.auth.token_wo_version", "wait_until"},
			},
		},
	})
}

// serviceEnvRecorder records the sandbox environment of every service
// create or backend update the server receives (the server redacts it in
// every response, so the request is where the value can be seen).
type serviceEnvRecorder struct {
	mu   sync.Mutex
	envs []map[string]string
}

func (r *serviceEnvRecorder) option(t *testing.T) func(*testserver.Options) {
	return func(o *testserver.Options) {
		o.WrapHandler = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if (req.Method == http.MethodPost || req.Method == http.MethodPatch) && strings.Contains(req.URL.Path, "/services") {
					b, err := io.ReadAll(req.Body)
					if err != nil {
						t.Errorf("reading the request body: %v", err)
					}
					req.Body = io.NopCloser(bytes.NewReader(b))
					var body struct {
						Backend *api.Backend `json:"backend"`
					}
					if json.Unmarshal(b, &body) == nil && body.Backend != nil && body.Backend.Sandbox != nil {
						r.mu.Lock()
						r.envs = append(r.envs, body.Backend.Sandbox.Process.Environment.Values)
						r.mu.Unlock()
					}
				}
				next.ServeHTTP(w, req)
			})
		}
	}
}

// lastIs checks the environment of the latest request that sent a backend,
// and how many did.
func (r *serviceEnvRecorder) lastIs(sends int, key, want string) func(*terraform.State) error {
	return func(*terraform.State) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.envs) != sends {
			return fmt.Errorf("the server received %d backends, want %d", len(r.envs), sends)
		}
		if got := r.envs[len(r.envs)-1][key]; got != want {
			return fmt.Errorf("the last backend sent has %s of %d characters, want the %d of the configured value", key, len(got), len(want))
		}
		return nil
	}
}

// TestAccService_writeOnlyEnvironment: sandbox.environment_wo reaches the
// server but never plan or state; bumping environment_wo_version sends the
// new values in place and rolls the service (new generation and sandbox); a
// backend change for another reason (image) sends them again; a labels
// change leaves them on the server.
func TestAccService_writeOnlyEnvironment(t *testing.T) {
	// Not parallel: isolateWorkDirs sets TF_ACC_TEMP_DIR.
	var rec serviceEnvRecorder
	env := newTestServer(t, rec.option(t))
	requireLocalServer(t, env)
	workDirs := isolateWorkDirs(t)
	name := testAccName("woenv")
	const s1, s2 = "wo-env-secret-one", "wo-env-secret-two"
	cfg := func(secret string, version int, image, labels string) string {
		return env.Config(fmt.Sprintf(`
resource "nimbus_service" "test" {
  name   = %q
  labels = %s
  sandbox = {
    image                  = %q
    argv                   = ["/bin/app"]
    environment_wo         = { API_TOKEN = %q }
    environment_wo_version = %d
  }
}`, name, labels, image, secret, version))
	}
	sandboxIs := func(image string, version int64) statecheck.StateCheck {
		return stateIs(svcAddr, "sandbox", knownvalue.ObjectExact(map[string]knownvalue.Check{
			"backend": knownvalue.StringExact(api.RuntimeContainer), "image": knownvalue.StringExact(image),
			"argv":        knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("/bin/app")}),
			"environment": knownvalue.Null(), "environment_wo": knownvalue.Null(),
			"environment_wo_version": knownvalue.Int64Exact(version),
		}))
	}
	// The sandbox is kept across rolls; the Ready condition's transition
	// time shows that a roll happened.
	rolls := statecheck.CompareValue(compare.ValuesDiffer())
	var gen string
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowWriteOnly,
		CheckDestroy:           checkServiceDestroyed(t, env, name),
		Steps: []resource.TestStep{
			{
				Config:           cfg(s1, 1, "example/app:1", "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{
					sandboxIs("example/app:1", 1),
					stateNeverContains{secret: s1},
					rolls.AddStateValue(svcAddr, tfpath("conditions")),
				},
				Check: resource.ComposeTestCheckFunc(
					rec.lastIs(1, "API_TOKEN", s1),
					stateFileNeverContains(workDirs, s1),
					captureAttr(svcAddr, "generation", &gen),
				),
			},
			{
				Config: cfg(s2, 2, "example/app:1", "{}"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(svcAddr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(svcAddr, tfpath("generation")),
						plancheck.ExpectUnknownValue(svcAddr, tfpath("endpoints")),
						plancheck.ExpectUnknownValue(svcAddr, tfpath("sandbox_id")),
					},
					PostApplyPostRefresh: emptyPlan,
				},
				ConfigStateChecks: []statecheck.StateCheck{
					sandboxIs("example/app:1", 2),
					stateIs(svcAddr, "lifecycle_state", knownvalue.StringExact(api.ServiceRunning)),
					stateNeverContains{secret: s2},
					rolls.AddStateValue(svcAddr, tfpath("conditions")),
				},
				Check: resource.ComposeTestCheckFunc(
					rec.lastIs(2, "API_TOKEN", s2),
					// Rolled onto a new generation.
					attrDiffers(svcAddr, "generation", &gen),
					resource.TestCheckResourceAttrPair(svcAddr, "generation", svcAddr, "observed_generation"),
					stateFileNeverContains(workDirs, s2),
				),
			},
			{
				// Another backend change: the values go again with it.
				Config:            cfg(s2, 2, "example/app:2", "{}"),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PostApplyPostRefresh: emptyPlan},
				ConfigStateChecks: []statecheck.StateCheck{sandboxIs("example/app:2", 2)},
				Check:             rec.lastIs(3, "API_TOKEN", s2),
			},
			{
				// Labels only: no backend is sent, the server keeps its own.
				Config:           cfg(s2, 2, "example/app:2", `{ team = "web" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: emptyPlan},
				Check: resource.ComposeTestCheckFunc(
					rec.lastIs(3, "API_TOKEN", s2),
					func(*terraform.State) error {
						svc, err := env.Client(t).Services.Get(t.Context(), name)
						if err != nil {
							return err
						}
						if n := svc.Spec.Backend.Sandbox.Process.Environment.Count; n != 1 {
							return fmt.Errorf("the server's service has %d environment entries, want 1", n)
						}
						return nil
					},
					stateFileNeverContains(workDirs, s2),
				),
			},
			{
				ResourceName: svcAddr, ImportState: true, ImportStateId: name, ImportStateVerify: true,
				// Redacted by the API, or configuration only.
				ImportStateVerifyIgnore: []string{"sandbox.argv", "sandbox.environment_wo_version", "wait_until"},
			},
		},
	})
}

// The write-only and plain forms conflict, a version needs its value, and
// the bearer-token check accepts token_wo, all at plan time.
func TestAccService_writeOnlyValidation(t *testing.T) {
	t.Parallel()
	env := newTestServer(t)
	for name, tc := range map[string]struct{ body, want string }{
		"environment and environment_wo": {
			body: `sandbox = {
    image          = "example/app:1"
    environment    = { A = "1" }
    environment_wo = { B = "2" }
  }`,
			want: `(?s)Invalid Attribute Combination.*environment_wo`,
		},
		"environment_wo_version alone": {
			body: `sandbox = {
    image                  = "example/app:1"
    environment_wo_version = 1
  }`,
			want: `(?s)Invalid Attribute Combination.*environment_wo`,
		},
		"token and token_wo": {
			body: `external = {
    url  = "http://127.0.0.1:1"
    auth = { kind = "bearer", token = "a", token_wo = "b" }
  }`,
			want: `(?s)Invalid Attribute Combination.*token_wo`,
		},
		"token_wo_version alone": {
			body: `external = {
    url  = "http://127.0.0.1:1"
    auth = { kind = "bearer", token = "a", token_wo_version = 1 }
  }`,
			want: `(?s)Invalid Attribute Combination.*token_wo`,
		},
		"token_wo with kind none": {
			body: `external = {
    url  = "http://127.0.0.1:1"
    auth = { kind = "none", token_wo = "b" }
  }`,
			want: `(?s)Token not allowed.*token_wo`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			accTest(t, resource.TestCase{
				TerraformVersionChecks: skipBelowWriteOnly,
				Steps: []resource.TestStep{{
					Config: env.Config(fmt.Sprintf(`
resource "nimbus_service" "test" {
  name = "wo-invalid"
  %s
}`, tc.body)),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
	// token_wo satisfies kind = "bearer": the plan succeeds.
	accTest(t, resource.TestCase{
		TerraformVersionChecks: skipBelowWriteOnly,
		Steps: []resource.TestStep{{
			Config: env.Config(`
resource "nimbus_service" "test" {
  name = "wo-valid"
  external = {
    url  = "http://127.0.0.1:1"
    auth = { kind = "bearer", token_wo = "b" }
  }
}`),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		}},
	})
}
