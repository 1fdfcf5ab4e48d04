"""Perceptual image hashes: same photo close, other photo far, hostile bytes give None."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image, ImageDraw

from zichtbaar.ads.images import hash_distance, image_hash


def synthetic_photo(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """Coloured ellipses: a synthetic stand-in for an ad photo (no people, no faces)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, (200, 180, 160))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(20, 120), rng.randrange(20, 120)
        draw.ellipse([x, y, x + w, y + h], fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims the given size but carries almost no pixel data: a bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_hash_is_16_hex_characters() -> None:
    value = image_hash(encode(synthetic_photo(1)))
    assert value is not None and len(value) == 16
    int(value, 16)


def test_recompressed_and_resized_photo_stays_close() -> None:
    photo = synthetic_photo(1)
    original = image_hash(encode(photo))
    reposted = image_hash(encode(photo.resize((160, 120)), "JPEG", quality=60))
    other = image_hash(encode(synthetic_photo(2)))
    assert original and reposted and other
    assert hash_distance(original, reposted) <= 6
    assert hash_distance(original, other) >= 16


def test_same_bytes_same_hash_and_bytearray_accepted() -> None:
    data = encode(synthetic_photo(3))
    assert image_hash(data) == image_hash(bytearray(data)) == image_hash(memoryview(data))


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image", b"\x89PNG\r\n\x1a\n", encode(synthetic_photo(4))[:300],
     b"GIF89a" + b"\x00" * 20],
    ids=["empty", "text", "png-magic-only", "truncated", "gif-garbage"],
)
def test_undecodable_bytes_give_none(data: bytes) -> None:
    assert image_hash(data) is None


def test_decompression_bomb_gives_none_before_decoding() -> None:
    assert image_hash(png_header_only(100_000, 100_000)) is None  # beyond Pillow's own limit
    assert image_hash(png_header_only(8_000, 8_000)) is None  # beyond ours (40 Mpx)


def test_size_limits_are_parameters() -> None:
    data = encode(synthetic_photo(5))
    assert image_hash(data, max_bytes=len(data) - 1) is None
    assert image_hash(data, max_pixels=320 * 240 - 1) is None
    assert image_hash(data, max_pixels=320 * 240) is not None


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        image_hash("photo.jpg")  # type: ignore[arg-type]  # the error is what is tested
    with pytest.raises(ValueError):
        hash_distance("abc", "0" * 16)
    with pytest.raises(ValueError):
        hash_distance("z" * 16, "0" * 16)
    assert hash_distance("0" * 16, "f" * 16) == 64


def test_truncated_stays_undecodable_when_another_library_allows_truncation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import."""
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert image_hash(encode(synthetic_photo(4))[:300]) is None
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # left as the other library wants it
    assert image_hash(encode(synthetic_photo(4))) is not None
