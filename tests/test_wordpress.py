"""WordPress connector, pure parts: the HTML WordPress receives, options, render (no server)."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.wordpress import WordPress, WordPressOptions
from connectors.wordpress_html import key_in, marker, rewrite_images, wordpress_safe
from syndicate.config import Secret, TargetConfig
from syndicate.content.post import Image
from syndicate.contract import SendContext
from syndicate.testing import make_post


def wordpress(**options: object) -> WordPress:
    opts = {"base_url": "http://wp.invalid", "username": "me", "app_password": Secret("pw-123"), **options}
    return WordPress(TargetConfig("wp", "wordpress", opts))


def test_brackets_never_reach_wordpress_as_shortcodes() -> None:
    out = wordpress_safe('<p>a [gallery] b</p>\n<pre><code>x = [1]\n\ny</code></pre>\n<a href="u[1]">l</a>')
    assert "[" not in out.replace('href="u[1]"', "") and "&#91;gallery&#93;" in out
    assert "x = &#91;1&#93;\n\ny" in out  # code keeps its newlines


def test_soft_breaks_become_spaces_outside_pre() -> None:
    assert wordpress_safe("<p>line one\nline two</p>\n<h2>x</h2>") == "<p>line one line two</p>\n<h2>x</h2>"


def test_images_rewritten_with_alt_and_class() -> None:
    out = rewrite_images('<p><img src="https://b.example/a%20b.png" alt="Alt" /></p>',
                         {"https://b.example/a b.png": {"id": 7, "url": "http://wp/up/a.png"}})
    assert out == '<p><img class="wp-image-7" src="http://wp/up/a.png" alt="Alt" /></p>'


def test_marker_round_trip() -> None:
    assert key_in("<p>x</p>" + marker("post-1.wp.r1")) == "post-1.wp.r1"
    assert key_in("<p>no marker</p>") is None


def test_footer_template_is_checked() -> None:
    with pytest.raises(ValidationError):
        WordPressOptions(type="wordpress", base_url="https://wp.example", username="u", app_password=Secret("p"),
                         canonical_footer="From {nope}")


def test_render_footer_or_seo_meta() -> None:
    post = make_post(1, cover=Image(src="c.png", url="https://blog.example/c.png", alt="Cover"))
    plain = wordpress().render(post, {"seo": None, "meta": []})
    assert f'<a href="{post.url}">blog.example</a>' in plain.fields["post"]["content"]
    assert plain.fields["meta"] == {} and plain.fields["key_meta"] is None
    assert [m.role for m in plain.media] == ["cover"]
    yoast = wordpress().render(post, {"seo": "yoast", "meta": ["_yoast_wpseo_canonical", "syndicate_key"]})
    assert yoast.fields["meta"] == {"_yoast_wpseo_canonical": post.url}
    assert "Originally published" not in yoast.fields["post"]["content"]
    assert yoast.fields["key_meta"] == "syndicate_key"
    none = wordpress(canonical_footer="").render(post, {"seo": None, "meta": []})
    assert "Originally published" not in none.fields["post"]["content"]


def test_key_goes_to_meta_when_registered() -> None:
    conn = wordpress()
    draft = conn.render(make_post(1, tags=[], categories=[]), {"seo": None, "meta": ["syndicate_key"]})
    body = conn.build_create(draft, "post-1.wp.r1", SendContext(preview=True)).json
    assert body["meta"] == {"syndicate_key": "post-1.wp.r1"} and "syndicate:" not in body["content"]


def test_delete_trash_or_force() -> None:
    from syndicate.contract import Remote

    assert wordpress().build_delete(Remote("5")).params is None
    assert wordpress(force_delete=True).build_delete(Remote("5")).params == {"force": "true"}
