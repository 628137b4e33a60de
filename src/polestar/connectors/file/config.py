"""Settings of the file-drop connector: a watched folder in, micro-batched files out."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polestar.connectors.codecs import CodecOptions, RecordFormat


class FileInboundConfig(BaseModel):
    """Pick up files a system drops in a folder.

    A file is taken by renaming it into ``processing/<instance>/`` (so two hubs
    never take the same file), ingested, then moved to ``archive/`` with a
    timestamped name. Rejected records are written to ``errors/`` as one
    reason file each; a file refused whole is moved to ``errors/`` beside a
    reason file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: Path = Field(description="The drop folder the system writes to.", examples=["/srv/drop/custody"])
    pattern: str = Field(default="*", description="Glob of the file names to take.", examples=["*.csv"])
    ignore: tuple[str, ...] = Field(
        default=("*.part", "*.tmp", "*.partial", ".*", "~*"),
        description="Globs of names never taken: files still being written, hidden files.",
    )
    min_age: float = Field(
        default=0.0,
        ge=0,
        description="Seconds since a file last changed before it is taken (for writers without temp names).",
    )
    processing_folder: Path | None = Field(
        default=None, description="Where files are while ingested; default: <folder>/processing."
    )
    archive_folder: Path | None = Field(
        default=None, description="Where ingested files go; default: <folder>/archive."
    )
    errors_folder: Path | None = Field(
        default=None, description="Where reason files and refused files go; default: <folder>/errors."
    )
    instance: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="This hub's name under processing/; default: the host name. Keep it stable.",
    )
    poll_interval: float = Field(
        default=2.0, gt=0, le=3600, description="Seconds between scans (the safety net under watching)."
    )
    watch: bool = Field(
        default=True, description="Also wake on file-system events (watchfiles) rather than only polling."
    )
    max_file_bytes: int = Field(
        default=512 * 1024 * 1024, gt=0, description="Larger files are refused to errors/ unread."
    )

    @property
    def processing(self) -> Path:
        """The processing folder (before the instance)."""
        return self.processing_folder or self.folder / "processing"

    @property
    def archive(self) -> Path:
        """The archive folder."""
        return self.archive_folder or self.folder / "archive"

    @property
    def errors(self) -> Path:
        """The errors folder."""
        return self.errors_folder or self.folder / "errors"


class FileOutboundConfig(BaseModel):
    """Write events as micro-batched files, each with a manifest naming its checksum and events.

    Each message body (already encoded by the route in ``format``) is decoded
    into records; a batch is written when it holds ``batch_max_records`` or
    its first message is ``batch_max_seconds`` old, as one file in ``format``
    plus ``<file>.manifest.json``, both fsynced before any message is acknowledged.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    folder: Path = Field(
        description="Folder the batch files are written to.", examples=["/srv/out/warehouse"]
    )
    format: RecordFormat = Field(default=RecordFormat.JSONL, description="Format of the batch files.")
    codec: CodecOptions = Field(default_factory=CodecOptions, description="Format details (CSV columns...).")
    batch_max_records: int = Field(default=1000, ge=1, le=1_000_000, description="Records per file at most.")
    batch_max_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="Seconds a message waits at most before its batch is written."
    )
    file_prefix: str = Field(
        default="batch", pattern=r"^[A-Za-z0-9._-]{1,64}$", description="Start of every batch file's name."
    )

    @model_validator(mode="after")
    def _writable_format(self) -> FileOutboundConfig:
        if self.format is RecordFormat.CLOUDEVENTS:
            raise ValueError("write CloudEvents as 'jsonl' (one event per line) or 'json'")
        return self
