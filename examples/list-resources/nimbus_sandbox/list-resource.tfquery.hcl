# Standalone sandboxes (service-owned ones are managed through nimbus_service)
# with the label role=ci, any state. Run with `terraform query` (Terraform 1.14+).
list "nimbus_sandbox" "ci" {
  provider = nimbus

  config {
    label_key   = "role"
    label_value = "ci"
  }
}

# Failed sandboxes of another tenant, with their full objects.
list "nimbus_sandbox" "failed" {
  provider         = nimbus
  include_resource = true

  config {
    tenant_id       = "staging"
    lifecycle_state = "failed"
  }
}
