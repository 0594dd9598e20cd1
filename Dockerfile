# syndicate's image: the CLI as entry point (`docker run IMAGE push ...`); docker-compose.yml runs its services.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# git: the webhook's sync (`syndicate serve`, the `syndicate.sync` task) runs the git CLI
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# a user of its own: nothing runs as root; /data (the state) is the one folder it writes
RUN useradd --create-home --uid 10001 syndicate && mkdir -p /data && chown syndicate /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY syndicate ./syndicate
COPY connectors ./connectors
RUN pip install --no-cache-dir . && rm -rf /app/build
ENV SYNDICATE_DATA=/data
USER syndicate
# the site (with its syndicate.toml) is mounted at /site, read-only
WORKDIR /site
# the default command is a worker: healthy while the broker and the ledger answer and its consumer beats
# (docker-compose.yml gives each service its own check)
HEALTHCHECK --interval=30s --timeout=20s --start-period=60s --retries=3 CMD ["syndicate", "health", "--worker"]
ENTRYPOINT ["syndicate"]
CMD ["worker", "--beat"]
