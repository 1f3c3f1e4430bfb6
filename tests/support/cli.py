"""Running the ``tessera`` client commands against a test server, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.server import TesseraServer


def cli_env(server: TesseraServer, **extra: str) -> dict[str, str]:
    """The environment of a user pointed at ``server``: endpoint and credentials in OSS_*
    variables, and no configuration file unless the test gives one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OSS_", "TESSERA_"))}
    env.update(OSS_ENDPOINT=server.endpoint, OSS_ACCESS_KEY_ID=server.access_key_id,
               OSS_ACCESS_KEY_SECRET=server.access_key_secret,
               TESSERA_CONFIG_FILE=str(Path(server.data_dir).parent / "no-such-tesseraconfig"))
    env.update(extra)
    return env


def run_cli(server: TesseraServer, *args: str, input: str | None = None, env: dict[str, str] | None = None,
            cwd: str | Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``tessera ARGS…`` in a subprocess; its exit status, stdout and stderr."""
    return subprocess.run([sys.executable, "-m", "tessera", *args], capture_output=True, text=True, input=input,
                          env=env if env is not None else cli_env(server), cwd=cwd, timeout=timeout)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a command that must have succeeded."""
    assert result.returncode == 0, result.stderr
    return result.stdout


def as_json(result: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(ok(result))


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: str) -> None:
    """An OSS error told as users see it: one line with the code and request ID, exit status 1."""
    assert result.returncode == 1, result
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"tessera: {code}: ") and "request ID" in line, result.stderr
