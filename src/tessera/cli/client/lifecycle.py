"""``tessera lifecycle put|get|delete oss://bucket [FILE]``: a bucket's lifecycle rules, in OSS's
XML or the same structure in YAML or JSON (see ``tessera.client.lifecycle_form``)."""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
from pathlib import Path
from typing import Any

import alibabacloud_oss_v2 as oss

from tessera.cli.client.common import UsageError, add_connection_options, client_command
from tessera.client.lifecycle_form import FORMATS, FormError, from_xml, guess_format, to_xml
from tessera.client.urls import parse_url

EXAMPLE = """\
example (YAML; JSON and OSS's XML work too):
  Rule:
    - ID: abort-stale-uploads
      Prefix: ""
      Status: Enabled
      AbortMultipartUpload: {Days: 7}
    - ID: cool-logs
      Prefix: logs/
      Status: Enabled
      Transition:
        - {Days: 30, StorageClass: IA}
      Expiration: {Days: 365}
"""


def add_parsers(commands: Any) -> None:
    parser = commands.add_parser("lifecycle", help="put, get or delete a bucket's lifecycle rules "
                                                   "(XML, YAML or JSON)",
                                 epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="lifecycle_action", required=True, metavar="ACTION")
    put = actions.add_parser("put", help="set the rules from FILE ('-' or none: standard input)")
    put.add_argument("url", metavar="oss://BUCKET")
    put.add_argument("file", nargs="?", default="-")
    put.add_argument("--format", choices=FORMATS, help="the file's form (default: from its extension or content)")
    get = actions.add_parser("get", help="print the rules")
    get.add_argument("url", metavar="oss://BUCKET")
    get.add_argument("--format", choices=FORMATS, default="xml", help="print as (default xml)")
    delete = actions.add_parser("delete", help="remove every rule")
    delete.add_argument("url", metavar="oss://BUCKET")
    for action, handler in ((put, _put), (get, _get), (delete, _delete)):
        add_connection_options(action)
        action.set_defaults(run=client_command(handler))


def _put(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url, bucket_only=True)
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {args.file}: {error.strerror}") from None
    try:
        body = to_xml(text, args.format or guess_format(args.file, text))
    except FormError as error:
        raise UsageError(str(error)) from None
    headers = {"Content-Type": "application/xml",
               "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    client.invoke_operation(oss.OperationInput(op_name="PutBucketLifecycle", method="PUT", bucket=url.bucket,
                                               parameters={"lifecycle": ""}, headers=headers, body=body))
    print(f"set the lifecycle rules of {url}")
    return 0


def _get(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url, bucket_only=True)
    output = client.invoke_operation(oss.OperationInput(op_name="GetBucketLifecycle", method="GET",
                                                        bucket=url.bucket, parameters={"lifecycle": ""}))
    text = from_xml(output.http_response.content, args.format)
    print(text, end="" if text.endswith("\n") else "\n")
    return 0


def _delete(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url, bucket_only=True)
    client.delete_bucket_lifecycle(oss.DeleteBucketLifecycleRequest(bucket=url.bucket))
    print(f"deleted the lifecycle rules of {url}")
    return 0
