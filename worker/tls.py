"""One TLS client context per worker process, not one per call.

Building an `ssl.SSLContext` parses the whole CA bundle: 35-40 ms of CPU on an idle core here,
~150 ms on the loaded 2-core machine, and each happened on a call's event loop as it started:

- LiveKit's API client (`JobContext.api`, the warm transfer's, main.py) runs on the job's
  shared HTTP session, whose context LiveKit caches per process
  (`livekit.agents.utils.http_context`); but a job process serves one call, so each call paid it;
- the OpenAI plugin builds an httpx client per `openai.LLM`, and httpx builds a new context for
  every client (measured 60-95 ms per call).

`warm()` builds LiveKit's context in the forkserver (worker/preload.py): every job process is
forked from it and inherits the context already built. `client_ssl_context()` is that same
context, handed to the OpenAI client (worker/providers.py). An `SSLContext` is safe to share
across clients, threads and event loops; like LiveKit's own, it is not reloaded when the CA
bundle changes (a restart picks a new bundle up).
"""

from __future__ import annotations

import functools
import ssl


@functools.cache
def client_ssl_context() -> ssl.SSLContext:
    """The process's TLS client context: LiveKit's own (its http session's), so the LiveKit API
    client, the STT/TTS websockets and the OpenAI client all share one."""
    from livekit.agents.utils import http_context

    make = getattr(http_context, "_create_ssl_context", None)
    if make is None:  # a LiveKit without the cached context: build our own, once
        return ssl.create_default_context()
    return make()  # type: ignore[no-any-return]


def warm() -> None:
    """Build the context now (in the forkserver: before any job process is forked)."""
    client_ssl_context()
