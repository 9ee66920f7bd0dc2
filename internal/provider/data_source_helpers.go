package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

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
