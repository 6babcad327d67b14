"""A fake of lakeFS's S3 gateway over a ``LocalLake`` (tests only: no lakeFS server runs here).

lakeFS addresses objects as ``s3://<repository>/<ref>/<path>``; this fake serves path-style
requests on that layout:

* ``PUT /<repo>/<branch>/<path>``      upload (an uncommitted change of the branch, as lakeFS)
* ``GET`` / ``HEAD /<repo>/<ref>/<path>`` read / stat (a branch, a tag or a commit id)
* ``DELETE /<repo>/<branch>/<path>``   delete (204 also for a missing key, as S3)
* ``GET /<repo>?list-type=2``          ListObjectsV2 (``prefix`` = ``<ref>/<path prefix>``,
  ``delimiter``, ``max-keys``, ``continuation-token``, ``start-after``)
* ``HEAD /<repo>``                     the bucket (repository) exists

Errors answer S3 XML (``NoSuchBucket``, ``NoSuchKey``, ``AccessDenied``...); a protected
branch refuses writes with 403. Every request must carry an AWS Signature V4
``Authorization`` header whose access key id is the configured one (403 otherwise); the
signature itself is not verified. Real lakeFS serves this gateway on its API port; here it
is a server of its own next to the API fake.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from tests.fakes.background import BackgroundHTTPServer
from versioning.lake import (
    CommonPrefix,
    Lake,
    LakeError,
    NotFoundError,
    ObjectStat,
    ProtectedBranchError,
)

FAKE_ACCESS_KEY_ID = "AKIAIOSFODNN7FAKELAKE"  # test fixture, not a credential
FAKE_SECRET_ACCESS_KEY = "fake/lakefs/secret/for/tests"  # test fixture, not a credential
S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
_CREDENTIAL = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/[^,]*,.*Signature=[0-9a-f]+")


class S3Error(Exception):
    """An S3 error answer."""

    def __init__(self, status: int, code: str, message: str, resource: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.resource = status, code, message, resource

    def xml(self) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
            f"<Code>{self.code}</Code><Message>{escape(self.message)}</Message>"
            f"<Resource>{escape(self.resource)}</Resource></Error>"
        ).encode()


@dataclass(frozen=True)
class GatewayRequest:
    """One request the fake received (for assertions)."""

    method: str
    path: str
    query: dict[str, str]
    access_key_id: str | None


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] | None = None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _etag(stat: ObjectStat) -> str:
    return f'"{hashlib.md5(stat.checksum.encode()).hexdigest()}"'  # opaque, stable per content


class FakeS3Gateway:
    """The gateway over ``lake`` on 127.0.0.1 (random port); see the module docstring."""

    def __init__(
        self,
        lake: Lake,
        *,
        access_key_id: str = FAKE_ACCESS_KEY_ID,
        secret_access_key: str = FAKE_SECRET_ACCESS_KEY,
    ) -> None:
        self.lake = lake
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key  # handed to clients; not checked (see above)
        self.requests: list[GatewayRequest] = []
        self._lock = threading.Lock()
        self._http: BackgroundHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._http is not None, "the fake is not running"
        return self._http.url

    def start(self) -> None:
        self._http = BackgroundHTTPServer(_make_handler(self), "fake-s3-gateway")
        self._http.start()

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()

    # -- requests --------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> Answer:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = unquote(parts.path)
        match = _CREDENTIAL.match(headers.get("Authorization") or "")
        key_id = match.group(1) if match else None
        with self._lock:
            self.requests.append(GatewayRequest(method, path, query, key_id))
        try:
            if key_id is None:
                raise S3Error(403, "AccessDenied", "AWS Signature V4 authorization required", path)
            if key_id != self.access_key_id:
                raise S3Error(403, "InvalidAccessKeyId", f"unknown access key {key_id}", path)
            repository, _, rest = path.lstrip("/").partition("/")
            if not repository:
                raise S3Error(400, "InvalidRequest", "ListBuckets is not served by the fake", path)
            if not rest:
                return self._bucket(method, repository, query)
            ref, _, key = rest.partition("/")
            if not key:
                raise S3Error(400, "InvalidRequest", "a key is <ref>/<path>", path)
            return self._object(method, repository, ref, key, body, path)
        except S3Error as err:
            return Answer(err.status, err.xml() if method != "HEAD" else b"")
        except Exception as exc:  # a fake's bug answers 500 instead of dropping the connection
            err = S3Error(500, "InternalError", f"{type(exc).__name__}: {exc}", path)
            return Answer(500, err.xml() if method != "HEAD" else b"")

    def _require_repository(self, repository: str) -> None:
        try:
            self.lake.get_repository(repository)
        except NotFoundError:
            raise S3Error(404, "NoSuchBucket", f"no repository {repository}", repository) from None

    def _bucket(self, method: str, repository: str, query: dict[str, str]) -> Answer:
        self._require_repository(repository)
        if method == "HEAD":
            return Answer(200)
        if method == "GET" and query.get("list-type") == "2":
            return Answer(200, self._list(repository, query), {"Content-Type": "application/xml"})
        raise S3Error(405, "MethodNotAllowed", f"{method} on a bucket", repository)

    def _object(
        self, method: str, repository: str, ref: str, key: str, body: bytes, resource: str
    ) -> Answer:
        self._require_repository(repository)
        try:
            if method == "PUT":
                stat = self.lake.upload(repository, ref, key, body)
                return Answer(200, headers={"ETag": _etag(stat)})
            if method in ("GET", "HEAD"):
                stat = self.lake.stat(repository, ref, key)
                headers = {
                    "ETag": _etag(stat),
                    "Last-Modified": datetime.fromtimestamp(stat.mtime, UTC).strftime(
                        "%a, %d %b %Y %H:%M:%S GMT"
                    ),
                    "Content-Type": stat.content_type,
                    "Content-Length": str(stat.size_bytes),
                }
                data = b"" if method == "HEAD" else self.lake.read_bytes(repository, ref, key)
                return Answer(200, data, headers)
            if method == "DELETE":
                with contextlib.suppress(NotFoundError):
                    self.lake.delete_object(repository, ref, key)
                return Answer(204)
        except ProtectedBranchError as err:
            raise S3Error(403, "AccessDenied", str(err), resource) from None
        except NotFoundError as err:
            raise S3Error(404, "NoSuchKey", str(err), resource) from None
        except LakeError as err:
            raise S3Error(400, "InvalidRequest", str(err), resource) from None
        raise S3Error(405, "MethodNotAllowed", f"{method} on an object", resource)

    def _list(self, repository: str, query: dict[str, str]) -> bytes:
        """ListObjectsV2 of ``<ref>/<path prefix>`` (a prefix without a ref lists nothing)."""
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter") or None
        max_keys = int(query.get("max-keys", 1000))
        after = query.get("continuation-token") or query.get("start-after") or ""
        ref, slash, path_prefix = prefix.partition("/")
        entries: list[ObjectStat | CommonPrefix] = []
        if slash:
            try:
                entries = list(self.lake.list_objects(repository, ref, path_prefix, delimiter))
            except NotFoundError:
                entries = []
        keyed = sorted(((f"{ref}/{e.path}", e) for e in entries), key=lambda item: item[0])
        keyed = [(key, e) for key, e in keyed if key > after]
        page, truncated = keyed[:max_keys], len(keyed) > max_keys
        # encoding-type=url (boto3 always asks): keys come back URL-encoded, and it decodes them
        encode = (lambda key: quote(key, safe="/")) if query.get("encoding-type") == "url" else str
        items = []
        for key, entry in page:
            if isinstance(entry, CommonPrefix):
                items.append(
                    f"<CommonPrefixes><Prefix>{escape(encode(key))}</Prefix></CommonPrefixes>"
                )
            else:
                items.append(
                    f"<Contents><Key>{escape(encode(key))}</Key><LastModified>{_iso(entry.mtime)}"
                    f"</LastModified><ETag>{escape(_etag(entry))}</ETag>"
                    f"<Size>{entry.size_bytes}</Size><StorageClass>STANDARD</StorageClass>"
                    "</Contents>"
                )
        next_token = (
            f"<NextContinuationToken>{escape(page[-1][0])}</NextContinuationToken>"
            if truncated
            else ""
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ListBucketResult xmlns="{S3_XMLNS}"><Name>{escape(repository)}</Name>'
            f"<Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount>"
            f"<MaxKeys>{max_keys}</MaxKeys>"
            + (f"<Delimiter>{escape(delimiter)}</Delimiter>" if delimiter else "")
            + f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
            + next_token
            + "".join(items)
            + "</ListBucketResult>"
        ).encode()


def _make_handler(gateway: FakeS3Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = gateway.handle(self.command, self.path, self.headers, body)
            self.send_response(answer.status)
            headers = dict(answer.headers or {})
            if self.command != "HEAD" or "Content-Length" not in headers:
                headers["Content-Length"] = str(len(answer.body))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_PUT = do_HEAD = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def running_fake_s3_gateway(lake: Lake, **options: Any) -> Iterator[FakeS3Gateway]:
    """A started :class:`FakeS3Gateway` over ``lake``, stopped on exit."""
    gateway = FakeS3Gateway(lake, **options)
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()
