"""The one error type the domain code raises for something the caller must fix."""


class Refusal(ValueError):
    """A request that cannot be honoured; the message tells the model what to ask the caller."""
