"""From records to results: a packet's evaluation (gates, rubric, composite; a pure
function), its views, development and probation plans, the lifecycle of a level
(probation, re-validation) derived from the decisions and reviews, and evaluating the
packets of a repository (``evaluations``: fresh, or remembered in ``store.results``).

May import: ``promoctl.base``, ``promoctl.records``, and ``promoctl.store.results``
(evaluations are remembered by the content of what they read).
"""
