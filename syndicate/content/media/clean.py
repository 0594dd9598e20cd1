"""Byte-level checks and cleaning: is an image file nothing but image data?

Used by syndicate.content.media.fit to pass clean files through untouched (no
generation loss) and to strip GIF metadata without re-encoding an animation.
Formats: JPEG markers (ITU T.81 B.1), PNG chunks (PNG spec 5.3), WebP RIFF
(developers.google.com/speed/webp/docs/riff_container), GIF89a blocks.
"""
from __future__ import annotations

_PNG_CLEAN_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"gAMA", b"cHRM", b"sRGB", b"pHYs", b"sBIT", b"bKGD"})


def is_clean_jpeg(data: bytes) -> bool:
    """No APPn segment but JFIF (without thumbnail) or Adobe, no comment, nothing after EOI."""
    if data[:2] != b"\xff\xd8" or not data.endswith(b"\xff\xd9"):
        return False
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return False
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == 0xDA:  # start of scan: every header segment was clean
            return True
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        body = data[i + 4 : i + 2 + length]
        if marker == 0xE0:
            # JFIF only, and no embedded thumbnail (Xthumb, Ythumb at offsets 12, 13)
            if body[:5] != b"JFIF\x00" or len(body) < 14 or body[12] or body[13]:
                return False
        elif marker == 0xEE:
            if body[:5] != b"Adobe":
                return False
        elif 0xE1 <= marker <= 0xEF or marker == 0xFE:
            return False
        i += 2 + length
    return False


def is_clean_png(data: bytes) -> bool:
    """Only critical, transparency and colour/density chunks; nothing after IEND."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return False
    i, n = 8, len(data)
    while i + 12 <= n:
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        if kind not in _PNG_CLEAN_CHUNKS:
            return False
        i += 12 + length
        if kind == b"IEND":
            return i == n
    return False


def is_clean_webp(data: bytes) -> bool:
    """A simple-format WebP (one VP8/VP8L chunk, no VP8X) cannot hold EXIF, XMP or ICC."""
    return (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP" and data[12:16] in (b"VP8 ", b"VP8L")
        and int.from_bytes(data[4:8], "little") + 8 == len(data)
        and int.from_bytes(data[16:20], "little") + 20 + (int.from_bytes(data[16:20], "little") & 1) == len(data)
    )


def webp_lossless(data: bytes) -> bool:
    head = data[12:4096]
    lossless, lossy = head.find(b"VP8L"), head.find(b"VP8 ")
    return lossless >= 0 and (lossy < 0 or lossless < lossy)


def _sub_blocks_end(data: bytes, i: int) -> int:
    while True:
        size = data[i]
        i += 1 + size
        if size == 0:
            return i


def clean_gif(data: bytes) -> bytes | None:
    """The GIF without comments and application extensions (but the loop count); None if malformed.

    Re-encoding an animation through Pillow loses the encoder's frame
    optimisations (often 5× larger), so a GIF that fits is cleaned block by block.
    """
    try:
        if data[:6] not in (b"GIF87a", b"GIF89a"):
            return None
        flags = data[10]
        i = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
        out = bytearray(data[:i])
        while True:
            block = data[i]
            if block == 0x3B:  # trailer
                out.append(0x3B)
                return bytes(out)
            if block == 0x2C:  # image: descriptor, local colour table, LZW data
                flags = data[i + 9]
                start = i
                i += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1
                i = _sub_blocks_end(data, i)
                out += data[start:i]
            elif block == 0x21:
                label, start = data[i + 1], i
                i = _sub_blocks_end(data, i + 2)
                keep = label in (0xF9, 0x01) or (label == 0xFF and data[start + 3 : start + 14] in (b"NETSCAPE2.0", b"ANIMEXTS1.0"))
                if keep:
                    out += data[start:i]
            else:
                return None
    except IndexError:
        return None
