"""Whole-extraction throughput (decode + backbone + multi-scale + write), frames per second.

Three measurements in one run, on the same generated clips and the same Lite0 weights:
  ours       core.features.extraction.extract_directory (one backbone pass per frame, channels_last,
             inference_mode, decoding overlapped with compute);
  reference  written like the original: decode every frame, then per scale a separate NCHW
             backbone pass under no_grad, then write;
  ceiling    the bare channels_last backbone on random frames already in memory.
Targets: ours >= 3x reference and >= 70% of the ceiling.

With --engine ray it instead compares the two engines of `python -m core extract` on the same
clips, in videos/s: local (this process) and ray (a local Ray cluster started before the clock,
actor start-up included), and measures the two capacity-planning rates: decoded videos/s on one
CPU and frames/s of one single-threaded backbone actor.

    python bench/bench_extraction.py --clips 4 --frames 64 --image-size 256
    python bench/bench_extraction.py --engine ray --clips 16
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import h5py
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.device import default_device
from core.features.backbones import BACKBONES, lite0_package_weights, load_backbone
from core.features.extraction import ExtractionOptions, extract_directory
from core.features.recipe import FeatureRecipe, scale_indices
from core.video.decode import decode_uniform_frames


def write_clips(folder: Path, count: int, frames: int, size: tuple[int, int]) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        path = folder / "Natural_Content" / "generated" / f"clip_{i}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, size)
        base = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        for t in range(frames):
            writer.write(np.roll(base, 4 * t, axis=1))
        writer.release()
        paths.append(path)
    return paths


def reference_decode(path: Path, num_frames: int, image_size: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), (image_size, image_size)))
    capture.release()
    indices = np.linspace(0, len(frames) - 1, num_frames).astype(int)
    return np.stack([frames[i] for i in indices])


def reference_extract(paths: list[Path], recipe: FeatureRecipe, out: Path, batch_size: int) -> None:
    network, _ = BACKBONES[recipe.backbone].build(lite0_package_weights())
    network = network.to(default_device()).eval()
    sequences = []
    for path in paths:
        frames = reference_decode(path, recipe.num_frames, recipe.image_size)
        per_scale = []
        for scale in recipe.scales:
            chosen = frames[scale_indices(len(frames), scale)]
            images = torch.from_numpy(chosen).permute(0, 3, 1, 2).contiguous().float() / 127.5 - 1.0
            with torch.no_grad():
                outputs = [
                    network(images[s : s + batch_size].to(default_device()))
                    for s in range(0, len(images), batch_size)
                ]
            per_scale.append(torch.cat(outputs).cpu())
        length = max(len(f) for f in per_scale)
        padded = [torch.cat([f, f.new_zeros((length - len(f), f.shape[1]))]) for f in per_scale]
        sequences.append(torch.stack(padded).mean(0).numpy())
    with h5py.File(out, "w") as h5:
        h5.create_dataset("features", data=np.stack(sequences), compression="gzip")


def warm_up(recipe: FeatureRecipe, batch_size: int) -> None:
    """First use of each batch shape builds oneDNN kernels (~1 s each); keep that out of timings."""
    backbone = load_backbone(recipe.backbone)
    network, _ = BACKBONES[recipe.backbone].build(lite0_package_weights())
    network = network.to(default_device()).eval()
    sizes = {batch_size, recipe.num_frames % batch_size}
    sizes |= {len(scale_indices(recipe.num_frames, s)) % batch_size for s in recipe.scales}
    for size in sizes - {0}:
        frames = np.zeros((size, recipe.image_size, recipe.image_size, 3), np.uint8)
        backbone.embed(frames, recipe.normalization, batch_size)
        with torch.no_grad():
            network(torch.zeros((size, 3, recipe.image_size, recipe.image_size), device=default_device()))


def timed(label: str, frames: int, action) -> float:
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    fps = frames / elapsed
    print(f"{label:10s} {elapsed:7.1f} s  {fps:6.1f} frames/s")
    return fps


def timed_videos(label: str, videos: int, action) -> float:
    start = time.perf_counter()
    action()
    elapsed = time.perf_counter() - start
    print(f"{label:10s} {elapsed:7.1f} s  {videos / elapsed:6.2f} videos/s")
    return videos / elapsed


def compare_engines(root: Path, paths: list[Path], options: ExtractionOptions) -> None:
    """Local vs Ray extraction of the same folder, then the per-CPU rates a capacity plan needs."""
    import ray

    from core.features.ray_engine import extract_directory_ray

    recipe, batch_size = options.recipe, options.batch_size
    local = timed_videos(
        "local",
        len(paths),
        lambda: extract_directory(root / "videos", root / "local.h5", options),
    )
    ray.init(include_dashboard=False, log_to_driver=False)
    try:
        on_ray = timed_videos(
            "ray",
            len(paths),
            lambda: extract_directory_ray(root / "videos", root / "ray.h5", replace(options, device="cpu")),
        )
        cpus = int(ray.cluster_resources()["CPU"])
    finally:
        ray.shutdown()
    print(f"ray / local = {on_ray / local:.2f}x on {cpus} CPUs")

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        clips = [decode_uniform_frames(path, recipe.num_frames, recipe.image_size) for path in paths]
        decode_rate = len(paths) / (time.perf_counter() - start)
        frames = np.concatenate([clip.frames for clip in clips])
        backbone = load_backbone(recipe.backbone, device="cpu")
        start = time.perf_counter()
        backbone.embed(frames, recipe.normalization, batch_size)
        frame_rate = len(frames) / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    print(f"decode     {decode_rate:6.2f} videos/s per CPU")
    per_video = frame_rate / recipe.num_frames
    print(f"backbone   {frame_rate:6.1f} frames/s per 1-CPU actor ({per_video:.2f} videos/s)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--clip-frames", type=int, default=300, help="frames in each generated clip")
    parser.add_argument("--clip-size", type=int, nargs=2, default=(640, 360), metavar=("W", "H"))
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=24)
    parser.add_argument(
        "--engine", choices=("local", "ray"), default="local", help="ray: compare the two engines"
    )
    args = parser.parse_args()

    recipe = FeatureRecipe(num_frames=args.frames, image_size=args.image_size)
    total_frames = args.clips * recipe.num_frames
    print(
        f"device {default_device()}, torch threads {torch.get_num_threads()}, {args.clips} clips of "
        f"{args.clip_frames} frames {args.clip_size[0]}x{args.clip_size[1]}, recipe {recipe.to_json()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = write_clips(root / "videos", args.clips, args.clip_frames, tuple(args.clip_size))
        warm_up(recipe, args.batch_size)
        options = ExtractionOptions(recipe=recipe, batch_size=args.batch_size)
        if args.engine == "ray":
            compare_engines(root, paths, options)
            return
        ours = timed(
            "ours",
            total_frames,
            lambda: extract_directory(root / "videos", root / "ours.h5", options),
        )
        reference = timed(
            "reference",
            total_frames,
            lambda: reference_extract(paths, recipe, root / "ref.h5", args.batch_size),
        )
        backbone = load_backbone(recipe.backbone)
        random_frames = np.random.default_rng(1).integers(
            0, 256, (total_frames, recipe.image_size, recipe.image_size, 3), dtype=np.uint8
        )
        ceiling = timed(
            "ceiling",
            total_frames,
            lambda: backbone.embed(random_frames, recipe.normalization, args.batch_size),
        )
    print(f"ours / reference = {ours / reference:.2f}x (target >= 3x)")
    print(f"ours / ceiling   = {100 * ours / ceiling:.0f}% (target >= 70%)")


if __name__ == "__main__":
    main()
