"""Local stand-ins for the AI providers, speaking their real wire protocols.

- `openai_llm`: OpenAI Chat Completions (streaming SSE, scripted text and tool calls)
- `deepgram_stt`: Deepgram live transcription websocket (scripted transcripts on speech)
- `cartesia_tts`: Cartesia TTS websocket and bytes endpoint (tone or espeak-ng audio)

`python -m fakes --script conversation.yaml` serves all three; point the worker at them with
OPENAI_BASE_URL, DEEPGRAM_BASE_URL and CARTESIA_BASE_URL (see `FakeEndpoints.env`).
"""

from .server import FakeEndpoints, serve

__all__ = ["FakeEndpoints", "serve"]
