# The agent worker: `docker compose up` builds it as the `agent` service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 agent \
    && useradd --system --uid 10001 --gid agent --create-home --home-dir /home/agent agent

WORKDIR /app
COPY requirements.txt .
RUN pip install --require-hashes -r requirements.txt

COPY --chown=agent:agent . .
# /app/var holds the durable outbox (OUTBOX_PATH), a volume in docker-compose.yml
RUN mkdir -p /app/var && chown agent:agent /app /app/var
USER agent

# Model files (VAD, turn detector) are fetched now, at build time, into the agent's cache,
# so a call never waits on a download. No API keys are needed for this step.
RUN python main.py download-files

# The worker's health endpoint (livekit-agents) for the compose health check.
EXPOSE 8081
CMD ["python", "main.py", "start"]
