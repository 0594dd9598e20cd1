"""Real image files and real HTTP servers for the media tests.

Images are generated with Pillow (or written byte by byte, for the hostile
ones); servers are `http.server` on 127.0.0.1 with an ephemeral port.
"""
from __future__ import annotations

import email.parser
import hashlib
import io
import json
import shutil
import ssl
import struct
import subprocess
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image, ImageCms, ImageDraw

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo(width: int, height: int, seed: int = 1) -> Image.Image:
    """A photo-like RGB image: smooth gradients, shapes and fine noise (so JPEG has work to do)."""
    small = Image.effect_noise((max(1, width // 10), max(1, height // 10)), 50 + seed).convert("RGB")
    im = small.resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(im)
    step = max(1, width // 12)
    for i in range(0, width, step):
        draw.ellipse((i, (i * 7) % max(1, height), i + step * 2, (i * 7) % max(1, height) + step), fill=((i * 3) % 256, 90, 180))
    noise = Image.effect_noise((width, height), 24).convert("RGB")
    return Image.blend(im, noise, 0.15)


def exif_with_gps(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "TestCam"  # Make
    exif[0x0131] = "secret-software"  # Software
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.5)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 1.5)
    return exif


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description creator="secret-author"/></rdf:RDF></x:xmpmeta>'


def jpeg_with_metadata(width: int, height: int, orientation: int = 6, quality: int = 92) -> bytes:
    """A JPEG with EXIF orientation, GPS, XMP, an Adobe RGB-ish ICC profile and a comment."""
    im = photo(width, height)
    buf = io.BytesIO()
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im.save(buf, "JPEG", quality=quality, exif=exif_with_gps(orientation), xmp=XMP, comment=b"secret comment", icc_profile=icc)
    return buf.getvalue()


def png_alpha(width: int, height: int) -> bytes:
    """An RGBA PNG whose alpha really varies, with a text chunk and EXIF."""
    im = photo(width, height).convert("RGBA")
    alpha = Image.linear_gradient("L").resize((width, height))
    im.putalpha(alpha)
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "secret-author")
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info, exif=exif_with_gps(1))
    return buf.getvalue()


def animated_gif(width: int = 120, height: int = 80, frames: int = 6) -> bytes:
    images = []
    for i in range(frames):
        im = Image.new("RGB", (width, height), (i * 40 % 256, 30, 200 - i * 20))
        ImageDraw.Draw(im).rectangle((i * 10, 10, i * 10 + 30, 50), fill=(255, 255, 0))
        images.append(im)
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=80, loop=0, comment=b"secret comment")
    return buf.getvalue()


def with_gif_extension(gif: bytes, app: bytes, payload: bytes) -> bytes:
    """`gif` with an application extension (e.g. b"XMP DataXMP") inserted before its first block."""
    flags = gif[10]
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    blocks = b"".join(bytes([len(payload[i : i + 255])]) + payload[i : i + 255] for i in range(0, len(payload), 255))
    return gif[:at] + b"\x21\xff\x0b" + app + blocks + b"\x00" + gif[at:]


def webp(width: int, height: int, alpha: bool = False) -> bytes:
    im = photo(width, height)
    if alpha:
        im = im.convert("RGBA")
        im.putalpha(Image.linear_gradient("L").resize((width, height)))
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=90, exif=exif_with_gps(1))
    return buf.getvalue()


def encoded(im: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG that claims `width`×`height` pixels; its data is a few zero rows."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def corrupt_jpeg() -> bytes:
    """A real JPEG's headers followed by too little scan data."""
    good = encoded(photo(400, 300), "JPEG", quality=90)
    return good[: len(good) // 3]


def strip_png(width: int = 1, height: int = 20000) -> bytes:
    im = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    return encoded(im, "PNG")


# --- HTTP --------------------------------------------------------------------

Route = tuple[int, dict[str, str], bytes]


@dataclass
class Server:
    """A threaded HTTP server on 127.0.0.1 answering from `routes` or a `handler`."""

    routes: dict[str, Route] = field(default_factory=dict)
    handler: Callable[[BaseHTTPRequestHandler, bytes], Route] | None = None
    log: list[tuple[str, str]] = field(default_factory=list)
    tls: ssl.SSLContext | None = None  # serve HTTPS with this server context

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, with_body: bool) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.log.append((self.command, self.path))
                if outer.handler is not None:
                    status, headers, payload = outer.handler(self, body)
                else:
                    status, headers, payload = outer.routes.get(self.path, (404, {"content-type": "text/plain"}, b"not found"))
                headers = dict(headers)
                self.send_response(status)
                unsized = headers.pop("x-no-length", None) is not None
                trickle = headers.pop("x-trickle", None) is not None
                for k, v in headers.items():
                    self.send_header(k, v)
                if unsized:  # body until the connection closes
                    self.send_header("connection", "close")
                    self.close_connection = True
                elif "content-length" not in {k.lower() for k in headers}:
                    self.send_header("content-length", str(len(payload)))
                self.end_headers()
                if with_body and trickle:  # one byte every 50 ms: a slow-loris image host
                    try:
                        for i in range(len(payload)):
                            self.wfile.write(payload[i : i + 1])
                            self.wfile.flush()
                            time.sleep(0.05)
                    except OSError:
                        self.close_connection = True
                elif with_body:
                    self.wfile.write(payload)

            def do_GET(self) -> None:
                self._answer(True)

            def do_POST(self) -> None:
                self._answer(True)

            def do_PUT(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def self_signed(folder: Path, host: str) -> tuple[Path, Path] | None:
    """A certificate and key for `host` made by the openssl command, or None without it."""
    if shutil.which("openssl") is None:
        return None
    cert, key = folder / f"{host}.crt", folder / f"{host}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


class FakeBucket:
    """An S3-compatible bucket, path-style: PUT stores, GET/HEAD under /public serve.

    Refuses a PUT without a SigV4 authorization header of the right shape
    (credential of `access_key`, signed host and amz headers, a 64-hex signature)
    and a body whose x-amz-content-sha256 differs.
    """

    def __init__(self, access_key: str) -> None:
        self.access_key = access_key
        self.objects: dict[str, tuple[str, bytes]] = {}

    def __call__(self, request: BaseHTTPRequestHandler, body: bytes) -> Route:
        if request.command in ("GET", "HEAD"):
            path = request.path.removeprefix("/public")
            if path not in self.objects:
                return 404, {}, b""
            kind, data = self.objects[path]
            return 200, {"content-type": kind}, data
        auth = request.headers.get("authorization", "")
        if not auth.startswith(f"AWS4-HMAC-SHA256 Credential={self.access_key}/"):
            return 403, {"content-type": "application/xml"}, b"<Error><Code>AccessDenied</Code></Error>"
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        signature = auth.rsplit("Signature=", 1)[-1]
        if (
            len(scope) != 5 or scope[3:] != ["s3", "aws4_request"] or len(scope[1]) != 8
            or "SignedHeaders=" not in auth or "host;" not in auth or "x-amz-content-sha256;x-amz-date" not in auth
            or len(signature) != 64 or not request.headers.get("x-amz-date", "").startswith(scope[1])
        ):
            return 403, {}, b"<Error><Code>SignatureDoesNotMatch</Code></Error>"
        if request.headers.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
            return 400, {}, b"<Error><Code>XAmzContentSHA256Mismatch</Code></Error>"
        self.objects[request.path] = (request.headers.get("content-type", "application/octet-stream"), body)
        return 200, {"etag": '"x"'}, b""


# --- fake platforms ----------------------------------------------------------------


def _json(status: int, body: dict[str, Any]) -> Route:
    return status, {"content-type": "application/json"}, json.dumps(body).encode()


@dataclass
class FakeMedia:
    """Mastodon `POST /api/v2/media` (multipart file + description) and Bluesky
    `com.atproto.repo.uploadBlob` (raw body), with their documented limits."""

    mastodon_max_bytes: int = 16_777_216  # image_size_limit (docs example)
    mastodon_matrix: int = 33_177_600  # image_matrix_limit
    description_limit: int = 1500
    blob_max_bytes: int = 1_000_000
    received: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: BaseHTTPRequestHandler, body: bytes) -> Route:
        kind = request.headers.get("content-type", "")
        if request.path == "/api/v2/media":
            message = email.parser.BytesParser().parsebytes(b"Content-Type: " + kind.encode() + b"\r\n\r\n" + body)
            parts = {p.get_param("name", header="content-disposition"): p for p in message.get_payload()}
            file = parts.get("file")
            if file is None:
                return _json(422, {"error": "Validation failed: File can't be blank"})
            data = file.get_payload(decode=True)
            description = (parts["description"].get_payload(decode=True) or b"").decode() if "description" in parts else None
            if file.get_content_type() not in ("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"):
                return _json(422, {"error": "Validation failed: File content type is invalid"})
            if len(data) > self.mastodon_max_bytes:
                return _json(422, {"error": "Validation failed: File file size must be less than 16 MB"})
            if description and len(description) > self.description_limit:
                return _json(422, {"error": "Validation failed: Description is too long"})
            im = Image.open(io.BytesIO(data))
            if im.width * im.height > self.mastodon_matrix:
                return _json(422, {"error": "Validation failed: File dimensions too large"})
            self.received.append({"platform": "mastodon", "data": data, "mime": file.get_content_type(), "alt": description, "filename": file.get_filename()})
            return _json(200, {"id": str(len(self.received)), "type": "image", "description": description})
        if request.path == "/xrpc/com.atproto.repo.uploadBlob":
            if not kind.startswith("image/"):
                return _json(400, {"error": "InvalidMimeType", "message": "Wrong type of file"})
            if len(body) > self.blob_max_bytes:
                return _json(400, {"error": "BlobTooLarge", "message": "This file is too large"})
            self.received.append({"platform": "bluesky", "data": body, "mime": kind})
            return _json(200, {"blob": {"$type": "blob", "mimeType": kind, "size": len(body), "ref": {"$link": "bafk"}}})
        return _json(404, {"error": "not found"})
