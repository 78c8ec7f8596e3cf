"""`edge-serve` as a user runs it: the real server in a subprocess, real HTTP, a real browser."""

import base64
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tegaki.runtime import DigitReader
from tegaki.runtime.records import reading_record

from commands import run_command

SAMPLES = sorted((Path(__file__).parent.parent / "assets" / "samples").iterdir())
TOKEN = "s3cret-token"
MAX_BODY_MB = 1


class Server:
    """An `edge-serve` subprocess on a free port, its log in a file (a pipe could fill up)."""

    def __init__(self, log: Path, *args: str):
        self.log = log
        script = Path(sys.executable).with_name("edge-serve")
        with open(log, "wb") as sink:
            self.process = subprocess.Popen(
                [str(script), "--port", "0", *args],
                stdout=sink,
                stderr=sink,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + 60
        while "serving on http://" not in (text := log.read_text()):
            assert self.process.poll() is None and time.monotonic() < deadline, text
            time.sleep(0.05)
        self.port = int(text.split("serving on http://127.0.0.1:")[1].split(" ")[0])

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, token: str | None = TOKEN
    ) -> tuple[int, dict, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), json.loads(raw) if raw.startswith(b"{") else raw

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("serve") / "log.txt", "--token", TOKEN, "--max-body-mb", str(MAX_BODY_MB))
    yield server
    assert server.stop() == 0
    assert "Traceback" not in server.log.read_text()


@pytest.fixture(scope="module")
def reader():
    return DigitReader()


def without_timing(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "timing_ms"}


def test_each_sample_answers_what_edge_predict_json_prints(server):
    printed = run_command("edge-predict", "--json", "--top-k", "3", *map(str, SAMPLES))
    assert printed.returncode == 0, printed.stderr
    for sample, line in zip(SAMPLES, printed.stdout.decode().splitlines()):
        status, headers, record = server.request(
            "POST", "/v1/read?top_k=3", sample.read_bytes(), {"Content-Type": "image/png"}
        )
        assert status == 200 and headers["content-type"] == "application/json"
        expected = json.loads(line)
        assert record["path"] == "-"  # bytes with no name, as `edge-predict -` names stdin
        assert without_timing(record) == {**without_timing(expected), "path": "-"}
        assert record.keys() == expected.keys() and record["timing_ms"]["inference"] > 0
        assert record["digit"] == int(sample.name[0])  # each sample is named <true digit>-<kind>


def test_multipart_upload_names_the_file_and_options_apply(server):
    boundary = "tegaki-boundary"
    sample = SAMPLES[-1]
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{sample.name}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + sample.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, record = server.request(
        "POST", "/v1/read?top_k=10&threshold=1", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert status == 200
    assert record["path"] == sample.name and record["digit"] == int(sample.name[0])
    assert len(record["top_k"]) == 10 and record["unsure"] is True


def test_include_input_adds_the_28x28_image_the_model_saw(server, reader):
    data = SAMPLES[0].read_bytes()
    status, _, record = server.request("POST", "/v1/read?include_input=1", data)
    assert status == 200
    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(record.pop("input_png")))))
    np.testing.assert_array_equal(seen, reader.read_number(data).digits[0].image)
    assert set(record) == set(reading_record(reader.read_number(data), path="-"))  # the rest as without it


def png_bomb() -> bytes:
    """A real decompression bomb: 64 megapixels (over the runtime's 50 MP limit) in 60 KB."""
    buffer = io.BytesIO()
    Image.new("L", (8000, 8000)).save(buffer, format="PNG")
    return buffer.getvalue()


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, body, expected",
    [
        ("non-image", b"this is not an image", "not an image Pillow can read"),
        ("truncated image", lambda: SAMPLES[0].read_bytes()[:100], "cannot decode"),
        ("bomb", png_bomb, "limit"),
        ("empty body", b"", "empty body"),
        ("blank page", lambda: png(np.full((64, 64), 255, np.uint8)), "no digit found"),
        (
            "multipart without a file",
            lambda: b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n',
            "no file field",
        ),
    ],
)
def test_bad_images_get_422_and_a_one_line_error(server, name, body, expected):
    body = body() if callable(body) else body
    headers = {"Content-Type": "multipart/form-data; boundary=b"} if name.startswith("multipart") else {}
    status, headers, answer = server.request("POST", "/v1/read", body, headers)
    assert (status, headers["content-type"], list(answer)) == (422, "application/json", ["error"])
    assert expected in answer["error"] and "\n" not in answer["error"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("top_k=0", "top_k"),
        ("top_k=x", "top_k"),
        ("top_k=%C2%B2", "top_k"),
        ("top_k=" + "9" * 5000, "top_k"),
        ("threshold=2", "threshold"),
        ("threshold=nan", "threshold"),
        ("include_input=maybe", "include_input"),
        ("topk=3", "unknown option 'topk'"),
    ],
)
def test_bad_options_get_422(server, query, expected):
    status, _, answer = server.request("POST", f"/v1/read?{query}", SAMPLES[0].read_bytes())
    assert status == 422 and expected in answer["error"]


def test_oversize_body_gets_413_whether_declared_or_streamed(server):
    too_big = b"\0" * (MAX_BODY_MB * 2**20 + 1)
    status, _, answer = server.request("POST", "/v1/read", too_big)  # with Content-Length
    assert status == 413 and "limit" in answer["error"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    chunks = (too_big[i : i + 65536] for i in range(0, len(too_big), 65536))  # chunked: no length up front
    try:
        connection.request(
            "POST", "/v1/read", body=chunks, encode_chunked=True, headers={"Authorization": f"Bearer {TOKEN}"}
        )
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before the whole body is sent
    response = connection.getresponse()
    assert response.status == 413 and "limit" in json.loads(response.read())["error"]


def test_wrong_method_unknown_path_and_tokens(server):
    status, headers, answer = server.request("GET", "/v1/read")
    assert (status, headers["allow"], list(answer)) == (405, "POST", ["error"])
    assert server.request("DELETE", "/healthz")[0] == 405
    assert server.request("GET", "/nowhere")[:3:2] == (404, {"error": "Not Found"})
    for token in (None, "wrong"):
        for method, path in (("POST", "/v1/read"), ("GET", "/metrics"), ("GET", "/"), ("GET", "/nowhere")):
            status, headers, answer = server.request(
                method, path, SAMPLES[0].read_bytes() if method == "POST" else None, token=token
            )
            assert (status, headers["www-authenticate"], list(answer)) == (401, "Bearer", ["error"])
    status, _, health = server.request("GET", "/healthz", token=None)  # open, for load balancers and probes
    assert status == 200 and health["model"] == "edge-int8.onnx" and len(health["sha256"]) == 64
    page = server.request("GET", f"/?token={TOKEN}", token=None)  # a browser opening the page
    assert page[0] == 200 and b"<canvas" in page[2]
    assert TOKEN not in server.log.read_text()  # nor does the token reach the log


def test_eight_clients_100_requests_each_all_answers_as_digitreader_read(server, reader):
    bodies = [sample.read_bytes() for sample in SAMPLES]
    expected = [
        without_timing(reading_record(reader.read_number(body), 3, labels=reader.labels, path="-")) for body in bodies
    ]

    def client(number: int) -> list[bool]:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)  # keep-alive
        results = []
        for i in range(100):
            which = (number + i) % len(bodies)
            connection.request(
                "POST", "/v1/read?top_k=3", body=bodies[which], headers={"Authorization": f"Bearer {TOKEN}"}
            )
            response = connection.getresponse()
            results.append(response.status == 200 and without_timing(json.loads(response.read())) == expected[which])
        return results

    with ThreadPoolExecutor(8) as pool:
        results = [ok for answers in pool.map(client, range(8)) for ok in answers]
    assert len(results) == 800 and all(results)
    status, _, metrics = server.request("GET", "/metrics")
    assert status == 200 and metrics["by_status"]["200"] >= 800 and metrics["reads"] >= 800
    assert 0 < metrics["read_ms"]["p50"] <= metrics["read_ms"]["p99"]


def test_sigterm_lets_requests_in_flight_finish_then_exits_0(tmp_path):
    server = Server(tmp_path / "log.txt")
    body = SAMPLES[1].read_bytes()
    head = f"POST /v1/read HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
    for sock in sockets:  # each request is under way: headers and half the body sent
        sock.sendall(head + body[: len(body) // 2])
    time.sleep(2)  # for the server to take the headers in (a request not yet begun is not in flight)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    with pytest.raises(ConnectionRefusedError):  # no new requests once stopping
        socket.create_connection(("127.0.0.1", server.port), timeout=5)
    answers = []
    for sock in sockets:
        sock.sendall(body[len(body) // 2 :])
        sock.settimeout(30)
        answers.append(b"".join(iter(lambda: sock.recv(65536), b"")))  # the server closes when done
    assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers), answers
    assert all(json.loads(answer.split(b"\r\n\r\n", 1)[1])["digit"] == int(SAMPLES[1].name[0]) for answer in answers)
    assert server.process.wait(30) == 0
    assert server.log.read_text().count('"POST /v1/read" 200') == 3


def test_bad_model_is_one_line_and_exit_2(tmp_path):
    result = run_command("edge-serve", "--model", str(tmp_path / "missing.onnx"))
    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"edge-serve: error: {tmp_path / 'missing.onnx'}: no such model file"
    ]


CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver",
)
def test_browser_draws_a_seven_and_reads_it(server, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=760,640",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        driver.get(f"http://127.0.0.1:{server.port}/?token={TOKEN}")
        pad = driver.find_element(By.ID, "pad")
        # a 7: the top bar left to right, then the long stroke down to the left (offsets from the centre)
        ActionChains(driver).move_to_element_with_offset(pad, -70, -90).click_and_hold().move_by_offset(
            70, 0
        ).move_by_offset(70, 0).move_by_offset(-35, 90).move_by_offset(-35, 90).release().perform()
        driver.find_element(By.ID, "read").click()
        WebDriverWait(driver, 30).until(
            lambda d: (
                d.find_element(By.ID, "answer").text != "?"
                or d.find_element(By.ID, "status").text not in ("", "reading…")
            )
        )
        assert driver.find_element(By.ID, "status").text == ""
        assert driver.find_element(By.ID, "answer").text == "7"
        assert driver.find_element(By.ID, "confidence").text.startswith("confidence ")
        assert driver.execute_script("return document.getElementById('seen').naturalWidth") == 28
        driver.save_screenshot(os.environ.get("TEGAKI_SCREENSHOT", str(tmp_path / "edge-serve.png")))
    finally:
        driver.quit()
