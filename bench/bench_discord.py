"""CPU per (post, target) of the Discord connector against Mastodon's, over the shared corpus.

Usage: .venv/bin/python bench/bench_discord.py [CORPUS_DIR] [ROUNDS]

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
from connectors.discord import Discord
from syndicate.config import Secret, TargetConfig
from syndicate.contract import SendContext

WEBHOOK = "https://discord.com/api/webhooks/223704706495545344/" + "t" * 68


def main() -> None:
    discord = Discord(TargetConfig("discord", "discord", {"base_url": "https://discord.com/api/v10",
                                                           "webhook_url": Secret(WEBHOOK), "color": 0x5865F2}))
    against_mastodon("discord", discord, {"id": "1190000000000000001", "channel_id": "199737254929760257"},
                     SendContext(facts={"guild_id": "199737254929760256"}))


if __name__ == "__main__":
    main()
