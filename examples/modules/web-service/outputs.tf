output "name" {
  description = "Name of the web service."
  value       = nimbus_service.web.name
}

output "url" {
  description = "URL of the web service's first endpoint (null until it has one)."
  value       = try(nimbus_service.web.endpoints[0].url, null)
}

output "ready" {
  description = "Whether the web service is running and ready."
  value       = nimbus_service.web.lifecycle_state == "running" && nimbus_service.web.readiness == "ready"
}

output "load_balancer" {
  description = "Name of the load balancer in front of the web service, or null without one."
  value       = one(nimbus_service.lb[*].name)
}
