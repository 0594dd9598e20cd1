"""Run-time credentials: OAuth 1.0a signatures, and rotating tokens shared by every worker."""
from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from syndicate.auth import OAuth1, Refreshing, oauth1_header
from syndicate.config import Secret, TargetConfig
from syndicate.contract import Connector
from syndicate.state.tokens import Token, TokenStore


def test_oauth1_signature_matches_the_documented_example() -> None:
    # X's "Creating a signature" walk-through (developer docs): the same inputs give this signature
    header = oauth1_header(
        method="POST", url="https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
        consumer_key="xvz1evFS4wEEPTGEFPHBog", consumer_secret="kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        token_secret="LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        form={"status": "Hello Ladies + Gentlemen, a signed OAuth request!"},
        nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", timestamp=1318622958,
    )
    assert 'oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"' in header
    assert header.startswith("OAuth ")


def test_oauth1_signs_the_query_and_never_shows_secrets() -> None:
    conn = _conn({"api_key": Secret("ck"), "api_secret": Secret("cs-secret"), "access_token": Secret("tok"),
                  "access_secret": Secret("ts-secret")})
    auth = OAuth1("api_key", "api_secret", "access_token", "access_secret")
    _, one = auth.apply(conn, "https://api.x.test/2/media/upload?command=STATUS&media_id=1", {}, method="GET")
    _, two = auth.apply(conn, "https://api.x.test/2/media/upload?command=STATUS&media_id=2", {}, method="GET")
    sig = [h.split('oauth_signature="')[1].split('"')[0] for h in (one["Authorization"], two["Authorization"])]
    assert sig[0] != sig[1]
    assert "cs-secret" not in one["Authorization"] and "ts-secret" not in one["Authorization"]


class _Rotating(Connector):
    """A connector whose platform hands out a new token (and refresh token) on every renew."""

    type = "rotating"
    auth = Refreshing("refresh_token")

    def __init__(self, target: TargetConfig, store: TokenStore, barrier: threading.Barrier | None = None) -> None:
        super().__init__(target)
        self.token_store = store
        self.renewals: list[str] = []
        self.barrier = barrier
        self.lock = threading.Lock()

    def renew(self, current: Token | None, seed: str) -> Token:
        spent = current.refresh if current is not None and current.refresh else seed
        with self.lock:
            self.renewals.append(spent)
        return Token(value=f"access<{spent}>", refresh=f"refresh<{spent}>", expires=None)


def _conn(options: dict[str, Any], cls: type[Connector] = Connector, **kwargs: Any) -> Any:
    target = TargetConfig(name="t", type="rotating", options=options)
    return cls(target, **kwargs) if kwargs else cls(target)


def test_a_refreshed_token_is_the_one_every_worker_uses(tmp_path: Path, redis_url: str) -> None:
    # two workers on two machines: separate data folders, one Redis
    seed = {"refresh_token": Secret(f"seed-{os.getpid()}-{tmp_path.name}")}
    one = _conn(seed, _Rotating, store=TokenStore(tmp_path / "a", redis_url))
    two = _conn(seed, _Rotating, store=TokenStore(tmp_path / "b", redis_url))
    s0 = seed["refresh_token"].reveal()
    first = Refreshing("refresh_token").current(one)
    again = Refreshing("refresh_token").current(two)
    assert first.value == again.value == f"access<{s0}>"
    assert one.renewals == [s0] and two.renewals == []
    # the platform refused it: one renewal, with the newest refresh token, and both use the result
    two.auth.invalidate(two)
    assert two.renewals == [f"refresh<{s0}>"]
    assert Refreshing("refresh_token").current(one).value == f"access<refresh<{s0}>>"
    assert one.renewals == [s0]
    one.token_store.drop(_account(one))


def _account(conn: Connector) -> str:
    from syndicate.auth import account_of

    return account_of(conn)


def test_concurrent_workers_spend_a_refresh_token_once(tmp_path: Path) -> None:
    workers = 6
    barrier = threading.Barrier(workers)
    store = TokenStore(tmp_path)
    conns = [_conn({"refresh_token": Secret("seed")}, _Rotating, store=store) for _ in range(workers)]
    values: list[str] = []

    def run(conn: Any) -> None:
        barrier.wait()
        values.append(Refreshing("refresh_token").current(conn).value)

    threads = [threading.Thread(target=run, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(c.renewals) for c in conns) == 1
    assert set(values) == {"access<seed>"}


def test_a_new_seed_in_the_config_starts_a_new_chain(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    old = _conn({"refresh_token": Secret("seed-1")}, _Rotating, store=store)
    Refreshing("refresh_token").current(old)
    new = _conn({"refresh_token": Secret("seed-2")}, _Rotating, store=store)
    assert Refreshing("refresh_token").current(new).value == "access<seed-2>"
    assert new.renewals == ["seed-2"]  # not the old chain's refresh token


def test_the_token_file_is_private_and_tokens_never_print(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    store.put("acct", Token(value="very-secret-access", refresh="very-secret-refresh", expires=None))
    mode = stat.S_IMODE((tmp_path / "tokens.json").stat().st_mode)
    assert mode == 0o600
    token = store.get("acct")
    assert token is not None and token.value == "very-secret-access"
    assert "very-secret" not in repr(token)
    store.drop("acct")
    assert store.get("acct") is None


def test_an_expired_token_is_renewed(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    conn = _conn({"refresh_token": Secret("seed")}, _Rotating, store=store)
    store.put(_account(conn), Token(value="stale", refresh="r0", expires=1.0,
                                    extra={"seed": __import__("hashlib").sha256(b"seed").hexdigest()[:16]}))
    assert Refreshing("refresh_token").current(conn).value == "access<r0>"
    assert conn.renewals == ["r0"]


@pytest.mark.parametrize("param", [None, "access_token"])
def test_the_token_goes_in_a_header_or_the_query(tmp_path: Path, param: str | None) -> None:
    store = TokenStore(tmp_path)
    conn = _conn({"refresh_token": Secret("seed")}, _Rotating, store=store)
    auth = Refreshing("refresh_token", param=param)
    url, headers = auth.apply(conn, "https://graph.example/me?fields=id", {})
    if param:
        assert url == "https://graph.example/me?fields=id&access_token=access%3Cseed%3E"
        assert "Authorization" not in headers
    else:
        assert headers["Authorization"] == "Bearer access<seed>" and url.endswith("fields=id")


class _Engine(Connector):
    """A rotating-token connector as the engine makes it (registered, built by `Syndicator`)."""

    type = "rotating-engine"
    auth = Refreshing("refresh_token")

    def renew(self, current: Token | None, seed: str) -> Token:
        return Token(value=f"access<{seed}>", expires=None)


def test_the_engine_keeps_rotating_tokens_in_the_data_folder(tmp_path: Path) -> None:
    from syndicate import registry
    from syndicate.engine.runner import Syndicator
    from syndicate.registry import load_config

    registry.register(_Engine)
    config = tmp_path / "syndicate.toml"
    config.write_text(f'[site]\nurl = "https://blog.example"\n[state]\ndir = "{tmp_path / "data"}"\n'
                      '[targets.t]\ntype = "rotating-engine"\nrefresh_token = "seed"\n', encoding="utf-8")
    conn = Syndicator(load_config(config)).connector("t")
    assert Refreshing("refresh_token").current(conn).value == "access<seed>"
    assert (tmp_path / "data" / "tokens.json").exists()  # the data folder, never the site
    again = Syndicator(load_config(config)).connector("t")  # another process: the token is kept
    assert again.token_store.get(_account(again)).value == "access<seed>"
