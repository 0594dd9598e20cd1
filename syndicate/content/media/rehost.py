"""Rehost fitted images in an S3-compatible bucket, for platforms that take URLs only.

dev.to has no upload API: an image that exists only locally (a private repo, a
site not yet deployed) is invisible to it. With a bucket configured, the
pipeline puts the fitted image there and the connector links to its public URL.
Works with AWS S3, Cloudflare R2, MinIO, Backblaze B2, Garage... (path-style
`PUT {endpoint}/{bucket}/{key}`, AWS Signature Version 4).

Signing follows https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
(its PUT Object example is a test vector in tests/test_media.py).
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from syndicate.config import Secret
from syndicate.content.media.errors import MediaRefused, MediaUnavailable
from syndicate.contract import FittedMedia
from syndicate.errors import ConfigError

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sign_v4(
    method: str,
    host: str,
    path: str,
    headers: Mapping[str, str],
    payload_hash: str,
    *,
    access_key: str,
    secret_key: str,
    region: str,
    now: datetime,
    query: Mapping[str, str] | None = None,
    service: str = "s3",
) -> dict[str, str]:
    """The headers to send (the given ones, host, x-amz-date, x-amz-content-sha256, authorization).

    `path` is the raw (unencoded) object path; S3 encodes it once.
    """
    amz_date = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
    signed.update({"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash})
    names = sorted(signed)
    canonical = "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/-_.~"),
            "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted((query or {}).items())),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode("utf-8"), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    signed["authorization"] = f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    return signed


class S3Rehost:
    """Puts fitted images in a bucket; `put(key, media)` returns the public URL."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key: Secret | str,
        secret_key: Secret | str,
        public_url: str,
        *,
        region: str = "us-east-1",
        prefix: str = "",
        client: httpx.Client | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.bucket = bucket
        self._access = access_key if isinstance(access_key, Secret) else Secret(access_key)
        self._secret = secret_key if isinstance(secret_key, Secret) else Secret(secret_key)
        self.public_url = public_url.rstrip("/")
        self.region = region
        self.prefix = prefix.strip("/")
        self.client = client or httpx.Client(timeout=httpx.Timeout(60.0, connect=10.0), trust_env=False)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], where: str = "rehost") -> S3Rehost:
        """Build from a config table: endpoint, bucket, access_key, secret_key, public_url, region?, prefix?."""
        missing = [k for k in ("endpoint", "bucket", "access_key", "secret_key", "public_url") if not options.get(k)]
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}")
        return cls(
            str(options["endpoint"]), str(options["bucket"]), options["access_key"], options["secret_key"],
            str(options["public_url"]), region=str(options.get("region", "us-east-1")), prefix=str(options.get("prefix", "")),
        )

    def __repr__(self) -> str:
        return f"S3Rehost({self.endpoint!r}, bucket={self.bucket!r}, access_key=**********)"

    def put(self, key: str, media: FittedMedia) -> str:
        """PUT `media` at `key`; its public URL. `MediaUnavailable` when the bucket may answer later."""
        name = f"{self.prefix}/{key}" if self.prefix else key
        path = f"/{self.bucket}/{name}"
        host = urlsplit(self.endpoint).netloc
        headers = sign_v4(
            "PUT", host, path,
            {"content-type": media.mime, "cache-control": "public, max-age=31536000, immutable"},
            hashlib.sha256(media.data).hexdigest(),
            access_key=self._access.reveal(), secret_key=self._secret.reveal(),
            region=self.region, now=datetime.now(UTC),
        )
        url = self.endpoint + quote(path, safe="/-_.~")
        try:
            response = self.client.put(url, content=media.data, headers=headers)
        except httpx.TransportError as exc:
            raise MediaUnavailable(f"rehost {name}: cannot reach the bucket ({type(exc).__name__})") from None
        if response.status_code >= 300:
            status = response.status_code
            kind = MediaUnavailable if status in (408, 429) or status >= 500 else MediaRefused
            raise kind(f"rehost {name}: the bucket answered HTTP {status}")
        return f"{self.public_url}/{quote(name, safe='/-_.~')}"
