variable "search_url" {
  description = "Base URL of the external search service Nimbus health-checks (the demo script passes its local upstream)."
  type        = string
  default     = "http://127.0.0.1:18180"
}
