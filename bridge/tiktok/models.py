"""The TikTok payload models live in ``bridge.domain.tiktok`` (the mapping reads them and must not
depend on an adapter); this module keeps the client's import path."""

from bridge.domain.tiktok import *  # noqa: F403
