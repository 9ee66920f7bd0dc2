# Start a shared service that another team manages (Terraform does not manage
# it here) before the job that needs it is created.
action "nimbus_service_start" "search" {
  config {
    name       = "search"
    tenant_id  = "shared"
    wait_until = "healthy"
  }
}

resource "nimbus_sandbox" "indexer" {
  image = "registry.example.com/indexer:2"

  lifecycle {
    action_trigger {
      events  = [before_create]
      actions = [action.nimbus_service_start.search]
    }
  }
}

# Or on its own: terraform apply -invoke=action.nimbus_service_start.search
