# A service created in this run, and a session on it for the length of the
# run. Name the target by the service's `id`: it is unknown until the service
# exists, so Terraform opens the session during apply, after the service is
# running (with `service_name = nimbus_service.web.name`, known at plan time,
# the plan would try to open it before the service exists).
resource "nimbus_service" "web" {
  name = "web"
  built_in = {
    provider = "browser"
  }
}

ephemeral "nimbus_session" "bootstrap" {
  service_id = nimbus_service.web.id
  channels   = ["stdio"]
  ttl        = "10m"
}

# Hand the session id to a sandbox through a write-only attribute: the id
# never reaches plan or state, and the session is closed when the run ends.
resource "nimbus_sandbox" "seeder" {
  image = "registry.example.com/seeder:2"
  argv  = ["seed", "--target", "web"]
  environment_wo = {
    NIMBUS_SESSION_ID = ephemeral.nimbus_session.bootstrap.id
  }
  environment_wo_version = 1
}

# A service that already exists (not managed here) can be named directly.
ephemeral "nimbus_session" "existing" {
  service_name = "search"
  channels     = ["page"]
}
