# Every open session of the provider's tenant (all pages are read).
data "nimbus_sessions" "open" {
  state = "open"
}

output "open_sessions" {
  value = [for s in data.nimbus_sessions.open.sessions : "${s.id} until ${s.expires_at}"]
}
