# A debugging session on a running service, renewed by the next apply after
# it expires (or is closed).
resource "nimbus_session" "debug" {
  service_name = "web"
  channels     = ["stdio", "files"]
  ttl          = "2h"
}

# A session on a service managed in the same configuration, named by its id
# (`TENANT/NAME`).
resource "nimbus_service" "browser" {
  name = "browser"
  built_in = {
    provider = "browser"
  }
}

resource "nimbus_session" "page" {
  service_id = nimbus_service.browser.id
  channels   = ["page"]
}

# A session on a running standalone sandbox.
resource "nimbus_sandbox" "browser" {
  profile = "desktop"
  image   = "registry.example.com/chromium:126"
}

resource "nimbus_session" "cdp" {
  sandbox_id = nimbus_sandbox.browser.id
  channels   = ["cdp", "page"]
}

output "cdp_session" {
  value = {
    id         = nimbus_session.cdp.id
    expires_at = nimbus_session.cdp.expires_at
    generation = nimbus_session.cdp.target_snapshot.generation
  }
}
