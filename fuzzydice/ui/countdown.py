"""A live countdown in the browser, with the server as the truth.

The server says how long is left (from its own clock, so a browser whose clock is wrong
still counts right) and the script counts that down in the element with the given id,
once a second. It resolves its promise, so that the `rx.call_script` callback asks the
server again, when the time reaches zero, every `resync_ms`, and when the tab comes back
into view (background tabs' timers are slowed down). It stops without answering when the
element is gone (the person left the page, or the page no longer shows it), and a new
countdown replaces the one before it.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

ENDED = "ended"
"""The countdown reached zero."""
SYNC = "sync"
"""Time to ask the server again (every `resync_ms`)."""
VISIBLE = "visible"
"""The tab came back into view."""
REASONS = frozenset({ENDED, SYNC, VISIBLE})

MOUNT_GRACE_MS = 5_000
"""How long the script waits for its element to appear (the page renders after the state update)."""


def clock_text(left: timedelta) -> str:
    """Time left as a countdown shows it: `14:59`, `0:05`, `1:00:00` (whole seconds, rounded up)."""
    seconds = max(0, math.ceil(left.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def countdown_script(element_id: str, left: timedelta, *, resync_ms: int) -> str:
    """JS that counts `left` down in `#element_id` and resolves to ENDED, SYNC or VISIBLE (see the module)."""
    left_ms = max(0, int(left.total_seconds() * 1000))
    return f"""(() => new Promise((resolve) => {{
  const id = {json.dumps(element_id)};
  const start = performance.now(); const deadline = start + {left_ms}; const resyncAt = start + {int(resync_ms)};
  if (window.__fdCountdown) window.__fdCountdown.stop();
  const pad = (n) => String(n).padStart(2, '0');
  const text = (ms) => {{
    const s = Math.ceil(Math.max(ms, 0) / 1000); const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60); const r = s % 60;
    return h ? h + ':' + pad(m) + ':' + pad(r) : m + ':' + pad(r);
  }};
  let timer = 0; let seen = false; const handle = {{}};
  const onVisible = () => {{ if (document.visibilityState === 'visible') finish({json.dumps(VISIBLE)}); }};
  const stop = () => {{
    clearTimeout(timer); document.removeEventListener('visibilitychange', onVisible);
    if (window.__fdCountdown === handle) window.__fdCountdown = null;
  }};
  const finish = (why) => {{ stop(); resolve(why); }};
  handle.stop = stop; window.__fdCountdown = handle;
  const tick = () => {{
    const now = performance.now(); const left = deadline - now; const element = document.getElementById(id);
    if (!element) {{
      if (seen || now - start > {MOUNT_GRACE_MS}) {{ stop(); return; }}
      timer = setTimeout(tick, 100); return;
    }}
    seen = true; element.textContent = text(left);
    if (left <= 0) {{ finish({json.dumps(ENDED)}); return; }}
    if (now >= resyncAt) {{ finish({json.dumps(SYNC)}); return; }}
    timer = setTimeout(tick, (left % 1000) + 20);  // just after the second shown changes
  }};
  document.addEventListener('visibilitychange', onVisible);
  tick();
}}))()"""
