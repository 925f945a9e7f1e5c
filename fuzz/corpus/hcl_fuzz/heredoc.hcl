policy = <<-EOT
    path "sys/*" {
      capabilities = ["read"]
    }
    EOT
plain = <<EOF
line "with" \escapes
EOF
numbers = [0, -1, 2.5, -3e2, 9223372036854775807]
escaped = "tab\tnl\nquote\"uni\u00e9\U0001F600"
object = { a = true, "b c" = false d-e.f = {} }
