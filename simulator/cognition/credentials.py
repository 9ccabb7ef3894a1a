"""Credentials kept out of what socialtwin writes: URLs without their secret parts, keys masked.

API keys come from the environment only. Whatever a run records (manifests, the report, error
messages) passes through :func:`public_url` or :func:`redact` first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
_SECRET_TEXT = re.compile(r"\b(?:sk|pk|rk|key)-[\w\-*.]{6,}|\bBearer\s+\S+", re.IGNORECASE)
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_SECRET_QUERY = re.compile(
    r"(?P<name>[?&;][\w.-]*?(?:key|token|secret|password|passwd|pwd|sig|signature|auth|"
    r"credential|session)[\w.-]*=)[^&#\s'\"<>]+", re.IGNORECASE)
"""A query parameter whose name says it holds a credential (``?key=``, ``&access_token=``),
as a provider's error may echo the request URL."""
_USER_INFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")


def public_url(url: str) -> str:
    """A URL without user, password, query or fragment (where credentials may hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def redact(text: str) -> str:
    """Text with every credential it shows masked.

    Masked: values of secret-looking environment variables, API keys, query parameters named
    as credentials (``?key=``) and the user part of URLs.
    """
    for name, value in os.environ.items():
        if len(value) >= 8 and _SECRET_NAME.search(name):
            text = text.replace(value, "***")
    text = _SECRET_QUERY.sub(r"\g<name>***", text)
    text = _USER_INFO.sub(r"\g<scheme>***@", text)
    return _SECRET_TEXT.sub("***", text)


def redacted(data: Any) -> Any:
    """JSON-like data with every URL made public and every other text redacted."""
    if isinstance(data, Mapping):
        return {key: redacted(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [redacted(value) for value in data]
    if isinstance(data, str):
        try:
            return public_url(data) if _URL.match(data) else redact(data)
        except ValueError:
            return redact(data)
    return data
