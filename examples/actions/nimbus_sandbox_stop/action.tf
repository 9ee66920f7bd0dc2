variable "finished_job_sandbox_id" {
  type        = string
  description = "Id of a sandbox started outside Terraform by a job that has finished."
}

# Stop it once the job's results are recorded:
#   terraform apply -invoke=action.nimbus_sandbox_stop.job
action "nimbus_sandbox_stop" "job" {
  config {
    id = var.finished_job_sandbox_id
  }
}

resource "terraform_data" "job_results" {
  input = "recorded"

  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.nimbus_sandbox_stop.job]
    }
  }
}
