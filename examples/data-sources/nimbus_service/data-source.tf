data "nimbus_service" "web" {
  name = "web"
}

output "web_endpoints" {
  value = data.nimbus_service.web.endpoints
}
