package provider

import (
	"context"
	"time"

	dstimeouts "github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// defaultReadTimeout bounds a resource's or data source's read (refresh)
// when its `timeouts` block sets no `read`: the client retries refused
// connections, 429 and 503 until then (a server restart, throttling).
const defaultReadTimeout = 5 * time.Minute

// readTimeoutDoc is the sentence every `timeouts` description ends with.
const readTimeoutDoc = " `read` bounds a refresh (default 5m). Within each of them the provider retries what is safe to " +
	"retry — refused or dropped connections, `rate.limited` (429), `server.unavailable` (503) — with backoff " +
	"until the timeout passes (see the troubleshooting guide)."

// dataSourceTimeoutsBlock is the `timeouts` block of every data source: `read`.
func dataSourceTimeoutsBlock(ctx context.Context, what string) schema.Block {
	b, ok := dstimeouts.Block(ctx).(schema.SingleNestedBlock)
	if !ok {
		return dstimeouts.Block(ctx)
	}
	b.MarkdownDescription = "How long reading " + what + " may take." + readTimeoutDoc
	return b
}

// dataSourceReadContext bounds a data source's Read by its `timeouts.read`.
func dataSourceReadContext(ctx context.Context, req datasource.ReadRequest, diags *diag.Diagnostics) (context.Context, context.CancelFunc) {
	var to dstimeouts.Value
	diags.Append(req.Config.GetAttribute(ctx, path.Root("timeouts"), &to)...)
	if diags.HasError() {
		return ctx, func() {}
	}
	return operationContext(ctx, to.Read, defaultReadTimeout, diags)
}
