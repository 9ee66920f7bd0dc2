// Package provider implements the Nimbus Terraform/OpenTofu provider with
// terraform-plugin-framework (protocol 6).
package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/list"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/clock"
	"github.com/nimbus/terraform-provider-nimbus/internal/diagnostics"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

// LogSubsystemAPI is the terraform-plugin-log subsystem of API calls
// (TF_LOG_PROVIDER_NIMBUS_API=DEBUG shows them alone).
const LogSubsystemAPI = "api"

// The provider's resources, data sources, ephemeral resources, list
// resources and actions. Add a
// constructor here to register a new type (one line each).
var (
	resourceTypes = []func() resource.Resource{
		NewServiceResource,
		NewSandboxResource,
		NewSessionResource,
	}
	dataSourceTypes = []func() datasource.DataSource{
		NewServiceDataSource,
		NewServicesDataSource,
		NewSandboxDataSource,
		NewSandboxesDataSource,
		NewSessionDataSource,
		NewSessionsDataSource,
	}
	ephemeralResourceTypes = []func() ephemeral.EphemeralResource{
		NewSessionEphemeralResource,
	}
	listResourceTypes = []func() list.ListResource{
		NewServiceListResource,
		NewSandboxListResource,
		NewSessionListResource,
	}
	actionTypes = []func() action.Action{
		NewServiceRestartAction,
		NewServiceStartAction,
		NewServiceStopAction,
		NewSandboxStopAction,
		NewSessionCloseAction,
	}
)

var (
	_ provider.Provider                       = (*NimbusProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*NimbusProvider)(nil)
	_ provider.ProviderWithListResources      = (*NimbusProvider)(nil)
	_ provider.ProviderWithActions            = (*NimbusProvider)(nil)
)

// NimbusProvider is the nimbus provider.
type NimbusProvider struct {
	version string
	// getenv and homeDir are injected by unit tests; nil/"" = the process's.
	getenv  func(string) string
	homeDir string
	// clock is the provider's clock (nil = the wall clock). Acceptance tests
	// inject the test server's fake clock, so session expiry is tested
	// without sleeping (the terraform-provider-time pattern).
	clock clock.Clock
}

// New returns the provider factory for the given version ("dev", "test" or
// a release version).
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &NimbusProvider{version: version} }
}

// newWithClock is New with an injected clock (tests).
func newWithClock(version string, c clock.Clock) func() provider.Provider {
	return func() provider.Provider { return &NimbusProvider{version: version, clock: c} }
}

// providerModel is the provider block.
type providerModel struct {
	Endpoint              types.String `tfsdk:"endpoint"`
	TenantID              types.String `tfsdk:"tenant_id"`
	Token                 types.String `tfsdk:"token"`
	APIKey                types.String `tfsdk:"api_key"`
	WorkloadIdentityToken types.String `tfsdk:"workload_identity_token"`
	CredentialsFile       types.String `tfsdk:"credentials_file"`
}

// envFor names the environment variables that can replace each attribute.
var envFor = map[string]string{
	"endpoint":                client.EnvEndpoint,
	"tenant_id":               client.EnvTenantID,
	"token":                   client.EnvToken,
	"api_key":                 client.EnvAPIKey,
	"workload_identity_token": client.EnvWorkloadIdentityToken,
	"credentials_file":        client.EnvApplicationCredentials,
}

// Metadata implements provider.Provider.
func (p *NimbusProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "nimbus"
	resp.Version = p.version
}

// Schema implements provider.Provider.
func (p *NimbusProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The Nimbus provider manages Nimbus services, sandboxes and sessions. " +
			"Every argument is optional: anything unset is discovered from the environment " +
			"(`NIMBUS_ENDPOINT`, `NIMBUS_TENANT_ID`, `NIMBUS_TOKEN`, `NIMBUS_API_KEY`, " +
			"`NIMBUS_WORKLOAD_IDENTITY_TOKEN`, `NIMBUS_APPLICATION_CREDENTIALS`), then from the credential file " +
			"`~/.config/nimbus/application_default_credentials.json`, then from the token file named by " +
			"`NIMBUS_WORKLOAD_IDENTITY_TOKEN_FILE`, and last from HCP Terraform's `TFC_WORKLOAD_IDENTITY_TOKEN`, " +
			"so an HCP Terraform workspace can configure it with environment variables alone.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Base URL of the Nimbus API with its scheme, such as `https://nimbus.example.com` or " +
					"`http://127.0.0.1:8080`. Defaults to `NIMBUS_ENDPOINT`, then the credential file.",
				Validators: []validator.String{validators.Endpoint()},
			},
			"tenant_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Default tenant for objects that do not set `tenant_id`. " +
					"Defaults to `NIMBUS_TENANT_ID`, then the credential file.",
			},
			"token": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "Bearer token. Defaults to `NIMBUS_TOKEN` (or `NIMBUS_BEARER_TOKEN`). " +
					"Set at most one of `token`, `api_key` and `workload_identity_token`.",
			},
			"api_key": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "API key, sent as `X-Nimbus-Api-Key`. Defaults to `NIMBUS_API_KEY`.",
			},
			"workload_identity_token": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "Workload-identity token (for example the one HCP Terraform issues to a run). " +
					"Defaults to `NIMBUS_WORKLOAD_IDENTITY_TOKEN`, then the file named by `NIMBUS_WORKLOAD_IDENTITY_TOKEN_FILE`, " +
					"then `TFC_WORKLOAD_IDENTITY_TOKEN` (HCP Terraform's run token).",
			},
			"credentials_file": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Path of a Nimbus credential file (JSON with `endpoint`, `tenantId` and one of `token`, " +
					"`apiKey`, `workloadIdentityToken`). Defaults to `NIMBUS_APPLICATION_CREDENTIALS`, then " +
					"`~/.config/nimbus/application_default_credentials.json`.",
			},
		},
	}
}

// Configure implements provider.Provider. It never fails for missing
// settings: a *client.ConfigError surfaces on the first API call, naming the
// attribute and environment variable to set. Values unknown at this point
// (computed from another resource) are recorded and reported the same way.
// A setting that is present but unusable (a malformed endpoint) fails here,
// once for the whole run.
func (p *NimbusProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}

	// Nothing below logs a secret; the masks make sure of it.
	var secrets []string
	for _, v := range []types.String{m.Token, m.APIKey, m.WorkloadIdentityToken} {
		if v.ValueString() != "" {
			secrets = append(secrets, v.ValueString())
		}
	}
	ctx = tflog.MaskAllFieldValuesStrings(ctx, secrets...)
	ctx = tflog.MaskFieldValuesWithFieldKeys(ctx, secretFieldKeys...)

	data := &providerData{clock: p.clock}
	attrs := []struct {
		name string
		v    types.String
	}{
		{"endpoint", m.Endpoint}, {"tenant_id", m.TenantID}, {"token", m.Token},
		{"api_key", m.APIKey}, {"workload_identity_token", m.WorkloadIdentityToken}, {"credentials_file", m.CredentialsFile},
	}
	for _, a := range attrs {
		if a.v.IsUnknown() {
			data.unknown = append(data.unknown, a.name)
		}
	}
	if len(data.unknown) > 0 {
		tflog.Warn(ctx, "Nimbus provider configuration depends on values not known yet", map[string]any{"attributes": data.unknown})
		resp.DataSourceData, resp.ResourceData, resp.EphemeralResourceData = data, data, data
		resp.ListResourceData, resp.ActionData = data, data
		return
	}

	cfg := client.Config{
		Endpoint:        m.Endpoint.ValueString(),
		TenantID:        m.TenantID.ValueString(),
		Token:           m.Token.ValueString(),
		APIKey:          m.APIKey.ValueString(),
		Credential:      m.WorkloadIdentityToken.ValueString(),
		CredentialsFile: m.CredentialsFile.ValueString(),
		UserAgent:       fmt.Sprintf("terraform-provider-nimbus/%s (terraform %s)", p.version, req.TerraformVersion),
		Getenv:          p.getenv,
		HomeDir:         p.homeDir,
		RequestLog:      apiCallLogger(secrets),
	}
	c, err := client.New(cfg)
	if err != nil {
		// An unusable setting (a malformed endpoint such as
		// NIMBUS_ENDPOINT=127.0.0.1:8080, an invalid tenant id, an
		// unreadable credential file) is reported here, once, instead of
		// by every resource. Missing settings are still reported by the
		// first call that needs them.
		d := diagnostics.FromError("Cannot configure the Nimbus provider", err)
		var ce *client.ConfigError
		if errors.As(err, &ce) && ce.Setting == client.SettingEndpoint && ce.Source == client.SourceOption("endpoint") {
			resp.Diagnostics.AddAttributeError(path.Root("endpoint"), d.Summary(), d.Detail())
		} else if errors.As(err, &ce) && ce.Setting == client.SettingTenant && ce.Source == client.SourceOption("tenant_id") {
			resp.Diagnostics.AddAttributeError(path.Root("tenant_id"), d.Summary(), d.Detail())
		} else {
			resp.Diagnostics.Append(d)
		}
		return
	}
	data.client = c
	s := c.Settings()
	tflog.Debug(ctx, "Configured the Nimbus client", map[string]any{
		"endpoint": s.Endpoint, "endpoint_source": s.EndpointSource,
		"tenant_id": s.TenantID, "tenant_source": s.TenantSource,
		"credential_kind": s.CredentialKind, "credential_source": s.CredentialSource,
	})
	resp.DataSourceData, resp.ResourceData, resp.EphemeralResourceData = data, data, data
	resp.ListResourceData, resp.ActionData = data, data
}

// apiCallLogger returns the client's request logger: one line per API call
// in the "api" subsystem. It carries no header or body; fields named like
// credentials and every occurrence of a configured secret are masked (the
// masks set in Configure do not reach the contexts of later RPCs, so the
// logger sets its own).
func apiCallLogger(secrets []string) func(ctx context.Context, method, path string, status int, duration time.Duration, requestID string) {
	return func(ctx context.Context, method, path string, status int, duration time.Duration, requestID string) {
		ctx = tflog.NewSubsystem(ctx, LogSubsystemAPI)
		ctx = tflog.SubsystemMaskFieldValuesWithFieldKeys(ctx, LogSubsystemAPI, secretFieldKeys...)
		ctx = tflog.SubsystemMaskAllFieldValuesStrings(ctx, LogSubsystemAPI, secrets...)
		ctx = tflog.SubsystemMaskMessageStrings(ctx, LogSubsystemAPI, secrets...)
		tflog.SubsystemDebug(ctx, LogSubsystemAPI, "Nimbus API call", map[string]any{
			"method": method, "path": path, "status": status,
			"duration_ms": duration.Milliseconds(), "request_id": requestID,
		})
	}
}

// secretFieldKeys are log field keys whose values are always masked.
var secretFieldKeys = []string{"token", "api_key", "workload_identity_token", "authorization"}

// Resources implements provider.Provider.
func (p *NimbusProvider) Resources(context.Context) []func() resource.Resource {
	return resourceTypes
}

// DataSources implements provider.Provider.
func (p *NimbusProvider) DataSources(context.Context) []func() datasource.DataSource {
	return dataSourceTypes
}

// EphemeralResources implements provider.ProviderWithEphemeralResources.
func (p *NimbusProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return ephemeralResourceTypes
}

// ListResources implements provider.ProviderWithListResources.
func (p *NimbusProvider) ListResources(context.Context) []func() list.ListResource {
	return listResourceTypes
}

// Actions implements provider.ProviderWithActions.
func (p *NimbusProvider) Actions(context.Context) []func() action.Action {
	return actionTypes
}

// providerData is what Configure hands to resources, data sources and
// ephemeral resources.
type providerData struct {
	client *client.Client
	// unknown lists provider attributes whose values were unknown at
	// configure time.
	unknown []string
	// clock is the provider's clock (nil = the wall clock); use now().
	clock clock.Clock
}

// now is the provider's time; the wall clock's before configuration.
func (pd *providerData) now() time.Time {
	if pd == nil || pd.clock == nil {
		return time.Now()
	}
	return pd.clock.Now()
}

// configureProviderData type-asserts the provider data given to a
// resource's or data source's Configure. nil (before the provider is
// configured) returns nil without error.
func configureProviderData(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil
	}
	pd, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *providerData, got %T. This is a bug in the Nimbus provider; please report it.", v))
		return nil
	}
	return pd
}

// clientFor returns the API client, or nil after adding a diagnostic that
// says what to configure.
func clientFor(_ context.Context, pd *providerData, diags *diag.Diagnostics) *client.Client {
	if pd == nil {
		diags.AddError("Nimbus provider not configured",
			"The Nimbus provider was not configured before it was used. This is a bug in Terraform or the provider; please report it.")
		return nil
	}
	if len(pd.unknown) > 0 {
		vars := make([]string, len(pd.unknown))
		for i, a := range pd.unknown {
			vars[i] = fmt.Sprintf("%#q (or %s)", a, envFor[a])
		}
		diags.AddError("Nimbus provider configuration is not known yet",
			"The provider block sets "+strings.Join(quoted(pd.unknown), ", ")+" from values that are only known after apply "+
				"(for example another resource's attribute), so the provider cannot talk to the Nimbus server in this run. "+
				"It does not fall back to other settings. Set "+strings.Join(vars, ", ")+" to values known at plan time, "+
				"or create the resources they depend on first with `terraform apply -target=…`.")
		return nil
	}
	return pd.client
}

func quoted(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "`" + v + "`"
	}
	return out
}

// addAPIError reports err through the one error-to-diagnostic mapper.
func addAPIError(diags *diag.Diagnostics, summary string, err error) {
	diagnostics.Append(diags, summary, err)
}
