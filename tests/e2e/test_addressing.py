"""Virtual-hosted and path-style requests (docs/compatibility.md, Addressing styles): a Host under
an OSS service domain or the server's ``--domain`` names the bucket, whatever address the
connection came to; the bucket ``-`` is Tessera's own endpoints."""

from __future__ import annotations

import http.client
import json
from typing import Iterator

import pytest

from tests.conftest import start_server
from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer

DOMAIN = "tessera.test"
SERVICE_DOMAINS = ["oss-cn-hangzhou.aliyuncs.com", "oss-cn-hangzhou-internal.aliyuncs.com",
                   "oss-accelerate.aliyuncs.com", "cn-hangzhou.oss.aliyuncs.com"]


@pytest.fixture(scope="module")
def domain_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    server = start_server(tmp_path_factory, request, "sqlite", extra_args=("--domain", DOMAIN))
    yield server
    server.stop()


@pytest.mark.parametrize("domain", SERVICE_DOMAINS)
def test_service_domains_name_the_bucket(server: TesseraServer, clients: Clients, bucket_name: str,
                                         domain: str) -> None:
    put = raw.request(server, "PUT", bucket_name, "dir/k.txt", body=b"virtual", domain=domain)
    assert put.status == 200, put.body
    got = raw.request(server, "GET", bucket_name, "dir/k.txt", domain=domain)
    assert (got.status, got.body) == (200, b"virtual")
    listed = raw.request(server, "GET", bucket_name, query={"prefix": "dir/"}, domain=domain)
    assert listed.status == 200 and b"<Key>dir/k.txt</Key>" in listed.body
    assert clients.oss2_bucket(bucket_name).get_object("dir/k.txt").read() == b"virtual"


def test_the_service_domain_alone_is_path_style(server: TesseraServer, bucket_name: str) -> None:
    # Host names no bucket: the path does (and the service itself answers ListBuckets).
    headers = raw.sign_headers(server, "GET", "", "", {}, {})
    headers["Host"] = "oss-cn-hangzhou.aliyuncs.com"
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    # Listed by prefix: the first page of all buckets need not hold it once the server has 100.
    connection.request("GET", f"/?prefix={bucket_name}", headers=headers)
    answer = connection.getresponse()
    assert answer.status == 200 and f"<Name>{bucket_name}</Name>".encode() in answer.read()
    connection.close()
    put = raw.request(server, "PUT", bucket_name, "p", body=b"path", headers={"Host": "oss-cn-hangzhou.aliyuncs.com"})
    assert put.status == 200


def test_a_virtual_hosted_key_may_start_with_the_own_prefix(server: TesseraServer, clients: Clients,
                                                            bucket_name: str) -> None:
    # At <bucket>.<domain>, /-/health is the key "-/health", not Tessera's health endpoint.
    put = raw.request(server, "PUT", bucket_name, "-/health", body=b"an object", domain=SERVICE_DOMAINS[0])
    assert put.status == 200, put.body
    assert clients.oss2_bucket(bucket_name).get_object("-/health").read() == b"an object"


def test_signatures_cover_the_bucket_the_host_names(server: TesseraServer, bucket_name: str) -> None:
    # Signed for another bucket than the Host names: refused.
    headers = raw.sign_headers(server, "GET", "some-other-bucket", "k", {}, {})
    headers["Host"] = f"{bucket_name}.{SERVICE_DOMAINS[0]}"
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/k", headers=headers)
    answer = connection.getresponse()
    assert answer.status == 403 and b"SignatureDoesNotMatch" in answer.read()
    connection.close()


def test_the_servers_domain_names_buckets_and_its_own_endpoints(domain_server: TesseraServer) -> None:
    clients = Clients(domain_server)
    clients.oss2_bucket("vhost-bucket").create_bucket()
    put = raw.request(domain_server, "PUT", "vhost-bucket", "k", body=b"domain", domain=DOMAIN)
    assert put.status == 200
    assert raw.request(domain_server, "GET", "vhost-bucket", "k", domain=DOMAIN).body == b"domain"
    # The admin API at -.<domain>, signed with "-" where the bucket goes, as path style is.
    report = raw.request(domain_server, "GET", "-", "admin/usage/uploads", domain=DOMAIN)
    assert report.status == 200 and json.loads(report.body)["uploads_total"] == 0
    unsigned = raw.unsigned_request(domain_server, "GET", "/metrics", headers={"Host": f"-.{DOMAIN}"})
    assert unsigned.status == 200 and b"tessera_" in unsigned.body
    path_style = raw.request(domain_server, "GET", "-", "admin/usage/uploads")
    assert path_style.status == 200 and json.loads(path_style.body) == json.loads(report.body)
