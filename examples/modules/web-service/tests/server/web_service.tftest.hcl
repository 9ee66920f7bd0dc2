# Tests of the module against a real Nimbus server: `terraform test` applies
# each run block in turn and destroys everything at the end. They live in
# their own test directory, so a plain `terraform test` runs only the mocked
# tests in tests/. Start a local server, paste the export lines it prints,
# then run these tests:
#
#   terraform-provider-nimbus server --dev
#   export NIMBUS_ENDPOINT=… NIMBUS_TENANT_ID=… NIMBUS_TOKEN=…
#   terraform init && terraform test -test-directory=tests/server
#
# The empty provider block reads NIMBUS_ENDPOINT, NIMBUS_TENANT_ID and
# NIMBUS_TOKEN from the environment, as in any configuration.
provider "nimbus" {}

variables {
  name  = "tftest-web"
  image = "registry.example.com/web:1.0"
  argv  = ["/srv/web", "--port=8080"]
  environment = {
    LOG_LEVEL = "debug"
  }
  labels = {
    suite = "web-service"
  }
}

# A plan only: what the module would create, before anything exists.
run "plan_names_and_labels" {
  command = plan

  assert {
    condition     = nimbus_service.lb[0].name == "tftest-web-lb"
    error_message = "the load balancer is not named NAME-lb"
  }

  assert {
    condition     = nimbus_service.web.labels == tomap({ suite = "web-service", module = "web-service", role = "web" })
    error_message = "the web service does not carry the caller's labels plus module and role"
  }
}

# Apply: the server starts the web service and the load balancer, and apply
# waits until the web service is ready.
run "creates_a_ready_web_service" {
  assert {
    condition     = output.ready
    error_message = "the web service is not running and ready after apply"
  }

  assert {
    condition     = startswith(output.url, "http://")
    error_message = "the web service has no http endpoint"
  }

  assert {
    condition     = nimbus_service.lb[0].lifecycle_state == "running"
    error_message = "the load balancer is not running"
  }

  assert {
    condition     = nimbus_service.lb[0].labels["routes-to"] == output.name
    error_message = "the load balancer's routes-to label does not name the web service"
  }
}

# The same state with load_balancer = false: apply removes the load balancer
# and keeps the web service.
run "removes_the_load_balancer" {
  variables {
    load_balancer = false
  }

  assert {
    condition     = output.load_balancer == null && length(nimbus_service.lb) == 0
    error_message = "the load balancer is still there"
  }

  assert {
    condition     = output.ready
    error_message = "the web service is no longer ready"
  }
}
