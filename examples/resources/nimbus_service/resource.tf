# A service Nimbus runs in a sandbox. Apply waits until it is ready.
resource "nimbus_service" "web" {
  name = "web"

  labels = {
    team = "storefront"
  }

  sandbox = {
    backend = "container" # or "krun"
    image   = "registry.example.com/storefront/web:1.4.2"
    argv    = ["/srv/web", "--port=8080"]
    # Write-only (Terraform 1.11+, OpenTofu 1.11+): sent to Nimbus, never
    # stored in plan or state. Bump the version to apply new values.
    environment_wo = {
      DATABASE_URL = var.database_url
    }
    environment_wo_version = 1
  }

  # Any change here restarts the running service in place.
  restart_triggers = {
    config = sha256(file("${path.module}/web.conf"))
  }

  timeouts {
    create = "10m"
    update = "10m"
  }
}

# A service Nimbus provides itself.
resource "nimbus_service" "lb" {
  name     = "edge-lb"
  built_in = { provider = "loadBalancer" }
}

# A service running elsewhere; apply waits until its health check passes.
resource "nimbus_service" "search" {
  name       = "search"
  wait_until = "healthy"

  external = {
    url         = "https://search.internal:9200"
    health_path = "/_cluster/health"
    auth = {
      kind             = "bearer"
      token_wo         = var.search_token # write-only, never in state
      token_wo_version = 1                # bump to apply a new token
    }
  }
}

# Keep a service defined but stopped.
resource "nimbus_service" "batch" {
  name    = "nightly-batch"
  running = false
  sandbox = { image = "registry.example.com/batch:7" }
}

# Ephemeral variables (Terraform 1.10+, OpenTofu 1.11+) can only feed
# write-only arguments: the secret stays out of plan files and state.
variable "database_url" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "search_token" {
  type      = string
  sensitive = true
  ephemeral = true
}
