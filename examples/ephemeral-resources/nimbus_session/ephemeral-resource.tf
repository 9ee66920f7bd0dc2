# Open a session for the length of one run and hand its id to a sandbox
# through a write-only attribute: the id never reaches plan or state, and the
# session is closed when the run ends.
ephemeral "nimbus_session" "bootstrap" {
  service_name = "web"
  channels     = ["stdio"]
  ttl          = "10m"
}

resource "nimbus_sandbox" "seeder" {
  image = "registry.example.com/seeder:2"
  argv  = ["seed", "--target", "web"]
  environment_wo = {
    NIMBUS_SESSION_ID = ephemeral.nimbus_session.bootstrap.id
  }
  environment_wo_version = 1
}
