output "services" {
  description = "Each service's lifecycle state, readiness and health, and where it can be reached."
  value = {
    for s in [nimbus_service.search, nimbus_service.web, nimbus_service.edge] : s.name => {
      state     = s.lifecycle_state
      readiness = s.readiness
      health    = s.health
      endpoints = [for e in s.endpoints : e.url]
    }
  }
}

output "web_sandbox_id" {
  description = "The sandbox the running web service owns (visible in sandbox listings)."
  value       = nimbus_service.web.sandbox_id
}

output "report_sandbox" {
  description = "The standalone batch sandbox."
  value = {
    id        = nimbus_sandbox.report.id
    state     = nimbus_sandbox.report.lifecycle_state
    endpoints = nimbus_sandbox.report.endpoints
  }
}

output "debug_session" {
  description = "The session on the web service: it expires on its own."
  value = {
    id         = nimbus_session.debug.id
    state      = nimbus_session.debug.lifecycle_state
    expires_at = nimbus_session.debug.expires_at
    attached   = nimbus_session.debug.target_snapshot
  }
}

output "demo_services" {
  description = "Names of every service labelled stack=demo, as listed by the API."
  value       = data.nimbus_services.demo.names
}

output "summary" {
  description = "A readable overview of the stack, printed by make demo."
  value = join("\n", concat(
    [format("%-8s %-22s %-10s %-9s %-9s %s", "KIND", "NAME / ID", "STATE", "READY", "HEALTH", "ENDPOINT")],
    [for s in [nimbus_service.search, nimbus_service.web, nimbus_service.edge] :
      format("%-8s %-22s %-10s %-9s %-9s %s", "service", s.name, s.lifecycle_state, s.readiness, s.health, try(s.endpoints[0].url, "-"))
    ],
    [format("%-8s %-22s %-10s %-9s %-9s %s", "sandbox", nimbus_sandbox.report.id, nimbus_sandbox.report.lifecycle_state, "-", "-", try(nimbus_sandbox.report.endpoints[0].url, "-"))],
    [format("%-8s %-22s %-10s %-9s %-9s %s", "session", nimbus_session.debug.id, nimbus_session.debug.lifecycle_state, "-", "-", "on service ${nimbus_session.debug.target_snapshot.name} until ${nimbus_session.debug.expires_at}")],
  ))
}
