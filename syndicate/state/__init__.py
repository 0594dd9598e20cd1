"""What survives a restart: the ledger and its migrations, rate limits, quotas, budgets, tokens."""
