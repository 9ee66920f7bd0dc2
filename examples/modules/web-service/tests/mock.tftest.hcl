# Tests of the module with a mocked Nimbus provider (Terraform 1.7+, OpenTofu
# 1.8+): no server, no credentials, nothing created. Terraform takes the
# provider's schema, skips its API calls and fills computed attributes with
# the defaults below; other computed strings get generated placeholders, and
# computed lists of objects such as endpoints and conditions stay empty
# (Terraform cannot mock their elements; OpenTofu can), so what the module
# derives from endpoints is tested against a server in
# server/web_service.tftest.hcl.
#
#   terraform init && terraform test
mock_provider "nimbus" {
  mock_resource "nimbus_service" {
    defaults = {
      lifecycle_state = "running"
      readiness       = "ready"
      health          = "healthy"
    }
  }
}

variables {
  name  = "mock-web"
  image = "registry.example.com/web:1.0"
}

run "outputs_from_the_service" {
  assert {
    condition     = output.url == null
    error_message = "url is not null for a service without endpoints"
  }

  assert {
    condition     = output.ready
    error_message = "ready is false for a running, ready service"
  }

  assert {
    condition     = output.load_balancer == "mock-web-lb"
    error_message = "load_balancer does not name NAME-lb"
  }
}

# Input validation needs no provider at all.
run "rejects_an_invalid_name" {
  command = plan

  variables {
    name = "Web_1"
  }

  expect_failures = [var.name]
}
