"""Fit one image to a platform's `MediaPolicy`: oriented, cleaned, sized, encoded.

Decisions (documented here, tested in tests/test_media.py):
- The type is what Pillow finds in the bytes; only web image decoders are enabled.
- A source over `max_source_pixels` (100 MP by default) is refused before decoding.
- JPEGs are decoded at a reduced DCT scale (`draft`) when the target is at most
  half their size, so a 24 MP photo is never fully decoded to be made small.
- Colour: an embedded ICC profile other than sRGB is converted to sRGB, then
  every profile is dropped, so the output carries no metadata at all (no EXIF,
  GPS, XMP, ICC, comments, text chunks) and looks the same everywhere.
- Pass-through: a JPEG, PNG or WebP that already fits and whose bytes hold
  nothing but image data (no APPn but JFIF/Adobe, no COM, no ancillary PNG
  chunk beyond colour/density, a simple-format WebP) is returned untouched:
  no generation loss. An animated GIF that fits is cleaned block by block
  (comments and application extensions but the loop count dropped).
- Transparency stays where the target takes PNG or WebP; otherwise it is
  flattened onto white. An animated GIF stays animated if GIF is accepted and
  the result fits; else its first frame is used.
- Lossy output takes the highest quality (88 down to 45) that fits the byte
  limit; below that floor the image is downscaled further.
"""
from __future__ import annotations

import io
import math
import warnings

from PIL import Image, ImageCms, ImageSequence, UnidentifiedImageError

from syndicate.content.media.clean import clean_gif, is_clean_jpeg, is_clean_png, is_clean_webp, webp_lossless
from syndicate.content.media.errors import MediaError, MediaRefused
from syndicate.contract import FittedMedia, MediaPolicy

DEFAULT_MAX_SOURCE_PIXELS = 100_000_000
MAX_ANIMATION_PIXELS = 200_000_000  # frames × width × height of a kept animation
QUALITY_MAX = 88
QUALITY_STEPS = (85, 80, 75, 70, 65, 60, 55, 50, 45)
MIME = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp", "avif": "image/avif"}
EXTENSION = {"jpeg": "jpg", "png": "png", "gif": "gif", "webp": "webp", "avif": "avif"}
_DECODERS = ["JPEG", "PNG", "GIF", "WEBP", "AVIF", "BMP"]  # no TIFF: a large, rarely needed attack surface
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

try:  # HEIC/HEIF only when the optional pillow-heif plugin is installed
    import pillow_heif  # type: ignore[import-not-found]

    pillow_heif.register_heif_opener()
    _DECODERS.append("HEIF")
except ImportError:  # pragma: no cover - depends on the environment
    pass

_SRGB: ImageCms.ImageCmsProfile | None = None


def _open(data: bytes, name: str) -> Image.Image:
    head = data[:256].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower()):
        raise MediaRefused(f"image {name}: SVG is not supported (convert it to PNG)")
    try:
        with warnings.catch_warnings():
            # we check pixel counts ourselves, with a clear message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=_DECODERS)
    except UnidentifiedImageError:
        if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
            raise MediaRefused(f"image {name}: HEIC/HEIF needs the optional pillow-heif package") from None
        raise MediaRefused(f"image {name}: not a supported image type") from None
    except Image.DecompressionBombError:
        raise MediaRefused(f"image {name}: too many pixels (decompression bomb?)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaRefused(f"image {name}: corrupt or unreadable ({exc})") from None


def target_size(width: int, height: int, policy: MediaPolicy) -> tuple[int, int]:
    """The largest size within the policy's width, height and pixel limits."""
    scale = 1.0
    if policy.max_width:
        scale = min(scale, policy.max_width / width)
    if policy.max_height:
        scale = min(scale, policy.max_height / height)
    if policy.max_pixels:
        scale = min(scale, math.sqrt(policy.max_pixels / (width * height)))
    if scale >= 1.0:
        return width, height
    w, h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    if policy.max_pixels and w * h > policy.max_pixels:  # a side clamped to 1 px (a 1×20000 strip)
        w, h = max(1, min(w, policy.max_pixels // h)), max(1, min(h, policy.max_pixels // w))
    return w, h


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to RGB/RGBA/L/LA in sRGB; the ICC profile itself is never kept."""
    global _SRGB
    if im.mode == "P" or im.mode == "PA":
        im = im.convert("RGBA" if "transparency" in im.info or im.mode == "PA" else "RGB")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode in ("RGB", "L") and "transparency" in im.info:
        im = im.convert("RGBA" if im.mode == "RGB" else "LA")
    if icc and im.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if im.mode == "CMYK" or "srgb" not in ImageCms.getProfileDescription(source).lower():
                if _SRGB is None:
                    _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
                out = "RGBA" if im.mode == "RGBA" else "RGB"
                converted = ImageCms.profileToProfile(im, source, _SRGB, outputMode=out)
                if converted is not None:
                    im = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: use the pixels as they are
    if im.mode not in ("RGB", "RGBA", "L", "LA"):
        im = im.convert("RGBA" if "A" in im.mode else "RGB")
    if im.mode in ("RGBA", "LA") and im.getchannel("A").getextrema()[0] == 255:
        im = im.convert("RGB" if im.mode == "RGBA" else "L")  # alpha present but unused
    return im


def _encode(im: Image.Image, fmt: str, quality: int | None = None) -> bytes:
    im.info = {}  # nothing of the source's metadata reaches the encoder
    buf = io.BytesIO()
    if fmt == "jpeg":
        im.save(buf, "JPEG", quality=quality or QUALITY_MAX, optimize=True)
    elif fmt == "webp":
        im.save(buf, "WEBP", quality=quality or QUALITY_MAX, method=4)
    elif fmt == "avif":
        im.save(buf, "AVIF", quality=quality or QUALITY_MAX, speed=8)
    elif fmt == "png":
        im.save(buf, "PNG", compress_level=6)
    else:
        im.save(buf, fmt.upper())
    return buf.getvalue()


def _flatten(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA"):
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(im.convert("RGBA"), mask=im.getchannel("A"))
        return background
    return im


def _formats_for(src: str, alpha: bool, accepted: tuple[str, ...]) -> list[str]:
    if alpha:
        order = [src, "png", "webp", "avif", "jpeg"] if src in ("webp", "avif") else ["png", "webp", "avif", "jpeg"]
    elif src == "jpeg":
        order = ["jpeg", "webp", "avif", "png"]
    elif src in ("webp", "avif"):
        order = [src, "jpeg", "png"]
    else:  # drawings and screenshots: lossless first
        order = ["png", "jpeg", "webp", "avif"]
    chosen = [f for f in dict.fromkeys([*order, "gif"]) if f in accepted]
    if not chosen:
        raise MediaRefused(f"the platform accepts none of the formats it can be made into ({', '.join(accepted)})")
    return chosen


def _fit_lossy(im: Image.Image, fmt: str, max_bytes: int) -> tuple[bytes, Image.Image] | None:
    """Highest quality that fits, downscaling below the quality floor; None if hopeless."""
    if fmt == "jpeg":
        im = _flatten(im)
    for _ in range(8):
        data = _encode(im, fmt, QUALITY_MAX)
        if len(data) <= max_bytes:
            return data, im
        lo, hi, best = 0, len(QUALITY_STEPS) - 1, None
        smallest = None
        while lo <= hi:  # QUALITY_STEPS falls: find the first (highest) that fits
            mid = (lo + hi) // 2
            attempt = _encode(im, fmt, QUALITY_STEPS[mid])
            if len(attempt) <= max_bytes:
                best, hi = attempt, mid - 1
            else:
                smallest, lo = attempt, mid + 1
        if best is not None:
            return best, im
        size = len(smallest or data)
        if im.width * im.height <= 64:
            return None
        scale = min(0.9, math.sqrt(max_bytes / size) * 0.95)
        im = im.resize((max(1, int(im.width * scale)), max(1, int(im.height * scale))), Image.Resampling.LANCZOS)
    return None


def _png_estimate(im: Image.Image) -> int | None:
    """The PNG size of `im`, estimated from 8 full-width bands (1/8 of its rows).

    Deflate works along rows, so bands spread over the image predict the whole
    well enough to skip a full lossless encode that cannot fit.
    """
    if im.height < 256 or im.mode not in ("RGB", "RGBA", "L", "LA"):
        return None
    bands, band = 8, im.height // 64
    sample = Image.new(im.mode, (im.width, band * bands))
    for i in range(bands):
        y = (im.height - band) * i // (bands - 1)
        sample.paste(im.crop((0, y, im.width, y + band)), (0, i * band))
    return len(_encode(sample, "png")) * im.height // sample.height


def _fit_png(im: Image.Image, max_bytes: int, lossy_fallback: bool) -> tuple[bytes, Image.Image] | None:
    for _ in range(8):
        estimate = _png_estimate(im)
        if estimate is None or estimate <= max_bytes * 1.25:
            data = _encode(im, "png")
            if len(data) <= max_bytes:
                return data, im
        if lossy_fallback:
            return None  # let JPEG/WebP take it rather than shrinking a lossless image
        quantized = im.quantize(256, method=Image.Quantize.FASTOCTREE if im.mode == "RGBA" else Image.Quantize.MEDIANCUT)
        data = _encode(quantized, "png")
        if len(data) <= max_bytes:
            return data, quantized
        if im.width * im.height <= 64:
            return None
        scale = min(0.9, math.sqrt(max_bytes / len(data)) * 0.95)
        im = im.resize((max(1, int(im.width * scale)), max(1, int(im.height * scale))), Image.Resampling.LANCZOS)
    return None


def _fit_animation(im: Image.Image, size: tuple[int, int], max_bytes: int) -> bytes | None:
    if getattr(im, "n_frames", 1) * size[0] * size[1] > MAX_ANIMATION_PIXELS:
        return None
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(im):
        durations.append(int(frame.info.get("duration", 100)))
        rgba = frame.convert("RGBA")
        frames.append(rgba if rgba.size == size else rgba.resize(size, Image.Resampling.LANCZOS))
    loop = int(im.info.get("loop", 0))
    for f in frames:
        f.info = {}
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=durations, loop=loop, disposal=2)
    data = buf.getvalue()
    return data if len(data) <= max_bytes else None


def fit(
    data: bytes,
    policy: MediaPolicy,
    *,
    name: str = "image",
    stem: str = "image",
    max_source_pixels: int = DEFAULT_MAX_SOURCE_PIXELS,
) -> FittedMedia:
    """`data` made acceptable to `policy`, or `MediaRefused` naming `name`."""
    im = _open(data, name)
    width, height = im.size
    if width < 1 or height < 1:
        raise MediaRefused(f"image {name}: empty image")
    if width * height > max_source_pixels:
        raise MediaRefused(
            f"image {name}: {width}×{height} is {width * height / 1e6:.0f} MP, "
            f"over the {max_source_pixels / 1e6:.0f} MP limit (decompression bomb?)"
        )
    try:
        return _fit(im, data, policy, stem)
    except MediaError as exc:
        raise MediaRefused(f"image {name}: {exc.message}") from None
    except Exception as exc:
        raise MediaRefused(f"image {name}: corrupt or unreadable ({type(exc).__name__}: {exc})") from None


def _fit(im: Image.Image, data: bytes, policy: MediaPolicy, stem: str) -> FittedMedia:
    width, height = im.size
    accepted = tuple(f.lower().removeprefix("image/").replace("jpg", "jpeg") for f in policy.formats)
    family = (im.format or "").lower()
    if family == "mpo":  # a JPEG with extra pictures (phones): the first is the photo
        family = "jpeg"
    frames = getattr(im, "n_frames", 1)
    orientation = 1
    if family in ("jpeg", "png", "webp", "avif"):
        orientation = int(im.getexif().get(0x0112, 1) or 1)
    upright = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    size = target_size(*upright, policy)

    clean = (
        (family == "jpeg" and im.mode in ("RGB", "L") and is_clean_jpeg(data))
        or (family == "png" and frames == 1 and is_clean_png(data))
        or (family == "webp" and frames == 1 and is_clean_webp(data))
    )
    if clean and family in accepted and size == upright and len(data) <= policy.max_bytes:
        if family == "jpeg":
            im.draft(im.mode, (max(1, width // 8), max(1, height // 8)))
        im.load()  # a corrupt body fails here rather than on the platform
        return FittedMedia(data, MIME[family], width, height, f"{stem}.{EXTENSION[family]}")

    if frames > 1 and family == "gif" and "gif" in accepted and frames * width * height <= MAX_ANIMATION_PIXELS:
        cleaned = clean_gif(data) if size == upright else None
        if cleaned is not None and len(cleaned) <= policy.max_bytes:
            im.seek(frames - 1)  # decodes every frame: a corrupt one fails here
            return FittedMedia(cleaned, MIME["gif"], width, height, f"{stem}.gif")
        # a resized animation is about as large per pixel as the source: skip hopeless ones
        hopeless = len(data) * (size[0] * size[1]) / (width * height) > policy.max_bytes * 2
        animated = None if hopeless else _fit_animation(im, size, policy.max_bytes)
        if animated is not None:
            return FittedMedia(animated, MIME["gif"], size[0], size[1], f"{stem}.gif")
    if frames > 1:
        im.seek(0)

    if family == "jpeg" and size != upright:
        stored = (size[1], size[0]) if orientation in (5, 6, 7, 8) else size
        im.draft("RGB" if im.mode == "RGB" else im.mode, stored)
    icc = im.info.get("icc_profile")
    im.load()
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    if im.mode in ("P", "PA", "1", "I", "I;16", "F") or (im.mode in ("RGB", "L") and "transparency" in im.info):
        im = _to_srgb(im, None)
    if im.size != size:
        im = im.resize(size, Image.Resampling.BICUBIC, reducing_gap=1.0)
    im = _to_srgb(im, icc)

    alpha = im.mode in ("RGBA", "LA")
    lossless_source = family == "webp" and webp_lossless(data)
    choices = _formats_for("png" if lossless_source else family, alpha, accepted)
    lossless_first = choices[0] == "png"
    for fmt in choices:
        if fmt == "png":
            result = _fit_png(im, policy.max_bytes, lossy_fallback=not alpha and len(choices) > 1 and lossless_first)
        elif fmt == "gif":
            result = _fit_png_as_gif(im, policy.max_bytes)
        else:
            result = _fit_lossy(im, fmt, policy.max_bytes)
        if result is not None:
            out, final = result
            return FittedMedia(out, MIME[fmt], final.width, final.height, f"{stem}.{EXTENSION[fmt]}")
    raise MediaRefused(f"cannot be made smaller than {policy.max_bytes} bytes")


def _fit_png_as_gif(im: Image.Image, max_bytes: int) -> tuple[bytes, Image.Image] | None:
    """GIF as a last resort (a platform taking only GIF among our formats)."""
    q = im.convert("RGBA").quantize(255, method=Image.Quantize.FASTOCTREE)
    data = _encode(q, "gif")
    return (data, q) if len(data) <= max_bytes else None
