"""Harnesses the tests share: platforms wired for a test, real peers, the moved clock of CI's rerun, and
each area's helpers (the contracts', the API's, the dashboard's, the indexer's, the corporate actions').

Fixtures stay in the ``conftest.py`` files; what tests import by name lives here."""
