"""What the tests and the benchmarks share: the scripted LLM, the Firestore emulator, the
seeded demo menu, record builders and a call's surroundings (clock, caller, SIP leg).
`tests/` and `bench/` both import it; neither imports the other's modules for these."""
