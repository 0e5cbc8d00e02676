"""CLI: the analysis as the commands run it: the options read, a progress bar drawn, ``--strict`` applied."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tracelens.commands.options import (
    engine,
    jobs,
    log_set,
    max_record_bytes,
    refuse_unparsed,
    system,
    weblogic_failover,
)

if TYPE_CHECKING:
    from tracelens.api import Reconstruction
    from tracelens.read.logset import LogSet
    from tracelens.report import Report
    from tracelens.routing.model import RoutingSettings


def reconstruct_logs(files: tuple[str, ...], config: str | None, lenient: bool, strict: bool) -> Reconstruction:
    from tracelens.api import check_not_empty, reconstruct
    from tracelens.config.files import load_any_config
    from tracelens.config.plugin_cfg import PluginConfig
    from tracelens.reporters.progress import progress_bar

    # the configuration names the affinity cookies and the clone ID separator the requests are read with;
    # a WebLogic plug-in configuration is read (and refused when unusable) but names neither
    loaded = load_any_config(config) if config is not None else None
    cfg = loaded if isinstance(loaded, PluginConfig) else None
    cookies = tuple(sorted(cfg.affinity_cookie_names())) if cfg else ("JSESSIONID",)
    separator = "+" if cfg and any(c.clone_separator_change for c in cfg.clusters) else ":"
    planned = log_set(files)
    with progress_bar(planned.paths) as progress:
        result = reconstruct(planned.paths, lenient=lenient, affinity_cookies=cookies, separator=separator,
                             progress=progress, jobs=jobs(), log_set=planned, max_record_bytes=max_record_bytes())
    check_not_empty(result.stats)
    if strict:
        refuse_unparsed(result.summary)
    return result


def analyze_logs(files: tuple[str, ...], config: str | None, lenient: bool, affinity_miss: str,
             strict: bool = False) -> Report:
    from tracelens.api import analyze
    from tracelens.reporters.progress import progress_bar
    from tracelens.routing.model import AffinityMiss, RoutingSettings

    chosen, scheduler, workers = engine()
    planned = log_set(files)
    if chosen == "dask":
        if holds_weblogic(files):
            # NOTE: the fleet's parts are WebSphere reconstructions; a WebLogic log would be read as one
            raise click.UsageError("--engine dask reads WebSphere plug-in logs; analyse WebLogic proxy plug-in logs "
                                   "with --engine local")
        report = _analyze_on_dask(planned, config, lenient, RoutingSettings(AffinityMiss(affinity_miss)), scheduler,
                                  workers)
        if strict:
            refuse_unparsed(report.summary)
        return report
    with progress_bar(planned.paths) as progress:
        report = analyze(planned.paths, config, lenient=lenient, settings=RoutingSettings(AffinityMiss(affinity_miss)),
                         progress=progress, jobs=jobs(), log_set=planned, max_record_bytes=max_record_bytes(),
                         system=system(), weblogic_failover=weblogic_failover())
    if strict:
        refuse_unparsed(report.summary)
    return report


def holds_weblogic(files: tuple[str, ...]) -> bool:
    """Whether ``--system`` or the files' content make any of them a WebLogic proxy plug-in log."""
    from tracelens.read.weblogic import System, systems

    return any(k is System.WEBLOGIC for k in systems(log_set(files).paths, System(system())).values())


def _analyze_on_dask(planned: LogSet, config: str | None, lenient: bool, settings: RoutingSettings,
                     scheduler: str | None, workers: int | None) -> Report:
    """The analysis with each web server's part rebuilt on a Dask worker; the parts merged and finished here."""
    from tracelens import fleet
    from tracelens.api import PartOptions, affinity_cookies, clone_separator, finish, resolve_config
    from tracelens.reporters.console import terminal
    from tracelens.reporters.fleet_progress import fleet_progress

    cfg = resolve_config(config)
    options = PartOptions(affinity_cookies(cfg), clone_separator(cfg), lenient, 1, max_record_bytes())
    engine_settings = fleet.EngineSettings(fleet.Engine.DASK, scheduler, workers)
    with fleet_progress(fleet.part_sizes(planned)) as on_progress:
        rec = fleet.reconstruct_fleet(planned, options, engine_settings, on_progress,
                                      lambda text: terminal().message("note", text))
    return finish(rec, cfg, settings)
