"""A site's posts in bounded memory (issue 17): only the last `KEPT` posts hold their body and `Document`;
the others read the body again from their file when it is needed, and refuse a file that changed since."""
from __future__ import annotations

from pathlib import Path

import pytest

from syndicate.config import Config
from syndicate.content.loader import load_post, load_posts, reset_cache
from syndicate.content.post import KEPT, PostError
from syndicate.registry import load_config
from syndicate.testing import make_post

N = KEPT + 8


@pytest.fixture(autouse=True)
def _fresh_cache():
    reset_cache()
    yield
    reset_cache()


def _site(root: Path, n: int = N) -> Config:
    posts = root / "content" / "posts"
    posts.mkdir(parents=True)
    for i in range(n):
        body = f"Post {i} says 日本語 and [a link](/posts/p-{(i + 1) % n}/).\n\n![Alt {i}](/img/{i}.png)\n"
        (posts / f"p-{i:03d}.md").write_text(f"---\ntitle: Post {i}\n---\n{body}", encoding="utf-8")
    (root / "syndicate.toml").write_text(
        '[site]\nurl = "https://blog.example"\ncontent = ["content/posts/*.md"]\npermalink = "/posts/:slug/"\n'
        '[targets.devto]\napi_key = "x"\n', encoding="utf-8")
    return load_config(root / "syndicate.toml")


def _holding(posts: list) -> list[int]:
    return [i for i, p in enumerate(posts) if "body" in p.__dict__ or p.memo.document is not None]


def test_a_site_keeps_only_the_last_posts_bodies(tmp_path: Path) -> None:
    posts, errors = load_posts(_site(tmp_path))
    assert not errors and len(posts) == N
    held = _holding(posts)
    assert len(held) <= KEPT and 0 not in held
    for post in posts:  # every post renders, each reading its body again where it was let go
        assert post.document.images[0].alt == f"Alt {post.title.split()[-1]}"
    assert len(_holding(posts)) <= KEPT


def test_a_body_read_again_is_the_body_loaded(tmp_path: Path) -> None:
    config = _site(tmp_path)
    posts, _ = load_posts(config)
    first = posts[0]
    assert "body" not in first.__dict__
    assert first.body == "Post 0 says 日本語 and [a link](/posts/p-1/).\n\n![Alt 0](/img/0.png)\n"
    fresh = load_post(first.path, config.site)
    assert first.body == fresh.body and first.document.html() == fresh.document.html()


def test_a_file_changed_since_it_was_loaded_is_refused(tmp_path: Path) -> None:
    posts, _ = load_posts(_site(tmp_path))
    first = posts[0]
    assert "body" not in first.__dict__
    first.path.write_text("---\ntitle: Post 0\n---\n\nSomething else entirely.\n", encoding="utf-8")
    with pytest.raises(PostError, match="changed on disk"):
        first.body  # noqa: B018
    with pytest.raises(PostError, match="changed on disk"):
        first.document  # noqa: B018
    last = posts[-1]  # still held: the snapshot it was loaded with
    last.path.write_text("---\ntitle: changed\n---\n\nNew.\n", encoding="utf-8")
    assert last.body.startswith(f"Post {N - 1} says")


def test_a_post_built_in_memory_keeps_its_body(tmp_path: Path) -> None:
    built = make_post(1)
    posts, _ = load_posts(_site(tmp_path))
    for post in posts:
        post.document  # noqa: B018
    assert built.body == "Body of post 1.\n\nSecond paragraph.\n" and "body" in built.__dict__
    assert built.document.text().startswith("Body of post 1.")
    assert built.memo.document is not None


def test_threads_far_apart_each_render_every_post_alike(tmp_path: Path) -> None:
    """`push` runs one thread per target, each at its own post: letting go never gives a thread a wrong body."""
    import threading

    config = _site(tmp_path, KEPT * 3)
    posts, _ = load_posts(config)
    want = [load_post(p.path, config.site).document.html() for p in posts]
    seen: dict[int, list[str]] = {}

    def walk(t: int) -> None:
        order = posts[t * KEPT // 2:] + posts[:t * KEPT // 2]  # each thread starts elsewhere
        seen[t] = [p.document.html() for p in order]
        seen[t] = seen[t][len(posts) - t * KEPT // 2:] + seen[t][:len(posts) - t * KEPT // 2]

    threads = [threading.Thread(target=walk, args=(t,)) for t in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(seen[t] == want for t in range(5))
    assert len(_holding(posts)) <= KEPT


def test_a_unit_whose_file_changed_meanwhile_is_an_error_that_says_so(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from syndicate import registry
    from syndicate.engine.plan import plan

    config = _site(tmp_path)
    devto = registry.get("devto")(config.targets["devto"])
    posts, _ = load_posts(config)
    assert plan(posts[1], devto, None, datetime.now(UTC)).action == "create"
    posts[0].path.write_text("---\ntitle: Post 0\n---\nEdited while the run went on.\n", encoding="utf-8")
    p = plan(posts[0], devto, None, datetime.now(UTC))
    assert p.action == "error" and "changed on disk while this run was using it" in p.reason


def test_a_copy_of_a_loaded_post_with_another_body_renders_that_body(tmp_path: Path) -> None:
    from dataclasses import replace

    posts, _ = load_posts(_site(tmp_path))
    post = posts[-1]
    assert "日本語" in post.document.text()
    copy = replace(post, body="Another body.\n")
    assert copy.document.text() == "Another body." and "日本語" in post.document.text()
