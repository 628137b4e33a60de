"""The route steps: each a small callable, envelope in, zero or more envelopes out (``Step``)."""
