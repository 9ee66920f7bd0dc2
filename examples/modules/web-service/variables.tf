variable "name" {
  description = "Name of the web service; the load balancer in front of it is named NAME-lb."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,58}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase DNS label of at most 60 characters (a-z, 0-9 and '-', starting with a letter and not ending with '-'): the module appends \"-lb\" for the load balancer."
  }
}

variable "image" {
  description = "OCI image the web service runs, such as registry.example.com/web:1.4."
  type        = string
}

variable "argv" {
  description = "Command and arguments of the web service's process; null runs the image's default command."
  type        = list(string)
  default     = null
}

variable "environment" {
  description = "Environment variables of the web service's process."
  type        = map(string)
  default     = {}
  sensitive   = true
}

variable "labels" {
  description = "Labels set on every service the module creates (the module adds \"module\" and \"role\")."
  type        = map(string)
  default     = {}
}

variable "load_balancer" {
  description = "Whether to put a Nimbus load balancer (a built-in service) in front of the web service."
  type        = bool
  default     = true
}
