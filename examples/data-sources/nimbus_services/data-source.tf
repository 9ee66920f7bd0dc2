# All running services labelled team=storefront (every page is read).
data "nimbus_services" "storefront" {
  label_key       = "team"
  label_value     = "storefront"
  lifecycle_state = "running"
}

output "storefront_services" {
  value = data.nimbus_services.storefront.names
}
