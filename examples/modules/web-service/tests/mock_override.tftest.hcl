# A mocked Nimbus provider whose defaults one run block overrides (see
# mock.tftest.hcl). Each test file has a state of its own: this run creates
# the web service afresh, which is when the mocked values are set (a run that
# leaves a resource unchanged keeps the values from the run before).
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

# override_resource replaces the mock defaults for one resource: a service
# that is running but not ready yet.
run "not_ready_while_starting" {
  override_resource {
    target = nimbus_service.web
    values = {
      lifecycle_state = "running"
      readiness       = "notReady"
    }
  }

  assert {
    condition     = !output.ready
    error_message = "ready is true for a service that is not ready yet"
  }
}
