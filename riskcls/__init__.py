"""riskcls: tag news articles with geopolitical-risk categories.

    from riskcls import load_model, tag
    rows = tag(["Washington added 12 Chinese firms to its entity list..."], load_model())
"""

__version__ = "0.1.0"

__all__ = ["RiskTagger", "load_model", "tag", "__version__"]


def __getattr__(name):
    if name == "RiskTagger":
        from riskcls.model import RiskTagger

        return RiskTagger
    if name in ("load_model", "tag"):
        from riskcls import tagging

        return getattr(tagging, name)
    raise AttributeError(f"module 'riskcls' has no attribute {name!r}")
