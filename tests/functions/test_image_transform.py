"""The CloudFront image transformation (Lambda@Edge, origin request) on real images made
here with Pillow: sizes, formats, Accept negotiation, a bad width refused, a non-image and
originals that would not shrink passed through, the S3 read on moto, and the package."""

from __future__ import annotations

import base64
import io
import json
import random
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from PIL import Image

from functions.image_transform import handler as h
from infra.domain import image_variants as iv
from infra.domain.failover_package import lambda_files

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = iv.ImageSettings(widths=(320, 640, 1280), formats=("avif", "webp"), quality=80)
TTL = 31_536_000
BUCKET = "hse-us-east-uploads-0123"


def photo(width: int, height: int, fmt: str = "JPEG", *, alpha: bool = False, orientation: int = 1,
          quality: int = 95) -> bytes:
    """A photo-like image: smooth gradients with noise, so encoders behave as on a real photo."""
    rng = random.Random(width * 7919 + height)
    small = Image.new("RGB", (max(2, width // 16), max(2, height // 16)))
    small.putdata([(int(255 * x / small.width), int(255 * y / small.height), rng.randrange(256))
                   for y in range(small.height) for x in range(small.width)])
    image = small.resize((width, height), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    if alpha:
        image.putalpha(Image.linear_gradient("L").resize((width, height)))
    buffer = io.BytesIO()
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture(scope="module")
def big_jpeg() -> bytes:
    return photo(3000, 2000)


# -- the transformation ---------------------------------------------------------------------
@pytest.mark.parametrize("fmt,magic", [("webp", (8, b"WEBP")), ("avif", (4, b"ftypavif")), ("jpeg", (0, b"\xff\xd8"))])
def test_a_width_and_a_format_give_that_variant(big_jpeg, fmt, magic) -> None:
    variant = h.transform(big_jpeg, 640, fmt, 80, 1280)
    offset, signature = magic
    assert variant.body[offset:offset + len(signature)] == signature
    assert (variant.width, variant.height, variant.format) == (640, 427, fmt)
    assert opened(variant.body).size == (640, 427)
    assert len(variant.body) < len(big_jpeg) / 10


def test_no_width_is_capped_at_the_largest_width_and_never_upscaled(big_jpeg) -> None:
    assert opened(h.transform(big_jpeg, None, "webp", 80, 1280).body).size == (1280, 853)
    small = photo(200, 100)
    variant = h.transform(small, 640, None, 80, 1280)
    assert (variant.format, opened(variant.body).size) == ("jpeg", (200, 100))


def test_alpha_survives_webp_and_avif_and_png_stays_png() -> None:
    logo = photo(800, 400, "PNG", alpha=True)
    for fmt in ("webp", "avif"):
        image = opened(h.transform(logo, 320, fmt, 80, 1280).body)
        assert image.mode == "RGBA" and image.size == (320, 160), fmt
        assert image.getextrema()[3][0] < 50  # the gradient's transparent edge is still transparent
    same = h.transform(logo, 320, None, 80, 1280)
    assert same.format == "png" and opened(same.body).mode == "RGBA"


def test_exif_orientation_is_applied_and_the_metadata_dropped() -> None:
    sideways = photo(1200, 800, orientation=6)  # stored landscape, shown portrait
    variant = h.transform(sideways, 320, "webp", 80, 1280)
    image = opened(variant.body)
    assert image.size == (320, 480)
    assert image.getexif().get(0x0112) is None


@pytest.mark.parametrize("data", [b"%PDF-1.7 not an image", b"", photo(64, 64, "GIF"), photo(64, 64, "BMP")],
                         ids=["pdf", "empty", "gif", "bmp"])
def test_what_is_not_an_optimised_image_is_refused_by_the_transform(data) -> None:
    with pytest.raises(h.NotAnImage):
        h.transform(data, 320, "webp", 80, 1280)


def test_a_truncated_image_is_not_an_image() -> None:
    with pytest.raises(h.NotAnImage):
        h.transform(photo(800, 600)[:2000], 320, "webp", 80, 1280)


def test_quality_changes_the_bytes(big_jpeg) -> None:
    low, high = (len(h.transform(big_jpeg, 1280, "webp", q, 1280).body) for q in (40, 90))
    assert low < high * 0.7


# -- negotiation and the bounded variants --------------------------------------------------------
ACCEPTS = [
    # Accept, chosen with [avif, webp], chosen with [webp]
    ("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "avif", "webp"),  # Chrome
    ("image/webp,*/*", "webp", "webp"),  # an older browser
    ("image/avif;q=0,image/webp", "webp", "webp"),
    ("image/avif", "avif", None),
    ("image/*,*/*;q=0.8", None, None),  # wildcards never promise AVIF or WebP
    ("", None, None),
    ("IMAGE/WEBP", "webp", "webp"),
]


@pytest.mark.parametrize("accept,both,webp_only", ACCEPTS)
def test_accept_negotiation(accept, both, webp_only) -> None:
    assert iv.negotiate(accept, ("avif", "webp")) == both
    assert iv.negotiate(accept, ("webp",)) == webp_only


@pytest.mark.parametrize("query,accept,expected", [
    ({"w": ["640"], "utm": ["x"]}, "image/webp", {"w": "640", "f": "webp"}),
    ({}, "image/avif", {"f": "avif"}),
    ({"w": ["320"], "f": ["avif"]}, "image/jpeg", {"w": "320"}),  # a client cannot pick the format itself
    ({}, "", {}),
])
def test_normalised_queries_hold_only_the_variant(query, accept, expected) -> None:
    assert iv.normalise(query, accept, SETTINGS) == expected


@pytest.mark.parametrize("raw", ["641", "0640", "-320", "320.0", "", "1e3", "99999"])
def test_a_width_outside_the_set_is_refused(raw) -> None:
    with pytest.raises(iv.VariantError, match="not offered; valid: 320, 640, 1280"):
        iv.normalise({"w": [raw]}, "image/webp", SETTINGS)
    with pytest.raises(iv.VariantError):
        iv.normalise({"w": ["320", "640"]}, "image/webp", SETTINGS)


# -- the Lambda@Edge event --------------------------------------------------------------------------
def s3_event(uri: str, query: str) -> dict:
    return {"Records": [{"cf": {"config": {"eventType": "origin-request"}, "request": {
        "uri": uri, "querystring": query, "method": "GET", "headers": {},
        "origin": {"s3": {"domainName": f"{BUCKET}.s3.us-east-1.amazonaws.com", "region": "us-east-1",
                          "authMethod": "none", "path": "", "customHeaders": {}}}}}}]}


def custom_event(uri: str, query: str) -> dict:
    return {"Records": [{"cf": {"request": {"uri": uri, "querystring": query, "method": "GET", "headers": {},
                                            "origin": {"custom": {"domainName": "app.example.com", "port": 443,
                                                                  "protocol": "https", "path": ""}}}}}]}


class Origins:
    def __init__(self, objects: dict[str, bytes]):
        self.objects, self.reads = objects, []

    def read_s3(self, bucket, key, region):
        self.reads.append((bucket, key, region))
        return self.objects.get(key)

    def fetch(self, url):
        self.reads.append(url)
        return self.objects.get(url)


def test_the_variant_is_answered_from_the_private_bucket(big_jpeg) -> None:
    origins = Origins({"uploads/t/acme/cat photo.jpg": big_jpeg})
    answer = h.handle(s3_event("/uploads/t/acme/cat%20photo.jpg", "w=640&f=webp"), SETTINGS, TTL,
                      origins.read_s3, origins.fetch)
    assert origins.reads == [(BUCKET, "uploads/t/acme/cat photo.jpg", "us-east-1")]
    assert (answer["status"], answer["bodyEncoding"]) == ("200", "base64")
    headers = {k: v[0]["value"] for k, v in answer["headers"].items()}
    assert headers == {"content-type": "image/webp", "cache-control": f"public, max-age={TTL}, immutable",
                       "vary": "Accept", "x-image-variant": "w=640;f=webp; 640x427"}
    body = base64.b64decode(answer["body"])
    assert opened(body).size == (640, 427) and len(answer["body"]) < h.MAX_GENERATED_RESPONSE


def test_static_images_are_read_from_the_app_origin_over_https() -> None:
    logo = photo(1600, 800, "PNG")
    origins = Origins({"https://app.example.com/assets/logo.png": logo})
    answer = h.handle(custom_event("/assets/logo.png", "f=avif"), SETTINGS, TTL, origins.read_s3, origins.fetch)
    assert origins.reads == ["https://app.example.com/assets/logo.png"]
    assert answer["headers"]["content-type"][0]["value"] == "image/avif"
    assert opened(base64.b64decode(answer["body"])).size == (1280, 640)  # capped at the largest width


@pytest.mark.parametrize("query,message", [
    ("w=641&f=webp", "width '641' is not offered; valid: 320, 640, 1280"),
    ("w=320&w=640", "width given more than once"),
    ("f=gif", "format 'gif' is not offered; valid: avif, webp"),
])
def test_a_bad_variant_is_refused_without_reading_the_original(query, message) -> None:
    origins = Origins({})
    answer = h.handle(s3_event("/uploads/a.jpg", query), SETTINGS, TTL, origins.read_s3, origins.fetch)
    assert (answer["status"], answer["body"]) == ("400", message)
    assert answer["headers"]["cache-control"] == [{"key": "Cache-Control", "value": "no-store"}]
    assert origins.reads == []


@pytest.mark.parametrize("objects,why", [
    ({"uploads/a.jpg": b"%PDF-1.7 renamed"}, "a non-image"),
    ({}, "a missing object (S3 answers for itself)"),
    ({"uploads/a.jpg": photo(300, 200, "WEBP", quality=5)}, "an original the variant would not beat"),
])
def test_what_the_function_cannot_improve_goes_on_to_the_origin(objects, why) -> None:
    event = s3_event("/uploads/a.jpg", "w=320&f=webp")
    request = event["Records"][0]["cf"]["request"]
    answer = h.handle(event, SETTINGS, TTL, Origins(objects).read_s3, Origins(objects).fetch)
    assert answer == {**request, "querystring": ""}, why


def test_a_variant_over_the_generated_response_limit_goes_on_to_the_origin(monkeypatch, big_jpeg) -> None:
    monkeypatch.setattr(h, "MAX_VARIANT_BYTES", 10_000)
    event = s3_event("/uploads/a.jpg", "w=1280&f=webp")
    answer = h.handle(event, SETTINGS, TTL, Origins({"uploads/a.jpg": big_jpeg}).read_s3, None)
    assert answer["querystring"] == "" and "status" not in answer


def test_the_handler_reads_its_packaged_settings(tmp_path, monkeypatch, big_jpeg) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(SETTINGS.settings_file(86_400))
    monkeypatch.setattr(h, "SETTINGS", settings)
    monkeypatch.setattr(h, "read_s3", Origins({"uploads/a.jpg": big_jpeg}).read_s3)
    h._settings.cache_clear()
    try:
        answer = h.lambda_handler(s3_event("/uploads/a.jpg", "w=320"), None)
    finally:
        h._settings.cache_clear()
    assert answer["headers"]["cache-control"][0]["value"] == "public, max-age=86400, immutable"
    assert answer["headers"]["content-type"][0]["value"] == "image/jpeg"
    assert json.loads(settings.read_text()) == {"formats": ["avif", "webp"], "quality": 80, "ttl": 86400,
                                                "widths": [320, 640, 1280]}


def test_read_s3_reads_objects_and_answers_none_for_what_it_cannot_read(monkeypatch) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="uploads/a.jpg", Body=b"bytes")
        s3.put_object(Bucket=BUCKET, Key="uploads/big.jpg", Body=b"x" * 2048)
        h._s3.cache_clear()
        monkeypatch.setattr(h, "MAX_SOURCE_BYTES", 1024)
        assert h.read_s3(BUCKET, "uploads/a.jpg", "us-east-1") == b"bytes"
        assert h.read_s3(BUCKET, "uploads/missing.jpg", "us-east-1") is None
        assert h.read_s3(BUCKET, "uploads/big.jpg", "us-east-1") is None
        h._s3.cache_clear()


def test_the_package_holds_the_handler_and_the_domain_it_imports_only() -> None:
    files = lambda_files(ROOT, iv.HANDLER)
    assert set(files) == {"functions/__init__.py", "functions/image_transform/__init__.py",
                          "functions/image_transform/handler.py", "infra/__init__.py", "infra/domain/__init__.py",
                          "infra/domain/image_variants.py"}


def test_pillow_is_pinned_once_for_the_program_and_the_function() -> None:
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    constraints = (ROOT / "constraints.txt").read_text().lower().splitlines()
    (pin,) = [line for line in requirements if line.lower().startswith("pillow==")]
    assert pin.lower() in constraints  # `make image-package` builds the function's Pillow from this line
