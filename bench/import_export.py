"""Import and export throughput and peak memory for a large generated ChatGPT export.

    python -m bench.import_export --mb 100                      # SQLite in a temporary folder
    python -m bench.import_export --mb 100 --database-url postgresql+psycopg2://...  # empty DB

The file is written once (conversations of 20 messages with one regenerated reply each); a
child process then migrates the database, imports the file, exports the user's JSON to a file and
reports messages/s of both and its peak resident memory (ru_maxrss), so the parent's own memory
(the generator) does not count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = "the starter bread flour water salt oven crust crumb proof knead bake rest".split()  # noqa: SIM905
MESSAGES_PER_CONVERSATION = 20


def _text(i: int, size: int = 400) -> str:
    words, n = [], i
    while sum(map(len, words)) + len(words) < size:
        words.append(WORDS[n % len(WORDS)])
        n = n * 7 + 3
    return " ".join(words)


def _conversation(c: int) -> dict:
    """One conversation: a path of MESSAGES_PER_CONVERSATION plus one regenerated reply."""
    start = 1.6e9 + c * 3600
    mapping = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
    parent = "root"
    for i in range(MESSAGES_PER_CONVERSATION + 1):
        node_id = f"c{c}-n{i}"
        role = "user" if i % 2 == 0 else "assistant"
        if i == 2:  # the first answer was regenerated: node 2 is an off-path sibling of node 1
            role, parent_of = "assistant", f"c{c}-n0"
        else:
            parent_of = parent
        mapping[parent_of]["children"].append(node_id)
        mapping[node_id] = {
            "id": node_id,
            "parent": parent_of,
            "children": [],
            "message": {
                "id": node_id,
                "author": {"role": role},
                "create_time": start + i,
                "content": {"content_type": "text", "parts": [_text(c * 31 + i)]},
                "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
                "recipient": "all",
            },
        }
        if i != 2:
            parent = node_id
    return {
        "title": f"Conversation {c}",
        "create_time": start,
        "update_time": start + 100,
        "mapping": mapping,
        "current_node": parent,
        "conversation_id": f"bench-{c}",
    }


def write_export(path: Path, megabytes: float) -> int:
    """Write conversations.json of about `megabytes` MB; how many conversations."""
    target, count = int(megabytes * 1024**2), 0
    with open(path, "w", encoding="utf-8") as out:
        out.write("[")
        while out.tell() < target:
            out.write(("," if count else "") + json.dumps(_conversation(count)))
            count += 1
        out.write("]")
    return count


def child(url: str, source: Path, export_path: Path) -> None:
    """Migrate, import, export; print the figures as JSON (runs in its own process)."""
    import pa_core

    pa_core.migrate(url)
    svc = pa_core.ConversationService.from_url(url)
    user = svc.ensure_user("bench")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with open(source, "rb") as f:
        report = svc.import_conversations(user, f)
    t1 = time.perf_counter()
    rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(export_path, "w", encoding="utf-8") as out:
        for chunk in svc.export_json(user):
            out.write(chunk)
    t2 = time.perf_counter()
    n = report.messages_imported
    print(
        json.dumps(
            {
                "sessions": report.sessions_imported,
                "messages": n,
                "import_s": round(t1 - t0, 2),
                "import_msgs_per_s": round(n / (t1 - t0)),
                "export_s": round(t2 - t1, 2),
                "export_msgs_per_s": round(n / (t2 - t1)),
                "export_mb": round(export_path.stat().st_size / 1024**2, 1),
                "rss_before_import_mb": round(rss_before / 1024, 1),
                "peak_rss_import_mb": round(rss_import / 1024, 1),
                "peak_rss_total_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    """Generate the file, run the child, print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="size of conversations.json")
    parser.add_argument("--database-url", help="an empty, migratable database (default: SQLite)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "conversations.json"
        count = write_export(source, args.mb)
        size_mb = source.stat().st_size / 1024**2
        print(f"generated {size_mb:.1f} MB, {count} conversations", file=sys.stderr)
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        cmd = [sys.executable, "-m", "bench.import_export", "--child", url, str(source)]
        cmd.append(str(Path(tmp) / "export.json"))
        done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        figures = {"file_mb": round(size_mb, 1), "conversations": count, **json.loads(done.stdout)}
        print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
