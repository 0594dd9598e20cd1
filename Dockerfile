FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# git: the webhook's sync (`syndicate serve`, the `syndicate.sync` task) runs the git CLI
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY syndicate ./syndicate
COPY connectors ./connectors
RUN pip install --no-cache-dir . && useradd --create-home syndicate && mkdir -p /data && chown syndicate /data
USER syndicate
# the site (with its syndicate.toml) is mounted at /site
WORKDIR /site
ENTRYPOINT ["syndicate"]
CMD ["worker", "--beat"]
