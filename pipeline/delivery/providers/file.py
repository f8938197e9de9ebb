"""The ``file`` provider: one ``.eml`` per message in a folder, for local use and tests."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from pipeline.deliverability.dkim import DkimSigner
from pipeline.delivery.message import build_mime
from pipeline.delivery.providers.base import (
    Capabilities,
    PreparedBatch,
    Provider,
    SendResult,
    SendStatus,
)

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class FileProvider(Provider):
    """Writes each message atomically; the file name is the delivery, so a retry overwrites."""

    name = "file"
    capabilities = Capabilities(max_batch=1000, idempotency_key=True)

    def __init__(self, outbox_dir: Path, *, dkim: DkimSigner | None = None) -> None:
        self.outbox_dir = outbox_dir
        self.dkim = dkim

    def deliver(self, prepared: PreparedBatch) -> list[SendResult]:
        batch = prepared.batch
        folder = self.outbox_dir / _SAFE.sub("_", batch.key)
        folder.mkdir(parents=True, exist_ok=True)
        results = []
        for recipient in batch.recipients:
            message = build_mime(batch, recipient).as_bytes()
            if self.dkim is not None:
                message = self.dkim.sign(message)
            # Named by the stable Message-ID: a retried delivery overwrites its own file.
            digest = hashlib.sha256(recipient.message_id.encode()).hexdigest()[:12]
            path = folder / f"{recipient.delivery_id:09d}-{digest}.eml"
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(message)
            os.replace(temporary, path)
            results.append(
                SendResult(
                    delivery_id=recipient.delivery_id,
                    status=SendStatus.SENT,
                    provider_message_id=recipient.message_id,
                    raw=str(path),
                )
            )
        return results
