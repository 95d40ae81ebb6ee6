"""The worker's plumbing around main.py: admission (load), per-call audio options, what the
forkserver preloads, the AI providers with their fallbacks, and call recordings.
"""
