

def test_the_literal_choices_match_their_sources() -> None:
    """The CLI names some choices literally, so that it starts without importing the analysis."""
    from tracelens.commands import export, options, timeline
    from tracelens.findings.base import Severity
    from tracelens.read.weblogic import System
    from tracelens.reporters import lanes_text as timeline_reporter
    from tracelens.reporters import table_files as exporter
    from tracelens.routing.model import AffinityMiss

    assert tuple(m.value for m in AffinityMiss) == options.AFFINITY_MISS_CHOICES
    assert options.AFFINITY_MISS_CHOICES[0] == AffinityMiss.LOAD_BALANCE.value
    assert tuple(s.value for s in Severity) == options.SEVERITY_CHOICES
    assert tuple(s.value for s in System) == options.SYSTEM_CHOICES
    assert export.TABLES == exporter.TABLES
    assert timeline.MIN_WIDTH == timeline_reporter.MIN_WIDTH
