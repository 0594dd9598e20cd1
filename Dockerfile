FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY syndicate ./syndicate
COPY connectors ./connectors
RUN pip install --no-cache-dir . && useradd --create-home syndicate && mkdir /data && chown syndicate /data
USER syndicate
# the site (with its syndicate.toml) is mounted at /site
WORKDIR /site
ENTRYPOINT ["syndicate"]
CMD ["worker", "--beat"]
