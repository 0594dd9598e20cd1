"""The ways work comes in: the watcher, the push webhook and its git sync (the CLI is their entry)."""
