"""Mutation testing of the code that guards money, seats, identity and privacy (mutmut).

A green suite only says the tests ran; a mutant the tests let through is a bug they would let
through. Each target below is one module with the fast tests that guard it. For each, the
working tree is copied to a scratch directory (mutmut rewrites the sources it mutates), mutmut
runs there, and the results land in a report (docs/mutation.md by default).

    python scripts/mutation.py                      # every target, the full report
    python scripts/mutation.py --only pricing ids   # some targets
    python scripts/mutation.py --sample 30 --budget 150   # CI: a time-bounded random sample
    python scripts/mutation.py --only "store commit paths" --survivors   # after a triage

A surviving mutant is either killed by a new test or, when no test can tell it from the
original (it changes nothing a caller, a cook or an operator could notice), listed with the
reason in scripts/mutation_equivalents.toml, keyed by function and by the changed line, so the
entry stays attached to its mutant when line numbers move. Exit status 1 when a mutant
survives that is not listed there (so a sample in CI fails on a new unguarded change).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = Path(__file__).with_name("mutation_equivalents.toml")
PROPERTY_EXAMPLES = "60"  # hypothesis examples per property test and mutant (1500 in the suite)


@dataclass(frozen=True)
class Target:
    name: str
    source: str
    tests: tuple[str, ...]
    # Only these functions' mutants ("Class.method" or "function"); all when empty.
    functions: tuple[str, ...] = ()
    emulator: bool = False  # the tests need a Firestore emulator (started once, shared)
    livekit: bool = False  # the tests start a LiveKit server of their own
    in_sample: bool = True  # part of the CI sample (its tests are quick and not timed)


PROPERTY = "tests/reliability/test_property_domain.py"
TARGETS = (
    Target("pricing", "domain/pricing.py",
           ("tests/test_pricing.py", "tests/test_menu_guards.py", PROPERTY)),
    Target("booking", "domain/booking.py",
           ("tests/test_booking_rules.py", "tests/test_natural.py", "tests/test_bare_hours.py",
            "tests/test_late_nights.py", PROPERTY)),
    Target("seating", "domain/seating.py",
           ("tests/test_seating.py", "tests/test_booking_rules.py", "tests/test_late_nights.py",
            PROPERTY)),
    Target("item phrases", "domain/item_phrase.py",
           ("tests/test_item_phrases.py", "tests/test_item_phrase_cases.py",
            "tests/test_pricing.py", "tests/test_menu_guards.py")),
    Target("menu matching", "domain/menu.py",
           ("tests/test_menu_match.py", "tests/test_menu_guards.py", PROPERTY)),
    Target("contact", "domain/contact.py", ("tests/test_contact.py", PROPERTY)),
    Target("redaction", "domain/redact.py",
           ("tests/test_private_logs.py", "tests/test_redact.py", PROPERTY)),
    Target("masking", "domain/masking.py",
           ("tests/test_masking_properties.py", "tests/test_masking_cases.py",
            "tests/test_private_logs.py")),
    Target("ids", "domain/ids.py", ("tests/test_ids.py",)),
    Target("collision compare", "domain/duplicates.py", ("tests/test_duplicates.py",)),
    Target("restaurant scope", "store/scope.py", ("tests/test_scope.py",)),
    Target("allergens", "domain/diet.py",
           ("tests/test_diet_answers.py", "tests/test_diet_verdicts.py", "tests/test_menu_match.py",
            "tests/test_pricing.py")),  # full run 2026-12-07: 582 mutants, 5 alive, all equivalent
    Target("outbound rules", "domain/outbound_rules.py",
           ("tests/test_outbound_deny.py", "tests/test_outbound_rules.py",
            "tests/test_calling_hours_properties.py", "tests/test_contact.py")),
    # Its loop-lag tests compare times within one run (the lag against one outbox read), so a
    # loaded machine moves both; the full run of 2026-12-07 left only listed survivors.
    Target("outbox", "store/outbox.py", ("tests/test_outbox_file.py", "tests/test_outbox_loop.py")),
    Target("store commit paths", "store/repository.py",
           ("tests/test_persistence.py", "tests/test_store_guards.py", "tests/test_outbox.py",
            "tests/test_call_log_races.py", "tests/test_reservation_races.py",
            "tests/board/test_reservation_versions.py",
            "tests/conversation/test_reservation_call.py"),
           functions=("FirebaseManager._commit_order", "FirebaseManager._commit_message",
                      "FirebaseManager._commit_create",
                      "FirebaseManager._book_once", "FirebaseManager.change_reservation",
                      "FirebaseManager.cancel_reservation", "FirebaseManager._replay",
                      "FirebaseManager.replay_outbox", "FirebaseManager._save_or_queue",
                      "FirebaseManager._customer_upsert", "FirebaseManager._count",
                      "FirebaseManager._change_once", "FirebaseManager._cancel_once",
                      "FirebaseManager._hold", "FirebaseManager._release",
                      "FirebaseManager._commit_checked", "_holds", "_hold_of",
                      "_existing_reservation",
                      "_unplaced_booking_message"),
           # Its full run of 2026-12-07 (first two files) left 79 alive; with the files added
           # since, their re-run (--survivors) leaves only listed ones.
           emulator=True),
    # The call's log and its saved state: one log per call (completed, never doubled), a
    # crashed call's log from what it saved, its restaurant kept through the outbox.
    Target("call records", "store/call_records.py",
           ("tests/test_persistence.py", "tests/test_store_guards.py", "tests/test_call_reaper.py",
            "tests/test_outbox.py", "tests/conversation/test_crash_log.py",
            "tests/conversation/test_snapshot_writes.py", "tests/test_call_log_races.py"),
           functions=("CallRecords.open_call_log", "CallRecords._commit_call_open",
                      "CallRecords.mark_call_crashed", "CallRecords._saved_for_log",
                      "CallRecords._commit_call_log", "CallRecords._commit_if_unchanged",
                      "completed_log"),
           emulator=True),
    # The tools that save: nothing without the caller's yes (a backchannel is not one), the
    # read-back the caller heard is what is saved, a text only with consent.
    Target("tools: confirm", "agents/tools/confirm.py",
           ("tests/conversation/test_order_call.py", "tests/conversation/test_reservation_call.py",
            "tests/conversation/test_pos_and_text.py", "tests/conversation/test_bad_arguments.py",
            "tests/conversation/test_private_details.py", "tests/conversation/test_safe_answers.py",
            "tests/conversation/test_spanish.py",
            "tests/conversation/test_booking_text_reminder.py"),
           emulator=True),
    # The board's own guard: what staff may see (its routes run in the board's process, out of
    # mutmut's reach; these rules are pinned in-process).
    Target("board: roles", "services/board/roles.py", ("tests/board/test_roles_rules.py",)),
    Target("SIP trunk setup", "scripts/setup_sip.py",
           # The outbound trunk (OutboundSetup, ensure_outbound, numbers from restaurant
           # files) came into the module after its first run; test_sip_outbound_trunk.py holds
           # it without LiveKit SIP (full run 2026-12-08: 446 mutants, 24 left, all listed).
           ("tests/telephony/test_sip_trunk_rules.py",
            "tests/telephony/test_sip_outbound_trunk.py"), livekit=True),
)
# The tests each target had before mutation testing began (issue 16), for the "before" score:
# `--baseline` on a checkout of that commit.
BASELINE_TESTS = {
    "pricing": (PROPERTY,), "booking": (PROPERTY,), "menu matching": (PROPERTY,),
    "contact": (PROPERTY,), "redaction": (PROPERTY,), "ids": ("tests/test_persistence.py",),
    "outbox": ("tests/test_outbox.py",),
    "store commit paths": ("tests/test_persistence.py",),
    "SIP trunk setup": ("tests/reliability/test_security_config.py",
                        "tests/telephony/test_setup_sip.py"),
}
# Statements left alone: the wording of what the model is told (a refusal), of a log line and
# of a script's printout. Mutating those yields case changes and "XX" padding of sentences,
# which no guard of money, seats or privacy depends on; the tests that read such text assert
# its key words (conversation and property tests), not its exact bytes.
NOT_MUTATED = (
    r"raise (Refusal|LargeParty|SystemExit|ConfigError)\(",
    r"\blog(ger)?\.(debug|info|warning|error|exception)\(",
    r"^\s*print\(",
)
# What the mutated copy needs besides the module itself (tests/ and pyproject are copied by
# mutmut anyway).
ALSO_COPY = tuple(f"{p.name}/" for p in sorted(ROOT.iterdir()) if p.is_dir()
                  and not p.name.startswith(".") and p.name not in ("mutants", "docs"))


@dataclass
class Outcome:
    target: Target
    statuses: dict[str, str] = field(default_factory=dict)  # mutant name -> mutmut status
    diffs: dict[str, str] = field(default_factory=dict)  # survivors: name -> changed lines
    seconds: float = 0.0
    error: str = ""

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.statuses.values())

    @property
    def killed(self) -> int:
        c = self.counts
        return c["killed"] + c["timeout"] + c["segfault"]

    @property
    def score(self) -> float | None:
        return 100.0 * self.killed / len(self.statuses) if self.statuses else None


def mangled(function: str) -> str:
    """mutmut's prefix for a function's mutants: f -> x_f, C.m -> xǁCǁm."""
    if "." in function:
        cls, method = function.split(".", 1)
        return f"x\u01c1{cls}\u01c1{method}__mutmut_"
    return f"x_{function}__mutmut_"


def function_of(mutant: str) -> str:
    name = mutant.split(".")[-1]
    name = re.sub(r"__mutmut_\d+$", "", name)
    if name.startswith("x\u01c1"):
        _, cls, method = name.split("\u01c1")
        return f"{cls}.{method}"
    return name.removeprefix("x_")


def module_of(source: str) -> str:
    return source.removesuffix(".py").replace("/", ".")


def _copy_tree(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    for rel in listed:
        src = ROOT / rel
        if src.is_file() and not rel.startswith(("mutants/", ".venv")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / ".venv").symlink_to((ROOT / ".venv").resolve())


def _configure(dest: Path, target: Target) -> None:
    top_level = sorted(p.name for p in ROOT.glob("*.py") if p.name != target.source)
    config = {
        "source_paths": [target.source],
        "also_copy": [*top_level, *ALSO_COPY],
        "pytest_add_cli_args_test_selection": list(target.tests),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-q", "-x"],
        # gRPC (the Firestore client) is not fork-safe once used: fork workers from a
        # process that has not run the tests.
        "process_isolation": "forkserver" if target.emulator else "fork",
        "use_git_change_detection": False,
        "do_not_mutate_patterns": list(NOT_MUTATED),
    }
    lines = ["", "[tool.mutmut]"]
    for key, value in config.items():
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    with open(dest / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def _mutmut(dest: Path, *args: str, env: dict[str, str], timeout: float | None,
            log: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [str(dest / ".venv" / "bin" / "mutmut"), *args]
    if log is None:
        return subprocess.run(cmd, cwd=dest, env=env, capture_output=True, text=True,
                              timeout=timeout)
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.run(cmd, cwd=dest, env=env, stdout=out, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout)


def all_mutants(dest: Path, target: Target, env: dict[str, str]) -> list[str]:
    """Every mutant name of the target. mutmut generates the mutants before it filters by
    name, so a run for a name that matches nothing generates them and runs no test."""
    _mutmut(dest, "run", "no-such-mutant", env=env, timeout=600)
    listed = _mutmut(dest, "results", "--all", "true", env=env, timeout=300).stdout
    names = re.findall(r"^\s*(\S+__mutmut_\d+):", listed, re.M)
    return _selected(sorted(set(names)), target)


def _selected(names: list[str], target: Target) -> list[str]:
    if not target.functions:
        return names
    prefixes = tuple(mangled(f) for f in target.functions)
    return [n for n in names if n.split(".")[-1].startswith(prefixes)]


_SHOW = """
import sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
for name in sys.argv[1:]:
    print("@@@ " + name)
    print(get_diff_for_mutant(name, path=find_mutant(name).path))
"""


def changed_lines(dest: Path, mutants: list[str], env: dict[str, str]) -> dict[str, str]:
    """mutant -> "old line(s) => new line(s)", from mutmut's diffs (one process for all)."""
    if not mutants:
        return {}
    shown = subprocess.run([str(dest / ".venv" / "bin" / "python"), "-c", _SHOW, *mutants],
                           cwd=dest, env=env, capture_output=True, text=True, timeout=600)
    out: dict[str, str] = {}
    for chunk in shown.stdout.split("@@@ ")[1:]:
        name, _, diff = chunk.partition("\n")
        minus = [ln[1:].strip() for ln in diff.splitlines()
                 if ln.startswith("-") and not ln.startswith("---")]
        plus = [ln[1:].strip() for ln in diff.splitlines()
                if ln.startswith("+") and not ln.startswith("+++")]
        out[name.strip()] = f"{' / '.join(minus)} => {' / '.join(plus)}"
    return out


def fingerprint(mutant: str, diff: str) -> str:
    return f"{function_of(mutant)}: {diff}"


def run_target(target: Target, *, sample: int | None, rng: random.Random, timeout: float,
               env: dict[str, str], keep: bool,
               again: dict[str, str] | None = None) -> Outcome:
    """One target's mutants: all (or its functions'), a random `sample`, or `again`: the
    survivors of its last full run (mutant -> the change recorded then)."""
    outcome = Outcome(target)
    started = time.monotonic()
    dest = Path(tempfile.mkdtemp(prefix=f"mutation-{target.source.replace('/', '-')}-"))
    try:
        _copy_tree(dest)
        _configure(dest, target)
        names: list[str] = []
        if target.functions or sample is not None or again is not None:
            names = all_mutants(dest, target, env)
            if sample is not None:
                names = sorted(rng.sample(names, min(sample, len(names))))
            if again is not None:
                names = [n for n in names if n in again]
                outcome.error = _changed_since(dest, names, again, env)
                if outcome.error:
                    return outcome
            if not names:
                outcome.error = "no mutants selected"
                return outcome
        log = dest / "mutmut-run.log"
        try:
            _mutmut(dest, "run", "--max-children", env.get("MUTATION_CHILDREN", "2"), *names,
                    env=env, timeout=timeout, log=log)
        except subprocess.TimeoutExpired:
            outcome.error = f"stopped after {timeout:.0f} s; results so far"
        results = _mutmut(dest, "results", "--all", "true", env=env, timeout=300).stdout
        for mutant, status in re.findall(r"^\s*(\S+__mutmut_\d+): (.+?)\s*$", results, re.M):
            outcome.statuses[mutant] = status
        outcome.statuses = {n: s for n, s in outcome.statuses.items()
                            if n in set(_selected(list(outcome.statuses), target))
                            and (not names or n in names) and s != "not checked"}
        alive = [m for m, st in outcome.statuses.items()
                 if st in ("survived", "no tests", "suspicious")]
        outcome.diffs = changed_lines(dest, alive, env)
        if not outcome.statuses and not outcome.error:
            outcome.error = "mutmut reported nothing: " + log.read_text()[-2000:]
    finally:
        outcome.seconds = time.monotonic() - started
        if keep:
            print(f"  kept {dest}", file=sys.stderr)
        else:
            shutil.rmtree(dest, ignore_errors=True)
    return outcome


def _changed_since(dest: Path, names: list[str], again: dict[str, str],
                   env: dict[str, str]) -> str:
    """Why the survivors cannot be re-run alone ("" when they can): a killed mutant stays
    killed when tests are only added, but only while every mutant is still the same change."""
    now = changed_lines(dest, names, env)
    moved = [n for n in again if now.get(n) != again[n]]
    if moved:
        return (f"{len(moved)} survivors are no longer the change recorded (e.g. {moved[0]}): "
                "the module changed since its last full run; run the target in full")
    return ""


def survivors_of(data: dict[str, dict[str, dict]], target: Target) -> dict[str, str]:
    """The survivors of the target's last full run in docs/mutation.json: mutant -> change."""
    last = data.get("after", {}).get(target.name)
    if not last or last.get("source") != target.source:
        raise SystemExit(f"{target.name}: no full run recorded to re-run the survivors of")
    return {v["mutant"]: v["change"] for v in last["survivors"]}


def merged(last: dict[str, object], rerun: dict[str, object]) -> dict[str, object]:
    """The last full run with its survivors decided again by today's tests."""
    killed = int(last["killed"]) + int(rerun["killed"])  # type: ignore[call-overload]
    mutants = int(last["mutants"])  # type: ignore[call-overload]
    return {**rerun, "mutants": mutants, "killed": killed,
            "score": round(100.0 * killed / mutants, 1),
            "full_run": last.get("full_run", last["when"]),
            "seconds": int(last["seconds"]) + int(rerun["seconds"])}  # type: ignore[call-overload]


def load_equivalents() -> dict[str, str]:
    if not EQUIVALENTS.exists():
        return {}
    data = tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8"))
    return {entry["mutant"]: ("" if entry.get("equivalent", True) else "ACCEPTED ") + entry["why"]
            for entry in data.get("equivalent", [])}


def unexplained(outcomes: list[Outcome], equivalents: dict[str, str]) -> list[tuple[str, str]]:
    return [(o.target.name, fingerprint(m, d)) for o in outcomes for m, d in o.diffs.items()
            if fingerprint(m, d) not in equivalents]


def record(outcome: Outcome) -> dict[str, object]:
    c = outcome.counts
    return {
        "source": outcome.target.source, "tests": list(outcome.target.tests),
        "mutants": len(outcome.statuses), "killed": outcome.killed,
        "survived": c["survived"] + c["suspicious"], "no_tests": c["no tests"],
        "score": None if outcome.score is None else round(outcome.score, 1),
        "seconds": round(outcome.seconds), "error": outcome.error,
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "survivors": [{"mutant": m, "status": outcome.statuses[m], "change": d}
                      for m, d in sorted(outcome.diffs.items())],
    }


def render(data: dict[str, dict[str, dict]], equivalents: dict[str, str]) -> str:
    """docs/mutation.md from docs/mutation.json (the last full run of each target)."""
    before, after = data.get("before", {}), data.get("after", {})
    lines = [
        "# Mutation testing", "",
        "Generated by `make mutation` (scripts/mutation.py, mutmut) from docs/mutation.json: the",
        "last full run of each target. A mutant is *killed* when a selected test fails (or hangs)",
        "with it; *no tests* means no selected test runs its code, and counts against the score.",
        "*Before* is the suite as it stood before issue 16 (`--baseline`: the tests that existed,",
        f"property tests at {PROPERTY_EXAMPLES} examples as here). The wording of refusals, log",
        "lines and printouts is not mutated (see NOT_MUTATED in scripts/mutation.py). A row run",
        "on two days is its full run with the survivors re-run after tests were added",
        "(`--survivors`: a killed mutant stays killed while the module is unchanged, which the",
        "re-run checks; its time is that of all its runs).", "",
        "| target | module | mutants | before: killed / score | after: killed / score "
        "| survivors after (of them equivalent) | time | run on |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for t in TARGETS:
        a, b = after.get(t.name), before.get(t.name)
        if a is None and b is None:
            continue

        def cell(r: dict | None) -> str:
            if r is None or r.get("score") is None:
                return "-"
            return f"{r['killed']} / {r['score']:.1f} %"

        alive = a["survived"] + a["no_tests"] if a else 0
        equivalent = sum(1 for v in (a or {}).get("survivors", [])
                         if not equivalents.get(fingerprint(v["mutant"], v["change"]),
                                                "ACCEPTED").startswith("ACCEPTED"))
        lines.append(
            f"| {t.name} | {t.source} | {(a or b or {}).get('mutants', '-')} | {cell(b)} "
            f"| {cell(a)} | {alive} ({equivalent}) | {a['seconds'] if a else '-'} s "
            f"| {_run_on(a)} |")
    lines += ["", "Tests each target ran (after):", ""]
    for t in TARGETS:
        if t.name in after:
            lines.append(f"- {t.name}: {', '.join(after[t.name]['tests'])}"
                         + (f" (functions: {', '.join(t.functions)})" if t.functions else ""))
    lines += ["", "## Survivors after, each with the reason it is equivalent", ""]
    for t in TARGETS:
        a = after.get(t.name)
        if not a:
            continue
        if a.get("error"):
            lines.append(f"- **{t.name}**: {a['error'].splitlines()[0]}")
        for v in a["survivors"]:
            why = equivalents.get(fingerprint(v["mutant"], v["change"]))
            if why and why.startswith("ACCEPTED "):
                reason = why.removeprefix("ACCEPTED NOT equivalent: ")
                verdict = f"accepted, not equivalent: {reason}"
            elif why:
                verdict = f"equivalent: {why}"
            else:
                verdict = f"**UNEXPLAINED ({v['status']})**"
            lines.append(f"- `{v['mutant']}`: `{v['change']}`  \n  {verdict}")
    return "\n".join(lines) + "\n"


def _run_on(a: dict | None) -> str:
    if not a:
        return "-"
    if a.get("full_run"):  # survivors re-run later (--survivors)
        return f"{a['full_run'][:10]}, survivors {a['when'][:10]}"
    return a["when"][:10]


def _mutmut_version() -> str:
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "mutmut"), "--version"],
                          capture_output=True, text=True)
    return done.stdout.strip().split()[-1] if done.returncode == 0 else "?"


def _emulator_env(env: dict[str, str]) -> tuple[dict[str, str], object | None]:
    if env.get("FIRESTORE_EMULATOR_HOST"):
        return env, None
    sys.path.insert(0, str(ROOT))
    from testkit import emulator

    emu = emulator.start(log_path=Path(tempfile.gettempdir()) / "mutation-emulator.log")
    return {**env, "FIRESTORE_EMULATOR_HOST": emu.host, "GOOGLE_CLOUD_PROJECT": "demo-test"}, emu


def _seed(given: str | None) -> int:
    """The sample's seed. 'commit' (CI) draws the same sample for the same commit, so a red
    sample is reproducible, and a different one for the next commit, so over a few commits the
    sample reaches every target, not only the few that fit the budget first."""
    if given is None:
        return int(time.time())
    if given == "commit":
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True)
        return int(head.stdout[:8], 16) if head.returncode == 0 else 20261128
    return int(given)


def run_all(targets: list[Target], args: argparse.Namespace,
            rng: random.Random) -> list[Outcome]:
    """Run the targets in order until the time budget (if any) is spent. The emulator is
    started when the first target that needs it comes up, so a sample that never reaches one
    never pays for it."""
    env = {**os.environ, "PROPERTY_EXAMPLES": PROPERTY_EXAMPLES, "PYTHONDONTWRITEBYTECODE": "1"}
    emulator = None
    deadline = time.monotonic() + args.budget if args.budget else None
    outcomes: list[Outcome] = []
    try:
        for target in targets:
            left = args.timeout
            if deadline is not None:
                left = min(left, deadline - time.monotonic())
                if left < 20:
                    print(f"  {target.name}: skipped, the time budget is spent", flush=True)
                    continue
            if target.emulator and emulator is None and "FIRESTORE_EMULATOR_HOST" not in env:
                env, emulator = _emulator_env(env)
            print(f"mutating {target.source} ({target.name}) ...", flush=True)
            again = (getattr(args, "again", None) or {}).get(target.name)
            outcome = run_target(target, sample=args.sample, rng=rng, timeout=left, env=env,
                                 keep=args.keep, again=again)
            outcomes.append(outcome)
            c = outcome.counts
            print(f"  {len(outcome.statuses)} mutants, {outcome.killed} killed, "
                  f"{c['survived']} survived, {c['no tests']} without tests "
                  f"({outcome.seconds:.0f} s) {outcome.error[:200]}", flush=True)
    finally:
        if emulator is not None:
            emulator.stop()  # type: ignore[attr-defined]
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="target names or module files")
    parser.add_argument("--sample", type=int, help="random mutants per target")
    parser.add_argument("--budget", type=float, help="seconds for the whole run (sample mode)")
    parser.add_argument("--seed", default=None,
                        help="a number, or 'commit': the first 8 hex digits of HEAD")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "mutation.md")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per target")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    parser.add_argument("--baseline", action="store_true",
                        help="use the tests each target had before issue 16")
    parser.add_argument("--survivors", action="store_true",
                        help="re-run only the survivors of each target's last full run (after "
                             "tests were added; refused when the module changed since)")
    args = parser.parse_args(argv)
    # Stopped from outside (a CI timeout, ^C in make): still stop the emulator we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    targets = [t for t in TARGETS if not args.only or t.name in args.only
               or t.source in args.only]
    if args.baseline:
        # Targets born after the baseline (issue 11's seating and phrases) had no tests before.
        targets = [t for t in targets if t.name in BASELINE_TESTS]
        targets = [Target(t.name, t.source, BASELINE_TESTS[t.name], t.functions,
                          emulator=t.emulator or "persistence" in str(BASELINE_TESTS[t.name]),
                          livekit=t.livekit) for t in targets]
    results = args.report.with_suffix(".json")
    data = json.loads(results.read_text()) if results.exists() else {}
    args.again = {t.name: survivors_of(data, t) for t in targets} if args.survivors else None
    seed = _seed(args.seed)
    rng = random.Random(seed)
    if args.sample is not None:
        # CI: every target in the sample, in an order the seed decides, until the budget.
        targets = [t for t in targets if t.in_sample]
        rng.shuffle(targets)
        print(f"mutation sample: seed {seed}, {args.sample} mutants per target", flush=True)
    outcomes = run_all(targets, args, rng)
    equivalents = load_equivalents()
    if args.sample is None:
        section = data.setdefault("before" if args.baseline else "after", {})
        for o in outcomes:
            if o.statuses:
                done = record(o)
                section[o.target.name] = (merged(section[o.target.name], done)
                                          if args.survivors else done)
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        args.report.write_text(render(data, equivalents), encoding="utf-8")
        print(f"report: {args.report} (data: {results})")
    missing = unexplained(outcomes, equivalents)
    for name, key in missing:
        print(f"SURVIVED ({name}): {key}")
    broken = [o for o in outcomes if o.error and not o.statuses]
    for o in broken:
        print(f"ERROR ({o.target.name}): {o.error[:2000]}")
    if args.sample is not None:
        # A sample fails on a new survivor, or when nothing could be run at all; one target's
        # run cut short by the time budget is not a failure.
        return 1 if missing or (outcomes and len(broken) == len(outcomes)) else 0
    return 1 if missing or broken else 0


if __name__ == "__main__":
    sys.exit(main())
