# The stack `make demo` applies (scripts/demo.sh): a small storefront on a
# local Nimbus server. The provider block is empty: the demo script exports
# NIMBUS_ENDPOINT, NIMBUS_TOKEN and NIMBUS_TENANT_ID, exactly as you would for
# a remote Nimbus or in an HCP Terraform workspace.
terraform {
  required_providers {
    nimbus = {
      source = "nimbus/nimbus"
    }
  }
}

provider "nimbus" {}

locals {
  labels = {
    stack = "demo"
  }
}

# An existing search cluster Nimbus does not run, only health-checks: here a
# real HTTP server on loopback that the demo script starts. Apply waits until
# Nimbus has seen its health endpoint answer 2xx.
resource "nimbus_service" "search" {
  name       = "search"
  labels     = merge(local.labels, { tier = "data" })
  wait_until = "healthy"

  external = {
    url         = var.search_url
    health_path = "/healthz"
    auth        = { kind = "none" }
  }
}

# The web front end, run by Nimbus in a container sandbox. argv and
# environment are launch inputs: the API never returns them.
resource "nimbus_service" "web" {
  name   = "web"
  labels = merge(local.labels, { tier = "frontend" })

  sandbox = {
    backend = "container"
    image   = "docker.io/library/node:22-alpine"
    argv    = ["node", "server.js"]
    environment = {
      SEARCH_URL = nimbus_service.search.external.url
      LOG_LEVEL  = "info"
    }
  }
}

# A load balancer Nimbus provides itself, in front of the web service.
resource "nimbus_service" "edge" {
  name     = "edge"
  labels   = merge(local.labels, { tier = "edge", "routes-to" = nimbus_service.web.name })
  built_in = { provider = "loadBalancer" }
}

# A standalone sandbox for a nightly batch job.
resource "nimbus_sandbox" "report" {
  profile      = "worker"
  display_name = "nightly-report"
  backend      = "container"
  image        = "docker.io/library/python:3.12-slim"
  argv         = ["python", "report.py", "--since=24h"]
  labels       = merge(local.labels, { purpose = "batch" })
}

# A debugging session on the running web service. When it expires (after
# `ttl`) or is closed, the next apply opens a new one.
resource "nimbus_session" "debug" {
  service_name = nimbus_service.web.name
  channels     = ["stdio", "files"]
  ttl          = "1h"
}

# Everything labelled stack=demo, read back through the API.
data "nimbus_services" "demo" {
  label_key   = "stack"
  label_value = local.labels.stack

  depends_on = [nimbus_service.search, nimbus_service.web, nimbus_service.edge]
}
