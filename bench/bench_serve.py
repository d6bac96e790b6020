"""HTTP serving under concurrent clients: `python -m core serve` (stored-video requests batched
into one pass) vs a reference written like the original Flask app (the classifier loaded lazily
on the first request, one request at a time, one video per forward pass), both measured in this
run on the same full-size members (1280-d, H768, 4 LSTM layers, 12 heads) and the same stored
73-step videos, over loopback only.

Each level runs `clients` concurrent async clients (httpx), each sending requests back to back
(at least `--min-requests` in all per level), and reports throughput and p50/p95/p99 latency;
the two engines run each level one right after the other. The reference's first request loads
its classifier, as the original's did.
Then the service is restarted with a small queue and sent twice its queue limit at once: the
excess must get 503 with Retry-After at once, and its peak memory is reported.

    python bench/bench_serve.py --members 1 --levels 1 8 32 64
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.classes import CLASS_NAMES  # noqa: E402
from core.features.store import FeatureSet, open_features  # noqa: E402
from core.features.writer import write_feature_set  # noqa: E402
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint, save_checkpoint  # noqa: E402
from core.model.inference import predict_sequence  # noqa: E402
from core.model.network import TemporalClassifier, TemporalModelConfig  # noqa: E402

STEPS, DIM = 73, 1280


def build_project(root: Path, members: int, videos: int) -> None:
    (root / "models_enhanced").mkdir(parents=True)
    (root / "features_enhanced").mkdir()
    for n in range(1, members + 1):
        torch.manual_seed(41 + n)
        save_checkpoint(
            root / "models_enhanced" / f"best_ensemble_model_{n}.pt",
            TemporalClassifier(TemporalModelConfig()).eval(),
        )
    rng = np.random.default_rng(0)
    labels = np.arange(videos) % len(CLASS_NAMES)
    features = rng.normal(size=(videos, STEPS, DIM)).astype(np.float32)
    names = [f"{CLASS_NAMES[label]}/bench/video_{i:04d}.mp4" for i, label in enumerate(labels)]
    split = FeatureSet(
        features, labels.astype(np.int64), np.full(videos, STEPS, np.int32), names, list(CLASS_NAMES), None
    )
    write_feature_set(root / "features_enhanced" / "test_features_multiscale.h5", split)


def reference_app(root: Path):
    """The original's serving pattern: a global classifier built on the first request, and every
    request handled alone (Flask's single-threaded development server), one forward pass per video."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    state: dict = {}
    lock = threading.Lock()

    def classify(name: str, tta: bool) -> dict:
        with lock:
            if not state:
                paths = find_ensemble_checkpoints(root / "models_enhanced")
                state["models"] = [load_checkpoint(p, "cpu").model for p in paths]
                state["features"] = open_features(root / "features_enhanced" / "test_features_multiscale.h5")
                state["rows"] = {n: i for i, n in enumerate(state["features"].video_names)}
            sequence = state["features"].read_video(state["rows"][name])
            modes = ("original", "reverse", "speed_up", "speed_down") if tta else ("original",)
            probabilities = predict_sequence(state["models"], sequence, modes).probabilities.mean(axis=(0, 1))
        return {"class": CLASS_NAMES[int(probabilities.argmax())], "confidence": float(probabilities.max())}

    async def endpoint(request: Request) -> JSONResponse:
        body = await request.json()
        answer = await asyncio.to_thread(classify, body["video"], bool(body.get("tta", False)))
        return JSONResponse(answer)

    return Starlette(routes=[Route("/api/classify", endpoint, methods=["POST"])])


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], ready: str, timeout_s: float = 600) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{command[:4]} exited with {process.returncode}")
        try:
            if httpx.get(ready, timeout=2).status_code in (200, 405):
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise SystemExit(f"{ready} did not answer within {timeout_s:g} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def drive(base: str, names: list[str], clients: int, per_client: int, timeout_s: float) -> dict:
    latencies: list[float] = []
    statuses: list[int] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=timeout_s, limits=limits) as client:

        async def one_client(c: int) -> None:
            for r in range(per_client):
                name = names[(c * per_client + r) % len(names)]
                started = time.perf_counter()
                try:
                    response = await client.post("/api/classify", json={"video": name, "tta": False})
                    statuses.append(response.status_code)
                except httpx.HTTPError:
                    statuses.append(-1)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one_client(c) for c in range(clients)))
        elapsed = time.perf_counter() - started
    ok = [lat for lat, s in zip(latencies, statuses, strict=True) if s == 200]
    p50, p95, p99 = np.percentile(ok, [50, 95, 99]) if ok else (float("nan"),) * 3
    return {"requests": len(statuses), "errors": len(statuses) - len(ok), "throughput": len(ok) / elapsed,
            "p50": p50, "p95": p95, "p99": p99, "statuses": statuses}  # fmt: skip


HEADER = ("engine", "clients", "requests", "errors", "req/s", "p50 s", "p95 s", "p99 s")


def line(engine: str, clients: int, result: dict) -> str:
    cells = [
        f"{clients:7d}",
        f"{result['requests']:8d}",
        f"{result['errors']:6d}",
        f"{result['throughput']:8.3f}",
    ]
    cells += [f"{result[p]:7.2f}" for p in ("p50", "p95", "p99")]
    return f"{engine:9s} " + " ".join(cells)


def serve_command(root: Path, port: int, args: argparse.Namespace, *extra: str) -> list[str]:
    return [sys.executable, "-m", "core", "serve", "--models", str(root / "models_enhanced"),
            "--features", str(root / "features_enhanced" / "test_features_multiscale.h5"),
            "--port", str(port), "--device", "cpu", "--threads", str(args.threads), *extra]  # fmt: skip


def overload(root: Path, args: argparse.Namespace, names: list[str]) -> None:
    port = free_port()
    queue = args.overload_queue
    # One video per pass, so exactly one request runs while `queue` wait and the rest are refused.
    server = start(serve_command(root, port, args, "--max-queue", str(queue), "--max-batch", "1"),
                   f"http://127.0.0.1:{port}/readyz")  # fmt: skip
    try:
        started = time.perf_counter()
        result = asyncio.run(drive(f"http://127.0.0.1:{port}", names, 2 * queue, 1, args.timeout_s))
        refused = sum(s == 503 for s in result["statuses"])
        answered = sum(s == 200 for s in result["statuses"])
        print(f"\noverload: {2 * queue} requests at once against --max-queue {queue} --max-batch 1 "
              f"({time.perf_counter() - started:.0f} s): "
              f"{answered} answered, {refused} refused with 503, {result['errors'] - refused} other errors; "
              f"service peak RSS {memory_mb(server.pid, 'VmHWM'):.0f} MB")  # fmt: skip
    finally:
        stop(server)


async def soak_clients(base: str, names: list[str], clients: int, seconds: float, pid: int) -> list[float]:
    """`clients` clients classifying without pause for `seconds`; the service's RSS once a second."""
    samples: list[float] = []
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=3600) as client:

        async def one_client(c: int) -> None:
            while time.monotonic() < deadline:
                await client.post("/api/classify", json={"video": names[c % len(names)], "tta": False})

        async def sample() -> None:
            while time.monotonic() < deadline:
                samples.append(memory_mb(pid))
                await asyncio.sleep(1.0)

        await asyncio.gather(sample(), *(one_client(c) for c in range(clients)))
    return samples


def soak(root: Path, args: argparse.Namespace, names: list[str]) -> None:
    port = free_port()
    server = start(serve_command(root, port, args), f"http://127.0.0.1:{port}/readyz")
    try:
        samples = asyncio.run(soak_clients(f"http://127.0.0.1:{port}", names, 32, args.soak_s, server.pid))
    finally:
        stop(server)
    first = max(samples[:60])
    print(f"\nsoak: 32 clients for {args.soak_s:g} s: peak RSS {first:.0f} MB in the first minute, "
          f"{max(samples):.0f} MB overall ({max(samples) / first:.3f}x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=4, help="full-size ensemble members")
    parser.add_argument("--videos", type=int, default=64, help="stored test videos")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 8, 32, 64], help="concurrent clients")
    parser.add_argument(
        "--reference-levels", type=int, nargs="+", help="levels the reference runs (default: all)"
    )
    parser.add_argument("--min-requests", type=int, default=8, help="requests per level at least")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--timeout-s", type=float, default=3600.0)
    parser.add_argument("--overload-queue", type=int, default=8)
    parser.add_argument(
        "--soak-s", type=float, default=0.0, help="then 32 clients for this long (0: no soak)"
    )
    parser.add_argument("--only-soak", action="store_true", help="skip the levels and the overload")
    parser.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference is not None:
        import uvicorn

        torch.set_num_threads(args.threads)
        uvicorn.run(reference_app(args.reference), host="127.0.0.1", port=args.port, log_level="warning")
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        build_project(root, args.members, args.videos)
        with open_features(root / "features_enhanced" / "test_features_multiscale.h5") as handle:
            names = list(handle.video_names)
        if args.only_soak:
            soak(root, args, names)
            return
        ours_port, reference_port = free_port(), free_port()
        print(f"{args.members} full-size member(s), {args.videos} stored {STEPS}-step videos, no TTA; "
              f"{args.threads} CPU thread(s) each; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"{HEADER[0]:9s} {HEADER[1]:>7s} {HEADER[2]:>8s} {HEADER[3]:>6s} {HEADER[4]:>8s} "
              + " ".join(f"{h:>7s}" for h in HEADER[5:]))  # fmt: skip
        reference_command = [sys.executable, str(Path(__file__).resolve()), "--reference", str(root),
                             "--port", str(reference_port), "--threads", str(args.threads)]  # fmt: skip
        servers = {
            "served": start(serve_command(root, ours_port, args), f"http://127.0.0.1:{ours_port}/readyz"),
            "reference": start(reference_command, f"http://127.0.0.1:{reference_port}/api/classify"),
        }
        bases = {"served": f"http://127.0.0.1:{ours_port}", "reference": f"http://127.0.0.1:{reference_port}"}
        levels = {"served": args.levels, "reference": args.reference_levels or args.levels}
        results = {}
        try:
            # Level by level, one engine right after the other: other work on the machine then
            # weighs on both alike.
            for clients in args.levels:
                for engine in ("served", "reference"):
                    if clients not in levels[engine]:
                        continue
                    per_client = max(1, -(-args.min_requests // clients))
                    result = asyncio.run(drive(bases[engine], names, clients, per_client, args.timeout_s))
                    results[(engine, clients)] = result
                    print(line(engine, clients, result), flush=True)
        finally:
            for server in servers.values():
                stop(server)
        for clients in args.levels:
            if ("reference", clients) in results:
                ours, reference = results[("served", clients)], results[("reference", clients)]
                ratio = ours["throughput"] / reference["throughput"]
                print(f"{clients} clients: throughput {ratio:.1f}x the reference; served p99/p50 "
                      f"{ours['p99'] / ours['p50']:.2f}; served errors {ours['errors']}")  # fmt: skip
        overload(root, args, names)
        if args.soak_s:
            soak(root, args, names)


if __name__ == "__main__":
    main()
