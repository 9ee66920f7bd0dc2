variable "debug_session_id" {
  type        = string
  description = "Id of a session someone opened for debugging."
}

# Close it with a reason the session keeps:
#   terraform apply -invoke=action.nimbus_session_close.debug
action "nimbus_session_close" "debug" {
  config {
    id     = var.debug_session_id
    reason = "incident INC-42 resolved"
  }
}
