"""Several Tessera gateways over one metadata database and one blob backend, as
docs/scale-out.md deploys them: the reliability suites' way to start them and reach them."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import oss2

from tests.support.clients import Clients
from tests.support.seaweedfs import SeaweedFS
from tests.support.server import TesseraServer

GATEWAYS = 3


class Gateways:
    """``GATEWAYS`` Tessera processes, each with a data directory of its own, sharing one
    metadata database and one blob backend (a directory, or a bucket of a SeaweedFS)."""

    def __init__(self, root: Path, database: str, metadata_url: str, blobs_url: str,
                 env: dict[str, str] | None = None) -> None:
        self.database = database
        self.store: SeaweedFS | None = None  # the upstream store of s3://
        # Every gateway runs the lifecycle rules every second, so that their runs overlap.
        self.servers = [TesseraServer(root / f"gateway-{n}", metadata_url=metadata_url, blobs_url=blobs_url,
                                      env=env, extra_args=("--lifecycle-every", "1")) for n in range(GATEWAYS)]

    def start_together(self) -> None:
        """Every gateway at once, as a deployment's first start does."""
        with concurrent.futures.ThreadPoolExecutor(GATEWAYS) as pool:
            for started in [pool.submit(server.start) for server in self.servers]:
                started.result()

    def bucket(self, gateway: int, name: str) -> oss2.Bucket:
        return Clients(self.servers[gateway % GATEWAYS]).oss2_bucket(name)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
