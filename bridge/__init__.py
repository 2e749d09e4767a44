"""ttns-bridge: TikTok Shop ⇄ Oracle NetSuite, with NetSuite as the system of record."""

__version__ = "0.1.0"
