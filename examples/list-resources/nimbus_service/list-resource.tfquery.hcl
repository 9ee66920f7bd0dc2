# services.tfquery.hcl — run `terraform query` (Terraform 1.14+) in a directory
# whose .tf files configure the nimbus provider.

# Every running service of the platform team, as full objects.
list "nimbus_service" "platform" {
  provider         = nimbus
  include_resource = true

  config {
    label_key       = "team"
    label_value     = "platform"
    lifecycle_state = "running"
  }
}

# `terraform query -generate-config-out=generated.tf` writes a resource and an
# import block for each result; `terraform apply` then imports them. A sandbox
# backend's argv and environment and an external backend's bearer token are
# never returned by the API: those results carry a warning, and the values must
# be filled in before applying.
