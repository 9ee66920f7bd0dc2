variable "sandbox_id" {
  type = string
}

# Read any sandbox by id, standalone or owned by a service.
data "nimbus_sandbox" "this" {
  id = var.sandbox_id
}

output "sandbox" {
  value = {
    state     = data.nimbus_sandbox.this.lifecycle_state
    owner     = data.nimbus_sandbox.this.owner_kind
    endpoints = data.nimbus_sandbox.this.endpoints
  }
}
