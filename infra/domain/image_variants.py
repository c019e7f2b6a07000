"""Image variants at the edge: which widths and formats exist, how a request picks one,
and what the CloudFront transformation function may do.

Shared by the config (bounds), the CDN components (every provider gets the same widths,
formats and quality), the transformation function (`functions/image_transform/`), the
policy pack and the docs, so the numbers live once.

A variant is (width, format). The width comes from the request's `w` query parameter and
must be one of the configured widths (anything else is refused with 400, so a caller
cannot make the edge create and cache an unbounded number of variants); no `w` means the
image at its own size, capped at the largest configured width. The format comes from the
`Accept` header: the first configured format the browser lists explicitly, else the
original's own format. So an image has at most (widths + 1) × (formats + 1) variants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

WIDTH_PARAM = "w"
FORMAT_PARAM = "f"
"""The query parameters of a normalised image request (CloudFront: set by the viewer
function, keyed by the cache policy, read by the transformation function)."""

FORMATS = ("avif", "webp")
"""The formats an edge may negotiate, in the order of preference of the defaults."""
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp", "avif")
"""Raster images the edge optimises. SVG (vector, compressed as text), ICO and animated GIF
stay static assets: re-encoding would lose what they are."""

MIN_WIDTH, MAX_WIDTH = 16, 4096
MAX_WIDTHS = 10
"""At most this many widths: bounded variants, and the CloudFront Function stays small."""
MIN_QUALITY, MAX_QUALITY = 30, 95
DEFAULT_WIDTHS = (320, 640, 960, 1280, 1920)
DEFAULT_FORMATS = FORMATS
DEFAULT_QUALITY = 80

UPLOADS_PREFIX = "uploads/"
"""The uploads origin's object keys start here (CloudFront forwards `/uploads/<key>`)."""
HANDLER_NAME = "functions.image_transform.handler.lambda_handler"
HANDLER = "functions/image_transform/handler.py"
SETTINGS_FILE = "functions/image_transform/settings.json"
"""Lambda@Edge takes no environment variables: the settings travel in the package."""


class VariantError(ValueError):
    """A request for a variant that does not exist (answered with 400)."""


@dataclass(frozen=True)
class ImageSettings:
    """What the edge does to images: the widths it serves, the formats it negotiates, the quality."""

    widths: tuple[int, ...] = DEFAULT_WIDTHS
    formats: tuple[str, ...] = DEFAULT_FORMATS
    quality: int = DEFAULT_QUALITY

    @property
    def max_width(self) -> int:
        return max(self.widths)

    @property
    def variants_per_image(self) -> int:
        return (len(self.widths) + 1) * (len(self.formats) + 1)

    def to_json(self) -> dict:
        return {"enabled": True, "widths": list(self.widths), "formats": list(self.formats), "quality": self.quality,
                "widthParameter": WIDTH_PARAM, "extensions": list(IMAGE_EXTENSIONS),
                "variantsPerImage": self.variants_per_image}

    def settings_file(self, ttl: int) -> str:
        """The function package's settings (`SETTINGS_FILE`)."""
        return json.dumps({"widths": list(self.widths), "formats": list(self.formats), "quality": self.quality,
                           "ttl": ttl}, sort_keys=True)

    @classmethod
    def from_json(cls, data: dict) -> "ImageSettings":
        return cls(tuple(int(w) for w in data["widths"]), tuple(data["formats"]), int(data["quality"]))


def width_problems(widths: list[int]) -> list[str]:
    """What is wrong with a list of widths (empty: nothing)."""
    problems = []
    if not widths:
        problems.append("is empty")
    if len(widths) > MAX_WIDTHS:
        problems.append(f"has {len(widths)} widths, more than {MAX_WIDTHS}")
    outside = [w for w in widths if not MIN_WIDTH <= w <= MAX_WIDTH]
    if outside:
        problems.append(f"has {', '.join(map(str, outside))} outside {MIN_WIDTH} to {MAX_WIDTH} pixels")
    if widths != sorted(set(widths)):
        problems.append("is not strictly ascending (each width once, smallest first)")
    return problems


def format_problems(formats: list[str]) -> list[str]:
    problems = []
    if not formats:
        problems.append("is empty")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        problems.append(f"has {', '.join(map(repr, unknown))}, which is not negotiated by Accept")
    if len(set(formats)) != len(formats):
        problems.append("lists a format twice")
    return problems


def accepted(accept: str) -> set[str]:
    """The media types an `Accept` header lists explicitly with a non-zero q (wildcards do not count:
    `image/*` is sent by browsers that cannot decode AVIF)."""
    out = set()
    for part in (accept or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > 0:
            out.add(media)
    return out


def negotiate(accept: str, formats: tuple[str, ...]) -> str | None:
    """The first configured format the browser accepts, or None (serve the original's format)."""
    types = accepted(accept)
    return next((f for f in formats if MEDIA_TYPES[f] in types), None)


def parse_width(raw: str | None, widths: tuple[int, ...]) -> int | None:
    """The requested width: None without `w`; a configured width; else VariantError."""
    if raw is None:
        return None
    if not raw.isdigit() or raw != str(int(raw)) or int(raw) not in widths:
        raise VariantError(f"width {raw!r} is not offered; valid: {', '.join(map(str, widths))}")
    return int(raw)


def normalise(query: dict[str, list[str]], accept: str, settings: ImageSettings) -> dict[str, str]:
    """The query a variant is cached and transformed under: `w` checked against the widths,
    `f` from `Accept`, every other parameter dropped (what the CloudFront viewer function does)."""
    raw = query.get(WIDTH_PARAM)
    if raw is not None and len(raw) != 1:
        raise VariantError("width given more than once")
    width = parse_width(raw[0] if raw else None, settings.widths)
    out = {}
    if width is not None:
        out[WIDTH_PARAM] = str(width)
    chosen = negotiate(accept, settings.formats)
    if chosen is not None:
        out[FORMAT_PARAM] = chosen
    return out


def function_policy(bucket_arn: str, account_id: str, function_name: str) -> dict:
    """The transformation function's only permissions: read the uploads (objects under
    `UPLOADS_PREFIX`, nothing else of the bucket, no listing, no writing) and write its
    own logs. Lambda@Edge writes logs in the region where a copy runs, as
    `/aws/lambda/us-east-1.<name>`, so the log statements name that group in every region."""
    group = f"arn:aws:logs:*:{account_id}:log-group:/aws/lambda/us-east-1.{function_name}"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadOriginalUploads", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"{bucket_arn}/{UPLOADS_PREFIX}*"},
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": group},
        {"Sid": "OwnLogStreams", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{group}:*"},
    ]}


FUNCTION_ACTIONS = frozenset({"s3:GetObject", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"})
"""Every action `function_policy` grants; the policy rule allows no other."""
