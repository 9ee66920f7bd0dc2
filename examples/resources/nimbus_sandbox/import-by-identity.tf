# Terraform 1.12+ and OpenTofu 1.12+: import by identity (tenant_id defaults to
# the provider's tenant).
import {
  to = nimbus_sandbox.worker
  identity = {
    tenant_id = "acme"
    id        = "sbx-0123abcd"
  }
}
