"""The CloudFront image transformation on synthetic photos: bytes saved and time per image.

Each original is a camera-like JPEG (gradients, shapes, texture at several scales and
sensor noise; quality 92, as phones save) or a flat PNG graphic. Each is turned into the variants a
phone, a laptop and a browser without WebP/AVIF would ask for, with the default settings
(quality 80); where a variant is no smaller than the original, the function serves the
original, and so does this count. Time is the median of a few runs of `transform` alone (decode, resize,
encode) on this machine; Lambda@Edge's CPU scales with its 1,536 MB. Figures, not asserts.

    .venv/bin/python benchmarks/bench_images.py
"""

from __future__ import annotations

import io
import random
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from PIL import Image, ImageDraw  # noqa: E402

from functions.image_transform.handler import transform  # noqa: E402
from infra.domain.image_variants import DEFAULT_QUALITY, DEFAULT_WIDTHS  # noqa: E402

RUNS = 3
ORIGINALS = [("photo 4000×3000", 4000, 3000, "JPEG"), ("photo 1920×1280", 1920, 1280, "JPEG"),
             ("photo 800×600", 800, 600, "JPEG"), ("graphic 1600×900 PNG", 1600, 900, "PNG")]
VARIANTS = [(640, "avif"), (640, "webp"), (1280, "webp"), (640, None), (None, "webp")]
"""(width, format): a phone (AVIF or WebP), a laptop, a browser with neither, no width asked."""


def original(width: int, height: int, fmt: str, seed: int) -> bytes:
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    tint = Image.new("RGB", (width, height), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(base, tint, 0.5)
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(width // 40, width // 6)
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buffer = io.BytesIO()
    if fmt == "JPEG":
        # Texture at several scales (foliage, fabric) and sensor noise: what makes a phone's JPEG big.
        for scale, weight in ((64, 0.25), (8, 0.2), (1, 0.12)):
            grain = Image.effect_noise((max(1, width // scale), max(1, height // scale)), 60).convert("RGB")
            image = Image.blend(image, grain.resize((width, height), Image.Resampling.BICUBIC), weight)
        image.save(buffer, "JPEG", quality=92)
    else:
        draw.text((width // 10, height // 10), "HSE Digital dashboard", fill=(20, 20, 20))
        image.save(buffer, "PNG")
    return buffer.getvalue()


def main() -> None:
    max_width = max(DEFAULT_WIDTHS)
    print(f"quality {DEFAULT_QUALITY}, widths {', '.join(map(str, DEFAULT_WIDTHS))} (no width: at most {max_width} px)")
    print(f"{'original':<22}{'bytes':>11}  {'variant':<14}{'bytes':>9}{'saved':>8}{'ms':>8}")
    totals = [0, 0]
    for seed, (label, width, height, fmt) in enumerate(ORIGINALS):
        data = original(width, height, fmt, seed)
        for requested, out in VARIANTS:
            times, variant = [], None
            for _ in range(RUNS):
                start = time.perf_counter()
                variant = transform(data, requested, out, DEFAULT_QUALITY, max_width)
                times.append(time.perf_counter() - start)
            # As the function does: a variant no smaller than the original is not served; the original is.
            served = min(len(variant.body), len(data))
            saved = 1 - served / len(data)
            totals[0] += len(data)
            totals[1] += served
            name = f"{variant.width}w {variant.format}" if served < len(data) else "(original)"
            print(f"{label:<22}{len(data):>11,}  {name:<14}{served:>9,}{saved:>8.1%}"
                  f"{statistics.median(times) * 1000:>8.0f}")
    print(f"all requests: {totals[1]:,} bytes served for {totals[0]:,} of originals "
          f"({1 - totals[1] / totals[0]:.1%} saved)")


if __name__ == "__main__":
    main()
