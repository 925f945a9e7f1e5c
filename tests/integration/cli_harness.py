"""Running the `coffer` CLI (or its `vault` personality) as a subprocess in the end-to-end tests.

`run_cli(binary, args, ...)` returns (exit code, stdout, stderr). The environment is minimal and
predictable: no VAULT_* variables leak in from the caller, HOME points at a temporary directory
(so ~/.vault-token is never the developer's), and `argv0="vault"` runs the binary through a
`vault` symlink so argv[0] selects the Vault personality.

Fixtures (module scope, sharing conftest's `dev_server`):
  cli      -- a `Cli` bound to the dev server's address and root token: cli.run([...]) / cli.ok([...])
  cli_bin  -- the binary path (conftest's `coffer_bin`)
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import pytest

CLI_TIMEOUT = 30.0

_SYMLINK_DIRS: dict[str, Path] = {}


def vault_symlink_dir(binary: Path) -> Path:
    """A temporary directory holding `vault -> binary` (one per binary, per session)."""
    key = str(binary)
    if key not in _SYMLINK_DIRS:
        d = Path(tempfile.mkdtemp(prefix="coffer-vault-bin-"))
        (d / "vault").symlink_to(binary)
        _SYMLINK_DIRS[key] = d
    return _SYMLINK_DIRS[key]


def base_env(home: Union[str, Path, None] = None) -> dict[str, str]:
    """The caller's environment without VAULT_* and proxies, with a private HOME."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("VAULT_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    if home is None:
        home = tempfile.mkdtemp(prefix="coffer-cli-home-")
    env["HOME"] = str(home)
    env["NO_PROXY"] = "*"
    return env


def run_cli(binary: Union[str, Path], args: Sequence[str], *, env: Optional[Mapping[str, str]] = None,
            stdin: Union[str, bytes, None] = None, home: Union[str, Path, None] = None,
            argv0: str = "coffer", timeout: float = CLI_TIMEOUT) -> tuple[int, str, str]:
    """Runs the CLI once. `env` entries are added to the clean base environment."""
    binary = Path(binary)
    full_env = base_env(home)
    if env:
        full_env.update(env)
    exe = str(binary) if argv0 == "coffer" else str(vault_symlink_dir(binary) / argv0)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run([exe, *args], input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=full_env, timeout=timeout,
                          stdin=None if data is not None else subprocess.DEVNULL)
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


class Cli:
    """The CLI bound to one server: VAULT_ADDR and VAULT_TOKEN are set for every run."""

    def __init__(self, binary: Path, addr: str, token: str, home: Path):
        self.binary = binary
        self.addr = addr
        self.token = token
        self.home = home

    def env(self, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
        e = {"VAULT_ADDR": self.addr, "VAULT_TOKEN": self.token}
        if extra:
            e.update(extra)
        return e

    def run(self, args: Sequence[str], *, env: Optional[Mapping[str, str]] = None,
            stdin: Union[str, bytes, None] = None, argv0: str = "coffer") -> tuple[int, str, str]:
        return run_cli(self.binary, args, env=self.env(env), stdin=stdin, home=self.home, argv0=argv0)

    def ok(self, args: Sequence[str], **kwargs) -> str:
        """Runs and asserts exit 0; returns stdout."""
        rc, out, err = self.run(args, **kwargs)
        assert rc == 0, f"{list(args)} -> {rc}\nstdout:\n{out}\nstderr:\n{err}"
        return out

    def fails(self, args: Sequence[str], code: int, **kwargs) -> str:
        """Runs and asserts the exit code; returns stderr."""
        rc, out, err = self.run(args, **kwargs)
        assert rc == code, f"{list(args)} -> {rc} (wanted {code})\nstdout:\n{out}\nstderr:\n{err}"
        return err


@pytest.fixture(scope="module")
def cli_bin(coffer_bin) -> Path:
    return Path(coffer_bin)


@pytest.fixture(scope="module")
def cli(dev_server, cli_bin, tmp_path_factory) -> Cli:
    """The CLI pointed at the module's dev server (KV v2 at secret/) with its root token."""
    return Cli(cli_bin, dev_server.url, dev_server.root_token, tmp_path_factory.mktemp("cli-home"))
