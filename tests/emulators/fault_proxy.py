"""A loopback HTTP reverse proxy that forwards requests unchanged until told to misbehave.

Put it between a provider and a real (or emulated) API server to see the provider meet the
failures a real API produces, on the wire: ``inject("rate_limited", count=2, retry_after=3)``
makes the next two requests fail the way the API would fail them, without the server's help.
Everything else is forwarded byte for byte (the Host header included, so request signatures
still verify upstream).

    FaultProxy(upstream, render_fault=aws_fault)   the proxy (stdlib ThreadingHTTPServer)
    aws_fault(fault, retry_after)                  AWS REST-XML error answers (Route53's shapes)
    SigV4Checker(access_key_id, secret)            verifies AWS SigV4 signatures: real credential
                                                   checking for servers that cannot (moto)
"""

from __future__ import annotations

import hmac
import http.client
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.dns.harness import Fault
from tests.emulators.loopback import LoopbackHandler, LoopbackHTTPServer

# Headers that describe one hop, not the message: never copied across the proxy.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
)
# ...and those the proxy's own answer has already: send_response() adds Server and Date.
_NOT_RELAYED = _HOP_BY_HOP | {"server", "date"}


@dataclass
class Request:
    """A request as the proxy received it."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes

    @property
    def route(self) -> str:
        return urlsplit(self.path).path


@dataclass
class Answer:
    """A response the proxy makes up instead of forwarding."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Rewrite:
    match: Callable[[Request], bool]
    transform: Callable[[bytes], bytes]
    count: int


def aws_error(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None
) -> Answer:
    """An error in the shape AWS REST-XML services (Route53) send it."""
    request_id = str(uuid.uuid4())
    body = (
        '<?xml version="1.0"?>\n'
        '<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return Answer(
        status,
        body,
        {"Content-Type": "text/xml", "x-amzn-RequestId": request_id, **(headers or {})},
    )


_HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The proxy could not reach the upstream server.<br>"
    b"Please try again later.</body></html>\n"
)


def aws_fault(fault: Fault, retry_after: float | None) -> Answer:
    """What AWS (Route53) answers for each fault the harness protocol names."""
    if fault == "unauthorized":
        # What Route53 sends for an access key it does not know.
        return aws_error(
            403, "InvalidClientTokenId", "The security token included in the request is invalid."
        )
    if fault == "not_found":
        return aws_error(404, "NoSuchHostedZone", "No hosted zone found with ID: Z0000000000000")
    if fault == "rate_limited":
        extra = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return aws_error(400, "Throttling", "Rate exceeded", headers=extra)
    if fault == "server_error":
        return aws_error(500, "InternalFailure", "An internal error occurred. Try again.")
    if fault == "malformed":
        return Answer(200, _HTML_PAGE, {"Content-Type": "text/html; charset=utf-8"})
    raise ValueError(f"no canned answer for fault {fault!r}")


class SigV4Checker:
    """Checks that a request is signed (AWS SigV4) with one known key and secret.

    moto's server cannot check credentials for Route53: it computes the signature of a GET over
    the parsed query string instead of the empty body, so every read fails once its auth is on.
    This recomputes the signature with botocore over exactly what arrived, and answers as AWS
    does: 403 InvalidClientTokenId for an unknown key, 403 SignatureDoesNotMatch for a wrong
    secret, 403 MissingAuthenticationToken for no signature at all.
    """

    def __init__(self, access_key_id: str, secret_access_key: str) -> None:
        self.access_key_id = access_key_id
        self._secret = secret_access_key

    def __call__(self, request: Request) -> Answer | None:
        auth = _header(request.headers, "authorization") or ""
        fields = dict(
            part.strip().split("=", 1)
            for part in auth.removeprefix("AWS4-HMAC-SHA256 ").split(",")
            if "=" in part
        )
        if (
            not auth.startswith("AWS4-HMAC-SHA256 ")
            or not {"Credential", "SignedHeaders", "Signature"} <= fields.keys()
        ):
            return aws_error(403, "MissingAuthenticationToken", "Missing Authentication Token")
        key_id, _date, region, service, _ = (fields["Credential"].split("/") + [""] * 5)[:5]
        if key_id != self.access_key_id:
            return aws_error(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            )
        signed = fields["SignedHeaders"].split(";")
        aws_request = AWSRequest(
            method=request.method,
            url=f"http://{_header(request.headers, 'host')}{request.path}",
            headers={k: v for k, v in request.headers.items() if k.lower() in signed},
            data=request.body,
        )
        aws_request.context["timestamp"] = _header(request.headers, "x-amz-date") or ""
        signer = SigV4Auth(Credentials(key_id, self._secret), service, region)
        canonical = signer.canonical_request(aws_request)
        string_to_sign = signer.string_to_sign(aws_request, canonical)
        expected = signer.signature(string_to_sign, aws_request)
        if not hmac.compare_digest(expected, fields["Signature"]):
            # Word for word what AWS sends, quoting the signed headers: with temporary
            # credentials that includes the X-Amz-Security-Token (callers must not echo it).
            return aws_error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.\n\nThe Canonical String for this request should have "
                f"been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n",
            )
        return None


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


class FaultProxy(LoopbackHTTPServer[tuple[Fault, float | None] | Answer]):
    """Forward ``http://127.0.0.1:<port>`` to ``upstream``, failing on demand.

    ``is_write(request)`` says which requests count as record writes (counted when the
    upstream accepted them, status < 300); ``check_auth`` may refuse a request before it is
    forwarded (see ``SigV4Checker``); ``hang_seconds`` is how long a "timeout" fault keeps
    the client waiting before the connection is dropped without an answer.
    """

    def __init__(
        self,
        upstream: str,
        *,
        render_fault: Callable[[Fault, float | None], Answer] = aws_fault,
        is_write: Callable[[Request], bool] = lambda request: False,
        check_auth: Callable[[Request], Answer | None] | None = None,
        hang_seconds: float = 3.0,
    ) -> None:
        super().__init__(_Handler)
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.render_fault = render_fault
        self.is_write = is_write
        self.check_auth = check_auth
        self.hang_seconds = hang_seconds
        self.requests: list[Request] = []  # every request received, in order
        self._delays: list[float] = []
        self._rewrites: list[_Rewrite] = []
        self._writes = 0

    @property
    def url(self) -> str:
        return self.origin

    # -- control -----------------------------------------------------------------------------

    def inject(self, fault: Fault, *, count: int = 1, retry_after: float | None = None) -> None:
        """Make the next ``count`` requests fail this way (queued after earlier faults)."""
        self._queue_fault((fault, retry_after), count)

    def respond(self, answer: Answer, *, count: int = 1) -> None:
        """Answer the next ``count`` requests with ``answer`` instead of forwarding them (an
        error the named faults do not cover: a particular AWS code, message or header)."""
        self._queue_fault(answer, count)

    def slow(self, seconds: float, *, count: int = 1) -> None:
        """Hold the next ``count`` requests for ``seconds`` before forwarding them."""
        with self._lock:
            self._delays.extend([seconds] * count)

    def rewrite(
        self, match: Callable[[Request], bool], transform: Callable[[bytes], bytes], *, count: int
    ) -> None:
        """Pass the upstream's answer body to the next ``count`` requests ``match`` accepts
        through ``transform`` (e.g. a change status INSYNC -> PENDING)."""
        with self._lock:
            self._rewrites.append(_Rewrite(match, transform, count))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._rewrites.clear()

    def writes(self) -> int:
        with self._lock:
            return self._writes

    def seen(self, match: Callable[[Request], bool]) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if match(r)]

    # -- one request -------------------------------------------------------------------------

    def _plan(
        self, request: Request
    ) -> tuple[tuple[Fault, float | None] | Answer | None, float, _Rewrite | None]:
        with self._lock:
            self.requests.append(request)
            fault = self.take_fault()
            delay = self._delays.pop(0) if self._delays and fault is None else 0.0
            rewrite = next((r for r in self._rewrites if r.count > 0 and r.match(request)), None)
            if rewrite is not None and fault is None:
                rewrite.count -= 1
            return fault, delay, rewrite if fault is None else None

    def _forward(self, request: Request) -> Answer:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            conn.putrequest(request.method, request.path, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(request.body)))
            conn.endheaders(request.body)
            response = conn.getresponse()
            body = response.read()
            headers = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            return Answer(response.status, body, headers)
        finally:
            conn.close()

    def _count_write(self, request: Request, answer: Answer) -> None:
        if answer.status < 300 and self.is_write(request):
            with self._lock:
                self._writes += 1


class _Handler(LoopbackHandler):
    owner: FaultProxy

    def _handle(self) -> None:
        proxy = self.owner
        request = Request(self.command, self.path, dict(self.headers.items()), self.read_body())
        fault, delay, rewrite = proxy._plan(request)
        if isinstance(fault, tuple) and fault[0] == "timeout":
            self.hang(proxy.hang_seconds)  # until the client has given up
            return
        if isinstance(fault, Answer):
            answer = fault
        elif fault is not None:
            answer = proxy.render_fault(*fault)
        else:
            if delay:
                proxy.hold(delay)
            refusal = proxy.check_auth(request) if proxy.check_auth else None
            try:
                answer = refusal or proxy._forward(request)
            except OSError as exc:
                answer = Answer(
                    502, f"upstream unreachable: {exc}".encode(), {"Content-Type": "text/plain"}
                )
            if refusal is None:
                proxy._count_write(request, answer)
            if rewrite is not None and answer.status < 300:
                answer.body = rewrite.transform(answer.body)
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in _NOT_RELAYED}
        self.send(answer.status, answer.body, headers)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle
