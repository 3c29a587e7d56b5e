# One image for every opsbot process: `opsbot serve` (webhooks + triage workers), `opsbot serve-slack`,
# `opsbot serve-telegram`, and every other command. Built from the repository alone:
#   docker build -t opsbot:0.1.0 .
# Runs as uid 10001 with a read-only root filesystem: writable paths are /tmp and /var/lib/opsbot
# (the knowledge store), both volumes in deploy/kubernetes/base.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp \
    OPSBOT_KNOWLEDGE__PATH=/var/lib/opsbot/knowledge

WORKDIR /opt/opsbot
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY tools ./tools
COPY knowledge ./knowledge
COPY policies ./policies
COPY prompts ./prompts
COPY sandbox ./sandbox
RUN pip install . \
 && groupadd --gid 10001 opsbot \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin opsbot \
 && mkdir -p /var/lib/opsbot \
 && chown 10001:10001 /var/lib/opsbot

USER 10001:10001
EXPOSE 8080 8081
ENTRYPOINT ["opsbot"]
CMD ["serve"]
