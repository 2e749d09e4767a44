"""The chaos run's choice of which worker process to SIGKILL (``pick_victim``): a process that holds running jobs,
on the write path killed least so far. Before, the process holding the most jobs won with ties to the highest pid;
every replacement starts with a higher pid and both workers hold their full batch, so all 16 kills of four
600-order runs hit the RESTlet worker and the REST path never lost a worker mid-write."""

from __future__ import annotations

from collections import Counter

from bridge.benchmarks.chaos import ChaosOptions, default_minimums, pick_victim


def test_kills_alternate_between_the_write_paths_when_every_worker_holds_a_full_batch() -> None:
    paths = {100: "rest", 101: "restlet"}
    kills: Counter[str] = Counter()
    next_pid = 102
    killed = []
    for _ in range(4):
        victim = pick_victim({pid: 8 for pid in paths}, paths, kills)
        assert victim is not None
        killed.append(paths[victim])
        kills[paths[victim]] += 1
        paths[next_pid] = paths.pop(victim)  # the replacement, same write path, a higher pid
        next_pid += 1
    assert sorted(killed) == ["rest", "rest", "restlet", "restlet"]
    assert killed[0] != killed[1] and killed[2] != killed[3]


def test_the_path_killed_least_is_waited_for_unless_any_will_do() -> None:
    paths = {201: "restlet", 202: "rest"}
    kills = Counter({"rest": 1})
    # only the REST worker (killed before) holds jobs: wait for the RESTlet one ...
    assert pick_victim({201: 0, 202: 8}, paths, kills) is None
    # ... until the caller settles for any worker that holds jobs
    assert pick_victim({201: 0, 202: 8}, paths, kills, settle_for_any=True) == 202
    # nobody holds a job: no victim at all
    assert pick_victim({201: 0, 202: 0}, paths, kills, settle_for_any=True) is None
    # among the fair candidates, the one holding the most jobs
    three = {301: "rest", 302: "rest", 303: "restlet"}
    assert pick_victim({301: 2, 302: 7, 303: 8}, three, Counter({"restlet": 1})) == 302


def test_every_write_path_must_lose_a_worker_when_there_are_kills_enough() -> None:
    both = default_minimums(ChaosOptions(kills=2, run_scripts=True))
    assert both["worker_kills_with_jobs.rest"] == both["worker_kills_with_jobs.restlet"] == 1
    one_kill = default_minimums(ChaosOptions(kills=1, run_scripts=True))
    assert one_kill["worker_kills_with_jobs.rest"] == one_kill["worker_kills_with_jobs.restlet"] == 0
    rest_only = default_minimums(ChaosOptions(kills=4, write_paths=("rest",)))
    assert rest_only["worker_kills_with_jobs.rest"] == 1 and "worker_kills_with_jobs.restlet" not in rest_only
