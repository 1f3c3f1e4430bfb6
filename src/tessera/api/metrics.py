"""``GET /-/metrics``: storage and requests in the Prometheus text exposition format.

Storage gauges are read from the metadata at each scrape — the exact usage counters and the
incomplete uploads by age — so every worker gives the same answer. Request counts and
durations are counted in each process; under ``tessera serve`` every worker writes them to
files in the server's private ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess
mode) and a scrape, whichever worker answers it, sums the files of all of them.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from tessera.api.auth.request import same_secret
from tessera.core.metering import DAY_MS
from tessera.core.storage import Storage
from tessera.core.usage import AGE_BANDS
from tessera.meta import metrics as metric_rows
from tessera.meta import usage as usage_rows

# Uploads of large parts take minutes: the buckets reach past the client defaults' 10 s.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
STORAGE_LABELS = ["bucket", "storage_class", "kind"]
AGE_LABELS = ["bucket", "age"]


def _age_label(low: int, high: int | None) -> str:
    if high is None:
        return f">{low}d"
    return f"<{high}d" if low == 0 else f"{low}-{high}d"


# AGE_BANDS run on from 0 days, each starting where the one before ends; the last is open.
AGES = [_age_label(low, high) for _, low, high in AGE_BANDS]
AGE_BAND_ENDS_MS = [high * DAY_MS for _, _, high in AGE_BANDS if high is not None]


class RequestMetrics:
    """Requests per OSS operation and HTTP status, and how long they took."""

    def __init__(self) -> None:
        # Set by ``tessera serve`` before prometheus_client is imported, which is when it
        # decides whether values live in this process or in that directory's files.
        self.shared_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.requests = Counter("tessera_requests", "Requests answered, by OSS operation and HTTP status.",
                                ["operation", "status"], registry=None)
        self.duration = Histogram("tessera_request_duration_seconds",
                                  "Seconds from a request's arrival until its answer is ready to send "
                                  "(a GetObject body is sent afterwards).",
                                  ["operation"], buckets=DURATION_BUCKETS, registry=None)

    def observe(self, operation: str, status: int, seconds: float) -> None:
        self.requests.labels(operation, str(status)).inc()
        self.duration.labels(operation).observe(seconds)

    def register_into(self, registry: CollectorRegistry) -> None:
        """Every worker's counts when they share a directory, else this process's own."""
        if self.shared_dir:
            MultiProcessCollector(registry, path=self.shared_dir)
        else:
            registry.register(self.requests)
            registry.register(self.duration)


class StorageCollector:
    """The storage gauges of one scrape, from rows read in one metadata snapshot."""

    def __init__(self, counters: list[Any], bucket_names: list[str], upload_ages: list[Any]) -> None:
        self.counters = counters
        self.bucket_names = bucket_names
        self.upload_ages = upload_ages

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stored = GaugeMetricFamily("tessera_stored_bytes", "Bytes stored (real size), per bucket, storage class "
                                   "and kind (object, part of an incomplete upload).", labels=STORAGE_LABELS)
        billed = GaugeMetricFamily("tessera_billed_bytes", "Bytes billed: real size, but at least 64 KB for each "
                                   "IA or colder object.", labels=STORAGE_LABELS)
        count = GaugeMetricFamily("tessera_stored_count", "Objects, parts of incomplete uploads, and incomplete "
                                  "uploads (kind=upload).", labels=STORAGE_LABELS)
        for row in self.counters:
            labels = [row.bucket, row.storage_class, row.kind]
            stored.add_metric(labels, row.bytes)
            billed.add_metric(labels, row.billed_bytes)
            count.add_metric(labels, row.count)
        yield from (stored, billed, count)

        uploads = GaugeMetricFamily("tessera_incomplete_uploads", "Incomplete multipart uploads, by time since "
                                    "initiation.", labels=AGE_LABELS)
        parts = GaugeMetricFamily("tessera_incomplete_upload_parts", "Parts of incomplete multipart uploads, by "
                                  "the upload's time since initiation.", labels=AGE_LABELS)
        size = GaugeMetricFamily("tessera_incomplete_upload_bytes", "Bytes in parts of incomplete multipart "
                                 "uploads, by the upload's time since initiation.", labels=AGE_LABELS)
        for bucket, bands in sorted(self._bands().items()):
            for age, (upload_count, part_count, part_bytes) in zip(AGES, bands):
                uploads.add_metric([bucket, age], upload_count)
                parts.add_metric([bucket, age], part_count)
                size.add_metric([bucket, age], part_bytes)
        yield from (uploads, parts, size)

    def _bands(self) -> dict[str, list[tuple[int, int, int]]]:
        """Per bucket, (uploads, parts, bytes) for every age band: a band without uploads is
        0, not missing, so a series stays when its last upload completes."""
        bands = {name: [(0, 0, 0)] * len(AGES) for name in self.bucket_names}
        for row in self.upload_ages:  # read in the same snapshot as the names
            bands[row.bucket][row.band] = (int(row.uploads), int(row.parts), int(row.bytes))
        return bands


async def handle(http: web.Request, storage: Storage, requests: RequestMetrics, *, token: str | None) -> web.Response:
    if http.method not in ("GET", "HEAD"):
        return web.Response(status=405, text="Use GET.\n", headers={"Allow": "GET, HEAD"})
    if token is not None and not _bearer_matches(http.headers.get("Authorization", ""), token):
        return web.Response(status=401, text="This endpoint needs Authorization: Bearer <metrics token>.\n",
                            headers={"WWW-Authenticate": 'Bearer realm="tessera-metrics"'})
    async with storage.db.read(offloaded=True) as conn:
        counters = await metric_rows.usage_counters(conn)
        bucket_names = sorted((await usage_rows.bucket_names(conn)).values())
        upload_ages = await metric_rows.incomplete_upload_ages(conn, now_ms=storage.clock(),
                                                               band_ends_ms=AGE_BAND_ENDS_MS)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StorageCollector(counters, bucket_names, upload_ages))
    requests.register_into(registry)
    return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _bearer_matches(authorization: str, token: str) -> bool:
    scheme, _, presented = authorization.partition(" ")
    return scheme.lower() == "bearer" and same_secret(token, presented.strip())
