"""`edge-serve`: read digits over HTTP (a thin command line over tegaki.runtime.serve_app)."""

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from tegaki.runtime.console import PlainUsage, command_app, fail, native_chatter_hidden, require_modules
from tegaki.runtime.errors import TegakiError

TOKEN_VARIABLE = "TEGAKI_SERVE_TOKEN"
MAX_CONNECTIONS = 64  # beyond this many open connections new requests get 503: bounds memory on a Pi
GRACE_S = 30  # on SIGTERM/Ctrl-C, requests in flight get this long to finish

app = command_app()


@app.command(
    cls=PlainUsage,
    help="Serve the digit reader over HTTP: POST an image to /v1/read for the JSON "
    "`edge-predict --json` prints; GET / for a page to draw on; GET /healthz, /metrics. "
    "Stops on SIGTERM or Ctrl-C after requests in flight finish.",
)
def edge_serve(
    host: Annotated[str, typer.Option(help="address to listen on; 0.0.0.0 shares on the LAN")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0: any free one)")] = 8000,
    model: Annotated[
        Path | None,
        typer.Option(help="an .onnx file (or .tflite with the tflite extra) [default: the model shipped with tegaki]"),
    ] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="images read in parallel [default: all cores]")] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar=TOKEN_VARIABLE, show_envvar=True, help="bearer token every request but /healthz must carry"
        ),
    ] = None,
    max_body_mb: Annotated[float, typer.Option(min=0.001, help="largest request body accepted (413 above)")] = 10.0,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="seconds to receive a body, and again to read it (408 / 503 after)")
    ] = 30.0,
) -> None:
    import uvicorn

    from tegaki.runtime.reader import DigitReader
    from tegaki.runtime.serve_app import ReadyServer, ServeConfig, create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("python_multipart").setLevel(logging.ERROR)  # a bad form is the client's 422, not news
    workers = threads or os.cpu_count() or 1
    try:
        with native_chatter_hidden():
            reader = DigitReader(model, threads=1)  # one image per call is too small to split across threads
    except TegakiError as error:
        fail(str(error), code=2)
    config = ServeConfig(
        token=token or None,
        max_body=int(max_body_mb * 2**20),
        body_timeout=timeout,
        read_timeout=timeout,
        workers=workers,
    )
    server = ReadyServer(
        uvicorn.Config(
            create_app(reader, config),
            host=host,
            port=port,
            log_config=None,
            log_level="warning",
            access_log=False,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_graceful_shutdown=GRACE_S,
            server_header=False,
        )
    )
    server.note = f"{reader.model_path.name}, {workers} threads" + (", token required" if token else "")
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, stopped)
    try:
        server.run()
    except SystemExit as exit:
        if exit.code:  # uvicorn exits 1 when it cannot listen, after logging why
            fail(f"could not listen on {host}:{port}")
    logging.getLogger("tegaki.serve").info("stopped")


def stopped(signum, frame) -> None:
    """uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again to the
    handler it found: a stop that was asked for ends here, with status 0 and no traceback."""
    raise SystemExit(0)


def main() -> None:
    require_modules(["uvicorn", "starlette", "python_multipart"], "tegaki[serve]")
    app()


if __name__ == "__main__":  # python -m tegaki.runtime.serve, where no console script was installed
    main()
