"""Image variants for CloudFront: a Lambda@Edge function on the origin-request event of
the image behaviours (`components/cdn/cloudfront.py`).

CloudFront calls it only on a cache miss, with the query the viewer function normalised
(`w`: a configured width, `f`: the format negotiated from `Accept`; nothing else). It
reads the original from the behaviour's own origin: the private uploads bucket through
the function's own role (s3:GetObject on the uploads only), or the app origin over HTTPS
for static images. It answers with the variant, which CloudFront caches under that key
for the static TTL. Where a variant would not help it lets the request go on to the
origin unchanged (CloudFront then serves and caches the original): not an image, too
large to read, a variant no smaller than the original, or one over Lambda@Edge's 1 MB
limit on a generated response. A width outside the configured set is refused (400).

Pillow decodes and encodes (JPEG, PNG, WebP, AVIF); EXIF orientation is applied and the
rest of the metadata dropped, the colour profile kept. The settings come in the package
(`settings.json`), since Lambda@Edge has no environment variables.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from PIL import Image, ImageOps, UnidentifiedImageError

from infra.domain.image_variants import FORMAT_PARAM, MEDIA_TYPES, WIDTH_PARAM, ImageSettings, VariantError, parse_width

log = logging.getLogger()
log.setLevel(logging.INFO)

MAX_SOURCE_BYTES = 25 * 1024 * 1024
"""Originals larger than this are served as stored (the function's memory stays bounded)."""
MAX_PIXELS = 50_000_000
"""Decoding stops above 50 megapixels (a decompression bomb is served as stored, never decoded)."""
MAX_GENERATED_RESPONSE = 1_000_000
"""Lambda@Edge: a response generated on the origin-request event, headers and body, is at most 1 MB."""
MAX_VARIANT_BYTES = (MAX_GENERATED_RESPONSE - 4_096) * 3 // 4
"""The largest variant body that still fits once base64-encoded, with room for the headers."""
FETCH_TIMEOUT_SECONDS = 10
PILLOW = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}
SETTINGS = Path(__file__).with_name("settings.json")

Reader = Callable[[str, str, str], Optional[bytes]]
"""(bucket, key, region) -> the object's bytes, or None when it is missing, unreadable or too large."""
Fetcher = Callable[[str], Optional[bytes]]
"""An HTTPS URL -> the body of a 200 answer, or None."""


class NotAnImage(Exception):
    """The original cannot (or should not) be decoded: it is served as stored."""


@dataclass(frozen=True)
class Variant:
    body: bytes
    format: str
    width: int
    height: int

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def _target_size(width: int, height: int, requested: Optional[int], max_width: int) -> tuple[int, int]:
    """Never wider than requested, than the largest configured width, or than the original."""
    target = min(requested or width, max_width, width)
    return target, max(1, round(height * target / width))


def transform(data: bytes, width: Optional[int], fmt: Optional[str], quality: int, max_width: int) -> Variant:
    """The variant of `data` at `width` (None: its own width, capped at `max_width`) in `fmt`
    (None: the original's format). NotAnImage when `data` is no JPEG, PNG, WebP or AVIF image."""
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError) as exc:
        raise NotAnImage(str(exc)) from exc
    with image:
        source = (image.format or "").lower()
        if source not in PILLOW:
            raise NotAnImage(f"{image.format} is not an optimised image format")
        if image.width * image.height > MAX_PIXELS:
            raise NotAnImage(f"{image.width} × {image.height} exceeds {MAX_PIXELS} pixels")
        rotated = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        upright = (image.height, image.width) if rotated else (image.width, image.height)
        size = _target_size(*upright, width, max_width)
        if source == "jpeg":
            # Decode at the smallest DCT scale still at least the target size: a 4000 px
            # photo bound for 640 px is decoded at 1/4 of its size, in a fraction of the time.
            image.draft("RGB", (size[1], size[0]) if rotated else size)
        icc = image.info.get("icc_profile")
        try:
            picture = ImageOps.exif_transpose(image)
        except (OSError, SyntaxError) as exc:  # truncated or corrupt data surfaces on load
            raise NotAnImage(str(exc)) from exc
    if picture.size != size:
        picture = picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = fmt or source
    picture = _mode_for(picture, out)
    buffer = io.BytesIO()
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if out == "jpeg":
        options.update(quality=quality, optimize=True, progressive=True)
    elif out == "webp":
        options.update(quality=quality, method=4)
    elif out == "avif":
        options.update(quality=quality, speed=8)
    else:
        options.update(optimize=True)
    picture.save(buffer, PILLOW[out], **options)
    return Variant(buffer.getvalue(), out, *picture.size)


def _mode_for(picture: Image.Image, fmt: str) -> Image.Image:
    alpha = picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info)
    if fmt == "png":
        return picture
    if fmt == "jpeg":
        return picture if picture.mode in ("RGB", "L") else picture.convert("RGB")
    if alpha:
        return picture if picture.mode == "RGBA" else picture.convert("RGBA")
    return picture if picture.mode == "RGB" else picture.convert("RGB")


# -- the Lambda@Edge event ------------------------------------------------------------------------
def _header(name: str, value: str) -> dict[str, list[dict[str, str]]]:
    return {name.lower(): [{"key": name, "value": value}]}


def _refusal(message: str) -> dict[str, Any]:
    return {"status": "400", "statusDescription": "Bad Request", "body": message,
            "headers": {**_header("Content-Type", "text/plain; charset=utf-8"), **_header("Cache-Control", "no-store")}}


def _pass_through(request: dict[str, Any], why: str) -> dict[str, Any]:
    """The request goes on to its origin without the variant's query: CloudFront serves the original."""
    log.info(json.dumps({"passThrough": request.get("uri"), "why": why}))
    return {**request, "querystring": ""}


def _variant_response(variant: Variant, ttl: int, key: str) -> dict[str, Any]:
    return {"status": "200", "statusDescription": "OK", "bodyEncoding": "base64",
            "body": base64.b64encode(variant.body).decode("ascii"),
            "headers": {**_header("Content-Type", variant.media_type),
                        **_header("Cache-Control", f"public, max-age={ttl}, immutable"),
                        # The format follows Accept: caches after the edge must key on it too.
                        **_header("Vary", "Accept"),
                        **_header("X-Image-Variant", f"{key}; {variant.width}x{variant.height}")}}


def _original(request: dict[str, Any], read_s3: Reader, fetch: Fetcher) -> Optional[bytes]:
    origin = request.get("origin") or {}
    if "s3" in origin:
        s3 = origin["s3"]
        bucket = str(s3["domainName"]).split(".s3.", 1)[0]
        key = urllib.parse.unquote(request["uri"].lstrip("/"))
        return read_s3(bucket, key, str(s3.get("region") or ""))
    custom = origin.get("custom") or {}
    if custom.get("protocol", "https") != "https":
        return None
    return fetch(f"https://{custom['domainName']}{custom.get('path', '')}{request['uri']}")


def handle(event: dict[str, Any], settings: ImageSettings, ttl: int, read_s3: Reader, fetch: Fetcher) -> dict[str, Any]:
    """One origin request: the variant, a refusal, or the request passed on to the origin."""
    request = event["Records"][0]["cf"]["request"]
    query = urllib.parse.parse_qs(request.get("querystring") or "", keep_blank_values=True)
    try:
        widths = query.get(WIDTH_PARAM, [])
        if len(widths) > 1:
            raise VariantError("width given more than once")
        width = parse_width(widths[0] if widths else None, settings.widths)
        fmt = (query.get(FORMAT_PARAM) or [None])[0]
        if fmt is not None and fmt not in settings.formats:
            raise VariantError(f"format {fmt!r} is not offered; valid: {', '.join(settings.formats)}")
    except VariantError as exc:
        return _refusal(str(exc))
    data = _original(request, read_s3, fetch)
    if data is None or len(data) > MAX_SOURCE_BYTES:
        return _pass_through(request, "original unavailable here or too large")
    try:
        variant = transform(data, width, fmt, settings.quality, settings.max_width)
    except NotAnImage as exc:
        return _pass_through(request, f"not transformed: {exc}")
    if len(variant.body) >= len(data):
        return _pass_through(request, f"variant {len(variant.body)} bytes, original {len(data)}")
    if len(variant.body) > MAX_VARIANT_BYTES:
        return _pass_through(request, f"variant {len(variant.body)} bytes exceeds Lambda@Edge's response limit")
    key = ";".join(f"{k}={v}" for k, v in ((WIDTH_PARAM, width), (FORMAT_PARAM, fmt)) if v is not None) or "original"
    return _variant_response(variant, ttl, key)


# -- AWS ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _s3(region: str) -> Any:
    import boto3  # the Lambda runtime ships boto3

    return boto3.client("s3", region_name=region or None)


def read_s3(bucket: str, key: str, region: str) -> Optional[bytes]:
    from botocore.exceptions import ClientError

    try:
        answer = _s3(region).get_object(Bucket=bucket, Key=key)
    except ClientError as exc:  # missing or not readable: the origin answers for itself
        log.info(json.dumps({"s3": f"{bucket}/{key}", "error": exc.response.get("Error", {}).get("Code")}))
        return None
    if int(answer.get("ContentLength") or 0) > MAX_SOURCE_BYTES:
        answer["Body"].close()
        return None
    return answer["Body"].read()


def fetch_https(url: str) -> Optional[bytes]:
    """GET `url` without following redirects; None unless it answers 200 within the size limit."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": "hse-image-transform"}),
                         timeout=FETCH_TIMEOUT_SECONDS) as answer:
            if answer.status != 200:
                return None
            body = answer.read(MAX_SOURCE_BYTES + 1)
    except (urllib.error.URLError, TimeoutError, OSError):
        return None
    return body if len(body) <= MAX_SOURCE_BYTES else None


@functools.lru_cache(maxsize=1)
def _settings() -> tuple[ImageSettings, int]:
    data = json.loads(SETTINGS.read_text())
    return ImageSettings.from_json(data), int(data["ttl"])


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings, ttl = _settings()
    return handle(event, settings, ttl, read_s3, fetch_https)
