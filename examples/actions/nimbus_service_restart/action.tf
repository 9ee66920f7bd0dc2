resource "nimbus_service" "web" {
  name = "web"
  sandbox = {
    image = "registry.example.com/web:1.4"
  }
}

# Restart web whenever its configuration (held by another resource) changes,
# and only if nobody changed the service since Terraform last read it.
action "nimbus_service_restart" "web" {
  config {
    name                = nimbus_service.web.name
    if_match_generation = nimbus_service.web.generation
    wait_until          = "healthy"

    timeouts {
      invoke = "10m"
    }
  }
}

resource "terraform_data" "web_config" {
  input = filesha256("${path.module}/web.conf")

  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.nimbus_service_restart.web]
    }
  }
}

# Or restart on demand, without changing anything:
#   terraform apply -invoke=action.nimbus_service_restart.web
