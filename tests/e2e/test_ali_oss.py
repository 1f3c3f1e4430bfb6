"""ali-oss, the Node.js SDK of the reference's JavaScript sample, configured as its README and the
samples configure it — with signature V1 and V4 — pointed at Tessera by its endpoint, or by the
name resolution of the real service endpoint (docs/compatibility.md, Addressing styles)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support import raw
from tests.support.alioss import AliOss, AliOssError
from tests.support.clients import Clients
from tests.support.server import TesseraServer

KIB = 1024


@pytest.fixture(params=["v1", "v4"])
def signing(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def ali(server: TesseraServer, bucket_name: str, signing: str) -> AliOss:
    return AliOss(server, bucket_name, v4=signing == "v4")


def failure(client: AliOss, script: str, **values) -> AliOssError:
    with pytest.raises(AliOssError) as caught:
        client.run(script, **values)
    return caught.value


def test_put_get_head_list_delete(ali: AliOss) -> None:
    result = ali.run("""
        await client.put('dir/a.txt', Buffer.from('hello, ali-oss'));
        await client.put('dir/b b+c.txt', Buffer.from('second'), {meta: {owner: 'node'}});
        await client.put('other', Buffer.from('x'));
        const got = await client.get('dir/a.txt');
        const head = await client.head('dir/b b+c.txt');
        const listed = await client.list({prefix: 'dir/', 'max-keys': 10});
        const v2 = await client.listV2({prefix: 'dir/', delimiter: '/'});
        await client.delete('dir/a.txt');
        return {content: got.content.toString(), meta: head.meta, length: head.res.headers['content-length'],
                names: listed.objects.map(o => o.name), v2: v2.objects.map(o => o.name), keyCount: v2.keyCount};
    """)
    assert result["content"] == "hello, ali-oss"
    assert result["meta"] == {"owner": "node"} and result["length"] == "6"
    assert result["names"] == ["dir/a.txt", "dir/b b+c.txt"] == result["v2"]
    assert int(result["keyCount"]) == 2
    missing = failure(ali, "await client.get('dir/a.txt');")
    assert (missing.code, missing.status) == ("NoSuchKey", 404)


def test_the_reference_sample_initiates_then_aborts(ali: AliOss, clients: Clients, bucket_name: str) -> None:
    # The reference's JavaScript sample, with the upload ID it gets from InitiateMultipartUpload.
    name = "exampledir/exampleobject.txt"
    result = ali.run("""
        const init = await client.initMultipartUpload(values.name);
        const aborted = await client.abortMultipartUpload(values.name, init.uploadId);
        return {uploadId: init.uploadId, status: aborted.res.status};
    """, name=name)
    assert result["status"] == 204
    gone = failure(ali, "await client.listParts(values.name, values.uploadId);", name=name,
                   uploadId=result["uploadId"])
    assert (gone.code, gone.status) == ("NoSuchUpload", 404)
    assert list(clients.oss2_bucket(bucket_name).list_multipart_uploads().upload_list) == []


def test_multipart_upload_with_parallel_parts(ali: AliOss, tmp_path: Path, clients: Clients,
                                              bucket_name: str) -> None:
    data = os.urandom(1024 * KIB + 12345)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    result = ali.run("""
        let checkpoints = 0;
        const done = await client.multipartUpload('big/file.bin', values.path, {
            partSize: 100 * 1024, parallel: 4, progress: () => { checkpoints += 1; },
            mime: 'application/x-test'});
        const got = await client.get('big/file.bin');
        return {etag: done.etag, progress: checkpoints, content: helpers.base64(got.content)};
    """, path=str(path))
    assert base64.b64decode(result["content"]) == data
    assert result["progress"] >= 11  # one call per part, eleven parts
    head = clients.oss2_bucket(bucket_name).head_object("big/file.bin")
    assert head.etag.endswith("-11") and head.content_type == "application/x-test"
    assert head.headers["x-oss-object-type"] == "Multipart"
    assert hashlib.md5(clients.oss2_bucket(bucket_name).get_object("big/file.bin").read()).digest() == \
        hashlib.md5(data).digest()


def test_list_uploads_list_parts_and_abort(ali: AliOss) -> None:
    result = ali.run("""
        const ids = [];
        for (const name of ['logs/a', 'logs/b', 'other/c']) {
            ids.push((await client.initMultipartUpload(name)).uploadId);
        }
        await client.uploadPart('logs/a', ids[0], 1, values.path, 0, 5);
        const before = await client.listUploads({prefix: 'logs/', 'max-uploads': 10});
        const parts = await client.listParts('logs/a', ids[0]);
        await client.abortMultipartUpload('logs/b', ids[1]);
        const after = await client.listUploads({});
        return {before: before.uploads.map(u => [u.name, u.uploadId]), ids,
                parts: [].concat(parts.parts).map(p => [p.PartNumber, p.Size]),  // one <Part> parses as an object
                after: after.uploads.map(u => u.name)};
    """, path=__file__)
    ids = result["ids"]
    assert result["before"] == [["logs/a", ids[0]], ["logs/b", ids[1]]]
    assert result["parts"] == [["1", "5"]]
    assert result["after"] == ["logs/a", "other/c"]


def test_bucket_deletion_is_refused_while_parts_remain(server: TesseraServer, signing: str) -> None:
    name = f"ali-{signing}-{os.getpid()}"
    ali = AliOss(server, name, v4=signing == "v4")
    upload_id = ali.run("""
        await client.putBucket(values.name);
        const init = await client.initMultipartUpload('forgotten');
        await client.uploadPart('forgotten', init.uploadId, 1, values.path, 0, 100);
        return init.uploadId;
    """, name=name, path=__file__)
    refused = failure(ali, "await client.deleteBucket(values.name);", name=name)
    assert (refused.code, refused.status) == ("BucketNotEmpty", 409)
    ali.run("""
        await client.abortMultipartUpload('forgotten', values.uploadId);
        await client.deleteBucket(values.name);
    """, name=name, uploadId=upload_id)
    gone = failure(ali, "await client.getBucketInfo(values.name);", name=name)
    assert (gone.code, gone.status) == ("NoSuchBucket", 404)


def test_code_that_keeps_the_real_endpoint(server: TesseraServer, bucket_name: str, signing: str) -> None:
    """The endpoint is oss-cn-hangzhou.aliyuncs.com, which resolves to Tessera (a hosts file):
    every request carries ``Host: <bucket>.oss-cn-hangzhou.aliyuncs.com``."""
    ali = AliOss(server, bucket_name, v4=signing == "v4", addressing="dns")
    result = ali.run("""
        await client.put('k.txt', Buffer.from('through the service domain'));
        const init = await client.initMultipartUpload('m');
        await client.abortMultipartUpload('m', init.uploadId);
        const buckets = await client.listBuckets({prefix: values.bucket});
        const url = client.signatureUrl('k.txt', {expires: 600});
        const urlV4 = await client.signatureUrlV4('GET', 600, undefined, 'k.txt');
        return {names: buckets.buckets.map(b => b.name), url, urlV4,
                content: (await client.get('k.txt')).content.toString()};
    """, bucket=bucket_name)
    assert result["content"] == "through the service domain"
    assert bucket_name in result["names"]
    for url in (result["url"], result["urlV4"]):
        parts = urlsplit(url)
        assert parts.hostname == f"{bucket_name}.oss-cn-hangzhou.aliyuncs.com"
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", f"{parts.path}?{parts.query}", headers={"Host": parts.netloc})
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"through the service domain")
        connection.close()


def test_append(ali: AliOss, clients: Clients, bucket_name: str) -> None:
    result = ali.run("""
        const first = await client.append('log.txt', Buffer.from('line one\\n'));
        const second = await client.append('log.txt', Buffer.from('line two\\n'), {position: first.nextAppendPosition});
        const head = await client.head('log.txt');
        return {first: first.nextAppendPosition, second: second.nextAppendPosition,
                type: head.res.headers['x-oss-object-type'], crc: second.res.headers['x-oss-hash-crc64ecma'],
                content: (await client.get('log.txt')).content.toString()};
    """)
    assert (result["first"], result["second"], result["type"]) == ("9", "18", "Appendable")
    assert result["content"] == "line one\nline two\n"
    assert result["crc"] == str(clients.oss2_bucket(bucket_name).head_object("log.txt").server_crc)
    wrong = failure(ali, "await client.append('log.txt', Buffer.from('x'), {position: 3});")
    assert (wrong.code, wrong.status) == ("PositionNotEqualToLength", 409)


def test_symlinks(ali: AliOss) -> None:
    result = ali.run("""
        await client.put('target/file.txt', Buffer.from('pointed at'));
        await client.putSymlink('link', 'target/file.txt');
        const link = await client.getSymlink('link');
        const head = await client.head('link');
        return {target: link.targetName, type: head.res.headers['x-oss-object-type'],
                content: (await client.get('link')).content.toString()};
    """)
    assert result == {"target": "target/file.txt", "type": "Symlink", "content": "pointed at"}
    ali.run("await client.putSymlink('dangling', 'no/such/key');")
    dangling = failure(ali, "await client.get('dangling');")
    assert (dangling.code, dangling.status) == ("NoSuchKey", 404)


def test_object_acl(ali: AliOss, server: TesseraServer, bucket_name: str) -> None:
    result = ali.run("""
        await client.put('public.txt', Buffer.from('for everyone'));
        const before = await client.getACL('public.txt');
        await client.putACL('public.txt', 'public-read');
        const after = await client.getACL('public.txt');
        return {before: before.acl, after: after.acl};
    """)
    assert result == {"before": "default", "after": "public-read"}
    anonymous = raw.unsigned_request(server, "GET", f"/{bucket_name}/public.txt")
    assert (anonymous.status, anonymous.body) == (200, b"for everyone")


def test_bucket_acl_and_cors(ali: AliOss, server: TesseraServer, bucket_name: str) -> None:
    result = ali.run("""
        await client.putBucketACL(values.bucket, 'public-read');
        const acl = await client.getBucketACL(values.bucket);
        await client.putBucketCORS(values.bucket, [{allowedOrigin: 'https://app.example', allowedMethod: ['GET', 'PUT'],
                                                   allowedHeader: '*', exposeHeader: 'ETag', maxAgeSeconds: '600'}]);
        const cors = await client.getBucketCORS(values.bucket);
        await client.put('shared.txt', Buffer.from('listed'));
        return {acl: acl.acl, rules: cors.rules};
    """, bucket=bucket_name)
    assert result["acl"] == "public-read"
    [rule] = result["rules"]
    assert rule["allowedOrigin"] == "https://app.example" and rule["maxAgeSeconds"] == "600"
    assert rule["allowedMethod"] == ["GET", "PUT"] and rule["exposeHeader"] == "ETag"
    listed = raw.unsigned_request(server, "GET", f"/{bucket_name}/")
    assert listed.status == 200 and b"<Key>shared.txt</Key>" in listed.body
    preflight = raw.unsigned_request(server, "OPTIONS", f"/{bucket_name}/shared.txt", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "PUT"})
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    ali.run("await client.deleteBucketCORS(values.bucket);", bucket=bucket_name)
    gone = failure(ali, "await client.getBucketCORS(values.bucket);", bucket=bucket_name)
    assert (gone.code, gone.status) == ("NoSuchCORSConfiguration", 404)


def test_restore_of_an_archived_object(ali: AliOss) -> None:
    result = ali.run("""
        await client.put('cold.bin', Buffer.from('frozen'), {headers: {'x-oss-storage-class': 'Archive'}});
        let frozen = null;
        try { await client.get('cold.bin'); } catch (error) { frozen = [error.code, error.status]; }
        const started = await client.restore('cold.bin');
        const head = await client.head('cold.bin');
        return {frozen, status: started.res.status, restore: head.res.headers['x-oss-restore']};
    """)
    assert result["frozen"] == ["InvalidObjectState", 403]
    assert result["status"] == 202 and result["restore"] == 'ongoing-request="true"'
    again = failure(ali, "await client.restore('cold.bin');")
    assert (again.code, again.status) == ("RestoreAlreadyInProgress", 409)
