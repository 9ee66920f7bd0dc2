data "nimbus_session" "debug" {
  id = "ses-0123456789abcdef"
}

output "debug_session" {
  value = {
    state      = data.nimbus_session.debug.lifecycle_state
    expires_at = data.nimbus_session.debug.expires_at
    target     = data.nimbus_session.debug.target_snapshot
  }
}
