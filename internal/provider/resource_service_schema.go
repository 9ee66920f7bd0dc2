package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

// serviceModel is the nimbus_service resource's state.
type serviceModel struct {
	ID              types.String          `tfsdk:"id"`
	Name            types.String          `tfsdk:"name"`
	TenantID        types.String          `tfsdk:"tenant_id"`
	Labels          types.Map             `tfsdk:"labels"`
	Sandbox         *serviceSandboxModel  `tfsdk:"sandbox"`
	BuiltIn         *serviceBuiltInModel  `tfsdk:"built_in"`
	External        *serviceExternalModel `tfsdk:"external"`
	Running         types.Bool            `tfsdk:"running"`
	WaitUntil       types.String          `tfsdk:"wait_until"`
	RestartTriggers types.Map             `tfsdk:"restart_triggers"`
	Timeouts        timeouts.Value        `tfsdk:"timeouts"`

	Generation         types.Int64       `tfsdk:"generation"`
	ObservedGeneration types.Int64       `tfsdk:"observed_generation"`
	LifecycleState     types.String      `tfsdk:"lifecycle_state"`
	Readiness          types.String      `tfsdk:"readiness"`
	Health             types.String      `tfsdk:"health"`
	StatusMessage      types.String      `tfsdk:"status_message"`
	SandboxID          types.String      `tfsdk:"sandbox_id"`
	Conditions         types.List        `tfsdk:"conditions"`
	Endpoints          types.List        `tfsdk:"endpoints"`
	CreatedAt          timetypes.RFC3339 `tfsdk:"created_at"`
	UpdatedAt          timetypes.RFC3339 `tfsdk:"updated_at"`
}

type serviceSandboxModel struct {
	Backend              types.String `tfsdk:"backend"`
	Image                types.String `tfsdk:"image"`
	Argv                 types.List   `tfsdk:"argv"`
	Environment          types.Map    `tfsdk:"environment"`
	EnvironmentWO        types.Map    `tfsdk:"environment_wo"`
	EnvironmentWOVersion types.Int64  `tfsdk:"environment_wo_version"`
}

type serviceBuiltInModel struct {
	Provider types.String `tfsdk:"provider"`
}

type serviceExternalModel struct {
	URL        types.String              `tfsdk:"url"`
	HealthPath types.String              `tfsdk:"health_path"`
	Auth       *serviceExternalAuthModel `tfsdk:"auth"`
}

type serviceExternalAuthModel struct {
	Kind           types.String `tfsdk:"kind"`
	Token          types.String `tfsdk:"token"`
	TokenWO        types.String `tfsdk:"token_wo"`
	TokenWOVersion types.Int64  `tfsdk:"token_wo_version"`
}

// Object types of the computed lists (shared with the data sources).
var (
	conditionAttrTypes = map[string]attr.Type{
		"type": types.StringType, "status": types.StringType, "reason": types.StringType, "message": types.StringType,
		"observed_generation": types.Int64Type, "last_transition_time": timetypes.RFC3339Type{},
	}
)

func (r *ServiceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Nimbus service: a named workload that Nimbus runs (a `sandbox` backend), provides " +
			"(a `built_in` backend) or health-checks (an `external` backend). Apply creates the service, starts it " +
			"and waits until it is ready (see `wait_until`); updates are sent with the generation Terraform last saw, " +
			"so a change made outside Terraform since the last refresh is never overwritten silently.\n\n" +
			"Exactly one of `sandbox`, `built_in` and `external` must be set.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Identifier of the service in Terraform: `TENANT/NAME`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Name of the service, unique in its tenant. It " + api.NameRule +
					". Changing it creates a new service.",
				Validators:    []validator.String{validators.Name()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"tenant_id": schema.StringAttribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Tenant of the service. Defaults to the provider's tenant. " +
					"Changing it creates a new service.",
				Validators: []validator.String{validators.Name()},
				PlanModifiers: []planmodifier.String{
					stringplanmodifier.UseStateForUnknown(),
					stringplanmodifier.RequiresReplaceIfConfigured(),
				},
			},
			"labels": schema.MapAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Labels of the service (at most 64). Updated in place.",
				Validators:          []validator.Map{validators.Labels()},
			},
			"sandbox": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Run the service in a sandbox that Nimbus manages. The API never returns `argv` " +
					"and `environment` (it redacts them), so Terraform keeps the configured values; they cannot be " +
					"recovered by import; use `environment_wo` to keep environment secrets out of plan and state. " +
					"Changing the backend of a running service rolls it: apply waits until the new spec is observed and ready.",
				Attributes: map[string]schema.Attribute{
					"backend": schema.StringAttribute{
						Optional:            true,
						Computed:            true,
						Default:             stringdefault.StaticString(api.RuntimeContainer),
						MarkdownDescription: "Sandbox runtime: `container` (default) or `krun` (a micro-VM).",
						Validators:          []validator.String{stringvalidator.OneOf(api.RuntimeContainer, api.RuntimeKrun)},
					},
					"image": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "OCI image reference of the sandbox's root filesystem, such as `registry.example.com/web:1.4`.",
						Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
					},
					"argv": schema.ListAttribute{
						Optional:            true,
						ElementType:         types.StringType,
						MarkdownDescription: "Command and arguments of the sandbox's process. Not returned by the API (redacted).",
					},
					"environment": schema.MapAttribute{
						Optional:    true,
						Sensitive:   true,
						ElementType: types.StringType,
						MarkdownDescription: "Environment variables of the sandbox's process. Sensitive; not returned by the API " +
							"(redacted). Conflicts with `environment_wo`.",
						Validators: []validator.Map{
							mapvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("environment_wo")),
							validators.EnvironmentNames(),
						},
					},
					"environment_wo": schema.MapAttribute{
						Optional:    true,
						Sensitive:   true,
						WriteOnly:   true,
						ElementType: types.StringType,
						MarkdownDescription: "Write-only environment variables of the sandbox's process: sent to the server, " +
							"never stored in plan or state. Requires Terraform 1.11+ or OpenTofu 1.11+. Every update that " +
							"sends the backend sends them again from the configuration. Terraform cannot see changes to " +
							"them: bump `environment_wo_version` to apply new values (the service rolls). Conflicts with `environment`.",
						Validators: []validator.Map{
							mapvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("environment")),
							validators.EnvironmentNames(),
						},
					},
					"environment_wo_version": schema.Int64Attribute{
						Optional: true,
						MarkdownDescription: "Version of `environment_wo`; changing it updates the backend in place with the " +
							"current `environment_wo` and rolls the running service.",
						Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName("environment_wo"))},
					},
				},
			},
			"built_in": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Use a service that Nimbus provides itself.",
				Attributes: map[string]schema.Attribute{
					"provider": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "The built-in provider: one of `" + strings.Join(api.BuiltInProviders, "`, `") + "`.",
						Validators:          []validator.String{stringvalidator.OneOf(api.BuiltInProviders...)},
					},
				},
			},
			"external": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "A service running elsewhere, which Nimbus health-checks over HTTP.",
				Attributes: map[string]schema.Attribute{
					"url": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "Absolute http(s) URL of the service, such as `https://search.internal:9200`.",
						Validators:          []validator.String{validators.HTTPURL()},
					},
					"health_path": schema.StringAttribute{
						Optional:            true,
						MarkdownDescription: "Path Nimbus requests (GET, any 2xx is healthy), such as `/healthz`. Must start with `/`.",
						Validators:          []validator.String{validators.HealthPath()},
					},
					"auth": schema.SingleNestedAttribute{
						Optional:            true,
						MarkdownDescription: "How Nimbus authenticates its health checks.",
						Attributes: map[string]schema.Attribute{
							"kind": schema.StringAttribute{
								Required:            true,
								MarkdownDescription: "`none` or `bearer`.",
								Validators:          []validator.String{stringvalidator.OneOf(api.AuthKindNone, api.AuthKindBearer)},
							},
							"token": schema.StringAttribute{
								Optional:  true,
								Sensitive: true,
								MarkdownDescription: "Bearer token; `kind = \"bearer\"` requires it or `token_wo`. Sensitive; not " +
									"returned by the API, so it cannot be recovered by import. Conflicts with `token_wo`.",
								Validators: []validator.String{
									stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("token_wo")),
								},
							},
							"token_wo": schema.StringAttribute{
								Optional:  true,
								Sensitive: true,
								WriteOnly: true,
								MarkdownDescription: "Write-only bearer token: sent to the server, never stored in plan or state. " +
									"Requires Terraform 1.11+ or OpenTofu 1.11+. Every update that sends the backend sends it " +
									"again from the configuration. Terraform cannot see changes to it: bump `token_wo_version` " +
									"to apply a new token. Conflicts with `token`.",
								Validators: []validator.String{
									stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("token")),
								},
							},
							"token_wo_version": schema.Int64Attribute{
								Optional: true,
								MarkdownDescription: "Version of `token_wo`; changing it updates the backend in place with the " +
									"current `token_wo`.",
								Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName("token_wo"))},
							},
						},
					},
				},
			},
			"running": schema.BoolAttribute{
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
				MarkdownDescription: "Whether the service should be running (default `true`). `false` stops it. " +
					"A service found stopped or failed while `running = true` shows as a planned change that starts it.",
			},
			"wait_until": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(api.WaitReady),
				MarkdownDescription: "What apply waits for after starting, updating or restarting the service: `ready` " +
					"(default), `healthy` (ready and passing health checks) or `none`. Bounded by the `timeouts` block.",
				Validators: []validator.String{stringvalidator.OneOf(api.WaitReady, api.WaitHealthy, "none")},
			},
			"restart_triggers": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				MarkdownDescription: "Arbitrary values; any change restarts the running service in place (for example " +
					"`{ config = sha256(file(\"app.conf\")) }`). Not imported: the first apply after an import records " +
					"them without a restart. Prefer them when the cause of the restart is a value this configuration " +
					"computes; prefer the `nimbus_service_restart` action (Terraform 1.14+) to restart when another " +
					"resource changes (from its `action_trigger`), for a service managed elsewhere, or on demand " +
					"(`terraform apply -invoke`) without changing any configuration.",
			},
			"generation": schema.Int64Attribute{
				Computed: true,
				MarkdownDescription: "Generation of the service's spec; every update of `labels` or the backend (including a " +
					"`*_wo_version` change) increments it. " +
					"An update plan shows it unknown only when it sends such an update.",
			},
			"observed_generation": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "Generation the running service reflects.",
			},
			"lifecycle_state": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Observed lifecycle state: `stopped`, `starting`, `running`, `stopping` or `failed`.",
			},
			"readiness": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Observed readiness: `ready` or `notReady`.",
			},
			"health": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Observed health: `healthy`, `unhealthy` or `unknown`.",
			},
			"status_message": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Server message explaining the current state (for example why the service failed).",
			},
			"sandbox_id": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "ID of the sandbox a running sandbox-backed service owns. Kept in update plans unless the " +
					"change rolls (backend change), stops, starts or restarts the service.",
			},
			"conditions": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Status conditions (`Ready`, `Healthy`, `Progressing`).",
				NestedObject:        schema.NestedAttributeObject{Attributes: conditionResourceAttrs()},
			},
			"endpoints": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "Where the running service can be reached. Kept in update plans (so resources using " +
					"them are not replaced) unless the change rolls (backend change), stops, starts or restarts the service.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Computed: true, MarkdownDescription: "Endpoint name."},
					"url":  schema.StringAttribute{Computed: true, MarkdownDescription: "Endpoint URL."},
				}},
			},
			"created_at": schema.StringAttribute{
				Computed:            true,
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: "When the service was created (RFC 3339).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"updated_at": schema.StringAttribute{
				Computed:   true,
				CustomType: timetypes.RFC3339Type{},
				MarkdownDescription: "When the service was last changed (RFC 3339). Like the other status values " +
					"(`observed_generation`, `lifecycle_state`, `readiness`, `health`, `status_message`, `conditions`), " +
					"unknown in every update plan: any update or health check may rewrite it.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeoutsBlock(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true},
				"How long create (create, start and wait), update (update, start/stop/restart and wait) and delete "+
					"(one generation-checked forced delete, which stops a running service) may take. Defaults: create 20m, update 20m, delete 10m."+readTimeoutDoc),
		},
	}
}

func conditionResourceAttrs() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"type":                 schema.StringAttribute{Computed: true, MarkdownDescription: "Condition type."},
		"status":               schema.StringAttribute{Computed: true, MarkdownDescription: "`True`, `False` or `Unknown`."},
		"reason":               schema.StringAttribute{Computed: true, MarkdownDescription: "Machine-readable reason."},
		"message":              schema.StringAttribute{Computed: true, MarkdownDescription: "Human-readable message."},
		"observed_generation":  schema.Int64Attribute{Computed: true, MarkdownDescription: "Generation the condition describes."},
		"last_transition_time": schema.StringAttribute{Computed: true, CustomType: timetypes.RFC3339Type{}, MarkdownDescription: "When the status last changed."},
	}
}

// timeoutsBlock is the terraform-plugin-framework-timeouts block with a
// description (the library leaves the block itself undescribed).
func timeoutsBlock(ctx context.Context, opts timeouts.Opts, description string) schema.Block {
	b, ok := timeouts.Block(ctx, opts).(schema.SingleNestedBlock)
	if !ok {
		return timeouts.Block(ctx, opts)
	}
	b.MarkdownDescription = description
	return b
}
