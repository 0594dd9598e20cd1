"""`doctor`'s checks of the site: its URL, a sample post's canonical URL, the newest post's images."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from syndicate.cli.doctor.findings import Finding
from syndicate.errors import (
    SyndicateError,
)

if TYPE_CHECKING:
    import httpx

    from syndicate.config import Config
    from syndicate.content.post import Image, Post
    from syndicate.engine.runner import Syndicator


# --- the site, the canonical URL, the images ----------------------------------------------------------------


def _page_client(config: Config, timeout: float) -> httpx.Client:
    """The SSRF-safe client (a private site only by `[media] allow`), asking for pages."""
    from syndicate.content.media.fetch import safe_client
    from syndicate.content.media.safety import AddressPolicy

    client = safe_client(AddressPolicy.allowing(*config.media.allow), timeout=timeout)
    client.headers["accept"] = "text/html,application/xhtml+xml,*/*;q=0.8"
    return client


def _answer(client: httpx.Client, url: str) -> tuple[int | None, str]:
    """The final status of `url` (redirects followed, each connection checked), or None and why not."""
    import httpx

    try:
        with client.stream("GET", url, follow_redirects=True) as response:
            return response.status_code, f"HTTP {response.status_code}"
    except httpx.TimeoutException:
        return None, "no answer in time"
    except httpx.TooManyRedirects:
        return None, "too many redirects"
    except httpx.HTTPError as exc:
        return None, f"cannot connect ({type(exc).__name__})"
    except SyndicateError as exc:  # the address checks: a private address not in [media] allow
        return None, f"{exc}; a site on a private address needs it in [media] allow"


def _site(client: httpx.Client, url: str) -> Finding:
    status, said = _answer(client, url)
    if status is not None and 200 <= status < 300:
        return Finding("site", url, "ok", f"answers {said}")
    return Finding("site", url, "fail", f"does not answer 2xx: {said}",
                   "deploy the site, or correct [site] url (every copy links back to it)")


def _canonical(client: httpx.Client, sample: Post | None, older: Post | None) -> Finding:
    if sample is None:
        return Finding("canonical", "newest post", "skip", "no published post yet")
    status, said = _answer(client, sample.url)
    if status is not None and 200 <= status < 300:
        return Finding("canonical", sample.url, "ok", f"answers {said} ({sample.title})")
    if older is not None:  # the newest may not be deployed yet: the URLs are right if an older one answers
        before, _ = _answer(client, older.url)
        if before is not None and 200 <= before < 300:
            return Finding("canonical", sample.url, "warn",
                           f"does not answer 2xx: {said}; the one before it ({older.url}) does",
                           "deploy the site before this post is sent (or set [watch] wait_live)")
    return Finding("canonical", sample.url, "fail", f"does not answer 2xx: {said}: every copy would link to it",
                   "check [site] url and permalink (or the generator's own) against the deployed site")


def _pipeline(config: Config, timeout: float) -> Any:
    from syndicate.content.media import pipeline_for

    try:
        media = pipeline_for(config)
    except SyndicateError as exc:
        return exc
    media.timeout = min(media.timeout, timeout)
    return media


def _image(syn: Syndicator, media: Any, image: Image, role: Literal["cover", "inline"],
           fetchers: list[str]) -> Finding:
    """The image answers as an image, or the targets can still have it: uploaded from the local file, or
    rehosted for the targets that fetch images by URL."""
    from syndicate.contract import MediaItem

    what = image.url or image.src
    if image.refused:
        return Finding("images", image.src, "fail", "outside the site root: left out of every copy",
                       "move the image into the site (beside the post, or a static folder)")
    if isinstance(media, Exception):
        return Finding("images", what, "fail", f"the media settings are unusable: {media}", "check [media]")
    problem = media.probe(image.url) if image.url else None
    if image.url and problem is None:
        return Finding("images", what, "ok", "answers with an image")
    said = problem.message if problem is not None else "no public URL"
    local = image.path if image.path is not None and Path(image.path).is_file() else None
    if local is None:
        return Finding("images", what, "fail", f"{said}, and the site has no file for it",
                       "fix the image's src, or deploy it")
    if not fetchers:
        return Finding("images", what, "ok", f"{said}; the targets upload it from {local.name}")
    names = ", ".join(fetchers)
    if media.rehost_store is None:
        verb = "fetches" if len(fetchers) == 1 else "fetch"
        return Finding("images", what, "fail", f"{said}; {names} {verb} images by URL",
                       "deploy the site, or configure [media.rehost]")
    policy = next((p for p in (syn.connector(n).limits.media for n in fetchers) if p is not None), None)
    if policy is None:
        from syndicate.contract import MediaPolicy

        policy = MediaPolicy(max_bytes=5 * 1024 * 1024)
    try:
        url = media.rehost(MediaItem(role, what, image.alt, local), policy, local=local)
    except SyndicateError as exc:
        return Finding("images", what, "fail", f"{said}; rehosting failed: {exc}",
                       "check [media.rehost] (endpoint, bucket, keys)")
    return Finding("images", what, "ok", f"{said}; rehosted for {names} at {url}")
