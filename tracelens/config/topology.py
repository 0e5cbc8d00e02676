"""Config stage: the cluster topology routing is replayed against, and the one plugin-cfg.xml gives.

:class:`Topology` is the shape routing reads: clusters, members, clone IDs, weights, primary/backup
order and retry interval, each value saying where it came from (:class:`Source`). With ``--config``
:func:`from_config` fills it from plugin-cfg.xml; without it :func:`tracelens.routing.topology.from_trace`
infers it from the trace's events and requests (a later stage, since it consumes them).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from tracelens.config.plugin_cfg import LoadBalance, PluginConfig, first_of_each


class Source(str, enum.Enum):
    CONFIG = "config"
    TRACE = "trace"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class MemberModel:
    name: str
    clone_id: str | None
    weight: int | None  # normalised starting weight; None: unknown
    max_connections: int | None
    cluster: str
    source: Source


@dataclass(frozen=True, slots=True)
class ClusterModel:
    name: str
    members: tuple[MemberModel, ...]
    primary: tuple[str, ...]
    backup: tuple[str, ...]
    retry_interval: int
    retry_interval_source: Source
    load_balance: LoadBalance
    ignore_affinity_requests: bool
    separator: str
    source: Source
    members_complete: bool = True  # False: the trace shows clone IDs of members it never names
    # the first member of each name and of each clone ID: the replay asks several times per request
    _by_name: dict[str, MemberModel] = field(init=False, repr=False, compare=False)
    _by_clone: dict[str, MemberModel] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", first_of_each((m.name, m) for m in self.members))
        object.__setattr__(self, "_by_clone", first_of_each((m.clone_id, m) for m in self.members))

    def member(self, name: str) -> MemberModel | None:
        return self._by_name.get(name)

    def by_clone(self, clone_id: str) -> MemberModel | None:
        return self._by_clone.get(clone_id)

    @property
    def has_clone_ids(self) -> bool:
        return any(m.clone_id for m in self.members)


@dataclass(frozen=True, slots=True)
class Topology:
    clusters: tuple[ClusterModel, ...]
    notes: tuple[str, ...]  # what was inferred, and from what
    # the first cluster (in order) with a member of each name and of each clone ID: asked per request
    # and per finding, a scan of the clusters made a configuration of many clusters quadratic
    _of_member: dict[str, ClusterModel] = field(init=False, repr=False, compare=False)
    _of_clone: dict[str, ClusterModel] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_of_member", first_of_each((m.name, c) for c in self.clusters for m in c.members))
        object.__setattr__(self, "_of_clone",
                           first_of_each((m.clone_id, c) for c in self.clusters for m in c.members))

    def cluster_of(self, member: str) -> ClusterModel | None:
        return self._of_member.get(member)

    def member(self, name: str) -> MemberModel | None:
        cluster = self._of_member.get(name)
        return cluster.member(name) if cluster is not None else None

    def by_clone(self, clone_id: str) -> MemberModel | None:
        cluster = self._of_clone.get(clone_id)
        return cluster.by_clone(clone_id) if cluster is not None else None


def from_config(config: PluginConfig) -> Topology:
    clusters = []
    for c in config.clusters:
        weights = c.normalised_weights()
        members = tuple(
            MemberModel(m.name, m.clone_id, weights.get(m.name), m.max_connections, c.name, Source.CONFIG)
            for m in c.members
        )
        clusters.append(ClusterModel(
            name=c.name, members=members, primary=c.primary, backup=c.backup, retry_interval=c.retry_interval,
            retry_interval_source=Source.CONFIG, load_balance=c.load_balance,
            ignore_affinity_requests=c.ignore_affinity_requests, separator=c.separator, source=Source.CONFIG,
        ))
    return Topology(tuple(clusters), (f"topology: from {config.path}",))
