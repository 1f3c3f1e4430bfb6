"""ali-oss, the Node.js OSS SDK, driven from the tests through a small Node script.

Node comes from Debian's packages (scripts/install-test-deps); ali-oss, at the version pinned in
tests/support/node/package.json, is installed on first use into a scratch directory outside the
repository (``$TESSERA_TEST_CACHE``, default ``~/.cache/tessera-tests``). A missing Node fails
the tests that need it: it is never a silent skip.

Each ``run`` is one Node process: a scenario (the body of an async function of ``client``,
``OSS``, ``values`` and ``helpers``) against a client configured as ali-oss's README and the OSS
samples configure it — ``region``, ``accessKeyId``, ``accessKeySecret``, ``bucket``,
``authorizationV4`` — with the endpoint either Tessera's address (``addressing="endpoint"``) or
the real service endpoint resolved to the loopback address, as a hosts file would
(``addressing="dns"``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import TesseraServer

NODE_DIR = Path(__file__).parent / "node"
REGION = "oss-cn-hangzhou"  # ali-oss spells the region with its "oss-" prefix
RUN_TIMEOUT = 120


@dataclass
class AliOssError(Exception):
    """What ali-oss threw: its ``code`` is the OSS error code, ``status`` the HTTP status."""

    name: str
    code: str
    status: int | None
    message: str
    requestId: str = ""

    def __str__(self) -> str:
        return f"{self.status} {self.code or self.name}: {self.message}"


def cache_dir() -> Path:
    root = os.environ.get("TESSERA_TEST_CACHE") or str(Path.home() / ".cache" / "tessera-tests")
    return Path(root) / "node"


def _pinned_version() -> str:
    return json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["ali-oss"]


def ensure_installed() -> Path:
    """The node_modules directory holding the pinned ali-oss, installed when missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed for the ali-oss tests: run scripts/install-test-deps")
    target = cache_dir()
    installed = target / "node_modules" / "ali-oss" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == _pinned_version():
        return target / "node_modules"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(NODE_DIR / "package.json", target / "package.json")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(target)],
                   check=True, timeout=600, stdout=subprocess.DEVNULL)
    return target / "node_modules"


class AliOss:
    """One configured ali-oss client: ``run(script)`` returns what the scenario returns."""

    def __init__(self, server: TesseraServer, bucket: str | None, *, v4: bool, addressing: str = "endpoint",
                 **options: Any) -> None:
        self.node_modules = ensure_installed()
        self.server = server
        self.addressing = addressing
        endpoint = server.endpoint if addressing == "endpoint" else f"http://{REGION}.aliyuncs.com:{server.port}"
        self.options: dict[str, Any] = {
            "region": REGION,
            "endpoint": endpoint,
            "accessKeyId": server.access_key_id,
            "accessKeySecret": server.access_key_secret,
            "authorizationV4": v4,
            **options,
        }
        if bucket is not None:
            self.options["bucket"] = bucket

    def run(self, script: str, **values: Any) -> Any:
        request = {"options": self.options, "addressing": self.addressing, "script": script, "values": values}
        env = {**os.environ, "NODE_PATH": str(self.node_modules)}
        done = subprocess.run(["node", str(NODE_DIR / "driver.js")], input=json.dumps(request).encode(),
                              capture_output=True, timeout=RUN_TIMEOUT, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"the ali-oss driver failed ({done.returncode}): {done.stderr.decode()}")
        answer = json.loads(done.stdout)
        if "error" in answer:
            raise AliOssError(**answer["error"])
        return answer["ok"]
