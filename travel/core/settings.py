"""Configuration from environment variables (pydantic-settings); injected, never global."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service reads from the environment; see the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="TRAVEL_", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="postgresql://… selects the PostGIS store; unset: the embedded store",
    )
    redis_url: str | None = Field(
        default=None, validation_alias="REDIS_URL", description="redis://… selects the Redis bus"
    )
    data_dir: Path = Field(default=Path("data"), description="where the embedded store keeps its file")
    sources_file: Path | None = Field(default=None, description="TOML file listing the feed sources")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    api_keys: list[SecretStr] = Field(
        default_factory=list, description="keys accepted in X-API-Key for write endpoints"
    )
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="request body size limit")
    load_geodata: bool = Field(default=True, description="import the bundled geodata when the store is empty")
    redis_stream: str = Field(default="travel:changes", description="Redis stream name of the change bus")
    log_level: str = "INFO"
    zone: ZoneInfo = Field(default=ZoneInfo("Asia/Shanghai"),
                           description="IANA zone whose offset every time in an answer is written with")

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return value

    @property
    def embedded_path(self) -> Path:
        """The embedded store's file."""
        return self.data_dir / "travel.sqlite3"
