"""Imported once in the worker's forkserver (`preload_modules`, see worker/call_options.py).

Every job process is forked from the forkserver, so what is imported and warmed here is shared
copy-on-write instead of paid again by each call: our agents, tools and store (pydantic
models, the Firestore and gRPC client libraries), the date parser and its first parse, and
LiveKit's realtime-model types it otherwise imports during a call's first turn, and the TLS
client context (worker/tls.py). Only imports and pure computation: no thread, socket or event
loop may exist in the forkserver.
"""

from importlib import import_module

import agents.call  # noqa: F401  the agents, their tools, pydantic models
import store  # noqa: F401  google-cloud-firestore and grpc (no client, no channel yet)
from domain import natural
from worker import (
    providers,  # noqa: F401  the OpenAI, Deepgram and Cartesia plugins
    tls,
)

import_module("livekit.agents.inference.realtime")
natural.warm_up()
tls.warm()  # the TLS context every job process would otherwise build on its call's loop
