# Stop a service Terraform does not manage, for example a preview environment,
# as a one-off: terraform apply -invoke=action.nimbus_service_stop.preview
#
# Do not use it on a nimbus_service this configuration manages with
# running = true: the next plan starts it again. Set running = false instead.
action "nimbus_service_stop" "preview" {
  config {
    name = "preview-1234"

    timeouts {
      invoke = "5m"
    }
  }
}
