"""What people read: governance figures by family (approvals, progression,
observations, retention, calibration) with their disclosure rules, the dashboard,
agendas, decision letters and plans, and the Jinja rendering they share.

May import: ``promoctl.base``, ``promoctl.records``, ``promoctl.engine``,
``promoctl.decisions``, ``promoctl.history``, and ``promoctl.store.results`` (reports
are remembered by the content of every record).
"""
