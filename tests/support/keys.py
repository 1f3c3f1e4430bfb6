"""Access keys besides the test key: made with ``tessera keys create``, as an operator would."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.support.server import TesseraServer


def create_key(server: TesseraServer) -> TesseraServer:
    """A new non-root key of ``server``'s, as a TesseraServer handle on the same port that signs
    with it (for raw requests, and for Clients)."""
    made = subprocess.run([sys.executable, "-m", "tessera", "keys", "create", "--data-dir", str(server.data_dir),
                           *(["--metadata-url", server.metadata_url] if server.metadata_url else [])],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stdout + made.stderr
    other = TesseraServer(server.data_dir, server.metadata_url)
    other.port = server.port
    other.access_key_id = re.search(r"AccessKeyId:\s+(\S+)", made.stdout).group(1)
    other.access_key_secret = re.search(r"AccessKeySecret:\s+(\S+)", made.stdout).group(1)
    return other
