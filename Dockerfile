# The agent image: `docker compose up` builds it once as restaurant-phoneline/agent:local and
# runs the worker, setup, call-watch, board and dialer from it. Runtime only: .dockerignore
# leaves out the tests, fakes, benchmarks, docs and the developer scripts. The code belongs to
# root and is read-only to the `agent` user the processes run as.
#
# Few steps after the large dependency layer: with Docker's vfs storage (CI) every step after
# it copies the whole image, so the users, folders, port and command come first.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# /app/var holds the durable outbox and journal (OUTBOX_PATH), /app/recordings the opt-in call
# recordings: volumes in docker-compose.yml, the only places the agent user writes.
RUN groupadd --system --gid 10001 agent \
    && useradd --system --uid 10001 --gid agent --create-home --home-dir /home/agent agent \
    && mkdir -p /app/var /app/recordings && chown agent:agent /app/var /app/recordings
WORKDIR /app
# The worker's health endpoint (livekit-agents) for the compose health check.
EXPOSE 8081
CMD ["python", "main.py", "start"]

COPY requirements.txt .
# BUILD_CA_CERT: only for building behind a TLS-intercepting proxy (the project's CI passes its
# CA here); used by this one step and not kept in the image. Users leave it empty.
ARG BUILD_CA_CERT=""
RUN if [ -n "$BUILD_CA_CERT" ]; then printf '%s\n' "$BUILD_CA_CERT" > /tmp/build-ca.pem \
        && export PIP_CERT=/tmp/build-ca.pem; fi \
    && pip install --require-hashes -r requirements.txt \
    && rm -f /tmp/build-ca.pem

USER agent
COPY . .
# Model files (VAD, turn detector) are fetched now, at build time, into the agent's cache,
# so a call never waits on a download. No API keys are needed for this step.
RUN python main.py download-files
