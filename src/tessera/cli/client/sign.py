"""``tessera sign oss://bucket/key``: a presigned URL, as ``ossutil sign`` prints."""

from __future__ import annotations

import argparse
import datetime
from typing import Any

import alibabacloud_oss_v2 as oss

from tessera.cli.client.common import UsageError, add_connection_options, client_command
from tessera.client.urls import parse_url

MAX_SECONDS = 7 * 24 * 3600  # V4 presigned URLs live at most 7 days


def add_parsers(commands: Any) -> None:
    parser = commands.add_parser("sign", help="print a presigned URL for an object (GET by default)")
    parser.add_argument("url", metavar="oss://BUCKET/KEY")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds the URL stays valid (default 3600)")
    parser.add_argument("--method", choices=["GET", "PUT", "HEAD"], default="GET")
    add_connection_options(parser)
    parser.set_defaults(run=client_command(_sign))


def _sign(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url, need_key=True)
    if not 1 <= args.timeout <= MAX_SECONDS:
        raise UsageError(f"--timeout must be from 1 to {MAX_SECONDS} seconds")
    request: Any = {"GET": oss.GetObjectRequest, "PUT": oss.PutObjectRequest,
                    "HEAD": oss.HeadObjectRequest}[args.method](bucket=url.bucket, key=url.key)
    result = client.presign(request, expires=datetime.timedelta(seconds=args.timeout))
    print(result.url)
    return 0
