"""The HTTP application behind `edge-serve` (an ASGI app on Starlette; needs tegaki[serve]).

    POST /v1/read   an image as the body (any format Pillow reads) or as a multipart file field
                    -> the object `edge-predict --json` prints for one image
    GET  /healthz   model, its SHA-256, tegaki's version (no token needed)
    GET  /metrics   request and error counts, read latency percentiles
    GET  /          a page to draw a digit on or upload a photo

Every error is a JSON object {"error": "..."}; a bug is logged, never sent. Reading runs in
a thread pool, so a slow image does not hold up other requests or health checks.
"""

import asyncio
import base64
import hashlib
import hmac
import io
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import metadata, resources

import numpy as np
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tegaki.runtime.errors import ImageError
from tegaki.runtime.reader import DigitReader
from tegaki.runtime.records import reading_record

log = logging.getLogger("tegaki.serve")
LATENCY_WINDOW = 1000  # the percentiles in /metrics are over this many latest reads
OPEN_PATHS = {"/healthz"}  # answered without the token


@dataclass(frozen=True)
class ServeConfig:
    token: str | None = None  # bearer token every request but /healthz must carry
    max_body: int = 10 * 2**20  # bytes; larger bodies get 413
    body_timeout: float = 30.0  # seconds to receive a body (408 after)
    read_timeout: float = 30.0  # seconds to read a digit once received (503 after)
    workers: int = 2  # threads reading images in parallel


class Metrics:
    """Counters and a window of recent read latencies, updated from the event loop only."""

    def __init__(self):
        self.started = time.monotonic()
        self.statuses: Counter[int] = Counter()
        self.reads = 0
        self.read_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)

    def snapshot(self) -> dict:
        latencies = np.array(self.read_ms) if self.read_ms else np.zeros(1)
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "requests": sum(self.statuses.values()),
            "errors": sum(n for status, n in self.statuses.items() if status >= 400),
            "by_status": {str(status): n for status, n in sorted(self.statuses.items())},
            "reads": self.reads,
            "read_ms": {f"p{q}": round(float(np.percentile(latencies, q)), 3) for q in (50, 90, 99)},
        }


def error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def parse_options(request: Request) -> dict:
    """The query options as edge-predict's: top_k (1-10), threshold (0-1), single (0/1),
    max_digits (1-99), plus include_input. Raises ValueError with a message for the client."""
    query = request.query_params
    unknown = set(query) - {"top_k", "threshold", "single", "max_digits", "include_input", "token"}
    if unknown:
        raise ValueError(
            f"unknown option {sorted(unknown)[0]!r}; options: top_k, threshold, single, max_digits, include_input"
        )
    top_k = query.get("top_k", "1")
    if top_k not in {str(k) for k in range(1, 11)}:
        raise ValueError("top_k must be a whole number from 1 to 10")
    try:
        threshold = float(query.get("threshold", "0"))
    except ValueError:
        threshold = -1.0  # reported below
    if not 0.0 <= threshold <= 1.0:  # also false for nan
        raise ValueError("threshold must be a number from 0 to 1")
    flags = {}
    for name in ("single", "include_input"):
        flags[name] = query.get(name, "0").lower()
        if flags[name] not in ("0", "1", "false", "true"):
            raise ValueError(f"{name} must be 0 or 1")
    max_digits = query.get("max_digits")
    if max_digits is not None and max_digits not in {str(n) for n in range(1, 100)}:
        raise ValueError("max_digits must be a whole number from 1 to 99")
    return {
        "top_k": int(top_k),
        "threshold": threshold,
        "single": flags["single"] in ("1", "true"),
        "max_digits": int(max_digits) if max_digits else None,
        "include_input": flags["include_input"] in ("1", "true"),
    }


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused (BodyTooLarge) as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def image_from_form(request: Request, body: bytes) -> tuple[str, bytes]:
    """The first file in a multipart body, with its file name ('-' if it has none)."""

    async def replay() -> dict:  # the body was already received (and size-checked)
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=10)
    except (MultiPartException, HTTPException) as exc:
        raise ImageError(f"bad multipart form ({getattr(exc, 'message', None) or exc.detail})") from None
    for value in form.values():
        if isinstance(value, UploadFile):
            return value.filename or "-", await value.read()
    raise ImageError("the multipart form has no file field")


def png_base64(frame: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create_app(reader: DigitReader, config: ServeConfig) -> Callable:
    """The ASGI app: routes wrapped in the token check, the access log and the error guard."""
    metrics = Metrics()
    page = resources.files("tegaki.runtime").joinpath("static/index.html").read_text(encoding="utf-8")
    health = {
        "status": "ok",
        "model": reader.model_path.name,
        "sha256": file_sha256(reader.model_path),
        "version": metadata.version("tegaki"),
    }
    pool: ThreadPoolExecutor | None = None

    @asynccontextmanager
    async def lifespan(app):
        nonlocal pool
        pool = ThreadPoolExecutor(config.workers, thread_name_prefix="tegaki-read")
        yield
        pool.shutdown(wait=True)

    async def read(request: Request) -> Response:
        try:
            options = parse_options(request)
        except ValueError as exc:
            return error(422, str(exc))
        try:
            body = await asyncio.wait_for(read_body(request, config.max_body), config.body_timeout)
        except BodyTooLarge:
            return error(413, f"body over the {config.max_body} byte limit")
        except TimeoutError:
            return error(408, f"body not received within {config.body_timeout:g} s")
        started = time.perf_counter()
        try:
            path = "-"
            if request.headers.get("content-type", "").startswith("multipart/form-data"):
                path, body = await image_from_form(request, body)
            if not body:
                raise ImageError("empty body: send the image as the body or as a multipart file field")
            future = asyncio.get_running_loop().run_in_executor(
                pool, reader.read_all, [body], options["single"], options["max_digits"]
            )
            (reading,) = await asyncio.wait_for(future, config.read_timeout)
            if isinstance(reading, ImageError):
                raise reading
        except ImageError as exc:
            return error(422, str(exc))
        except TimeoutError:
            return error(503, f"reading the image took over {config.read_timeout:g} s")
        metrics.reads += 1
        metrics.read_ms.append((time.perf_counter() - started) * 1000)
        record = reading_record(reading, options["top_k"], options["threshold"], reader.labels, path=path)
        if options["include_input"]:  # the 28x28 images the model saw, side by side
            record["input_png"] = png_base64(np.hstack([digit.image for digit in reading.digits]))
        request.state.digit = record["number"]
        return JSONResponse(record)

    async def healthz(request: Request) -> Response:
        return JSONResponse(health)

    async def metrics_endpoint(request: Request) -> Response:
        return JSONResponse(metrics.snapshot())

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error(exc.status_code, exc.detail, getattr(exc, "headers", None))

    routes = [
        Route("/v1/read", read, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/", index, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    return Guard(app, config.token, metrics)


class Guard:
    """ASGI middleware: checks the bearer token, logs one line per request, counts statuses,
    and turns any exception into a logged traceback and a bare 500 (never sent to clients)."""

    def __init__(self, app: Callable, token: str | None, metrics: Metrics):
        self.app, self.metrics = app, metrics
        self.token = token.encode() if token else None

    def authorised(self, scope: dict) -> bool:
        if self.token is None or scope["path"] in OPEN_PATHS:
            return True
        headers = dict(scope["headers"])
        given = headers.get(b"authorization", b"").removeprefix(b"Bearer ").strip()
        if not given and scope["path"] == "/":  # a browser cannot send a header when opening a page
            query = Request(scope).query_params
            given = query.get("token", "").encode()
        return hmac.compare_digest(given, self.token)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 0

        async def send_and_note(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if self.authorised(scope):
                await self.app(scope, receive, send_and_note)
            else:
                await error(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})(
                    scope, receive, send_and_note
                )
        except Exception:
            log.exception("error while answering %s %s", scope["method"], scope["path"])
            if not status:
                await error(500, "internal error (logged by the server)")(scope, receive, send_and_note)
        finally:
            self.metrics.statuses[status or 500] += 1
            digit = scope.get("state", {}).get("digit")
            client = scope["client"][0] if scope.get("client") else "-"
            # the path without its query: a page's ?token= must not reach the log
            log.info(
                '%s "%s %s" %d %.1fms%s',
                client,
                scope["method"],
                scope["path"],
                status or 500,
                (time.perf_counter() - started) * 1000,
                f" number={digit}" if digit is not None else "",
            )


class ReadyServer(uvicorn.Server):
    """uvicorn's server, logging one line once listening, with the real address (port 0 picks a
    free one) and `note`."""

    note = ""

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            log.info("serving on http://%s:%d (%s)", host, port, self.note)
