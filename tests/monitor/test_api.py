"""The public surface of tripwire.monitor: every exported name resolves."""

import tripwire.monitor


def test_every_exported_name_resolves_including_the_lazy_ones() -> None:
    missing = [name for name in tripwire.monitor.__all__ if not hasattr(tripwire.monitor, name)]
    assert missing == []
    assert tripwire.monitor.ClassifierScorer.__module__ == "tripwire.monitor._classifier"


def test_unknown_names_still_raise_attribute_error() -> None:
    assert not hasattr(tripwire.monitor, "NoSuchScorer")
