"""The base error: anything riskcls reports to a user as a message rather than a traceback."""


class RiskclsError(Exception):
    """An error with a message a person can act on."""
