# Terraform 1.12+ and OpenTofu 1.12+: import by identity (tenant_id defaults to
# the provider's tenant).
import {
  to = nimbus_service.web
  identity = {
    tenant_id = "acme"
    name      = "web"
  }
}
