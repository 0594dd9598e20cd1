"""CPU per (post, target) of the Slack connector against Mastodon's, over the shared corpus.

Usage: .venv/bin/python bench/bench_slack.py [CORPUS_DIR] [ROUNDS]

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
from connectors.slack import Slack
from syndicate.config import Secret, TargetConfig
from syndicate.contract import SendContext

TOKEN = "xoxb-1111111111-2222222222-" + "t" * 24


def main() -> None:
    slack = Slack(TargetConfig("slack", "slack", {"base_url": "https://slack.com/api", "bot_token": Secret(TOKEN),
                                                  "channel": "C0123456789", "cover": "image"}))
    against_mastodon("slack", slack, {"ok": True, "channel": "C0123456789", "ts": "1712345678.000200"},
                     SendContext(facts={"url": "https://team.slack.com/", "team_id": "T0123456"}))


if __name__ == "__main__":
    main()
