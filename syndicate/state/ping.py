"""Whether a Redis answers PING within a deadline, said in words (the broker check, `doctor`)."""
from __future__ import annotations


def ping_redis(url: str, timeout: float) -> str | None:
    """None when Redis at `url` answers PING within `timeout`; else why not (no retry, no backoff)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                  retry=Retry(NoBackoff(), 0), retry_on_timeout=False)
    try:
        client.ping()
    except redis.TimeoutError:
        return (f"it took the connection but did not answer PING within {timeout:g}s: "
                "is that port really Redis, and is it responsive?")
    except redis.AuthenticationError as exc:
        return f"the password was refused: {exc}"
    except redis.ConnectionError as exc:
        return f"cannot connect within {timeout:g}s: {exc}"
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return None
