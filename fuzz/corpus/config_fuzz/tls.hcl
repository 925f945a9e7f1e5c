backend "sqlite" { path = "/var/lib/coffer/coffer.db" }
listener "tcp" {
  address         = "[::]:8200"
  tls_cert_file   = "/etc/coffer/tls.crt"
  tls_key_file    = "/etc/coffer/tls.key"
  tls_min_version = "tls13"
  cluster_address = "[::]:8201"
}
cluster_addr      = "https://coffer:8201"
disable_mlock     = "true"
default_lease_ttl = "1h30m"
max_lease_ttl     = 86400
log_level         = "warn"
telemetry { disable_hostname = true }
