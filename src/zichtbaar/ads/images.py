"""Perceptual hashes of ad photos, so the same photo reused across ads links them.

The hash is a 64-bit pHash (``imagehash`` on Pillow), written as 16 hex characters; near-equal
photos (re-compressed, resized) differ in a few bits, measured with ``hash_distance``.

No face recognition of any kind: no face detection, no face embeddings, no search by face.
Untargeted scraping of facial images to build recognition databases is a prohibited practice
under the EU AI Act, art. 5(1)(e). Image bytes are hashed and discarded; only the hash is kept.

Ad sites are hostile input, so decoding is guarded: the byte size and the pixel count (read
from the header before any decoding) are capped, and any undecodable file gives ``None``.
"""

from __future__ import annotations

import io
import threading
import warnings

import imagehash
from PIL import Image, ImageFile, UnidentifiedImageError

# Pillow's "load truncated images" switch is process-wide, and some libraries turn it on when
# imported (WeasyPrint does). A cut-off download must still give None here, never a hash of a
# half grey picture, so the switch is held off while an image is decoded.
_DECODE = threading.Lock()

__all__ = ["hash_distance", "image_hash"]

#: Larger downloads are not ad photos; refuse them before Pillow sees them.
MAX_BYTES = 20 * 1024 * 1024
#: Decompression-bomb guard: a 40-megapixel photo is already far beyond what ad sites serve.
MAX_PIXELS = 40_000_000
HASH_HEX = 16


def image_hash(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> str | None:
    """pHash of image bytes as 16 hex characters, or None for undecodable or oversized input."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    if not data or len(data) > max_bytes:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(bytes(data))) as image:
                width, height = image.size  # header only; nothing decoded yet
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    return None
                with _DECODE:
                    before = ImageFile.LOAD_TRUNCATED_IMAGES
                    ImageFile.LOAD_TRUNCATED_IMAGES = False
                    try:
                        image.load()
                    finally:
                        ImageFile.LOAD_TRUNCATED_IMAGES = before
                return str(imagehash.phash(image))
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,  # raised by some Pillow plug-ins on malformed headers
        EOFError,
    ):
        return None


def hash_distance(a: str, b: str) -> int:
    """Number of differing bits between two hashes from ``image_hash`` (0 = same photo)."""
    for value in (a, b):
        if not isinstance(value, str) or len(value) != HASH_HEX:
            raise ValueError(f"expected a {HASH_HEX}-hex-character hash, got {value!r}")
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except ValueError:
        raise ValueError(f"not hexadecimal: {a!r} / {b!r}") from None
