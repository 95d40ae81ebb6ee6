"""What every board page must pass on a phone and a tablet: nothing wider than the screen,
every target big enough for a finger, and axe-core's accessibility rules."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.board.conftest import AXE_JS

MIN_TARGET = 44  # px: WCAG 2.5.5 (AAA) and Apple's and Google's guidance for touch

# Everything a finger or a key acts on; a checkbox is tapped through its label.
OVERFLOW_JS = """() => {
  const w = document.documentElement.clientWidth;
  const wide = [];
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    let clipped = false;
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'hidden' || o === 'scroll') { clipped = true; break; }
    }
    if (!clipped && (r.right > w + 1 || r.left < -1) && !e.closest('.skip, .vh, thead')) {
      wide.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className} ` +
                `${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width: w, wide: wide.slice(0, 8)};
}"""

TARGETS_JS = """(min) => {
  const small = [];
  const sel = 'a[href], button, select, input:not([type=hidden]), textarea, summary, ' +
              '[tabindex="0"]';
  for (const e of document.querySelectorAll(sel)) {
    const box = e.matches('input[type=checkbox], input[type=radio]') && e.closest('label')
      ? e.closest('label') : e;
    const r = box.getBoundingClientRect();
    if (!r.width || !r.height || r.right <= 0 || e.closest('.skip')) continue;
    if (getComputedStyle(e).visibility === 'hidden') continue;
    if (e.matches('tr')) continue;  // a whole table row: as big as its row
    if (r.width < min - 0.5 || r.height < min - 0.5) {
      small.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} "` +
                 `${(e.textContent || e.name || '').trim().slice(0, 30)}" ` +
                 `${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return small;
}"""


async def overflow(page: Any) -> list[str]:
    found = await page.evaluate(OVERFLOW_JS)
    problems = [] if found["scrollWidth"] <= found["width"] else [
        f"page is {found['scrollWidth']} px wide in a {found['width']} px screen"]
    return problems + [f"off-screen: {w}" for w in found["wide"]]


async def small_targets(page: Any) -> list[str]:
    return await page.evaluate(TARGETS_JS, MIN_TARGET)


async def axe(page: Any) -> dict[str, Any]:
    """axe-core's verdict on the page as it is (WCAG 2.x A/AA and best practices)."""
    if not await asyncio.to_thread(AXE_JS.exists):
        pytest.fail(f"{AXE_JS} not found: scripts/install_deps.sh installs axe-core from npm")
    if not await page.evaluate("typeof window.axe === 'object'"):
        source = await asyncio.to_thread(Path(AXE_JS).read_text)
        await page.evaluate(source)  # through the devtools protocol: the page's CSP stays on
    result = await page.evaluate("""() => axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                         'best-practice']},
        resultTypes: ['violations']})""")
    return {"violations": [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]],
        "passes": len(result.get("passes", []))}


def serious(verdict: dict[str, Any]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}"
            for v in verdict["violations"] if v["impact"] in ("serious", "critical")]


def summary_line(name: str, verdict: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for v in verdict["violations"]:
        counts[v["impact"]] = counts.get(v["impact"], 0) + 1
    return f"{name}: " + (json.dumps(counts, sort_keys=True) if counts else "no violations")
