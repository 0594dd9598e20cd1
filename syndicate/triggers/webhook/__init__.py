"""The push webhook: the app, each git host's payload, the replay store, the metrics."""
