terraform {
  required_providers {
    nimbus = {
      source = "nimbus/nimbus"
    }
  }
}

# Every argument is optional. Unset arguments are read from the environment
# (NIMBUS_ENDPOINT, NIMBUS_TENANT_ID, NIMBUS_TOKEN, NIMBUS_API_KEY,
# NIMBUS_WORKLOAD_IDENTITY_TOKEN, NIMBUS_APPLICATION_CREDENTIALS) and then from
# ~/.config/nimbus/application_default_credentials.json, so in HCP Terraform
# an empty provider block plus workspace variables is enough.
provider "nimbus" {
  endpoint  = "https://nimbus.example.com"
  tenant_id = "acme"
  token     = var.nimbus_token
}

variable "nimbus_token" {
  type      = string
  sensitive = true
}
