"""The demo: `ttns demo` (see bridge.demo.runner and bridge.demo.scenario)."""
