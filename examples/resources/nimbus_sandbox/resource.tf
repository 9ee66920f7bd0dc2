# A worker sandbox running a one-off job. argv and environment are kept in
# state as configured (the API never returns them); environment is sensitive.
resource "nimbus_sandbox" "job" {
  display_name = "nightly report"
  image        = "docker.io/library/alpine:3"
  argv         = ["/bin/sh", "-c", "./report.sh"]
  environment = {
    REPORT_BUCKET = "reports"
  }
  labels = {
    team = "data"
  }

  timeouts {
    create = "5m"
    delete = "5m"
  }
}

# Secrets that must never reach the state: a write-only environment
# (Terraform 1.11+ / OpenTofu 1.11+). Bump environment_wo_version to replace
# the sandbox with new values.
variable "api_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "nimbus_sandbox" "agent" {
  profile = "desktop"
  backend = "krun"
  image   = "registry.example.com/agent:1.4"
  argv    = ["agent", "--listen", ":8080"]
  environment_wo = {
    API_TOKEN = var.api_token
  }
  environment_wo_version = 1
}

output "agent_endpoints" {
  value = nimbus_sandbox.agent.endpoints
}
