"""Which HTTP server library edge-serve is built on: each candidate measured for a Pi's
memory and start-up. Prints a Markdown table (docs/serve.md records it).

    .venv/bin/python benchmarks/serve_stacks.py [--keep /tmp/tegaki-stacks]

Each stack is pip-installed on its own into a folder (--target) and runs the same tiny app
(GET /healthz answering a JSON object; no model, numpy or Pillow imported, so the figures
are the stack's own) from this interpreter. Measured: installed size, import time of the
server modules, start-up to the first answered request, RSS idle after one request and
after 2,000 requests from 4 concurrent keep-alive clients.
"""

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from timing import machine_line

STACKS = {
    "aiohttp": (
        ["aiohttp"],
        """
        from aiohttp import web
        async def healthz(request):
            return web.json_response({"status": "ok"})
        app = web.Application()
        app.router.add_get("/healthz", healthz)
        web.run_app(app, host="127.0.0.1", port=PORT, print=None, access_log=None)
    """,
    ),
    "uvicorn+starlette": (
        ["uvicorn", "starlette", "python-multipart"],
        """
        import uvicorn
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route
        async def healthz(request):
            return JSONResponse({"status": "ok"})
        app = Starlette(routes=[Route("/healthz", healthz)])
        uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", access_log=False)
    """,
    ),
    "hypercorn+starlette": (
        ["hypercorn", "starlette", "python-multipart"],
        """
        import asyncio
        from hypercorn.asyncio import serve
        from hypercorn.config import Config
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route
        async def healthz(request):
            return JSONResponse({"status": "ok"})
        config = Config()
        config.bind = [f"127.0.0.1:{PORT}"]
        config.loglevel = "WARNING"
        asyncio.run(serve(Starlette(routes=[Route("/healthz", healthz)]), config))
    """,
    ),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def get(port: int, connection: http.client.HTTPConnection | None = None) -> int:
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    return response.status


def client(port: int, requests: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for _ in range(requests):
        assert get(port, connection) == 200


def measure(name: str, packages: list[str], source: str, root: Path) -> dict:
    target = root / name
    if not target.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(target),
                *packages,
            ],
            check=True,
        )
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) / 2**20
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONDONTWRITEBYTECODE": "0"}
    script = root / f"app-{name}.py"  # not `aiohttp.py`: it would shadow the package
    imports = [line.strip() for line in textwrap.dedent(source).splitlines() if line.startswith(("import", "from"))]
    subprocess.run([sys.executable, "-c", "\n".join(imports)], env=env, check=True)  # write .pyc first
    import_s = statistics.median(
        _timed(lambda: subprocess.run([sys.executable, "-c", "\n".join(imports)], env=env, check=True))
        for _ in range(5)
    )
    starts, idles, peaks = [], [], []
    for _ in range(3):
        port = free_port()
        script.write_text(textwrap.dedent(source).replace("PORT", str(port)))
        started = time.perf_counter()
        server = subprocess.Popen([sys.executable, str(script)], env=env)
        try:
            while True:
                try:
                    get(port)
                    break
                except OSError:
                    if server.poll() is not None:
                        raise SystemExit(f"{name}: the server exited with status {server.returncode}") from None
                    time.sleep(0.005)
            starts.append(time.perf_counter() - started)
            time.sleep(0.5)
            idles.append(rss_mib(server.pid))
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda _: client(port, 500), range(4)))
            peaks.append(rss_mib(server.pid))
        finally:
            server.terminate()
            server.wait(10)
    return {
        "stack": name,
        "packages": " ".join(packages),
        "installed_mib": size,
        "import_s": import_s,
        "start_s": statistics.median(starts),
        "idle_rss_mib": statistics.median(idles),
        "loaded_rss_mib": statistics.median(peaks),
    }


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="install the stacks here and keep them (default: a temporary folder)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    root = args.keep or Path(tempfile.mkdtemp(prefix="tegaki-stacks-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        rows = [measure(name, packages, source, root) for name, (packages, source) in STACKS.items()]
    finally:
        if not args.keep:
            shutil.rmtree(root)
    print(f"{machine_line(load_before)}; median of 3 starts (imports: of 5)\n")
    print("| stack | installed | import | start-up to first answer | RSS idle | RSS after 2,000 requests |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['stack']} ({row['packages']}) | {row['installed_mib']:.1f} MiB | {row['import_s'] * 1000:.0f} ms "
            f"| {row['start_s'] * 1000:.0f} ms | {row['idle_rss_mib']:.1f} MiB | {row['loaded_rss_mib']:.1f} MiB |"
        )


if __name__ == "__main__":
    main()
