# KV v2 application policy
path "secret/data/app/*" {
  capabilities = ["create", "read", "update", "patch", "list"]
}

path "secret/metadata/+/config" {
  capabilities = ["read", "list",]
  allowed_parameters = {
    "ttl" = ["1h", "2h"]
    "*"   = []
  }
  min_wrapping_ttl = "1s"
  max_wrapping_ttl = 90
}

// deny the admin area
path "secret/data/admin" { capabilities = ["deny"] }
/* templated */ path "identity/{{identity.entity.id}}/*" = { capabilities = ["sudo"] }
