package provider

// The shared acceptance-test harness: accTest (provider factories and
// pre-check), one Nimbus server per test (in-process on loopback, or the
// server named by NIMBUS_ENDPOINT), provider-block and name helpers.

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/testfixtures"
	"github.com/nimbus/terraform-provider-nimbus/internal/testserver"
)

// testAccProtoV6ProviderFactories runs the provider in-process for
// acceptance tests (the configuration names it "nimbus").
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"nimbus": providerserver.NewProtocol6WithError(New("test")()),
}

// accTest runs an acceptance test case on the in-process provider
// (testAccProtoV6ProviderFactories) after testAccPreCheck, so that a case
// sets only what its test is about.
func accTest(t *testing.T, tc resource.TestCase) {
	t.Helper()
	tc.PreCheck = func() { testAccPreCheck(t) }
	tc.ProtoV6ProviderFactories = testAccProtoV6ProviderFactories
	resource.Test(t, tc)
}

// testAccPreCheck skips nothing and checks what a run needs: the CLI path
// is set by `make testacc` (TF_ACC_TERRAFORM_PATH), and a remote server
// needs its credential.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("NIMBUS_ENDPOINT") != "" && os.Getenv("NIMBUS_TOKEN") == "" && os.Getenv("NIMBUS_API_KEY") == "" {
		t.Fatal("NIMBUS_ENDPOINT is set: set NIMBUS_TOKEN or NIMBUS_API_KEY (and NIMBUS_TENANT_ID) for that server too")
	}
}

// testAccEnv is the Nimbus server a test talks to.
type testAccEnv struct {
	Endpoint string
	Token    string
	APIKey   string
	Tenant   string
	// Server is the in-process server (nil with NIMBUS_ENDPOINT).
	Server *testserver.Server
}

// newTestServer starts an in-process Nimbus server for one test on a
// loopback port with the simulated runtime and short delays, or, when
// NIMBUS_ENDPOINT is set, returns that server (options are then ignored;
// tests needing the in-process server call requireLocalServer).
func newTestServer(t *testing.T, opts ...func(*testserver.Options)) *testAccEnv {
	t.Helper()
	if ep := os.Getenv("NIMBUS_ENDPOINT"); ep != "" {
		return &testAccEnv{
			Endpoint: ep, Token: os.Getenv("NIMBUS_TOKEN"), APIKey: os.Getenv("NIMBUS_API_KEY"),
			Tenant: os.Getenv("NIMBUS_TENANT_ID"),
		}
	}
	fast := func(o *testserver.Options) {
		o.StartDelay = 20 * time.Millisecond
		o.StopDelay = 20 * time.Millisecond
		o.HealthInterval = 50 * time.Millisecond
	}
	s := testserver.Start(t, append([]func(*testserver.Options){fast}, opts...)...)
	return &testAccEnv{Endpoint: s.URL, Token: s.Token, APIKey: s.APIKey, Tenant: s.Tenant, Server: s}
}

// requireLocalServer skips a test that needs the in-process server (fake
// clock, restarts, extra tenants) when running against NIMBUS_ENDPOINT.
func requireLocalServer(t *testing.T, env *testAccEnv) {
	t.Helper()
	if env.Server == nil {
		t.Skip("needs the in-process test server; unset NIMBUS_ENDPOINT to run it")
	}
}

// ProviderConfig is a provider block for this server with a bearer token.
func (e *testAccEnv) ProviderConfig() string {
	tenant := ""
	if e.Tenant != "" {
		tenant = fmt.Sprintf("  tenant_id = %q\n", e.Tenant)
	}
	cred := fmt.Sprintf("  token     = %q\n", e.Token)
	if e.Token == "" {
		cred = fmt.Sprintf("  api_key   = %q\n", e.APIKey)
	}
	return fmt.Sprintf("provider \"nimbus\" {\n  endpoint  = %q\n%s%s}\n", e.Endpoint, tenant, cred)
}

// Config joins the provider block and the given configuration.
func (e *testAccEnv) Config(cfg ...string) string {
	return e.ProviderConfig() + "\n" + strings.Join(cfg, "\n")
}

// Client returns an API client for this server (default tenant), in a
// stubbed environment.
func (e *testAccEnv) Client(t *testing.T) *client.Client {
	t.Helper()
	return testfixtures.Client(t, client.Config{Endpoint: e.Endpoint, Token: e.Token, APIKey: e.APIKey, TenantID: e.Tenant})
}

var accNameSeq atomic.Int64

// testAccName returns a unique, valid Nimbus name with the given prefix, so
// tests sharing a remote server do not collide.
func testAccName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, accNameSeq.Add(1))
}
