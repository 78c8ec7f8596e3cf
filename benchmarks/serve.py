"""edge-serve under load, against the same load through one edge-predict process per request.
Prints Markdown tables (docs/serve.md records them).

    TEGAKI_MNIST=../shared/data/mnist .venv/bin/python benchmarks/serve.py [--requests 2000]

Inputs: the first 100 MNIST test digits as 28x28 PNGs, sent in turn. Each of 1, 4 and 16
clients is a thread with one keep-alive connection sending one image at a time; latency is
per request as the client sees it. RSS is the server's (VmRSS idle after start-up, VmHWM
after all the load). edge-predict: the same clients, each running `edge-predict one.png`
once per request (peak RSS: the largest process's, by /usr/bin/time).
"""

import argparse
import http.client
import io
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from tegaki.train.mnist import load_mnist

from timing import machine_line, p50_p99

CLIENTS = (1, 4, 16)
BIN = Path(sys.executable).parent


def proc_status(pid: int, field: str) -> float:
    """A /proc/PID/status memory field in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def start_server(log: Path) -> tuple[subprocess.Popen, int, float]:
    started = time.perf_counter()
    with open(log, "wb") as sink:
        server = subprocess.Popen([str(BIN / "edge-serve"), "--port", "0"], stdout=sink, stderr=sink)
    while "serving on http://" not in (text := log.read_text()):
        if server.poll() is not None:
            raise SystemExit(f"edge-serve exited:\n{text}")
        time.sleep(0.01)
    port = int(text.split("serving on http://127.0.0.1:")[1].split(" ")[0])
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/healthz")
    assert connection.getresponse().status == 200
    return server, port, time.perf_counter() - started


def load(clients: int, total: int, one_request) -> tuple[float, np.ndarray]:
    """Requests/s and each request's milliseconds for `total` requests from `clients` threads."""

    def client(number: int) -> list[float]:
        times, state = [], {}
        for i in range(number, total, clients):
            began = time.perf_counter()
            one_request(i, state)
            times.append((time.perf_counter() - began) * 1000)
        return times

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        times = [t for chunk in pool.map(client, range(clients)) for t in chunk]
    return total / (time.perf_counter() - began), np.array(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per client count, through edge-serve")
    parser.add_argument("--process-requests", type=int, default=32, help="per client count, through edge-predict")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]  # 2 shared cores: say how busy the machine was
    mnist = load_mnist()
    pngs = []
    for digit in mnist.x_test[:100]:
        buffer = io.BytesIO()
        Image.fromarray(digit).save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    workdir = Path(tempfile.mkdtemp(prefix="tegaki-serve-bench-"))
    (workdir / "one.png").write_bytes(pngs[0])

    server, port, start_s = start_server(workdir / "log.txt")
    time.sleep(1)
    idle_rss = proc_status(server.pid, "VmRSS")
    rows = []
    try:

        def post(i: int, state: dict) -> None:
            connection = state.setdefault("connection", http.client.HTTPConnection("127.0.0.1", port, timeout=60))
            connection.request("POST", "/v1/read", body=pngs[i % len(pngs)], headers={"Content-Type": "image/png"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200

        load(4, 200, post)  # warm-up
        for clients in CLIENTS:
            rate, times = load(clients, args.requests, post)
            rows.append(("edge-serve", clients, rate, p50_p99(times)))
        peak_rss = proc_status(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(60)

    process_rss = []

    def run_process(i: int, state: dict) -> None:
        # /usr/bin/time's own small fork: ru_maxrss of a child forked from this big process would count its pages
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", str(BIN / "edge-predict"), str(workdir / "one.png")],
            check=True,
            capture_output=True,
        )
        process_rss.append(int(done.stderr.split()[-1]) / 1024)

    for clients in CLIENTS:
        rate, times = load(clients, args.process_requests, run_process)
        rows.append(("edge-predict per request", clients, rate, p50_p99(times)))
    process_peak = max(process_rss)

    print(machine_line(load_before) + "\n")
    print("| path | clients | requests | requests/s | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, clients, rate, times in rows:
        count = args.requests if name == "edge-serve" else args.process_requests
        print(f"| {name} | {clients} | {count} | {rate:,.1f} | {times['p50_ms']:.2f} | {times['p99_ms']:.2f} |")
    print(
        f"\nedge-serve: start-up to first answer {start_s:.2f} s; RSS idle {idle_rss:.1f} MiB, "
        f"peak {peak_rss:.1f} MiB; edge-predict: peak RSS of one process {process_peak:.1f} MiB"
    )


if __name__ == "__main__":
    main()
