"""Load test of `cnndsl serve` on loopback (issue 13): requests per second and
latency percentiles for checking a ResNet-50 spec, and how many requests failed.

It starts `cnndsl serve` (the console script beside this interpreter) on
127.0.0.1 with a free port, then sends a bounded number of requests from a few
client threads over keep-alive connections, and stops by itself at a deadline
whatever happens. Each request carries the spec with its own trailing comment,
so every one is a real check (no cache hit), as when a student types; `--same`
sends one text throughout (the cache's case). Loopback only: there is no option
to aim it anywhere else.

Run:  python benchmarks/bench_serve.py [--requests 2000] [--clients 16] [--warm-up 50]
      [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "resnet50.cnn"
HOST = "127.0.0.1"
#: the server's session token, as it printed it (every API call carries it)
SESSION = {"token": ""}


def start_server() -> tuple[subprocess.Popen, int, str]:
    """`cnndsl serve --port 0` on loopback; returns the process, its port and its token."""
    script = Path(sys.executable).parent / "cnndsl"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cnndsl"]
    server = subprocess.Popen([*command, "serve", "--host", HOST, "--port", "0"],
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    line = server.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+)", line)
    if found is None:
        server.kill()
        raise SystemExit(f"cnndsl serve did not start: {line.strip()}")
    return server, int(found.group(1)), found.group(2)


def client(port: int, bodies: list[bytes], deadline: float, out: list) -> None:
    """Send each body in turn over one keep-alive connection; record (status, seconds)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    headers = {"Content-Type": "application/json", "Host": f"{HOST}:{port}",
               "X-Cnndsl-Token": SESSION["token"]}
    for body in bodies:
        if time.monotonic() > deadline:
            break
        start = time.perf_counter()
        try:
            connection.request("POST", "/api/check", body, headers)
            response = connection.getresponse()
            response.read()
            out.append((response.status, time.perf_counter() - start))
        except (OSError, http.client.HTTPException) as exc:
            out.append((type(exc).__name__, time.perf_counter() - start))
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.close()


def requests_for(text: str, count: int, same: bool) -> list[bytes]:
    """`count` request bodies: the spec, each with its own comment unless `same`."""
    return [json.dumps({"text": text if same else f"{text}\n# request {i}\n",
                        "file": "resnet50.cnn"}).encode() for i in range(count)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def load(port: int, total: int, clients: int, seconds: float, same: bool) -> dict:
    """Run the load; returns its figures."""
    bodies = requests_for(SPEC.read_text(encoding="utf-8"), total, same)
    results: list[list] = [[] for _ in range(clients)]
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(port, bodies[i::clients], deadline,
                                                     results[i])) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    done = [r for rs in results for r in rs]
    latencies = [seconds for status, seconds in done if status == 200]
    failed = [status for status, _ in done if status != 200]
    return {"spec": SPEC.name, "requests": len(done), "clients": clients, "same_text": same,
            "failed": len(failed), "failures": sorted({str(s) for s in failed}),
            "seconds": round(wall, 3), "requests_per_second": round(len(done) / wall, 1),
            "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
            "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
            "max_ms": round(1000 * max(latencies, default=0.0), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120.0,
                        help="stop sending after this long, whatever is left")
    parser.add_argument("--warm-up", type=int, default=50, metavar="N",
                        help="requests sent (and not counted) before the measured ones")
    parser.add_argument("--same", action="store_true", help="send one text throughout")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    server, port, SESSION["token"] = start_server()
    try:
        if args.warm_up > 0:
            load(port, min(args.warm_up, args.requests), min(4, args.clients), 30.0, args.same)
        figures = load(port, args.requests, args.clients, args.seconds, args.same)
    finally:
        server.terminate()
        server.wait(timeout=10)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{figures['requests']} checks of {figures['spec']} from {figures['clients']} clients "
          f"in {figures['seconds']} s: {figures['requests_per_second']} requests/s, "
          f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms, "
          f"{figures['failed']} failed {figures['failures'] or ''}")


if __name__ == "__main__":
    main()
