# Every running sandbox labelled team=data (all pages are read).
data "nimbus_sandboxes" "data_team" {
  label_key       = "team"
  label_value     = "data"
  lifecycle_state = "running"
}

output "data_team_sandboxes" {
  value = data.nimbus_sandboxes.data_team.ids
}
