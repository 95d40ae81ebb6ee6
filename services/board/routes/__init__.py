"""The board's routes by concern; app.py assembles them with the middleware and lifespan."""
