"""mlgate: continuous machine learning for CI (train, compare with the baseline, gate, report)."""

__version__ = "0.1.0"
