"""The benchmark harness's own logic: targets, the generated docs section, percentiles, the
open-loop client and the profile summary. (The benchmarks themselves print figures; they
are never tests.)"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bench import run_all
from bench.openloop import OpenLoop, get_request, percentile
from bench.profile_summary import summarise


@pytest.mark.parametrize(
    ("metric", "target", "expected"),
    [
        ("at_200_per_s_p99_ms", "<= 500", ("<=", 500.0)),
        ("resolutions_per_s", ">= 5,000", (">=", 5000.0)),
        ("p95_ms", 1000, ("<=", 1000.0)),  # a bare number on a latency: at most
        ("memory_per_client_kb", 512, ("<=", 512.0)),
        ("alerts_per_s", 1000, (">=", 1000.0)),  # a bare number on a rate: at least
    ],
)
def test_parse_target(metric: str, target: object, expected: tuple[str, float]) -> None:
    assert run_all.parse_target(metric, target) == expected


def test_parse_target_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="neither a number"):
        run_all.parse_target("p99_ms", "about 500")


def _report(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "started_at": "2026-12-03T12:00:00+00:00",
        "quick": False,
        "machine": {
            "cpu": "Test CPU",
            "cores": 2,
            "ram_gb": 4.0,
            "os": "Debian",
            "python": "3.11",
            "postgresql": "15",
            "redis": "7",
            "load_average_at_start": [0.1, 0.2, 0.3],
        },
        "results": results,
        "failures": [],
    }


def test_render_marks_met_and_missed_targets_and_ratios_to_ceilings() -> None:
    section = run_all.render(
        _report(
            [
                {
                    "name": "ingest",
                    "figures": {"unique_c64_alerts_per_s": 400.0, "unique_c64_p99_ms": 90.0},
                    "targets": {"unique_c64_alerts_per_s": ">= 1000"},
                    "ceilings": {"unique_c64_alerts_per_s": {"pgbench INSERT tps": 8000.0}},
                },
                {
                    "name": "oncall",
                    "figures": {"resolutions_per_s": 9000.0},
                    "targets": {"resolutions_per_s": ">= 5000"},
                },
                {"name": "paging", "error": "BooksError: 3 accepted alerts not stored"},
            ]
        ),
        "bench/results/x.json",
    )
    assert section.startswith(run_all.BEGIN)
    assert section.endswith(run_all.END)
    ingest_row = next(line for line in section.splitlines() if "unique_c64_alerts_per_s" in line)
    assert "**no**" in ingest_row
    assert "0.40x" in ingest_row
    assert "5.0%" in ingest_row  # 400 of the 8,000 tps ceiling
    oncall_row = next(line for line in section.splitlines() if "| resolutions_per_s" in line)
    assert "| yes |" in oncall_row
    assert "**FAILED**" in section
    assert "3 accepted alerts not stored" in section
    assert "Test CPU, 2 cores, 4.0 GB RAM" in section


def test_write_docs_replaces_only_between_the_markers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text(
        f"# Benchmarks\n\nintro\n\n{run_all.BEGIN}\nold figures\n{run_all.END}\n\n## Analysis\n"
    )
    monkeypatch.setattr(run_all, "DOCS", docs)
    run_all.write_docs(f"{run_all.BEGIN}\nnew figures\n{run_all.END}")
    text = docs.read_text()
    assert "old figures" not in text
    assert "new figures" in text
    assert text.startswith("# Benchmarks\n\nintro\n\n")
    assert text.endswith("\n\n## Analysis\n")


def test_write_docs_inserts_the_section_after_the_title_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\nhand-written\n")
    monkeypatch.setattr(run_all, "DOCS", docs)
    for figures in ("first", "second"):
        run_all.write_docs(f"{run_all.BEGIN}\n{figures}\n{run_all.END}")
    text = docs.read_text()
    assert text.count(run_all.BEGIN) == 1
    assert "second" in text
    assert "first" not in text
    assert text.rstrip().endswith("hand-written")


def test_last_json_line_takes_the_result_after_other_output() -> None:
    output = 'progress\n{"not": "this"}\nmore\n' + json.dumps({"name": "x", "figures": {}})
    assert run_all.last_json_line(output)["name"] == "x"
    with pytest.raises(RuntimeError, match="no JSON result line"):
        run_all.last_json_line("only text\n")


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN


async def _serve(delay_s: float, answered: list[int]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            await asyncio.sleep(delay_s)
            answered.append(1)
            writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_open_loop_counts_queueing_in_the_client_from_the_intended_send_time() -> None:
    async def scenario() -> list[Any]:
        answered: list[int] = []
        server = await _serve(0.05, answered)
        port = server.sockets[0].getsockname()[1]
        request = get_request("/", f"127.0.0.1:{port}")
        # One connection, so requests queue in the client behind the 50 ms answers.
        client = OpenLoop("127.0.0.1", port, lambda _: request, max_connections=1)
        outcomes = await client.run(rate=200.0, seconds=0.05)
        server.close()
        await server.wait_closed()
        assert len(answered) == len(outcomes)
        return outcomes

    outcomes = asyncio.run(scenario())
    assert [o.status for o in outcomes] == [202] * 10
    # The 10th left the client after nine 50 ms answers: its latency, from when it was due,
    # holds that wait (a lower bound; a slow machine only adds to it).
    assert outcomes[-1].latency_s >= 9 * 0.05 - 10 / 200.0


def test_open_loop_records_refused_connections_as_errors() -> None:
    async def scenario() -> list[Any]:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()  # nobody listens on the port any more
        client = OpenLoop("127.0.0.1", port, lambda _: b"GET / HTTP/1.1\r\n\r\n")
        return await client.run(rate=100.0, seconds=0.03)

    outcomes = asyncio.run(scenario())
    assert outcomes
    assert all(o.status == 0 and o.error for o in outcomes)


def test_profile_summary_ranks_inclusive_and_self_samples(tmp_path: Path) -> None:
    collapsed = tmp_path / "worker.txt"
    collapsed.write_text(
        "process 1:python;run (dramatiq/worker.py:10);run_step (backend/escalation/engine.py:200);"
        "wait (psycopg/connection.py:495) 30\n"
        "process 1:python;run (dramatiq/worker.py:10);"
        "deliver (backend/notifications/dispatch.py:303) 10\n"
    )
    total, inclusive, own = summarise(collapsed)
    assert total == 40
    assert inclusive["run (dramatiq/worker.py)"] == 40
    assert inclusive["run_step (backend/escalation/engine.py)"] == 30
    assert own["wait (psycopg/connection.py)"] == 30
    assert own["deliver (backend/notifications/dispatch.py)"] == 10


def test_merge_replaces_the_re_run_benchmarks_and_says_so(tmp_path: Path) -> None:
    base = _report(
        [
            {"name": "ingest", "figures": {"unique_c64_alerts_per_s": 700.0}},
            {"name": "paging", "error": "BooksError: lost"},
            {"name": "oncall", "figures": {"resolutions_per_s": 9000.0}},
        ]
    )
    base["failures"] = ["paging"]
    base_file = tmp_path / "full.json"
    base_file.write_text(json.dumps(base))
    rerun = _report([{"name": "ingest", "figures": {"unique_c64_alerts_per_s": 1100.0}}])
    rerun["started_at"] = "2026-12-03T17:00:00+00:00"
    merged = run_all.merge(rerun, base_file)
    assert [r["name"] for r in merged["results"]] == ["ingest", "paging", "oncall"]
    assert merged["results"][0]["figures"] == {"unique_c64_alerts_per_s": 1100.0}
    assert merged["failures"] == ["paging"]  # not re-run: still failed
    assert merged["started_at"] == base["started_at"]
    section = run_all.render(merged, "bench/results/m.json")
    assert "Re-run in this run: ingest" in section
    assert "2026-12-03T17:00:00+00:00" in section
    assert "1,100" in section
