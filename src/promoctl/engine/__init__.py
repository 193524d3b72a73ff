"""Pure functions from records to results: a packet's evaluation (gates, rubric,
composite), its views, development and probation plans, and the lifecycle of a level
(probation, re-validation) derived from the decisions and reviews.

May import: ``promoctl.base``, ``promoctl.records``, and ``promoctl.store.results``
(evaluations are remembered by the content of what they read).
"""
