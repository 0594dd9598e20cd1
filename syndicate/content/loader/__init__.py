"""Post files on disk → `Post`: discovery, front matter, and the SSG conventions.

One file is one post. `load_post` reads it (fmparse: safe YAML/TOML/JSON),
then maps the many names blogs use for the same idea (CONVENTIONS.md: title,
date, updated, summary, tags, cover, url, hidden, opt-out, authors) onto the
`Post` fields. `site.fields` (role → dotted front-matter key) is tried before
the built-in names for its role. A post that cannot be used raises
`PostError("<path>: <problem>")`; `load_posts` lets it fail alone.

The parts: `discovery` (which files are posts), `normalise` (one file → `Post`),
`fields` (the front matter's roles), `urls` (the post's place, URL and id),
`visibility` (drafts, hidden, scheduled, opt-outs) and `images` (the cover).
"""
from __future__ import annotations

from syndicate.content.loader.discovery import LEAF_INDEX, bundle_resource, discover, discover_site, in_content
from syndicate.content.loader.fields import KEYS
from syndicate.content.loader.images import resolve_image
from syndicate.content.loader.normalise import load_post, load_posts
from syndicate.content.loader.urls import post_id
from syndicate.content.loader.visibility import EXPIRY_KEYS, HIDDEN_FLAGS, PUBLISH_KEYS
from syndicate.content.permalinks import reset_cache, slugify
from syndicate.content.siteindex import unique, use

__all__ = ["LEAF_INDEX", "EXPIRY_KEYS", "bundle_resource", "HIDDEN_FLAGS", "KEYS", "PUBLISH_KEYS", "discover", "discover_site", "in_content",
           "load_post", "load_posts", "post_id", "reset_cache", "resolve_image", "slugify", "unique"]

use(lambda path, site: load_post(path, site, light=True), discover_site)
