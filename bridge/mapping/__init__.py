"""Pure functions: TikTok model + mapping spec → NetSuite payload (and back); spec loading."""
