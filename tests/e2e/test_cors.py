"""Bucket CORS rules through oss2 and alibabacloud-oss-v2, the OPTIONS preflight answered from
them without a signature, and the Access-Control-* headers of the answers to browsers' requests."""

from __future__ import annotations

import http.client

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import BucketCors, CorsRule

from tests.support import raw
from tests.support.clients import Clients
from tests.support.keys import create_key
from tests.support.server import TesseraServer

ORIGIN = "http://app.example.com"


@pytest.fixture
def bucket(clients: Clients, bucket_name: str) -> oss2.Bucket:
    return clients.oss2_bucket(bucket_name)


def unsigned(server: TesseraServer, method: str, path: str, headers: dict[str, str]) -> raw.RawResponse:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return raw.RawResponse(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def options(server: TesseraServer, path: str, headers: dict[str, str]) -> raw.RawResponse:
    """An unsigned OPTIONS request, as a browser sends its preflight."""
    return unsigned(server, "OPTIONS", path, headers)


def preflight(server: TesseraServer, bucket: str, key: str = "k", *, origin: str = ORIGIN, method: str = "PUT",
              headers: str | None = None) -> raw.RawResponse:
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        sent["Access-Control-Request-Headers"] = headers
    return options(server, f"/{bucket}/{key}", sent)


def put_rules(bucket: oss2.Bucket, *rules: CorsRule, vary: bool | None = None) -> None:
    bucket.put_bucket_cors(BucketCors(list(rules), response_vary=vary))


def put_xml(server: TesseraServer, bucket: str, body: str) -> raw.RawResponse:
    return raw.request(server, "PUT", bucket, query={"cors": ""}, body=body.encode())


def test_rules_round_trip_through_oss2(bucket: oss2.Bucket) -> None:
    put_rules(bucket,
              CorsRule(allowed_origins=["http://*.example.com", "https://app.test"], allowed_methods=["GET", "PUT"],
                       allowed_headers=["x-oss-*", "content-type"], expose_headers=["ETag", "x-oss-request-id"],
                       max_age_seconds=600),
              CorsRule(allowed_origins=["*"], allowed_methods=["HEAD"]), vary=True)
    got = bucket.get_bucket_cors()
    assert got.response_vary is True
    first, second = got.rules
    assert first.allowed_origins == ["http://*.example.com", "https://app.test"]
    assert first.allowed_methods == ["GET", "PUT"]
    assert first.allowed_headers == ["x-oss-*", "content-type"]
    assert first.expose_headers == ["ETag", "x-oss-request-id"]
    assert first.max_age_seconds == 600
    assert second.allowed_origins == ["*"] and second.max_age_seconds is None
    put_rules(bucket, CorsRule(allowed_origins=["*"], allowed_methods=["GET"]))  # replaces, never merges
    assert [r.allowed_methods for r in bucket.get_bucket_cors().rules] == [["GET"]]
    bucket.delete_bucket_cors()
    with pytest.raises(oss2.exceptions.ServerError) as missing:
        bucket.get_bucket_cors()
    assert (missing.value.status, missing.value.code) == (404, "NoSuchCORSConfiguration")
    bucket.delete_bucket_cors()  # deleting what is not there is not an error


def test_rules_round_trip_through_v2(clients: Clients, bucket_name: str) -> None:
    client = clients.v2()
    client.put_bucket_cors(oss.PutBucketCorsRequest(bucket=bucket_name, cors_configuration=oss.CORSConfiguration(
        cors_rules=[oss.CORSRule(allowed_origins=[ORIGIN], allowed_methods=["POST", "DELETE"],
                                 allowed_headers=["*"], expose_headers=["ETag"], max_age_seconds=30)],
        response_vary=False)))
    got = client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=bucket_name)).cors_configuration
    assert got.response_vary is False
    (rule,) = got.cors_rules
    assert (rule.allowed_origins, rule.allowed_methods, rule.allowed_headers, rule.expose_headers,
            rule.max_age_seconds) == ([ORIGIN], ["POST", "DELETE"], ["*"], ["ETag"], 30)
    client.delete_bucket_cors(oss.DeleteBucketCorsRequest(bucket=bucket_name))
    with pytest.raises(oss.exceptions.OperationError) as missing:
        client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=bucket_name))
    assert missing.value.unwrap().code == "NoSuchCORSConfiguration"


def test_v2_with_v1_signatures_manages_rules(clients: Clients, bucket_name: str) -> None:
    client = clients.v2("v1")
    client.put_bucket_cors(oss.PutBucketCorsRequest(bucket=bucket_name, cors_configuration=oss.CORSConfiguration(
        cors_rules=[oss.CORSRule(allowed_origins=["*"], allowed_methods=["GET"])])))
    got = client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=bucket_name)).cors_configuration
    assert got.cors_rules[0].allowed_methods == ["GET"]


RULE = "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"


@pytest.mark.parametrize(("body", "code"), [
    ("<CORSConfiguration></CORSConfiguration>", "MalformedXML"),
    ("<CORSConfiguration><CORSRule>", "MalformedXML"),
    ("<Cors>" + RULE + "</Cors>", "MalformedXML"),
    ("<CORSConfiguration>" + RULE * 11 + "</CORSConfiguration>", "InvalidArgument"),
    ("<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
     "MalformedXML"),
    ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
     "MalformedXML"),
    ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"
     "</CORSRule></CORSConfiguration>", "InvalidArgument"),
    ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>"
     "</CORSRule></CORSConfiguration>", "InvalidArgument"),
    ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod></AllowedMethod>"
     "</CORSRule></CORSConfiguration>", "InvalidArgument"),
    ("<CORSConfiguration><CORSRule><AllowedOrigin>http://*.*.com</AllowedOrigin><AllowedMethod>GET"
     "</AllowedMethod></CORSRule></CORSConfiguration>", "InvalidArgument"),
    ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
     "<AllowedHeader>x-*-*</AllowedHeader></CORSRule></CORSConfiguration>", "InvalidArgument"),
    ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
     "<ExposeHeader>*</ExposeHeader></CORSRule></CORSConfiguration>", "InvalidArgument"),
    ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
     "<MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule></CORSConfiguration>", "InvalidArgument"),
    ("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
     "<MaxAgeSeconds>" + "9" * 40 + "</MaxAgeSeconds></CORSRule></CORSConfiguration>", "InvalidArgument"),
    ("<CORSConfiguration>" + RULE + "<ResponseVary>0</ResponseVary></CORSConfiguration>", "InvalidArgument"),
])
def test_invalid_rules_are_refused_and_leave_the_old_ones(server: TesseraServer, bucket: oss2.Bucket, body: str,
                                                          code: str) -> None:
    put_rules(bucket, CorsRule(allowed_origins=[ORIGIN], allowed_methods=["PUT"]))
    answer = put_xml(server, bucket.bucket_name, body)
    assert (answer.status, answer.code) == (400, code)
    assert [r.allowed_origins for r in bucket.get_bucket_cors().rules] == [[ORIGIN]]


def test_ten_rules_are_accepted(server: TesseraServer, bucket: oss2.Bucket) -> None:
    assert put_xml(server, bucket.bucket_name, "<CORSConfiguration>" + RULE * 10 + "</CORSConfiguration>").status == 200
    assert len(bucket.get_bucket_cors().rules) == 10


def test_cors_of_a_missing_bucket_is_no_such_bucket(server: TesseraServer) -> None:
    for method in ("GET", "PUT", "DELETE"):
        answer = raw.request(server, method, "no-such-bucket-cors", query={"cors": ""},
                             body=("<CORSConfiguration>" + RULE + "</CORSConfiguration>").encode())
        assert (answer.status, answer.code) == (404, "NoSuchBucket")
    assert preflight(server, "no-such-bucket-cors").code == "NoSuchBucket"


def test_cors_calls_need_a_signature(server: TesseraServer, bucket: oss2.Bucket) -> None:
    answer = raw.unsigned_request(server, "GET", f"/{bucket.bucket_name}/?cors")
    assert (answer.status, answer.code) == (403, "AccessDenied")


def test_rules_go_with_their_bucket(clients: Clients, bucket: oss2.Bucket) -> None:
    put_rules(bucket, CorsRule(allowed_origins=["*"], allowed_methods=["GET"]))
    bucket.delete_bucket()
    bucket.create_bucket()
    with pytest.raises(oss2.exceptions.ServerError) as missing:
        bucket.get_bucket_cors()
    assert missing.value.code == "NoSuchCORSConfiguration"


# --- the preflight ---------------------------------------------------------------------------

def test_preflight_is_answered_from_the_first_matching_rule(server: TesseraServer, bucket: oss2.Bucket) -> None:
    put_rules(bucket,
              CorsRule(allowed_origins=["http://other.test"], allowed_methods=["PUT"], allowed_headers=["*"]),
              CorsRule(allowed_origins=["http://*.example.com"], allowed_methods=["PUT", "GET"],
                       allowed_headers=["x-oss-*", "Content-Type"], expose_headers=["ETag", "x-oss-request-id"],
                       max_age_seconds=100),
              CorsRule(allowed_origins=["*"], allowed_methods=["PUT"], allowed_headers=["*"], max_age_seconds=5))
    answer = preflight(server, bucket.bucket_name, headers="Content-Type, X-OSS-Meta-A")
    assert answer.status == 200, answer.body
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert answer.headers["Access-Control-Allow-Methods"] == "PUT, GET"
    assert answer.headers["Access-Control-Allow-Headers"] == "Content-Type, X-OSS-Meta-A"
    assert answer.headers["Access-Control-Expose-Headers"] == "ETag, x-oss-request-id"
    assert answer.headers["Access-Control-Max-Age"] == "100"
    assert "Vary" not in answer.headers
    # A header the second rule does not allow: the catch-all third rule answers.
    third = preflight(server, bucket.bucket_name, headers="Authorization")
    assert third.headers["Access-Control-Allow-Origin"] == "*"
    assert third.headers["Access-Control-Max-Age"] == "5"


@pytest.mark.parametrize(("origin", "method", "headers"), [
    ("http://evil.test", "PUT", None),  # no rule allows the origin
    ("http://app.example.com.evil.test", "PUT", None),
    (ORIGIN, "DELETE", None),  # nor the method
    (ORIGIN, "PATCH", None),
    (ORIGIN, "PUT", "x-oss-meta-a, authorization"),  # nor every header
])
def test_preflight_no_rule_allows_is_refused(server: TesseraServer, bucket: oss2.Bucket, origin: str, method: str,
                                             headers: str | None) -> None:
    put_rules(bucket, CorsRule(allowed_origins=["http://*.example.com"], allowed_methods=["PUT", "GET"],
                               allowed_headers=["x-oss-meta-*"]))
    answer = preflight(server, bucket.bucket_name, origin=origin, method=method, headers=headers)
    assert (answer.status, answer.code) == (403, "AccessForbidden")
    assert "CORSResponse: This CORS request is not allowed" in answer.body.decode()
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_preflight_without_rules_or_headers_is_refused(server: TesseraServer, bucket: oss2.Bucket) -> None:
    answer = preflight(server, bucket.bucket_name)
    assert (answer.status, answer.code) == (403, "AccessForbidden")
    put_rules(bucket, CorsRule(allowed_origins=["*"], allowed_methods=["PUT"]))
    for headers in ({"Origin": ORIGIN}, {"Access-Control-Request-Method": "PUT"}, {}):
        answer = options(server, f"/{bucket.bucket_name}/k", headers)
        assert (answer.status, answer.code) == (403, "AccessForbidden")


def test_preflight_of_a_bucket_request_and_of_a_signed_url(server: TesseraServer, bucket: oss2.Bucket) -> None:
    put_rules(bucket, CorsRule(allowed_origins=[ORIGIN], allowed_methods=["PUT", "POST"]))
    sent = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    assert options(server, f"/{bucket.bucket_name}/", sent).status == 200
    # A presigned part upload: its sub-resources are the request's, not the preflight's.
    url = bucket.sign_url("PUT", "k", 60, params={"uploadId": "U", "partNumber": "1"})
    path = url.split(str(server.port), 1)[1]
    assert options(server, path, {"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"}).status == 200


def test_response_vary_goes_on_preflights_and_answers(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_object("k", b"data")
    put_rules(bucket, CorsRule(allowed_origins=[ORIGIN], allowed_methods=["GET"]), vary=True)
    assert preflight(server, bucket.bucket_name, method="GET").headers["Vary"] == "Origin"
    refused = preflight(server, bucket.bucket_name, method="PUT")
    assert refused.status == 403 and refused.headers["Vary"] == "Origin"
    matched = raw.request(server, "GET", bucket.bucket_name, "k", headers={"Origin": ORIGIN})
    assert matched.headers["Vary"] == "Origin" and matched.headers["Access-Control-Allow-Origin"] == ORIGIN
    unmatched = raw.request(server, "GET", bucket.bucket_name, "k", headers={"Origin": "http://evil.test"})
    assert unmatched.headers["Vary"] == "Origin" and "Access-Control-Allow-Origin" not in unmatched.headers
    # Without Origin too, so that a shared cache keeps browsers' answers apart.
    assert raw.request(server, "GET", bucket.bucket_name, "k").headers["Vary"] == "Origin"


# --- the answers to actual requests ----------------------------------------------------------

def test_answers_to_a_matching_origin_carry_the_rule(server: TesseraServer, bucket: oss2.Bucket) -> None:
    put_rules(bucket, CorsRule(allowed_origins=["http://*.example.com"], allowed_methods=["GET", "PUT", "HEAD",
                                                                                         "DELETE", "POST"],
                               expose_headers=["ETag"], max_age_seconds=60))
    name = bucket.bucket_name
    answers = [
        raw.request(server, "PUT", name, "k", headers={"Origin": ORIGIN}, body=b"data"),
        raw.request(server, "GET", name, "k", headers={"Origin": ORIGIN}),
        raw.request(server, "HEAD", name, "k", headers={"Origin": ORIGIN}),
        raw.request(server, "GET", name, headers={"Origin": ORIGIN}),
        raw.request(server, "DELETE", name, "k", headers={"Origin": ORIGIN}),
        raw.request(server, "GET", name, "k", headers={"Origin": ORIGIN}),  # NoSuchKey: errors too
    ]
    assert [a.status for a in answers] == [200, 200, 200, 200, 204, 404]
    for answer in answers:
        assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert answer.headers["Access-Control-Expose-Headers"] == "ETag"
        assert answer.headers["Access-Control-Max-Age"] == "60"
        assert "Vary" not in answer.headers
    # A bad signature is answered with the rule's headers too: the page can read why.
    forged = unsigned(server, "GET", f"/{name}/k", {"Origin": ORIGIN, "Authorization": f"OSS {server.access_key_id}:x"})
    assert forged.status == 403 and forged.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_answers_to_other_origins_and_methods_carry_nothing(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_object("k", b"data")
    name = bucket.bucket_name
    assert "Access-Control-Allow-Origin" not in raw.request(server, "GET", name, "k",
                                                            headers={"Origin": ORIGIN}).headers  # no rules
    put_rules(bucket, CorsRule(allowed_origins=[ORIGIN], allowed_methods=["GET"]))
    assert raw.request(server, "GET", name, "k", headers={"Origin": ORIGIN}).headers[
        "Access-Control-Allow-Origin"] == ORIGIN
    for method, origin in (("GET", "http://evil.test"), ("HEAD", ORIGIN), ("DELETE", ORIGIN)):
        answer = raw.request(server, method, name, "k", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in answer.headers
    assert "Access-Control-Allow-Origin" not in raw.request(server, "GET", name, "k").headers  # no Origin


def test_a_change_of_rules_holds_from_the_next_request(server: TesseraServer, bucket: oss2.Bucket) -> None:
    bucket.put_object("k", b"data")
    for round_ in range(3):
        put_rules(bucket, CorsRule(allowed_origins=[ORIGIN], allowed_methods=["GET"]))
        assert preflight(server, bucket.bucket_name, method="GET").status == 200
        assert "Access-Control-Allow-Origin" in raw.request(server, "GET", bucket.bucket_name, "k",
                                                            headers={"Origin": ORIGIN}).headers
        bucket.delete_bucket_cors()
        assert preflight(server, bucket.bucket_name, method="GET").status == 403
        assert "Access-Control-Allow-Origin" not in raw.request(server, "GET", bucket.bucket_name, "k",
                                                                headers={"Origin": ORIGIN}).headers


def test_v2_option_object_reads_the_preflight_answer(clients: Clients, bucket: oss2.Bucket) -> None:
    put_rules(bucket, CorsRule(allowed_origins=[ORIGIN], allowed_methods=["PUT"], allowed_headers=["x-oss-*"],
                               expose_headers=["ETag"], max_age_seconds=42))
    client = clients.v2()
    answer = client.option_object(oss.OptionObjectRequest(
        bucket=bucket.bucket_name, key="k", origin=ORIGIN, access_control_request_method="PUT",
        access_control_request_headers="x-oss-meta-a"))
    assert (answer.access_control_allow_origin, answer.access_control_allow_methods,
            answer.access_control_allow_headers, answer.access_control_expose_headers,
            answer.access_control_max_age) == (ORIGIN, "PUT", "x-oss-meta-a", "ETag", 42)
    with pytest.raises(oss.exceptions.OperationError) as refused:
        client.option_object(oss.OptionObjectRequest(bucket=bucket.bucket_name, key="k", origin="http://evil.test",
                                                     access_control_request_method="PUT"))
    assert (refused.value.unwrap().status_code, refused.value.unwrap().code) == (403, "AccessForbidden")


def test_oss2_with_v4_signatures_manages_rules(clients: Clients, bucket_name: str) -> None:
    bucket = clients.oss2_bucket(bucket_name, "v4")
    put_rules(bucket, CorsRule(allowed_origins=["*"], allowed_methods=["PUT"], max_age_seconds=1))
    assert bucket.get_bucket_cors().rules[0].max_age_seconds == 1
    bucket.delete_bucket_cors()


def test_rules_are_the_bucket_owners(server: TesseraServer, bucket: oss2.Bucket) -> None:
    other = Clients(create_key(server)).oss2_bucket(bucket.bucket_name)
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)  # writes are everyone's; the rules still are not
    for call in (lambda: put_rules(other, CorsRule(allowed_origins=["*"], allowed_methods=["GET"])),
                 other.get_bucket_cors, other.delete_bucket_cors):
        with pytest.raises(oss2.exceptions.AccessDenied):
            call()
    # A browser's preflight needs no key at all.
    put_rules(bucket, CorsRule(allowed_origins=["*"], allowed_methods=["PUT"]))
    assert preflight(server, bucket.bucket_name).status == 200
