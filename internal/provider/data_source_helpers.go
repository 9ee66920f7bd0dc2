package provider

import (
	"context"
	"iter"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/nimbus/terraform-provider-nimbus/internal/client"
	"github.com/nimbus/terraform-provider-nimbus/internal/validators"
)

// dataSourceTenantAttr is the tenant_id of every data source: optional, a
// valid tenant id, the provider's tenant when unset. doc says what it is.
func dataSourceTenantAttr(doc string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional:            true,
		Computed:            true,
		MarkdownDescription: doc + " Defaults to the provider's tenant.",
		Validators:          []validator.String{validators.Name()},
	}
}

// dataSourceBase is what every data source shares: its type name (the
// provider's name + suffix) and the configured provider data.
type dataSourceBase struct {
	suffix string
	data   *providerData
}

func (b *dataSourceBase) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + b.suffix
}

func (b *dataSourceBase) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	b.data = configureProviderData(req.ProviderData, &resp.Diagnostics)
}

// beginRead starts the Read of a data source whose configuration model m
// has a tenant_id (tenantID returns it once m is read): it reads m, bounds
// ctx by the timeouts block, gets the client and resolves the tenant (the
// configured one, else the provider's). It returns the bounded context, its
// cancel (always to be called), the client and the tenant; a nil client
// means resp has the error and Read stops.
func beginRead(ctx context.Context, pd *providerData, req datasource.ReadRequest, resp *datasource.ReadResponse,
	m any, tenantID func() types.String) (context.Context, context.CancelFunc, *client.Client, string) {
	nothing := func() {}
	resp.Diagnostics.Append(req.Config.Get(ctx, m)...)
	if resp.Diagnostics.HasError() {
		return ctx, nothing, nil, ""
	}
	ctx, cancel := dataSourceReadContext(ctx, req, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return ctx, cancel, nil, ""
	}
	c := clientFor(ctx, pd, &resp.Diagnostics)
	if c == nil {
		return ctx, cancel, nil, ""
	}
	tenant := resolveTenant(c, tenantID(), &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return ctx, cancel, nil, ""
	}
	return ctx, cancel, c, tenant
}

// listObjectValues reads every item of a listing (all pages) into the list
// of their ids and the list of their models M (objects of attrTypes). On a
// listing error it adds a diagnostic (summary) and returns false.
func listObjectValues[T, M any](ctx context.Context, c *client.Client, diags *diag.Diagnostics, summary string,
	items iter.Seq2[T, error], id func(*T) string, attrTypes map[string]attr.Type,
	model func(*T, *diag.Diagnostics) M) (ids, objects types.List, ok bool) {
	idVals, models := []string{}, []M{}
	for it, err := range items {
		if err != nil {
			addCallError(ctx, c, diags, summary, err)
			return ids, objects, false
		}
		models = append(models, model(&it, diags))
		idVals = append(idVals, id(&it))
	}
	ids, d := types.ListValueFrom(ctx, types.StringType, idVals)
	diags.Append(d...)
	objects, d = types.ListValueFrom(ctx, types.ObjectType{AttrTypes: attrTypes}, models)
	diags.Append(d...)
	return ids, objects, true
}
