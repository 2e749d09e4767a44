"""Every method of every port (the Protocols in ``bridge.ports``) says what it does: the ports are the
extension points a newcomer implements or fakes."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Protocol

import bridge.ports


def _protocols() -> list[type]:
    found: list[type] = []
    for info in pkgutil.iter_modules(bridge.ports.__path__, "bridge.ports."):
        module = importlib.import_module(info.name)
        found += [obj for _, obj in inspect.getmembers(module, inspect.isclass)
                  if obj.__module__ == module.__name__ and Protocol in getattr(obj, "__mro__", ())
                  and obj is not Protocol]
    return found


def test_every_port_method_has_a_docstring() -> None:
    protocols = _protocols()
    assert len(protocols) >= 20  # the TikTok, NetSuite, store, area, queue, jobs, alerts and monitoring ports
    undocumented = [f"{p.__module__}.{p.__name__}.{name}" for p in protocols for name, member in vars(p).items()
                    if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
                    and not (member.__doc__ or "").strip()]
    assert undocumented == []
