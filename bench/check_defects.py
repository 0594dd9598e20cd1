"""Count the payloads a reader would see as wrong, over ../shared/corpus (issue 14's checker).

    .venv/bin/python bench/check_defects.py [--show N] [--no-config] [SITE_DIR ...]

Each blog of the corpus (or each SITE_DIR) is laid out as a site for all fifteen
targets, with a generator config shaped like the blog's own (Hugo for
opentelemetry.io, Zola for the Rust blog; `--no-config` leaves it out), and
every post is rendered and fitted for every target as `syndicate preview`
would. A payload is flagged when, outside code, it shows:

- `footnote`: a literal `[^label]`, or a footnote definition turned into a link (`href="The"`);
- `table`: a `|---|` delimiter row in HTML;
- `markdown`: literal Markdown in HTML (`](`, `![`, `&#91;!&#91;`), a Markdown body sent as HTML;
- `attrs`: a kramdown/goldmark attribute list `{: .x}` / `{:target=...}`;
- `template`: `{{`, `{%` or `style={{` left over (dev.to's own `{% raw %}` wrapping aside);
- `entity`: an HTML entity (`&amp;`) in a plain-text field (title, status, card, description);
- `link`: a link left pointing at a source file or a generator's own link syntax: a Zola `@/…`, a
  relative link, or a `.md`/`.mdx`/`.markdown` URL on the site's own host;
- `shared-url`: the post's canonical URL is another post's too (every payload of both posts);
- `empty`: a long-form body with no text (a canonical-link footer aside);
- `url`: the canonical URL differs from what the generator publishes, for a SITE_DIR that lists
  them in `.expected-urls.json` (`{"source/path.md": "https://blog.example/…/"}`).

Posts stopped by the loader (two posts on one URL since issue 14.11) send no payload: they
are counted as `stopped`, apart.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus"

TARGETS = (
    '[targets.devto]\napi_key = "x"\n'
    '[targets.hashnode]\ntoken = "h"\npublication_id = "65a1b2c3d4e5f60718293a4b"\n'
    '[targets.medium]\ntoken = "m"\n'
    '[targets.ghost]\nbase_url = "https://ghost.example"\nadmin_api_key = "a1:b2"\n'
    '[targets.wordpress]\nbase_url = "https://wp.example"\nusername = "me"\napp_password = "w"\n'
    '[targets.mastodon]\nbase_url = "https://m.example"\naccess_token = "y"\n'
    '[targets.bluesky]\nbase_url = "https://bsky.example"\nidentifier = "me.bsky.example"\napp_password = "z"\n'
    '[targets.x]\napi_key = "k"\napi_secret = "s"\naccess_token = "t"\naccess_secret = "a"\n'
    '[targets.linkedin]\naccess_token = "l"\nauthor = "urn:li:person:AbC123xyz"\n'
    '[targets.threads]\naccess_token = "t"\nuser_id = "17841400000000000"\n'
    '[targets.discord]\nwebhook_url = "https://discord.com/api/webhooks/1234567890/tok-en_1"\n'
    '[targets.slack]\nbot_token = "xoxb-1-2-abc"\nchannel = "C0123456789"\n'
    '[targets.telegram]\nbot_token = "123456789:AAE-plausible_token_of_thirty_chars"\nchat_id = "@blogchannel"\n'
    '[targets.micropub]\nendpoint = "https://micro.blog/micropub"\ntoken = "m"\n'
    '[targets.standard_site]\nbase_url = "https://bsky.example"\nidentifier = "me.bsky.example"\napp_password = "z"\n'
)
# the blogs' generator configs, as far as they decide the Markdown (their own files are not in the corpus)
GENERATOR = {
    "open-telemetry+opentelemetry.io": ("hugo.yaml", "baseURL: https://opentelemetry.io/\nmarkup:\n  goldmark:\n"
                                        "    renderer:\n      unsafe: true\n"),
    "rust-lang+blog.rust-lang.org": ("config.toml", 'base_url = "https://blog.rust-lang.org"\n[markdown]\n'),
}

_PRE = re.compile(r"<pre\b.*?</pre\s*>|<code\b.*?</code\s*>", re.S | re.I)
_FOOTREF = re.compile(r"\[\^[^\]\s]+\]")
_WORD_HREF = re.compile(r'href="[A-Za-z]+"')
_DELIM = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.M)
_LITERAL_MD = re.compile(r"\]\((?:https?:|/|\.)|!\[[^\]]*\]\(|&#91;!&#91;")
_ATTRS = re.compile(r"\{:[^}\n]*\}|\{\s*[.#][\w-]+(?:\s+[.#][\w-]+)*\s*\}")
_TEMPLATE = re.compile(r"\{\{|\{%|style=\{\{")
_FOREM_OWN = re.compile(r"\{% (?:raw|endraw|youtube|vimeo|gist|codepen|embed) ?[^%]*%\}")
_ENTITY = re.compile(r"&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")
SITE = "https://blog.example"
# what a long-form body carries besides the post: Medium's title heading, the canonical-link footer, tags
_NO_TEXT = re.compile(r'^\s*<h1>.*?</h1>|<p class="syndicate-canonical">.*?</p>|<[^>]+>', re.S)
CONTENT = ["content/**/*.md", "content/**/*.mdx", "content/**/*.markdown", "content/**/*.html", "src/content/**/*.md",
           "src/content/**/*.mdx", "_posts/**/*.md", "_posts/**/*.markdown", "posts/**/*.md"]
_HREF = re.compile(r"""\b(?:href|src)=["']([^"']*)["']""", re.I)
_MD_DEST = re.compile(r"\]\(\s*<?([^)\s>]+)|^ {0,3}\[(?!\^)[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
_SOURCE_EXT = re.compile(r"\.(?:md|mdx|markdown)(?:[#?].*)?$", re.I)


def bad_link(url: str, known: frozenset[str] = frozenset()) -> bool:
    """A link a copy cannot use: a generator's own form, a relative path, or a source file on the site.

    `known`: every post's published URL, when the site lists them: a link to a page of the site
    (no file extension) that is none of them is a guessed URL.
    """
    url = html.unescape(url.strip())
    if not url or url.startswith(("#", "mailto:", "tel:", "data:")) or url == "\ue00b":
        return False
    if url.startswith("@/") or ("://" not in url and not url.startswith("//")):
        return True
    path = url.split("#")[0].split("?")[0]
    if url.startswith(SITE) and _SOURCE_EXT.search(path):
        return True
    return bool(known) and url.startswith(SITE) and "." not in path.rsplit("/", 1)[-1] and path not in known


def outside_code_md(text: str) -> str:
    from syndicate.content.markdown.scan import code_ranges

    out, pos = [], 0
    for a, b, _ in code_ranges(text):
        out.append(text[pos:a])
        pos = b
    out.append(text[pos:])
    return "".join(out)


def defects(target: str, payload: dict[str, Any], known: frozenset[str] = frozenset()) -> set[str]:
    """The kinds of defect one rendered payload shows."""
    found: set[str] = set()
    body, plain = _fields(target, payload)
    if body is not None and not _NO_TEXT.sub("", body).strip():
        found.add("empty")
    if body is not None:
        is_html = target in ("ghost", "wordpress", "medium", "micropub") and not body.lstrip().startswith("# ")
        text = _PRE.sub("", body) if is_html else outside_code_md(body)
        if target == "devto":
            text = _FOREM_OWN.sub("", re.sub(r"\{% raw %\}.*?\{% endraw %\}", "", text, flags=re.S))
        if is_html:
            text = text.replace("&#91;", "[").replace("&#93;", "]")
        # Forem renders footnotes itself (Redcarpet's `footnotes` extension): a `[^1]` there is its own
        if (_FOOTREF.search(text) and target != "devto") or _WORD_HREF.search(text):
            found.add("footnote")
        if is_html and _DELIM.search(html.unescape(re.sub(r"<[^>]+>", "", text))):
            found.add("table")
        if is_html and _LITERAL_MD.search(re.sub(r"<[^>]+>", "", text)):
            found.add("markdown")
        if _ATTRS.search(text):
            found.add("attrs")
        if _TEMPLATE.search(text):
            found.add("template")
        links = _HREF.findall(text) if is_html else [a or b for a, b in _MD_DEST.findall(text)] + _HREF.findall(text)
        if any(bad_link(u, known) for u in links):
            found.add("link")
    for value in plain:
        if _ENTITY.search(value):
            found.add("entity")
        if _TEMPLATE.search(value) or _FOOTREF.search(value) or _ATTRS.search(value):
            found.add("template" if _TEMPLATE.search(value) else "footnote" if _FOOTREF.search(value) else "attrs")
    return found


def _fields(target: str, p: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(the long-form body or None, the plain-text fields) of one request's JSON."""
    if target == "devto":
        a = p["article"]
        return a["body_markdown"], [a["title"], a.get("description", "")]
    if target == "hashnode":
        v = p["variables"]["input"]
        return v["contentMarkdown"], [v["title"], v.get("subtitle") or ""]
    if target == "medium":
        return p["content"], [p["title"]]
    if target == "ghost":
        post = p["posts"][0]
        return post["html"], [post["title"], post.get("custom_excerpt") or ""]
    if target == "wordpress":
        # its title and excerpt are HTML, escaped once on purpose: an entity left after one unescape is ours
        return p["content"], [html.unescape(p["title"]), html.unescape(p.get("excerpt") or "")]
    if target == "mastodon":
        return None, [p["status"]]
    if target == "bluesky":
        record = p.get("record", p)
        card = (record.get("embed") or {}).get("external") or {}
        return None, [record["text"], card.get("title", ""), card.get("description", "")]
    if target in ("x", "threads"):
        return None, [p.get("text") or ""]
    if target == "linkedin":
        article = (p.get("content") or {}).get("article") or {}
        # the commentary's little-text escapes (`\(`) are LinkedIn's own: read as LinkedIn shows them
        return None, [re.sub(r"\\(.)", r"\1", p.get("commentary") or ""), article.get("title", ""),
                      article.get("description", "")]
    if target == "discord":
        embed = (p.get("embeds") or [{}])[0]
        return None, [p.get("content") or "", embed.get("title", ""), embed.get("description", "")]
    if target == "slack":  # mrkdwn and Telegram's HTML escape &, <, > themselves: an entity left after that is ours
        texts = [b["text"]["text"] for b in p.get("blocks") or [] if isinstance(b.get("text"), dict)]
        return None, [html.unescape(t) for t in [p.get("text") or "", *texts]]
    if target == "telegram":
        text = p.get("text") or p.get("caption") or ""
        return None, [html.unescape(re.sub(r"</?b>", "", text))]
    if target == "micropub":
        props = p.get("properties") or {}
        content = (props.get("content") or [{}])[0]
        body = content.get("html") if isinstance(content, dict) else content
        return body, [*(props.get("name") or []), *(props.get("summary") or [])]
    if target == "standard_site":
        record = p.get("record") or {}
        markdown = ((record.get("content") or {}).get("text") or {}).get("markdown")
        # textContent is the whole post as text, its code verbatim (`&x;` in Rust is no entity): the checks
        # run on the Markdown, outside code, instead
        return markdown, [record.get("title", ""), record.get("description", "")]
    raise ValueError(target)


def lay_out(root: Path, with_config: bool, sites: list[Path]) -> list[Path]:
    out = []
    for blog in sites:
        site = root / blog.name
        shutil.copytree(blog, site, ignore=shutil.ignore_patterns("syndicate.toml"))
        config = f'[site]\nurl = "{SITE}"\ncontent = {json.dumps(CONTENT)}\n\n'
        (site / "syndicate.toml").write_text(config + TARGETS, encoding="utf-8")
        if with_config and blog.name in GENERATOR:
            name, text = GENERATOR[blog.name]
            (site / name).write_text(text, encoding="utf-8")
        out.append(site)
    return out


def check(sites: list[Path], show: int) -> Counter[str]:
    from syndicate.content.loader import load_posts
    from syndicate.engine.fitting import fit_draft
    from syndicate.engine.plan import Plan
    from syndicate.engine.runner import Syndicator
    from syndicate.registry import load_config

    counts: Counter[str] = Counter()
    shown = 0
    for site in sites:
        config = load_config(site / "syndicate.toml", env={"SYNDICATE_DATA": os.environ.get("SYNDICATE_DATA", "")},
                             strict=False)
        posts, errors = load_posts(config)
        counts["stopped"] += sum("same URL" in str(e) or "same id" in str(e) for e in errors)
        for error in errors:
            print(f"load error {site.name}: {error}", file=sys.stderr)
        urls = Counter(post.url for post in posts)
        expected_file = site / ".expected-urls.json"
        expected = json.loads(expected_file.read_text()) if expected_file.is_file() else {}
        known = frozenset(expected.values())
        syn = Syndicator(config)
        for post in posts:
            rel = post.path.resolve().relative_to(site.resolve()).as_posix()
            wrong_url = rel in expected and post.url != expected[rel]
            if wrong_url and show:
                print(f"{site.name}/{rel}: URL {post.url}, the generator's {expected[rel]}")
            for target in config.targets.values():
                conn = syn.connector(target.name)
                try:
                    draft = fit_draft(conn.render(post, None), conn.limits_for(None))
                    requests = syn.requests(Plan(post, target.name, "create", "check", draft))
                except Exception as exc:  # a render error is a defect of its own
                    counts["payloads"] += 1
                    counts[f"{target.name}:error"] += 1
                    counts["bad"] += 1
                    print(f"error {post.path.name} {target.name}: {exc}", file=sys.stderr)
                    continue
                counts["payloads"] += 1
                found = {"shared-url"} if urls[post.url] > 1 else set()
                if wrong_url:
                    found.add("url")
                for request in requests:
                    if request.get("json") is not None:
                        found |= defects(target.type, request["json"], known)
                if found:
                    counts["bad"] += 1
                    counts[f"{target.type}:bad"] += 1
                    for kind in found:
                        counts[kind] += 1
                    if shown < show:
                        shown += 1
                        print(f"{post.path.relative_to(site)} → {target.name}: {', '.join(sorted(found))}")
                counts[f"{target.type}:payloads"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sites", nargs="*", type=Path)
    parser.add_argument("--show", type=int, default=0)
    parser.add_argument("--no-config", action="store_true")
    args = parser.parse_args()
    sources = args.sites or sorted(p for p in CORPUS.iterdir() if p.is_dir())
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SYNDICATE_DATA"] = str(Path(tmp) / "data")  # the ledger it reads: never the user's
        counts = check(lay_out(Path(tmp), not args.no_config, sources), args.show)
    total, bad = counts["payloads"], counts["bad"]
    print(f"{bad} of {total} payloads ({100 * bad / max(total, 1):.1f}%) show a defect")
    kinds = ("footnote", "table", "markdown", "attrs", "template", "entity", "link", "shared-url", "url", "empty")
    print("  by kind: " + ", ".join(f"{k} {counts[k]}" for k in kinds))
    targets = sorted({k.split(":")[0] for k in counts if ":" in k})
    print("  by target: " + ", ".join(f"{t} {counts[t + ':bad']}/{counts[t + ':payloads']}" for t in targets))
    print(f"  posts stopped for a shared URL or id: {counts['stopped']}")
    print(json.dumps({"payloads": total, "bad": bad}))


if __name__ == "__main__":
    main()
