"""TikTok Shop and NetSuite emulators for the demo, the tests and the benchmarks (DESIGN §6)."""
