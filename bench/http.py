"""A small HTTP client for the bench: stdlib http.client, keep-alive, cookies, timings."""

import http.client
import json
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode


class NotAvailable(Exception):
    """The endpoint a part needs answers 404: that part of the product is not built yet."""


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict
    seconds: float

    def json(self):
        return json.loads(self.body)


@dataclass
class Client:
    """One keep-alive connection (http.client reconnects when the server closes it)."""

    host: str
    port: int
    headers: dict = field(default_factory=dict)
    cookies: dict = field(default_factory=dict)
    timeout: float = 120.0

    def __post_init__(self):
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method: str, path: str, *, body=None, headers=None, form=None) -> Response:
        headers = {**self.headers, **(headers or {})}
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, ConnectionError):
            # A worker closed a kept-alive connection: open a new one once.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        seconds = time.perf_counter() - started
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Response(response.status, data, dict(response.headers), seconds)

    def close(self):
        self.connection.close()


def login(client: Client, login_path: str, username: str, password: str) -> None:
    """Log a session in through a Django login form (CSRF token and cookie included)."""
    page = client.request("GET", login_path)
    if page.status == 404:
        raise NotAvailable(login_path)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    if token is None:
        raise RuntimeError(f"no CSRF token on {login_path} (status {page.status})")
    answer = client.request(
        "POST",
        login_path,
        form={"csrfmiddlewaretoken": token.group(1).decode(), "username": username, "password": password},
        headers={"Referer": f"http://{client.host}:{client.port}{login_path}"},
    )
    if answer.status != 302:
        raise RuntimeError(f"login at {login_path} failed (status {answer.status})")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class LoadResult:
    p50_ms: float
    p95_ms: float
    requests_per_second: float
    requests: int


def measure(make_client, path: str, *, latency_requests: int, threads: int, per_thread: int) -> LoadResult:
    """p50/p95 from one client in sequence, then req/s from `threads` clients at once."""
    client = make_client()
    for _ in range(5):  # warm up: connections, caches
        response = client.request("GET", path)
        if response.status == 404:
            raise NotAvailable(path)
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}: {response.body[:300]!r}")
    latencies = [client.request("GET", path).seconds for _ in range(latency_requests)]
    client.close()

    failures = []

    def hammer():
        own = make_client()
        for _ in range(per_thread):
            if own.request("GET", path).status != 200:
                failures.append(path)
        own.close()

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests to {path} failed under load")
    return LoadResult(
        p50_ms=statistics.median(latencies) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        requests_per_second=threads * per_thread / elapsed,
        requests=len(latencies) + threads * per_thread,
    )
