"""Pydantic models of TikTok and NetSuite payloads and of our own events. No I/O."""
