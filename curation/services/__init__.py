"""Writes of the curation app, one module per area (themes, topics, stories, reviews, team,
guidelines). Each is a keyword-only ``<entity>_<action>`` function and atomic. Other apps hand
their outputs to these functions; they never write curation's rows themselves."""
