# A small reusable module: a web service Nimbus runs in a container sandbox
# and, optionally, a Nimbus load balancer in front of it. Its tests: the
# files in tests/ mock the provider and need no server (`terraform test`);
# tests/server/ runs against a real one, for example
# `terraform-provider-nimbus server --dev`
# (`terraform test -test-directory=tests/server`). See the guide "Testing
# modules that use Nimbus".

locals {
  labels = merge(var.labels, { module = "web-service" })
}

resource "nimbus_service" "web" {
  name   = var.name
  labels = merge(local.labels, { role = "web" })

  sandbox = {
    image       = var.image
    argv        = var.argv
    environment = var.environment
  }
}

resource "nimbus_service" "lb" {
  count = var.load_balancer ? 1 : 0

  name     = "${var.name}-lb"
  labels   = merge(local.labels, { role = "lb", "routes-to" = nimbus_service.web.name })
  built_in = { provider = "loadBalancer" }
}
