"""A ledger that cannot be written for want of disk space, said in one line."""
from __future__ import annotations

import errno

import sqlalchemy as sa


def ledger_full(exc: BaseException, where: str) -> str | None:
    """The one line for a ledger write that failed for want of disk space, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).lower()
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            break
        if "database or disk is full" in text or "no space left on device" in text \
                or "could not extend file" in text or "diskfull" in text.replace(" ", ""):
            break
        current = current.__cause__ or current.__context__
    else:
        return None
    return f"the ledger at {where} is full: free space, then run again"


def where(url: str) -> str:
    """The ledger as the user knows it: a SQLite file's path, else its URL without a password."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):] or url
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url
