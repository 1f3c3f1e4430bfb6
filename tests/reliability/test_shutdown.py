"""SIGTERM and SIGINT stop the server without losing or leaving unanswered what it accepted:
uploads whose body was sent or is still arriving, GETs streaming, a Complete are answered, the
listening socket and idle connections close at once, and the process exits as soon as the last
answer is out — or, for a request still running when ``--shutdown-grace`` ends, right after it
is cut. Also: a client that half-closes mid-body is answered IncompleteBody, and a second server
on the same data directory or port is refused (SQLite) or serves safely (PostgreSQL)."""

from __future__ import annotations

import concurrent.futures
import http.client
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

import oss2
import pytest

from tests.conftest import start_server
from tests.reliability.conftest import CONFIGURATIONS
from tests.reliability.knobs import knob
from tests.support import raw
from tests.support.clients import Clients
from tests.support.server import TesseraServer, free_port

GRACE = 10.0  # --shutdown-grace where every request should finish well within it
CUT_GRACE = 1.0  # --shutdown-grace where one request never finishes
EXIT_SLACK = 3.0  # exit after a cut: the cut requests' clean-up, closing the storage, the interpreter
UPLOAD = 8 * 1024 * 1024  # large enough that the server still reads it when the client is done sending
OBJECT = 16 * 1024 * 1024  # larger than the socket buffers: a GET of it streams until read
UPLOADS = knob("SHUTDOWN_UPLOADS", ci=3, long=12)


def _server_with_grace(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                       grace: float) -> Iterator[TesseraServer]:
    backend, workers = request.param
    server = start_server(tmp_path_factory, request, backend, workers=workers,
                          extra_args=("--shutdown-grace", str(grace)))
    yield server
    server.stop()


@pytest.fixture(params=CONFIGURATIONS, ids=lambda c: f"{c[0]}-w{c[1]}")
def draining_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    yield from _server_with_grace(request, tmp_path_factory, GRACE)


@pytest.fixture(params=CONFIGURATIONS, ids=lambda c: f"{c[0]}-w{c[1]}")
def cutting_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TesseraServer]:
    yield from _server_with_grace(request, tmp_path_factory, CUT_GRACE)


def _config(server: TesseraServer) -> str:
    return f"{'postgresql' if server.metadata_url else 'sqlite'}-w{server.workers}"


def _put(server: TesseraServer, bucket: str, key: str, body: bytes) -> None:
    response = raw.request(server, "PUT", bucket, key, body=body)
    assert response.status == 200, response


def _get(server: TesseraServer, bucket: str, key: str) -> raw.RawResponse:
    return raw.request(server, "GET", bucket, key)


def _send_all(sock: socket.socket, body: bytes) -> socket.socket:
    sock.sendall(body)
    return sock


def _complete_xml(parts: list[tuple[int, str]]) -> bytes:
    items = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>" for n, etag in parts)
    return f"<CompleteMultipartUpload>{items}</CompleteMultipartUpload>".encode()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def _wait_for(condition: Callable[[], bool], seconds: float) -> float:
    """Seconds until ``condition`` held (or ``seconds`` if it never did)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds and not condition():
        time.sleep(0.02)
    return time.monotonic() - start


def _closed_by_peer(sock: socket.socket, since: float) -> float:
    """Seconds from ``since`` until the server closed the connection (inf if it did not in 5 s)."""
    sock.settimeout(5)
    try:
        if sock.recv(1) != b"":
            return float("inf")
    except ConnectionResetError:
        pass
    except TimeoutError:
        return float("inf")
    return time.monotonic() - since


def _answer_of(sock: socket.socket, method: str) -> raw.RawResponse | None:
    """The answer, or None when the connection closed (or stayed silent 10 s) without one."""
    try:
        return raw.read_response(sock, method)
    except (http.client.HTTPException, ConnectionError, TimeoutError):
        return None


def test_sigterm_answers_every_request_in_flight(draining_server: TesseraServer,
                                                 summary: Callable[[str], None]) -> None:
    server, bucket = draining_server, "drain"
    assert raw.request(server, "PUT", bucket).status == 200
    big = os.urandom(OBJECT)
    _put(server, bucket, "big", big)
    multipart = Clients(server).oss2_bucket(bucket)
    upload_id = multipart.init_multipart_upload("assembled").upload_id
    pieces = [os.urandom(200 * 1024), os.urandom(100 * 1024)]
    etags = [multipart.upload_part("assembled", upload_id, n, piece).etag for n, piece in enumerate(pieces, 1)]
    complete_xml = _complete_xml([(n, f'"{etag}"') for n, etag in enumerate(etags, 1)])
    sent = {f"sent-{i}": os.urandom(UPLOAD) for i in range(UPLOADS)}
    arriving = {f"arriving-{i}": os.urandom(UPLOAD) for i in range(2)}

    # In flight when SIGTERM arrives: uploads whose whole body has been sent, uploads with half of
    # theirs sent, a GET with most of its body unread, a Complete with half of its XML sent, and
    # an idle keep-alive connection.
    pool = concurrent.futures.ThreadPoolExecutor(2 * UPLOADS + 4)
    heads = {key: raw.start_request(server, "PUT", bucket, key, declared=UPLOAD) for key in sent}
    sending = {key: pool.submit(_send_all, sock, sent[key]) for key, sock in heads.items()}
    halves = {key: raw.start_request(server, "PUT", bucket, key, declared=UPLOAD) for key in arriving}
    for key, sock in halves.items():
        sock.sendall(arriving[key][: UPLOAD // 2])
    completing = raw.start_request(server, "POST", bucket, "assembled", declared=len(complete_xml),
                                   query={"uploadId": upload_id})
    completing.sendall(complete_xml[: len(complete_xml) // 2])
    reading = raw.start_request(server, "GET", bucket, "big", declared=0)
    streamed = http.client.HTTPResponse(reading, method="GET")
    streamed.begin()
    first = streamed.read(64 * 1024)
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    idle.request("GET", "/-/health")
    idle.getresponse().read()
    answers = {key: pool.submit(lambda s=s: _answer_of(s.result(), "PUT")) for key, s in sending.items()}
    concurrent.futures.wait(sending.values())

    signalled = time.monotonic()
    os.kill(server.pid, signal.SIGTERM)
    idle_closed = _closed_by_peer(idle.sock, signalled)
    refused = _wait_for(lambda: _refused(server.port), 5.0)
    assert server.process.poll() is None, "the server exited with requests in flight"
    assert refused < 2.0, "the listening socket still accepts connections after SIGTERM"
    assert idle_closed < 2.0, "an idle keep-alive connection was not closed at once"

    for key, sock in halves.items():
        sock.sendall(arriving[key][UPLOAD // 2 :])
        answers[key] = pool.submit(_answer_of, sock, "PUT")
    completing.sendall(complete_xml[len(complete_xml) // 2 :])
    answers["assembled"] = pool.submit(_answer_of, completing, "POST")
    assert first + streamed.read() == big
    reading.close()
    statuses = {key: (answer.result().status if answer.result() else None) for key, answer in answers.items()}
    last_answer = time.monotonic()
    assert statuses == dict.fromkeys(answers, 200)

    server.process.wait(timeout=GRACE + EXIT_SLACK)
    exited = time.monotonic()
    assert server.process.returncode == 0, server.log_tail()
    assert exited - signalled < GRACE
    assert exited - last_answer < 2.0, "the server waited on after its last answer"
    pool.shutdown()

    server.start()
    written = {**sent, **arriving, "big": big, "assembled": b"".join(pieces)}
    assert {o.key for o in oss2.ObjectIterator(multipart)} == set(written)
    for key, body in written.items():
        assert _get(server, bucket, key).body == body, key
    summary(f"{_config(server)}: {len(answers) + 1} requests in flight all answered; refused new connections "
            f"{refused:.2f} s and closed the idle one {idle_closed:.2f} s after SIGTERM; exit {exited - signalled:.2f} s "
            f"after SIGTERM, {exited - last_answer:.2f} s after the last answer")


def test_requests_past_the_grace_are_cut(cutting_server: TesseraServer, summary: Callable[[str], None]) -> None:
    server, bucket = cutting_server, "cut"
    assert raw.request(server, "PUT", bucket).status == 200
    big = os.urandom(OBJECT)
    _put(server, bucket, "big", big)
    # Never finished: an upload whose client stops sending halfway, a GET whose client stops reading.
    stalled = raw.start_request(server, "PUT", bucket, "stalled", declared=UPLOAD)
    stalled.sendall(os.urandom(UPLOAD // 2))
    unread = raw.start_request(server, "GET", bucket, "big", declared=0)
    unread.recv(1)
    before = raw.blob_files(server.data_dir)

    signalled = time.monotonic()
    os.kill(server.pid, signal.SIGINT)  # as SIGTERM
    server.process.wait(timeout=CUT_GRACE + EXIT_SLACK + 10)
    exited = time.monotonic() - signalled
    assert _answer_of(stalled, "PUT") is None
    unread.close()
    assert CUT_GRACE <= exited < CUT_GRACE + EXIT_SLACK
    assert server.process.returncode == 0, server.log_tail()
    assert sum(int(n) for n in re.findall(r"cut (\d+) connection", server.log_text())) == 2

    server.start()
    assert _get(server, bucket, "stalled").status == 404
    assert _get(server, bucket, "big").body == big
    leftovers = raw.blob_files(server.data_dir) - before
    summary(f"{_config(server)}: exit {exited:.2f} s after SIGINT with --shutdown-grace {CUT_GRACE}; "
            f"the cut upload is not visible and left {len(leftovers)} file(s)")


def _half_close(sock: socket.socket, method: str) -> raw.RawResponse | None:
    sock.shutdown(socket.SHUT_WR)
    return _answer_of(sock, method)


def test_half_close_mid_body_gets_incomplete_body(server: TesseraServer, bucket_name: str,
                                                  summary: Callable[[str], None]) -> None:
    bucket = Clients(server).oss2_bucket(bucket_name)
    upload_id = bucket.init_multipart_upload("part").upload_id
    xml = _complete_xml([(1, '"0123456789abcdef0123456789abcdef"')])
    before = raw.blob_files(server.data_dir)
    cases = {
        "PutObject": ("PUT", "object", {}, 1024 * 1024),
        "UploadPart": ("PUT", "part", {"partNumber": "1", "uploadId": upload_id}, 1024 * 1024),
        "CompleteMultipartUpload": ("POST", "part", {"uploadId": upload_id}, len(xml)),
    }
    for operation, (method, key, query, declared) in cases.items():
        sock = raw.start_request(server, method, bucket_name, key, declared=declared, query=query)
        sock.sendall((xml if method == "POST" else os.urandom(declared))[: declared // 3])
        answer = _half_close(sock, method)
        assert answer is not None, f"{operation}: no answer"
        assert (answer.status, answer.code) == (400, "IncompleteBody"), (operation, answer)
    assert raw.settle(server.data_dir, before) == set()
    assert _get(server, bucket_name, "object").status == 404
    assert bucket.list_parts("part", upload_id).parts == []

    # A client that half-closes once its whole body is sent is answered as any other.
    body = os.urandom(300 * 1024)
    sock = raw.start_request(server, "PUT", bucket_name, "whole", declared=len(body))
    sock.sendall(body)
    answer = _half_close(sock, "PUT")
    assert answer is not None and answer.status == 200
    assert _get(server, bucket_name, "whole").body == body
    summary(f"{'postgresql' if server.metadata_url else 'sqlite'}: half-close mid-body answered 400 "
            f"IncompleteBody for {len(cases)} operations, nothing stored")


def _serve_again(first: TesseraServer, *, data_dir: Path | None = None, port: int | None = None) -> TesseraServer:
    second = TesseraServer(data_dir or first.data_dir, first.metadata_url)
    second.port = port or free_port()
    second.log_path = first.data_dir.parent / f"{first.data_dir.name}-second.log"
    return second


def _refusal(second: TesseraServer) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSS_ACCESS_KEY_ID": second.access_key_id, "OSS_ACCESS_KEY_SECRET": second.access_key_secret}
    return subprocess.run(second.command(), capture_output=True, text=True, timeout=20, env=env)


def _lone_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 backend: str) -> TesseraServer:
    server = start_server(tmp_path_factory, request, backend)
    request.addfinalizer(server.stop)
    return server


@pytest.fixture(scope="module")
def sqlite_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> TesseraServer:
    return _lone_server(request, tmp_path_factory, "sqlite")


@pytest.fixture
def postgresql_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> TesseraServer:
    return _lone_server(request, tmp_path_factory, "postgresql")


def _half_sent_upload(server: TesseraServer) -> tuple[socket.socket, bytes]:
    """An upload to shared/during with half its body sent."""
    assert raw.request(server, "PUT", "shared").status == 200
    body = os.urandom(UPLOAD)
    writing = raw.start_request(server, "PUT", "shared", "during", declared=UPLOAD)
    writing.sendall(body[: UPLOAD // 2])
    return writing, body


def _finish_upload(writing: socket.socket, body: bytes) -> None:
    writing.sendall(body[UPLOAD // 2 :])
    assert _answer_of(writing, "PUT").status == 200


def test_second_server_on_a_sqlite_data_directory_is_refused(sqlite_server: TesseraServer) -> None:
    first = sqlite_server
    writing, body = _half_sent_upload(first)
    for port in (None, first.port):  # another port, and the same one
        refused = _refusal(_serve_again(first, port=port))
        assert refused.returncode == 1
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr, refused.stderr
        assert refused.stderr.startswith("tessera serve: "), refused.stderr
        assert "in use" in refused.stderr
        if port is None:
            assert f"in use by another tessera serve (pid {first.pid}, {first.endpoint})" in refused.stderr
    _finish_upload(writing, body)
    assert _get(first, "shared", "during").body == body


def test_same_port_is_refused_in_one_line(sqlite_server: TesseraServer, tmp_path: Path) -> None:
    refused = _refusal(_serve_again(sqlite_server, data_dir=tmp_path / "other", port=sqlite_server.port))
    assert refused.returncode == 1
    assert refused.stderr == (f"tessera serve: cannot listen on 127.0.0.1:{sqlite_server.port}: "
                              "the address is already in use (another server listens there)\n")
    assert not (tmp_path / "other").exists()
    assert raw.unsigned_request(sqlite_server, "GET", "/-/health").status == 200


def test_second_server_shares_a_postgresql_metadata_store(postgresql_server: TesseraServer) -> None:
    first = postgresql_server
    writing, body = _half_sent_upload(first)
    assert _wait_for(lambda: any((first.data_dir / "tmp").iterdir()), 5.0) < 5.0
    # A temporary file a crash left two hours ago: the second server's collector removes it at
    # start, and must leave the one being written (and its pending blob) alone.
    witness = first.data_dir / "tmp" / "left-by-a-crash.tmp"
    witness.write_bytes(b"x")
    os.utime(witness, (time.time() - 7200, time.time() - 7200))
    with _serve_again(first) as second:
        assert _wait_for(lambda: not witness.exists(), 10.0) < 10.0
        _finish_upload(writing, body)
        assert _get(second, "shared", "during").body == body
        _put(second, "shared", "from-second", b"second")
        assert _get(first, "shared", "from-second").body == b"second"
        second.stop()
        assert "collector:" in second.log_text()
