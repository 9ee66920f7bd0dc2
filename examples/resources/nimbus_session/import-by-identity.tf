# Terraform 1.12+ and OpenTofu 1.12+: import by identity (tenant_id defaults to
# the provider's tenant). Only an open session can be imported.
import {
  to = nimbus_session.debug
  identity = {
    tenant_id = "acme"
    id        = "ses-0123abcd"
  }
}
