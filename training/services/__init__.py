"""Writes of the training app: ``finetune`` (jobs that make a new student), ``evaluation``
(held-out generations judged by the gates) and ``comparison`` (blind pairwise judgments)."""
