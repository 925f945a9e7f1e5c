"""Shell scripts in the style Vault operators write, run unchanged with bash and `vault` being a
symlink to the coffer binary (first on PATH): kv put/get -field, metadata via jq, patch,
rollback, delete/undelete/destroy versions, generic read/write/list, policies, mounts."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap

import pytest

from cli_harness import base_env, cli, cli_bin, vault_symlink_dir  # noqa: F401  (fixtures)
from coffer_harness import unique

assert shutil.which("jq") is not None, "jq is not installed (run scripts/bootstrap)"


def run_script(cli, body: str, tmp_path, **extra_env) -> subprocess.CompletedProcess:
    script = tmp_path / "script.sh"
    script.write_text("#!/usr/bin/env bash\nset -euo pipefail\n" + textwrap.dedent(body))
    env = base_env(cli.home)
    env.update({"VAULT_ADDR": cli.addr, "VAULT_TOKEN": cli.token,
                "PATH": f"{vault_symlink_dir(cli.binary)}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"})
    env.update(extra_env)
    res = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert res.returncode == 0, f"script failed ({res.returncode})\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    return res


def test_kv_lifecycle_script(cli, tmp_path):
    p = f"secret/{unique('myapp')}/config"
    res = run_script(cli, f"""
        P={p}
        command -v vault | grep -q coffer-vault-bin   # the symlink, not a real Vault
        vault version | grep -Eq '^Vault v1\\.15\\.0 \\(coffer '

        vault kv put "$P" username=admin password=initial > /dev/null
        pw=$(vault kv get -field=password "$P")
        [ "$pw" = initial ] || {{ echo "unexpected password"; exit 1; }}

        vault kv put "$P" username=admin password=rotated > /dev/null
        cur=$(vault kv metadata get -format=json "$P" | jq -r .data.current_version)
        [ "$cur" = 2 ] || {{ echo "current_version=$cur"; exit 1; }}

        # patch keeps the other keys
        vault kv patch "$P" api_key=xyz > /dev/null
        [ "$(vault kv get -field=api_key "$P")" = xyz ]
        [ "$(vault kv get -field=password "$P")" = rotated ]
        [ "$(vault kv get -format=json "$P" | jq -r '.data.data | keys | join(",")')" = api_key,password,username ]

        # roll back to version 1: written as version 4
        vault kv rollback -version=1 "$P" > /dev/null
        [ "$(vault kv get -field=password "$P")" = initial ]
        [ "$(vault kv metadata get -format=json "$P" | jq -r .data.current_version)" = 4 ]
        [ "$(vault kv get -version=2 -field=password "$P")" = rotated ]

        # soft-delete version 2, undelete it, destroy version 1
        vault kv delete -versions=2 "$P"
        [ "$(vault kv metadata get -format=json "$P" | jq -r '.data.versions["2"].deletion_time')" != "" ]
        if vault kv get -version=2 -field=password "$P" > /dev/null 2>&1; then echo "deleted version readable"; exit 1; fi
        vault kv undelete -versions=2 "$P"
        [ "$(vault kv get -version=2 -field=password "$P")" = rotated ]
        vault kv destroy -versions=1 "$P"
        [ "$(vault kv metadata get -format=json "$P" | jq -r '.data.versions["1"].destroyed')" = true ]

        # delete the latest version; metadata delete removes everything
        vault kv delete "$P"
        vault kv metadata delete "$P"
        if vault kv get "$P" > /dev/null 2>&1; then echo "still there"; exit 1; fi
        echo done
    """, tmp_path)
    assert res.stdout.strip().endswith("done")


def test_export_env_script(cli, tmp_path):
    p = f"secret/{unique('svc')}"
    res = run_script(cli, f"""
        vault kv put {p} DB_USER=app "DB_PASS=it's a secret" PORT=5432 > /dev/null
        eval "$(vault kv get -format=json {p} | jq -r '.data.data | to_entries[] | "export \\(.key)=\\(.value|@sh)"')"
        [ "$DB_USER" = app ] && [ "$DB_PASS" = "it's a secret" ] && [ "$PORT" = 5432 ]
        # a whole JSON document through stdin and back
        jq -n '{{tls: {{cert: "C", key: "K"}}}}' | vault kv put {p}-json - > /dev/null
        [ "$(vault kv get -format=json {p}-json | jq -r .data.data.tls.cert)" = C ]
        # values from files
        printf 'pem-bytes' > cert.pem
        vault kv put {p}-file cert=@cert.pem > /dev/null
        [ "$(vault kv get -field=cert {p}-file)" = pem-bytes ]
        echo ok
    """, tmp_path)
    assert res.stdout.strip() == "ok"


def test_generic_policy_and_mounts_script(cli, tmp_path):
    mount, pol = unique("legacy"), unique("app-read")
    res = run_script(cli, f"""
        vault secrets enable -path={mount} -version=1 -description="legacy kv" kv
        vault secrets list -format=json | jq -e '."{mount}/".options.version == "1"' > /dev/null
        vault write {mount}/db host=db.internal port=5432
        [ "$(vault read -field=host {mount}/db)" = db.internal ]
        [ "$(vault list -format=json {mount} | jq -r '.[0]')" = db ]
        [ "$(vault kv get -field=port {mount}/db)" = 5432 ]

        vault policy write {pol} - <<'EOF'
        path "{mount}/*" {{
          capabilities = ["read", "list"]
        }}
        EOF
        vault policy list | grep -qx {pol}
        vault policy read {pol} | grep -q 'capabilities = \\["read", "list"\\]'
        TOKEN=$(vault write -field=token auth/token/create policies={pol})
        [ "$(VAULT_TOKEN=$TOKEN vault read -field=host {mount}/db)" = db.internal ]
        if VAULT_TOKEN=$TOKEN vault write {mount}/db host=evil > /dev/null 2>&1; then echo "write allowed"; exit 1; fi
        vault policy delete {pol}
        vault delete {mount}/db
        vault secrets disable {mount}
        echo ok
    """, tmp_path)
    assert res.stdout.strip().endswith("ok")


def test_script_exit_codes(cli, tmp_path):
    res = run_script(cli, f"""
        set +e
        vault kv get secret/{unique('absent')} 2> /dev/null; a=$?
        vault kv get 2> /dev/null; b=$?
        vault kv get -nope secret/x 2> /dev/null; c=$?
        vault nosuchcommand 2> /dev/null; d=$?
        VAULT_TOKEN=bogus vault kv get secret/x 2> /dev/null; e=$?
        echo "$a $b $c $d $e"
    """, tmp_path)
    assert res.stdout.split() == ["1", "2", "2", "2", "1"]
