"""Writes of the generation app, one module per concern:

- ``registry``: model profiles (validation, registration, the bundled model) and prompt versions;
- ``jobs``: creating, cancelling and retrying generation jobs;
- ``claims``: claiming items, the claim heartbeat, the sweeper and a job's final status;
- ``engine``: the generation loop (requests, the model call, provenance) and model tests.

Outputs (topics, stories) are handed to ``curation.services``: curation writes its own rows.
"""
