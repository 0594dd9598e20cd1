"""Load + render + fit for dev.to and Mastodon, the seven article/status targets and all fifteen, against one
markdown-it-py parse.

The yardstick is one markdown-it-py parse of the same bodies with the plugins the
dialects use (table, strikethrough, footnote, definition list, task list).

    .venv/bin/python bench/bench_pipeline.py [--posts 2000] [--rounds 3] [--targets two seven fifteen]
        [--sets generated corpus]

Two sets: a generated site of realistic posts, and the real posts of ../shared/corpus.

Each round runs in a fresh process (honest peak RSS, cold caches): it
discovers and loads every post (front matter, SSG conventions, canonical URL),
expands the body once (shortcodes, Liquid, links, images) and renders and fits
each post for every target of the set: `two` (the dev.to article and the
Mastodon status), `seven` (and Bluesky, Ghost, WordPress, Hashnode, Medium) or
`fifteen` (every connector). Reports posts/s and the ratio to the yardstick in
CPU time of the one process (a busy machine's other work does not count; each post's
render and its yardstick parse are timed one after the other, so both see the same
stretch of a shared host's drifting speed), and
the process's peak RSS (VmHWM): the loader's own bound, as every command that loads a site has it (only the
last `syndicate.content.post.KEPT` posts hold their body and `Document`; the others read the body again
from the file when it is needed). Issue 17's figures:

    .venv/bin/python bench/bench_pipeline.py --targets fifteen            # ratio, both sets
    .venv/bin/python bench/bench_pipeline.py --posts 10000 --rounds 1 --targets fifteen --sets generated  # RSS
    .venv/bin/python bench/bench_pipeline.py --posts 300 --targets fifteen --sets generated --profile
    .venv/bin/python bench/bench_pipeline.py --posts 600 --parts     # where a post's time goes, step by step
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ("the quick brown fox jumps over lazy dog syndication static site generator markdown "
         "worker queue ledger platform image canonical rate limit exactly once retry backoff "
         "grapheme emoji 日本語 テキスト 中文 عربى").split()


def paragraph(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words[rng.randrange(n)] = f"[a link](https://example.org/{rng.randrange(10**6)})"
    words[rng.randrange(n)] = "`inline {{code}}`"
    return " ".join(words).capitalize() + "."


def make_post(rng: random.Random, i: int) -> str:
    """About 9 KB, the corpus average: front matter of one of several SSG shapes, mixed body."""
    kind = i % 4
    tags = ", ".join(rng.sample(["python", "rust", "web", "Machine Learning", "devops", "C++", "静的サイト"], 3))
    if kind == 0:
        front = f"---\ntitle: \"Post {i}: {rng.choice(WORDS)} and {rng.choice(WORDS)}\"\ndate: 2023-0{1 + i % 9}-1{i % 10}T10:00:00+02:00\ntags: [{tags}]\ndescription: A short summary of post {i}.\ncover:\n  image: /images/cover-{i % 7}.png\n  alt: Cover {i}\n---\n"
    elif kind == 1:
        front = f"+++\ntitle = \"Post {i}\"\ndate = 2022-05-0{1 + i % 9}\n[taxonomies]\ntags = [\"rust\", \"zola\"]\n[extra]\nimage = \"cover.png\"\n+++\n"
    elif kind == 2:
        front = f"---\ntitle: Post {i}\ndate: '2019-10-02 21:19:08 +0200'\nhero: https://images.example.net/{i}.jpg\nexcerpt:\ncategories:\n  - Review\n  - Deep Learning\nauthors:\n  - Someone\n---\n"
    else:
        front = f"---\ntitle: Post {i}\npubDate: 2024-02-0{1 + i % 9}\ndescription: Astro-shaped post {i}\nheroImage: ./hero.jpg\ntags: \"{tags}\"\n---\n"
    body: list[str] = []
    while sum(len(b) for b in body) < 8500:
        roll = rng.random()
        if roll < 0.55:
            body.append(paragraph(rng, rng.randint(40, 90)))
        elif roll < 0.65:
            body.append(f"## Section {len(body)}")
        elif roll < 0.75:
            body.append("```python\ndef f(x):\n    return {{x}}  # not a shortcode\n```")
        elif roll < 0.82:
            body.append(f'{{{{< figure src="img-{len(body)}.png" alt="Figure {len(body)}" caption="A caption" >}}}}')
        elif roll < 0.86:
            body.append('{{< youtube dQw4w9WgXcQ >}}')
        elif roll < 0.90:
            body.append(f"![Alt {len(body)}](./pic-{len(body)}.jpg)")
        elif roll < 0.94:
            body.append("{% highlight ruby %}\nputs 'hi'\n{% endhighlight %}")
        else:
            body.append("- item one\n- item **two**\n- item [three](/posts/other/)")
    return front + "\n" + "\n\n".join(body) + "\n"


def generate(root: Path, n: int) -> None:
    rng = random.Random(42)
    posts = root / "content" / "posts"
    posts.mkdir(parents=True)
    for i in range(n):
        (posts / f"post-{i:05d}.md").write_text(make_post(rng, i), encoding="utf-8")
    (root / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example"\ncontent = ["content/posts/*.md"]\npermalink = "/posts/:slug/"\n\n'
        '[targets.devto]\napi_key = "x"\n\n[targets.mastodon]\nbase_url = "https://m.example"\naccess_token = "y"\n',
        encoding="utf-8")


def corpus_sites(root: Path) -> list[Path]:
    """The shared corpus's blogs, each laid out as a site with a syndicate.toml (read-only source copied)."""
    import shutil

    corpus = ROOT.parent / "shared" / "corpus"
    sites = []
    for blog in sorted(p for p in corpus.iterdir() if p.is_dir()):
        site = root / blog.name
        shutil.copytree(blog, site)
        for path in [site, *site.rglob("*")]:  # ../shared is read-only, and copies keep their modes: a read-only
            path.chmod(path.stat().st_mode | 0o200)  # site would keep its data folder in the home (~/.local/state)
        (site / "syndicate.toml").write_text(
            '[site]\nurl = "https://blog.example"\ncontent = ["content/**/*.md"]\n\n'
            '[targets.devto]\napi_key = "x"\n\n[targets.mastodon]\nbase_url = "https://m.example"\naccess_token = "y"\n',
            encoding="utf-8")
        sites.append(site)
    return sites


SEVEN = ('[targets.bluesky]\nbase_url = "https://bsky.example"\nidentifier = "me.bsky.example"\napp_password = "z"\n'
         '[targets.ghost]\nbase_url = "https://ghost.example"\nadmin_api_key = "a1:b2"\n'
         '[targets.wordpress]\nbase_url = "https://wp.example"\nusername = "me"\napp_password = "w"\n'
         '[targets.hashnode]\ntoken = "h"\npublication_id = "65a1b2c3d4e5f60718293a4b"\n'
         '[targets.medium]\ntoken = "m"\n')
# the other eight: fifteen targets in all (issue 17 measures all of them)
FIFTEEN = SEVEN + (
    '[targets.threads]\naccess_token = "t"\nuser_id = "17841400000000000"\n'
    '[targets.discord]\nwebhook_url = "https://discord.example/api/webhooks/1/x"\n'
    '[targets.micropub]\nendpoint = "https://micro.example/micropub"\ntoken = "p"\n'
    '[targets.linkedin]\naccess_token = "l"\nauthor = "urn:li:person:AbC123xyz"\n'
    '[targets.slack]\nbot_token = "xoxb-s"\nchannel = "C0123456789"\n'
    '[targets.telegram]\nbot_token = "123456789:AAEbenchbenchbenchbenchbenchbenchbe"\nchat_id = "@blogchannel"\n'
    '[targets.x]\napi_key = "k"\napi_secret = "s"\naccess_token = "a"\naccess_secret = "b"\n'
    '[targets.standard_site]\nidentifier = "me.bsky.example"\napp_password = "z"\npublication_name = "Blog"\n')


TARGETS: dict[str, tuple[str, ...]] = {
    "two": ("devto", "mastodon"),
    "seven": ("devto", "mastodon", "bluesky", "ghost", "wordpress", "hashnode", "medium"),
    "fifteen": (),  # every target of the config
}
LABELS = {"two": "dev.to + Mastodon", "seven": "all seven targets", "fifteen": "all fifteen targets"}


def yardstick() -> Any:
    """markdown-it-py with the plugins the dialects need (issue 17: "one markdown-it parse ... with the same plugins")."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.tasklists import tasklists_plugin

    return (MarkdownIt("commonmark").enable(["table", "strikethrough"]).use(footnote_plugin).use(deflist_plugin)
            .use(tasklists_plugin))


def one_round(roots: list[Path]) -> dict[str, float]:
    import resource

    from connectors.devto import DevTo
    from connectors.mastodon import Mastodon
    from syndicate.content.loader import load_posts
    from syndicate.engine.fitting import fit_draft
    from syndicate.registry import load_config

    size = 0
    n = 0
    load_s = render_s = parse_s = 0.0
    c0 = resource.getrusage(resource.RUSAGE_SELF).ru_utime
    md = yardstick()
    which = TARGETS[os.environ.get("BENCH_TARGETS", "two")]
    for root in roots:
        config = load_config(root / "syndicate.toml")
        if which == ("devto", "mastodon"):
            conns = [DevTo(config.targets["devto"]), Mastodon(config.targets["mastodon"])]
        else:
            from syndicate import registry

            conns = [registry.get(t.type)(t) for name, t in config.targets.items() if not which or name in which]
        limits = [c.limits_for(None) for c in conns]
        t0 = time.process_time()
        posts, errors = load_posts(config)
        t1 = time.process_time()
        # each post rendered and fitted for every target, then its body parsed by the yardstick, in turn:
        # both sides see the same stretch of the machine's speed (a shared host drifts by ±10% over a
        # second), so the ratio does not depend on which half ran while a neighbour was busy
        render = parse = 0.0
        for post in posts:
            r0 = time.process_time()
            drafts = [fit_draft(conn.render(post), limit) for conn, limit in zip(conns, limits)]
            r1 = time.process_time()
            # what came out, summed so that nothing is optimised away (its own cost is not the pipeline's)
            size += sum(len(json.dumps(d.fields, default=str)) + len(d.text or "") for d in drafts)
            body = post.body  # read again from its file if the loader let go of it: not the parse's time
            r2 = time.process_time()
            md.parse(body)
            r3 = time.process_time()
            render += r1 - r0
            parse += r3 - r2
        t2 = t1 + render
        assert not errors, errors[:3]
        n += len(posts)
        load_s, render_s, parse_s = load_s + t1 - t0, render_s + t2 - t1, parse_s + parse
    cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime - c0
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    return {"posts": n, "load_s": load_s, "render_s": render_s, "total_s": load_s + render_s, "parse_s": parse_s,
            "cpu_s": cpu, "peak_rss_mb": hwm / 1024, "out_bytes": size}


def parts(roots: list[Path], rounds: int = 3) -> None:
    """Where a post's time goes, every target of the config: CPU ms per post for loading, the expansion
    (`prepare`), the one parse, the HTML and plain-text renders, the excerpt and each target's own render and
    fit (what the shared steps above left it), beside the yardstick's parse; `rounds` passes in one process."""
    from syndicate import registry
    from syndicate.content.loader import load_posts
    from syndicate.engine.fitting import fit_draft
    from syndicate.registry import load_config

    md = yardstick()
    spent: dict[str, float] = {}
    n = 0

    def took(name: str, since: float) -> float:
        now = time.process_time()
        spent[name] = spent.get(name, 0.0) + now - since
        return now

    for _ in range(rounds):
        for root in roots:
            config = load_config(root / "syndicate.toml")
            conns = [(name, registry.get(t.type)(t)) for name, t in config.targets.items()]
            limits = [c.limits_for(None) for _, c in conns]
            t = time.process_time()
            posts, _errors = load_posts(config)
            t = took("load (front matter, URLs, images)", t)
            for post in posts:
                doc = post.document
                t = took("prepare (expansion, links)", t)
                doc.tree  # noqa: B018  (the one parse, kept for the targets that follow)
                t = took("the one parse (markdown-it-pyrs)", t)
                doc.html()
                t = took("HTML render", t)
                doc.text()
                t = took("plain-text render", t)
                post.excerpt  # noqa: B018
                t = took("excerpt", t)
                for (name, conn), limit in zip(conns, limits):
                    fit_draft(conn.render(post), limit)
                    t = took(f"  {name}", t)
                body = post.body
                t = time.process_time()
                md.parse(body)
                t = took("YARDSTICK", t)
            n += len(posts)
    yard = spent.pop("YARDSTICK")
    total = sum(spent.values())
    for name, s in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:38s} {s / n * 1000:6.3f} ms  {s / total:5.1%}")
    print(f"  {'all of it':38s} {total / n * 1000:6.3f} ms; the yardstick's parse {yard / n * 1000:.3f} ms "
          f"(ratio {yard / total:.2f}x)")


def report(what: str, runs: list[dict[str, float]]) -> None:
    best = min(runs, key=lambda r: r["total_s"])
    med = statistics.median(r["total_s"] for r in runs)
    ratio = statistics.median(r["parse_s"] / r["total_s"] for r in runs)
    n = best["posts"]
    print(f"{what}: {n} posts; {len(runs)} rounds, each in a fresh process")
    print(f"  load + render: median {n / med:,.0f} posts/s, best {n / best['total_s']:,.0f} posts/s")
    print(f"  one markdown-it parse of the same bodies: {n / best['parse_s']:,.0f} posts/s; "
          f"load + render runs at {ratio:.2f}x the parse (median)")
    print(f"  load {best['load_s'] * 1000:.0f} ms ({n / best['load_s']:,.0f} posts/s), "
          f"render {best['render_s'] * 1000:.0f} ms ({n / best['render_s']:,.0f} posts/s); "
          f"peak RSS {max(r['peak_rss_mb'] for r in runs):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--targets", nargs="+", choices=list(TARGETS), default=list(TARGETS),
                        help="which target sets to time (default: each in turn)")
    parser.add_argument("--sets", nargs="+", choices=["generated", "corpus"], default=["generated", "corpus"],
                        help="which post sets to time (default: both)")
    parser.add_argument("--parts", action="store_true",
                        help="where a post's time goes, step by step and target by target (each post set)")
    parser.add_argument("--profile", action="store_true",
                        help="one round in this process under cProfile (first target set, first post set)")
    parser.add_argument("--round", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.round:
        print(json.dumps(one_round([Path(r) for r in args.round])))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sites: dict[str, list[Path]] = {}
        if "generated" in args.sets:
            generated = root / "generated"
            generate(generated, args.posts)
            sites["generated site"] = [generated]
        if "corpus" in args.sets:
            sites["shared corpus"] = corpus_sites(root / "corpus")
        for config in (r / "syndicate.toml" for roots in sites.values() for r in roots):
            with config.open("a", encoding="utf-8") as f:
                f.write(FIFTEEN)
        if args.parts:
            for what, roots in sites.items():
                print(f"{what}: CPU ms per post, {args.rounds} passes in one process")
                parts(roots, args.rounds)
            return
        if args.profile:
            import cProfile
            import pstats

            os.environ["BENCH_TARGETS"] = args.targets[0]
            prof = cProfile.Profile()
            prof.runcall(one_round, next(iter(sites.values())))
            pstats.Stats(prof).sort_stats("tottime").print_stats(35)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            return
        for key in args.targets:
            targets = LABELS[key]
            env = {**os.environ, "BENCH_TARGETS": key}
            for what, roots in sites.items():
                runs = []
                for _ in range(args.rounds):
                    out = subprocess.run([sys.executable, __file__, "--round", *map(str, roots)], capture_output=True,
                                         text=True, check=True, cwd=ROOT, env=env)
                    runs.append(json.loads(out.stdout))
                report(f"{what}, {targets}", runs)


if __name__ == "__main__":
    main()
