"""tiktok."""
