"""Crypto-shredding: personal data sealed per data subject, erased by destroying one key.

``keys``: the per-subject key store (outside the lake); ``codec``: the sealed text and
blob formats; ``records``: sealing records at landing and opening tables on read.
"""

from core.sealing.codec import BLOB_MAGIC, TOKEN_PREFIX, is_sealed_blob, is_sealed_text
from core.sealing.keys import KeyUnknownError, SubjectErasedError, SubjectKeyStore
from core.sealing.records import NOT_PERSONAL, Opened, Sealer

__all__ = [
    "BLOB_MAGIC",
    "NOT_PERSONAL",
    "TOKEN_PREFIX",
    "KeyUnknownError",
    "Opened",
    "Sealer",
    "SubjectErasedError",
    "SubjectKeyStore",
    "is_sealed_blob",
    "is_sealed_text",
]
