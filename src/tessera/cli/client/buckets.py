"""``tessera mb``, ``rb`` and ``stat``: make and remove buckets; describe a bucket or an object."""

from __future__ import annotations

import argparse
from typing import Any

import alibabacloud_oss_v2 as oss
from defusedxml import ElementTree

from tessera.cli.client.common import add_connection_options, client_command, human_size, print_json
from tessera.client.urls import parse_url
from tessera.core.models import STORAGE_CLASSES



def add_parsers(commands: Any) -> None:
    make = commands.add_parser("mb", help="make a bucket")
    make.add_argument("url", metavar="oss://BUCKET")
    make.add_argument("--acl", choices=["private", "public-read", "public-read-write"])
    make.add_argument("--storage-class", choices=STORAGE_CLASSES, help="the bucket's default storage class")
    make.add_argument("--redundancy-type", choices=["LRS", "ZRS"])
    add_connection_options(make)
    make.set_defaults(run=client_command(_make_bucket))

    remove = commands.add_parser("rb", help="remove an empty bucket (see 'rm -a -r -b' to empty it first)")
    remove.add_argument("url", metavar="oss://BUCKET")
    add_connection_options(remove)
    remove.set_defaults(run=client_command(_remove_bucket))

    stat = commands.add_parser("stat", help="an object's metadata, or a bucket's information and statistics "
                                            "(GetBucketStat: objects, incomplete uploads, parts, per class)")
    stat.add_argument("url", metavar="oss://BUCKET[/KEY]")
    stat.add_argument("-j", "--json", action="store_true", help="print JSON")
    add_connection_options(stat)
    stat.set_defaults(run=client_command(_stat))


def _make_bucket(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url, bucket_only=True)
    configuration = None
    if args.storage_class or args.redundancy_type:
        configuration = oss.CreateBucketConfiguration(storage_class=args.storage_class,
                                                      data_redundancy_type=args.redundancy_type)
    client.put_bucket(oss.PutBucketRequest(bucket=url.bucket, acl=args.acl,
                                           create_bucket_configuration=configuration))
    print(f"made {url}")
    return 0


def _remove_bucket(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url, bucket_only=True)
    client.delete_bucket(oss.DeleteBucketRequest(bucket=url.bucket))
    print(f"removed {url}")
    return 0


def _stat(args: argparse.Namespace, client: oss.Client) -> int:
    url = parse_url(args.url)
    details = _object_details(client, url.bucket, url.key) if url.key else _bucket_details(client, url.bucket)
    if args.json:
        print_json(details)
        return 0
    width = max(len(name) for name in details) + 2
    for name, value in details.items():
        shown = f"{value} ({human_size(value)})" if isinstance(value, int) and name.endswith(("Storage", "Length")) \
            else value
        print(f"{name + ':':<{width}}{shown}")
    return 0


def _object_details(client: oss.Client, bucket: str, key: str) -> dict[str, Any]:
    head = client.head_object(oss.HeadObjectRequest(bucket=bucket, key=key))
    details: dict[str, Any] = {
        "Key": key,
        "Content-Length": head.content_length,
        "Content-Type": head.content_type,
        "ETag": head.etag,
        "Last-Modified": head.last_modified.isoformat() if head.last_modified else None,
        "X-Oss-Storage-Class": head.storage_class,
        "X-Oss-Object-Type": head.object_type,
        "X-Oss-Hash-Crc64ecma": head.hash_crc64,
    }
    if head.transition_time:
        details["X-Oss-Transition-Time"] = head.transition_time
    if head.tagging_count:
        details["X-Oss-Tagging-Count"] = head.tagging_count
    for name, value in sorted((head.metadata or {}).items()):
        details[f"X-Oss-Meta-{name}"] = value
    return {name: value for name, value in details.items() if value is not None}


def _bucket_details(client: oss.Client, bucket: str) -> dict[str, Any]:
    info = client.get_bucket_info(oss.GetBucketInfoRequest(bucket=bucket)).bucket_info
    details: dict[str, Any] = {
        "Name": info.name,
        "Location": info.location,
        "CreationDate": info.creation_date,
        "StorageClass": info.storage_class,
        "ACL": info.acl,
        "DataRedundancyType": info.data_redundancy_type,
        "ExtranetEndpoint": info.extranet_endpoint,
    }
    details.update(bucket_stat(client, bucket))
    return {name: value for name, value in details.items() if value is not None}


def bucket_stat(client: oss.Client, bucket: str) -> dict[str, Any]:
    """Every field of GetBucketStat, in the server's order — the SDK's model lacks some of them
    (MultipartPartCount, MultipartPartStorage, the per-class part counters), so the document is
    read as it comes."""
    output = client.invoke_operation(oss.OperationInput(op_name="GetBucketStat", method="GET", bucket=bucket,
                                                        parameters={"stat": ""}))
    document = ElementTree.fromstring(output.http_response.content)
    return {field.tag: int(field.text) if (field.text or "").isdigit() else field.text for field in document}
