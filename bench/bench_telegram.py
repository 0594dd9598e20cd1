"""CPU per (post, target) of the Telegram connector against Mastodon's, over the shared corpus.

Usage: .venv/bin/python bench/bench_telegram.py [CORPUS_DIR] [ROUNDS]

What a post costs a connector once its document is parsed (the parse is shared
by every target, so it is done once, outside the timing): render, fit the
text to the limits, build the create request, and parse the platform's answer
into a copy. No network: the answer is a recorded-shape response. Reports µs
per post (CPU, best of ROUNDS) for each connector and the ratio.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.connector_cpu import against_mastodon
from connectors.telegram import Telegram
from syndicate.config import Secret, TargetConfig

TOKEN = "7012345678:" + "A" * 35


def main() -> None:
    telegram = Telegram(TargetConfig("telegram", "telegram", {"base_url": "https://api.telegram.org",
                                                              "bot_token": Secret(TOKEN), "chat_id": "@blogchannel",
                                                              "cover": "photo"}))
    against_mastodon("telegram", telegram, {"ok": True, "result": {
        "message_id": 42, "date": 1800000000, "text": "x",
        "chat": {"id": -1001234567890, "type": "channel", "username": "blogchannel"}}})


if __name__ == "__main__":
    main()
