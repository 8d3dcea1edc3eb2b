"""The sources file: every agency feed the service polls or accepts pushes from, in one TOML file.

```toml
[[source]]
id = "hn-weather"
agency = "河南省气象台"
format = "cap"
url = "https://example.gov.cn/cap/henan.xml"
poll_interval_s = 60
kinds = ["alert"]
```

A push source has ``push = true`` and its HMAC secret in the environment variable named by
``secret_env`` (or, for tests and demos only, inline as ``secret``).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from feeds import FORMATS
from travel.core.errors import InvalidRecord
from travel.core.records import SourceConfig


class Sources:
    """The configured sources by id, with their secrets and zones resolved."""

    def __init__(self, configs: list[SourceConfig]) -> None:
        self.by_id: dict[str, SourceConfig] = {}
        self.extend(configs)

    def extend(self, configs: list[SourceConfig]) -> None:
        """Add sources (e.g. the demo's, once its simulator is listening); each is checked first."""
        for config in configs:
            if config.id in self.by_id:
                raise InvalidRecord(f"source {config.id!r} is configured twice", param="id")
            if config.format not in FORMATS:
                raise InvalidRecord(
                    f"source {config.id!r}: unknown format {config.format!r}; known: {', '.join(FORMATS)}",
                    param="format",
                )
            if config.zone is not None:
                zone_of(config)
            self.by_id[config.id] = config

    def __iter__(self):  # noqa: ANN204 - iterator of SourceConfig
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, source_id: str) -> SourceConfig | None:
        """One source, or None."""
        return self.by_id.get(source_id)

    @property
    def polled(self) -> list[SourceConfig]:
        """The sources the scheduler polls."""
        return [c for c in self.by_id.values() if c.url is not None]


def zone_of(config: SourceConfig) -> ZoneInfo | None:
    """The source's zone for times written without an offset."""
    if config.zone is None:
        return None
    try:
        return ZoneInfo(config.zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidRecord(f"source {config.id!r}: unknown time zone {config.zone!r}", param="zone") from err


def secret_of(config: SourceConfig) -> bytes | None:
    """The push secret: from the named environment variable, else inline; None when neither is set."""
    if config.secret_env:
        value = os.environ.get(config.secret_env)
        if value:
            return value.encode()
    return config.secret.get_secret_value().encode() if config.secret else None


def load_sources(path: Path) -> Sources:
    """Read and check a sources file; InvalidRecord names the entry and field of any mistake."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InvalidRecord(f"{path}: {err}") from err
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise InvalidRecord(f"{path}: [[source]] must be an array of tables")
    configs = []
    for number, entry in enumerate(entries, 1):
        try:
            configs.append(SourceConfig.model_validate(entry))
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            field = ".".join(str(p) for p in first["loc"]) or "source"
            raise InvalidRecord(f"{path}: source #{number}: {field}: {first['msg']}", param=field) from err
    return Sources(configs)
