// The staff board's pages. No framework: the page shell comes from the server, the data from
// one EventSource (/events) that starts with the current state and then carries each change
// Firestore's listeners see. Everything shown is built with textContent (no HTML injection
// from a caller's words). Writes send the version shown; a 409 means another tablet was first.
"use strict";

const D = document.body.dataset;
const TZ = D.tz || undefined;
const LOCALE = D.locale || undefined;
const $ = (sel, root = document) => root.querySelector(sel);
const board = (window.__board = { seen: {}, ready: false, resets: 0 });

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-CSRF-Token": D.csrf },
  };
  const resp = await fetch(path, { credentials: "same-origin", ...init });
  if (resp.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
  let data = {};
  try { data = await resp.json(); } catch (e) { /* empty body */ }
  return { ok: resp.ok, status: resp.status, data };
}

// One message at a time at the bottom; a state change's message carries Undo for UNDO_MS.
const UNDO_MS = 10000;
let toastTimer;
function toast(msg, bad = false, undo = null) {
  const t = $("#toast");
  const text = el("span", { id: "toast-text" }, msg);
  const button = undo ? el("button", { type: "button", id: "undo", onclick: async (ev) => {
    ev.currentTarget.disabled = true;
    clearTimeout(toastTimer); t.hidden = true;
    await undo();
  } }, "Undo") : null;
  t.replaceChildren(text, ...(button ? [button] : []));
  t.className = bad ? "bad" : ""; t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, undo ? UNDO_MS : bad ? 7000 : 3000);
}

const money = (cents) => "$" + (cents / 100).toFixed(2);
// The restaurant's clock everywhere ("1:25 PM" in the US), as the server writes it too.
const CLOCK = { hour: "numeric", minute: "2-digit" };
const spaced = (s) => s.replace(/[\u202f\u00a0]/g, " ");
const clock = (iso) => iso ? spaced(new Intl.DateTimeFormat(LOCALE, {
  ...CLOCK, timeZone: TZ }).format(new Date(iso))) : "";
const hhmm = (t) => {  // "19:30" (a booking's wall-clock time) -> "7:30 PM"
  const [h, m] = (t || "").split(":").map(Number);
  if (Number.isNaN(h) || Number.isNaN(m)) return t || "";
  return spaced(new Intl.DateTimeFormat(LOCALE, { ...CLOCK, timeZone: "UTC" })
    .format(new Date(Date.UTC(2000, 0, 1, h, m))));
};
const dayName = (day) => new Intl.DateTimeFormat(LOCALE, { weekday: "short", month: "short",
  day: "numeric", timeZone: "UTC" }).format(new Date(day + "T12:00:00Z"));
const dayOf = (iso) => new Intl.DateTimeFormat("en-CA", {
  year: "numeric", month: "2-digit", day: "2-digit", timeZone: TZ }).format(new Date(iso));
const today = () => dayOf(new Date().toISOString());
const addDays = (day, n) => {
  const d = new Date(day + "T12:00:00Z"); d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};
const phone = (e164) => {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164 || "");
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : (e164 || "");
};
// On a phone the tables are cards: each cell says which column it is (board.css).
function labelCells(table) {
  const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  for (const row of table.querySelectorAll("tbody tr")) {
    [...row.children].forEach((td, i) => {
      if (td.colSpan > 1) return;
      if (!td.hasAttribute("data-label")) td.setAttribute("data-label", heads[i] === "Actions" ? "" : (heads[i] || ""));
    });
  }
}

// ---------------------------------------------------------------- sound and attention

const sound = {
  on: localStorage.getItem("board-sound") === "on",
  ctx: null,
  beep() {
    if (!this.on) return;
    try {
      this.ctx = this.ctx || new AudioContext();
      const t = this.ctx.currentTime;
      for (const [i, f] of [[0, 880], [1, 1175], [2, 880]]) {
        const o = this.ctx.createOscillator(); const g = this.ctx.createGain();
        o.frequency.value = f; o.connect(g); g.connect(this.ctx.destination);
        g.gain.setValueAtTime(0.0001, t + i * 0.18);
        g.gain.exponentialRampToValueAtTime(0.4, t + i * 0.18 + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.18 + 0.16);
        o.start(t + i * 0.18); o.stop(t + i * 0.18 + 0.17);
      }
      board.beeps = (board.beeps || 0) + 1;
    } catch (e) { /* no audio on this device */ }
  },
  show() {
    const b = $("#sound");
    b.textContent = this.on ? "Sound on" : "Sound off";
    b.setAttribute("aria-pressed", String(this.on));
  },
};
$("#sound").addEventListener("click", () => {
  sound.on = !sound.on;
  localStorage.setItem("board-sound", sound.on ? "on" : "off");
  sound.show();
  if (sound.on) { sound.wake(); sound.beep(); }
});
sound.wake = function () {
  try {
    this.ctx = this.ctx || new AudioContext();
    this.ctx.resume().then(() => { board.audio = this.ctx.state; });
  } catch (e) { /* no audio on this device */ }
};
// Browsers start audio only after a tap on the page: after a reload with the sound on, the
// first tap or key anywhere (staff touch the screen all day) wakes the chime up again.
const wake = () => {
  if (!sound.on) return;
  sound.wake();
  board.woken = (board.woken || 0) + 1;
  for (const kind of ["pointerdown", "keydown"]) document.removeEventListener(kind, wake, true);
};
for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, wake, true);
sound.show();

$("#signout").addEventListener("click", async () => {
  await api("/logout", {});
  location.href = "/login";
});

// ---------------------------------------------------------------- the live stream

const NEW_ORDER = new Set(["confirmed", "pending_staff_confirmation"]);
const state = { orders: {}, messages: {} };

function badges() {
  const newOrders = Object.values(state.orders).filter((o) => NEW_ORDER.has(o.status)).length;
  const newMsgs = Object.values(state.messages).filter((m) => m.status === "new").length;
  for (const [key, n] of [["orders", newOrders], ["messages", newMsgs]]) {
    const b = $("#badge-" + key);
    if (b) { b.textContent = n; b.hidden = n === 0; }
  }
  document.title = (newOrders ? `(${newOrders}) ` : "") + document.title.replace(/^\(\d+\) /, "");
}

function live(topics, handlers) {
  const all = [...new Set([...topics, "orders", "messages"])];
  let source;
  let loaded = false;
  const connect = () => {
    source = new EventSource("/events?topics=" + all.join(","));
    source.addEventListener("reset", (e) => {
      const data = JSON.parse(e.data);
      for (const t of ["orders", "messages"]) {
        state[t] = {};
        for (const d of data[t] || []) state[t][d._id] = d;
      }
      handlers.reset && handlers.reset(data, loaded);
      loaded = true;
      board.ready = true; board.resets += 1;
      if (!board.readyAt) board.readyAt = performance.now();  // first data on screen (bench/)
      badges();
      $("#live").textContent = "live"; $("#live").className = "live on";
    });
    source.addEventListener("change", (e) => {
      const ch = JSON.parse(e.data);
      if (ch.topic === "orders" || ch.topic === "messages") {
        const known = ch.id in state[ch.topic];
        // The stream can bring an earlier write's change after a tap's own answer showed a
        // later one: never put the older version back on screen (a tap on it would be a 409).
        if (ch.op === "upsert" && olderThan(ch.doc, state[ch.topic][ch.id])) return;
        if (ch.op === "remove") delete state[ch.topic][ch.id];
        else state[ch.topic][ch.id] = ch.doc;
        if (!known && ch.op === "upsert" && (ch.topic === "messages" || NEW_ORDER.has(ch.doc.status))) {
          sound.beep();
          if (ch.topic === "orders" && D.page !== "orders") toast(`New order #${ch.doc.order_number} for ${ch.doc.customer_name}`);
        }
        badges();
      }
      handlers.change && handlers.change(ch);
    });
    source.addEventListener("signed-out", () => { location.href = "/login"; });
    // the session moved to another restaurant (here or on another tablet): show that one
    source.addEventListener("site", () => { source.close(); location.reload(); });
    source.onerror = () => {
      $("#live").textContent = "reconnecting"; $("#live").className = "live off";
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
  };
  connect();
}

// A document's version is its update time in RFC 3339 with the fraction's trailing zeros cut
// (":10.5Z", ":10.50001Z"): compared as text, ":10.5Z" would be the newer. Padded, it is not.
function versionKey(v) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(v || "");
  return m ? `${m[1]}.${(m[2] || "").padEnd(9, "0")}` : "";
}
function olderThan(doc, shown) {
  const mine = versionKey(doc._version), theirs = shown ? versionKey(shown._version) : "";
  return !!mine && !!theirs && mine < theirs;
}

async function write(path, body, onConflict) {
  const r = await api(path, body);
  if (r.status === 409) {
    toast(r.data.error || "Changed on another screen", true);
    if (onConflict && r.data.current) onConflict(r.data.current);
  } else if (!r.ok) {
    toast(r.data.error || `Failed (${r.status})`, true);
  }
  return r;
}

// ---------------------------------------------------------------- orders

const ORDER_WORDS = { confirmed: "new", pending_staff_confirmation: "to confirm", preparing: "preparing",
                      ready: "ready", collected: "picked up", cancelled: "cancelled" };

function ordersPage() {
  const fresh = new Set();
  const columns = { confirmed: "#col-new", pending_staff_confirmation: "#col-new",
                    preparing: "#col-preparing", ready: "#col-ready" };
  // What arrived since staff last touched the screen: counted on a button at the top.
  let unseen = new Set();
  const since = $("#since");
  const showSince = () => {
    // Its room stays reserved: a tap must never move the cards under the finger.
    since.classList.toggle("invisible", unseen.size === 0);
    since.textContent = `${unseen.size} new`;
    since.setAttribute("aria-label", `${unseen.size} new orders since you last looked`);
    board.unseen = unseen.size;
  };
  since.addEventListener("click", () => {
    unseen = new Set(); showSince(); render();
    $("#col-new").scrollIntoView({ block: "start" });
  });
  // Any tap on the page counts as a look, once that tap has done its work.
  document.addEventListener("click", (ev) => {
    if (ev.target !== since && unseen.size) { unseen = new Set(); showSince(); render(); }
  });
  // Compact: about twice as many cards on a tablet; remembered on this device.
  const compact = $("#compact");
  const showCompact = (on) => {
    $("#app").classList.toggle("compact", on);
    compact.setAttribute("aria-pressed", String(on));
    compact.textContent = on ? "Full cards" : "Compact";
  };
  showCompact(localStorage.getItem("board-compact") === "on");
  compact.addEventListener("click", () => {
    const on = !$("#app").classList.contains("compact");
    localStorage.setItem("board-compact", on ? "on" : "off");
    showCompact(on);
  });

  // Each order's state in the point of sale (the "pos" topic: store/pos_orders.py), by order id.
  const pos = {};
  const posKey = (p) => p ? `${p.state}|${p.attempts}|${p.updated_at}|${p.pos_total_cents}|${p.sent_as}` : "";
  // A card is rebuilt only when its order (or its POS state) changed: a tap never lands on a
  // card swapped out under the finger by someone else's change.
  const built = new Map();
  const cardOf = (o) => {
    const key = `${o._version}|${fresh.has(o._id)}|${unseen.has(o._id)}|${posKey(pos[o._id])}`;
    const had = built.get(o._id);
    if (had && had.key === key) return had.node;
    const node = orderCard(o);
    built.set(o._id, { key, node });
    return node;
  };
  const byPickup = (a, b) => (a.pickup_time || "").localeCompare(b.pickup_time || "");
  const newestFirst = (a, b) => (b.created_at || "").localeCompare(a.created_at || "");
  const render = () => {
    for (const sel of ["#col-new", "#col-preparing", "#col-ready", "#col-done"]) $(sel).replaceChildren();
    const all = Object.values(state.orders);
    const t = today();
    // Unstarted orders: the newest on top, where eyes are; the rest by pickup time.
    for (const o of all.filter((x) => columns[x.status] === "#col-new").sort(newestFirst)) $("#col-new").append(cardOf(o));
    for (const o of all.filter((x) => columns[x.status] && columns[x.status] !== "#col-new").sort(byPickup)) {
      $(columns[o.status]).append(cardOf(o));
    }
    for (const o of all.filter((x) => !columns[x.status]).sort(byPickup)) {
      if (dayOf(o.updated_at || o.created_at) === t) $("#col-done").prepend(cardOf(o));
    }
    for (const id of built.keys()) if (!(id in state.orders)) built.delete(id);
  };
  const send = async (o, status, reason = "") => {
    const r = await write(`/api/orders/${encodeURIComponent(o._id)}/status`,
      { status, version: o._version, reason }, (cur) => { state.orders[cur._id] = cur; render(); });
    if (!r.ok) return;
    const now = r.data.order;
    state.orders[o._id] = now; render();
    const before = o.status;
    if (before === now.status) return;
    toast(`#${o.order_number} ${o.customer_name}: ${ORDER_WORDS[now.status]}`, false, async () => {
      const back = await write(`/api/orders/${encodeURIComponent(o._id)}/undo`,
        { status: before, version: now._version }, (cur) => { state.orders[cur._id] = cur; render(); });
      if (back.ok) { state.orders[o._id] = back.data.order; render(); toast(`#${o.order_number} is ${ORDER_WORDS[before]} again`); }
    });
  };
  // Cancel asks why in a dialog; an empty reason says so instead of doing nothing.
  const cancelDialog = $("#cancel-form");
  const cancelForm = cancelDialog.querySelector("form");
  let cancelling = null;
  $("#cancel-close").addEventListener("click", () => cancelDialog.close());
  cancelForm.elements.reason.addEventListener("input", () => { $("#cancel-error").textContent = ""; });
  cancelForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const reason = cancelForm.elements.reason.value.trim();
    if (!reason) { $("#cancel-error").textContent = "Say why, so the caller can be told."; return; }
    cancelDialog.close();
    await send(cancelling, "cancelled", reason);
  });
  const askCancel = (o) => {
    cancelling = o;
    $("#cancel-title").textContent = `Cancel order #${o.order_number} (${o.customer_name})`;
    cancelForm.elements.reason.value = ""; $("#cancel-error").textContent = "";
    cancelDialog.showModal();
  };
  // Where the order stands in the till: sent, waiting (why, how many tries) or refused (Square's
  // reason), and both totals when they differ by even a cent. Staff resend what is not sent.
  // An order saved under a new number after an outage says the number the till has it under.
  const POS_NAME = { square: "Square", webhook: "the POS" };
  const OPEN = (o) => o.status !== "cancelled" && o.status !== "collected";
  const posState = (o) => {
    const p = pos[o._id];
    if (p) return p;
    return D.pos && OPEN(o) ? { state: "unsent", pos: D.pos } : null;
  };
  const posLine = (o) => {
    const p = posState(o);
    if (!p) return null;
    const name = POS_NAME[p.pos] || "the POS";
    const Name = name.charAt(0).toUpperCase() + name.slice(1);
    const tries = `${p.attempts} ${p.attempts === 1 ? "try" : "tries"}`;
    const words = { unsent: `${Name}: not sent yet`, sent: `${Name}: sent${p.sent_as ? " as #" + p.sent_as : ""}`,
                    waiting: `${Name}: waiting${p.reason ? " (" + p.reason + ")" : ""}, ${tries}`,
                    refused: `${Name} refused it: ${p.reason || "no reason given"}` }[p.state];
    return el("div", { class: `pos pos-${p.state}`, "data-pos": p.state },
      el("span", { class: "pos-state" }, words),
      p.totals_differ ? el("div", { class: "pos-mismatch", "data-mismatch": "" },
        `Totals differ: ours ${money(p.our_total_cents)} (tax ${money(p.our_tax_cents)}), ` +
        `${name}'s ${money(p.pos_total_cents)} (tax ${money(p.pos_tax_cents ?? 0)})`) : null);
  };
  const resend = async (o, b) => {
    b.disabled = true;
    try {
      const r = await write(`/api/pos/${encodeURIComponent(o._id)}/resend`, {});
      if (!r.ok || !r.data.pos) return;
      pos[o._id] = r.data.pos; render();
      const p = r.data.pos;
      const name = POS_NAME[p.pos] || "the POS";
      toast(p.state === "sent" && p.totals_differ ? `#${o.order_number} sent, but ${name}'s total differs`
        : p.state === "sent" ? `#${o.order_number} sent to ${name}`
        : p.state === "refused" ? `#${o.order_number}: ${name} refused it: ${p.reason}`
          : `#${o.order_number}: ${name} still not answering; it keeps trying`,
      p.state !== "sent" || p.totals_differ);
    } finally { b.disabled = false; }
  };
  const resendButton = (o) => {
    const p = posState(o);
    if (!p || p.state === "sent" || !OPEN(o)) return null;
    const name = POS_NAME[p.pos] || "the POS";
    return el("button", { type: "button", class: "warn", "data-action": "resend",
                          onclick: (ev) => resend(o, ev.currentTarget) }, `Resend to ${name}`);
  };
  const orderCard = (o) => {
    const move = (status, label, cls) => el("button", { class: cls, type: "button", "data-action": status,
      onclick: async (ev) => {
        if (status === "cancelled") return askCancel(o);
        const b = ev.currentTarget;
        b.disabled = true;
        try { await send(o, status); } finally { b.disabled = false; }
      } }, label);
    const actions = {
      confirmed: [move("preparing", "Start", "primary"), move("ready", "Ready"), move("cancelled", "Cancel…", "warn")],
      pending_staff_confirmation: [move("confirmed", "Confirm", "primary"), move("cancelled", "Cancel…", "warn")],
      preparing: [move("ready", "Ready", "primary"), move("confirmed", "Back"), move("cancelled", "Cancel…", "warn")],
      ready: [move("collected", "Picked up", "primary"), move("preparing", "Back"), move("cancelled", "Cancel…", "warn")],
      collected: [move("ready", "Undo pick-up")],
      cancelled: [],
    }[o.status] || [];
    const isNew = unseen.has(o._id);
    const items = (o.lines || []).map((l) => `${l.quantity}× ${l.name}${l.size_name ? ` (${l.size_name})` : ""}`).join(", ");
    const card = el("article", { class: `card s-${o.status}` + (fresh.has(o._id) ? " fresh" : ""),
                                 "data-id": o._id, "data-status": o.status, "aria-label": `Order ${o.order_number}` },
      el("div", { class: "head" }, el("span", {}, "#" + o.order_number, " ", o.customer_name,
        isNew ? el("span", { class: "new-tag" }, "new") : null), el("span", {}, "pickup " + clock(o.pickup_time))),
      el("div", { class: "summary" }, items),
      el("div", { class: "meta" }, `${phone(o.customer_phone)} · placed ${clock(o.created_at)}`,
        o.callback_note ? el("div", { class: "no-callback" }, "Not called back by the line: " + o.callback_note.replace(/^the line will not call or text this number back: /, "")) : null),
      el("ul", {}, (o.lines || []).map((l) => el("li", {},
        el("b", {}, `${l.quantity} × ${l.name}`), l.size_name ? ` (${l.size_name})` : "",
        (l.options || []).length ? el("div", { class: "opt" }, (l.options || []).map((x) => x.name).join(", ")) : null,
        l.special_instructions ? el("div", { class: "instr" }, "“" + l.special_instructions + "”") : null))),
      o.notes ? el("div", { class: "instr" }, "Note: " + o.notes) : null,
      o.status === "cancelled" ? el("div", { class: "instr" }, "Cancelled: " + (o.cancel_reason || "")) : null,
      el("div", { class: "meta" }, el("b", {}, money(o.total_cents)), " at pickup",
        o.status === "collected" || o.status === "cancelled" ? ` · ${ORDER_WORDS[o.status]} by ${o.updated_by || "?"}` : ""),
      posLine(o),
      el("div", { class: "actions" }, ...actions, resendButton(o),
        // One ticket tab for the whole board (named), which does not print by itself.
        el("a", { href: `/orders/${encodeURIComponent(o._id)}/ticket`, target: "board-ticket", class: "button ticket",
                  onclick: (ev) => {  // opened by script, so its Close button can close it
                    if (ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
                    ev.preventDefault();
                    const tab = window.open(ev.currentTarget.href, "board-ticket");
                    if (tab) tab.focus();
                  } }, "Ticket")));
    if (!(o._id in board.seen)) board.seen[o._id] = Date.now();
    return card;
  };
  live(["orders", "pos"], {
    reset: (data) => {
      for (const id of Object.keys(pos)) delete pos[id];
      for (const p of data.pos || []) pos[p._id] = p;
      render();
    },
    change: (ch) => {
      if (ch.topic === "pos") {
        if (ch.op === "upsert" && olderThan(ch.doc, pos[ch.id])) return;
        if (ch.op === "remove") delete pos[ch.id]; else pos[ch.id] = ch.doc;
        if (ch.id in state.orders) render();
        return;
      }
      if (ch.topic !== "orders") return;
      if (ch.op === "upsert" && NEW_ORDER.has(ch.doc.status) && !fresh.has(ch.id) && !(ch.id in board.seen)) {
        fresh.add(ch.id); setTimeout(() => fresh.delete(ch.id), 5000);
        unseen.add(ch.id); showSince();
      }
      render();
    },
  });
}

// ---------------------------------------------------------------- bookings

const BOOKING_WORDS = { confirmed: "booked", changed: "booked", seated: "seated", finished: "finished",
                        no_show: "no-show", cancelled: "cancelled" };

function bookingsPage() {
  const res = {};
  let day = today();
  const dayInput = $("#day");
  dayInput.value = day;
  const pendingCancel = {};  // code -> timer: sent when Undo was not tapped
  const builtRows = new Map();
  const loadTimeline = async () => {
    const r = await api(`/api/availability?day=${day}&party=2`);
    if (!r.ok) return;
    const box = $("#timeline"); box.replaceChildren();
    if (!r.data.slots.length) box.append(el("p", {}, "Closed this day."));
    let paced = null;
    for (const s of r.data.slots) {
      const pct = Math.min(100, Math.round((100 * s.used) / s.capacity));
      const pace = s.pacing;
      if (pace) paced = pace;
      const paceFull = pace && pace.starting >= pace.limit;
      const words = `${s.label}: ${s.used} of ${s.capacity} seats taken` +
        (pace ? `; ${pace.starting} of ${pace.limit} covers start then` : "") +
        (s.fits ? "; a table for 2 is free" : `; not for 2: ${s.why}`);
      box.append(el("div", { class: "slot" + (paceFull ? " paced" : pct >= 100 ? " full" : pct >= 75 ? " busy" : ""),
                             title: words, "aria-label": words, role: "img", "data-time": s.time },
        el("small", {}, `${s.used}/${s.capacity}`),
        pace ? el("small", { class: paceFull ? "pace" : "" }, `start ${pace.starting}/${pace.limit}`) : null,
        el("div", { class: "fill", style: `height:${pct}%` }), el("span", {}, s.label)));
    }
    $("#legend").textContent = "Bars: guests at the tables at that time, of the room's seats." +
      (paced ? ` "start": covers starting in that ${paced.minutes}-minute window, of the kitchen's ${paced.limit}; striped = no more can start then.` : "");
  };
  const sendStatus = async (r, status) => {
    const resp = await write(`/api/bookings/${r.code}/status`, { status, version: r._version }, conflict);
    if (!resp.ok) return;
    const now = resp.data.reservation;
    res[r.code] = now; render();
    if (now.status === r.status) return;
    toast(`${r.name}, ${r.party_size} at ${hhmm(r.time)}: ${BOOKING_WORDS[now.status]}`, false, async () => {
      const back = await write(`/api/bookings/${r.code}/undo`, { version: now._version }, conflict);
      if (back.ok) { res[r.code] = back.data.reservation; render(); toast(`${r.name}: ${BOOKING_WORDS[back.data.reservation.status]} again`); }
    });
  };
  // Cancel frees the table through the line's own code: it is sent after the Undo time.
  const cancelLater = (r) => {
    const send = async () => {
      delete pendingCancel[r.code];
      const resp = await write(`/api/bookings/${r.code}/cancel`, { version: r._version }, conflict);
      if (resp.ok) { res[r.code] = resp.data.reservation; }
      render();
    };
    pendingCancel[r.code] = setTimeout(send, UNDO_MS);
    pendingCancel[r.code + ":send"] = send;
    render();
    toast(`${r.name}, ${r.party_size} at ${hhmm(r.time)}: cancelled`, false, async () => {
      clearTimeout(pendingCancel[r.code]); delete pendingCancel[r.code]; delete pendingCancel[r.code + ":send"];
      render(); toast(`${r.name}: booked again`);
    });
  };
  // A page closed within the Undo time still cancels.
  window.addEventListener("pagehide", () => {
    for (const [code, t] of Object.entries(pendingCancel)) {
      if (code.endsWith(":send")) continue;
      clearTimeout(t);
      const r = res[code];
      if (r) fetch(`/api/bookings/${code}/cancel`, { method: "POST", keepalive: true, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": D.csrf }, body: JSON.stringify({ version: r._version }) });
    }
  });
  const render = () => {
    const upcoming = $("#upcoming").checked;
    const last = upcoming ? addDays(day, 6) : day;
    const rows = Object.values(res).filter((r) => r.date >= day && r.date <= last)
      .sort((a, b) => (a.date + a.time).localeCompare(b.date + b.time));
    const body = $("#bookings tbody"); body.replaceChildren();
    for (const r of rows) {
      const shown = r.code in pendingCancel ? "cancelled" : r.status;
      // Rebuilt only when it changed: a tap never lands on a row swapped out under the finger.
      const key = `${r._version}|${shown}|${upcoming}`;
      const had = builtRows.get(r.code);
      if (had && had.key === key) { body.append(had.node); continue; }
      const act = (status, text, cls) => el("button", { type: "button", class: cls, "data-action": status,
        onclick: async (ev) => {
          if (status === "change") return openForm(r);
          if (status === "cancel") return cancelLater(r);
          const b = ev.currentTarget; b.disabled = true;
          try { await sendStatus(r, status); } finally { b.disabled = false; }
        } }, text);
      const open = [act("seated", "Seated", "primary"), act("no_show", "No-show"), act("change", "Change"), act("cancel", "Cancel", "warn")];
      const actions = {
        confirmed: open, changed: open,
        // Finished sits last and looks different from Seated, so a second tap does not land on it.
        seated: [el("span", { class: "meta" }, "at the table"), act("finished", "Finished", "quiet")],
        no_show: [act("seated", "Seated after all")],
      }[shown] || [];
      const node = el("tr", { "data-code": r.code, "data-status": shown,
                             class: ["cancelled", "finished", "no_show"].includes(shown) ? "muted" : "" },
        el("td", {}, (upcoming ? dayName(r.date) + " " : "") + hhmm(r.time),
          (r.tables || []).length ? el("div", { class: "meta" }, "table " + r.tables.join("+")) : null),
        el("td", {}, r.party_size), el("td", {}, r.name), el("td", {}, r.phone ? el("a", { href: "tel:" + r.phone }, phone(r.phone)) : ""),
        el("td", { class: r.notes ? "" : "empty" }, r.notes || null), el("td", {}, el("span", { class: "status " + shown }, BOOKING_WORDS[shown] || shown)),
        el("td", { class: "act" }, el("div", { class: "actions" }, actions)));
      builtRows.set(r.code, { key, node });
      body.append(node);
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 7 }, "No bookings.")));
    labelCells($("#bookings"));
  };
  const conflict = () => render();
  const setDay = (d) => { day = d; dayInput.value = d; render(); loadTimeline(); };
  dayInput.addEventListener("change", () => setDay(dayInput.value || today()));
  $("#prev-day").addEventListener("click", () => setDay(addDays(day, -1)));
  $("#next-day").addEventListener("click", () => setDay(addDays(day, 1)));
  $("#upcoming").addEventListener("change", render);

  const dialog = $("#booking-form");
  const form = dialog.querySelector("form");
  let editing = null;
  // The time list says what this party can really get: tables and the kitchen's pacing.
  const fillTimes = async (keep) => {
    const f = form.elements;
    const party = Math.max(1, Number(f.party.value) || 2);
    const moving = editing ? `&moving=${encodeURIComponent(editing.code)}` : "";
    const r = await api(`/api/availability?day=${f.date.value}&party=${party}${moving}`);
    const sel = f.time; const was = keep || sel.value; sel.replaceChildren();
    const slots = r.ok ? r.data.slots.filter((s) => s.why !== "past") : [];
    for (const s of slots) {
      sel.append(el("option", { value: s.time, disabled: !s.fits && s.time !== keep },
        s.fits ? `${s.label} (free for ${party})` : `${s.label} (full: ${s.why})`));
    }
    if (!slots.length) sel.append(el("option", { value: "", disabled: true }, "Closed this day"));
    if (was && [...sel.options].some((o) => o.value === was && !o.disabled)) sel.value = was;
    else { const first = [...sel.options].find((o) => !o.disabled); if (first) sel.value = first.value; }
    return slots;
  };
  // A refusal offers the nearest times that fit, as buttons.
  const offer = async (wanted) => {
    const box = $("#booking-offers"); box.replaceChildren();
    const all = await fillTimes();
    const asked = all.find((s) => s.time === wanted.time);
    const slots = all.filter((s) => s.fits);
    $("#booking-error").textContent = `${hhmm(wanted.time)} is full for ${wanted.party}` +
      (asked && asked.why ? ` (${asked.why}).` : ".") +
      (slots.length ? " Free for this party:" : " Nothing else is free that day.");
    wanted = wanted.time;
    const mins = (t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
    slots.sort((a, b) => Math.abs(mins(a.time) - mins(wanted)) - Math.abs(mins(b.time) - mins(wanted)));
    for (const s of slots.slice(0, 4).sort((a, b) => a.time.localeCompare(b.time))) {
      box.append(el("button", { type: "button", "data-time": s.time, onclick: () => {
        form.elements.time.value = s.time; box.replaceChildren(); $("#booking-error").textContent = "";
        form.requestSubmit($("#booking-save"));
      } }, `Book ${s.label}`));
    }
  };
  const openForm = async (r) => {
    editing = r || null;
    $("#booking-form-title").textContent = r ? `Change ${r.name}'s booking` : "New booking";
    for (const n of dialog.querySelectorAll(".new-only")) n.hidden = !!r;
    form.elements.date.value = r ? r.date : day;
    form.elements.party.value = r ? r.party_size : 2;
    for (const f of ["name", "phone", "notes"]) form.elements[f].value = "";
    $("#booking-error").textContent = ""; $("#booking-offers").replaceChildren();
    await fillTimes(r ? r.time.slice(0, 5) : null);
    dialog.showModal();
  };
  form.elements.date.addEventListener("change", () => fillTimes());
  form.elements.party.addEventListener("change", () => fillTimes());
  $("#add-booking").addEventListener("click", () => openForm(null));
  $("#booking-close").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const body = { date: f.date.value, time: f.time.value, party: Number(f.party.value) };
    const save = $("#booking-save"); save.disabled = true;
    let r;
    try {
      if (editing) {
        r = await api(`/api/bookings/${editing.code}/change`, { ...body, version: editing._version });
      } else {
        r = await api("/api/bookings", { ...body, name: f.name.value, phone: f.phone.value, notes: f.notes.value });
      }
    } finally { save.disabled = false; }
    if (r.ok) {
      dialog.close();
      toast(editing ? "Booking changed" : `Booked ${hhmm(body.time)} for ${body.party}: code ${r.data.code}`);
      if (r.data.status === "queued") toast("Saved offline; it will be confirmed when the database is back", true);
    } else {
      $("#booking-error").textContent = r.data.error || `Failed (${r.status})`;
      if (r.status === 409 && editing && r.data.current) editing = null;
      if (r.status === 422 && /fully booked/.test(r.data.error || "")) await offer(body);
    }
  });

  live(["reservations", "slots"], {
    reset: (data) => {
      for (const k of Object.keys(res)) delete res[k];
      for (const r of data.reservations || []) res[r._id] = r;
      render(); loadTimeline();
    },
    change: (ch) => {
      if (ch.topic === "reservations") {
        // as for orders: a tap's own answer (an Undo's, say) may be newer than what the stream
        // brings late; an older version back on screen would make the next tap a 409
        if (ch.op === "upsert" && olderThan(ch.doc, res[ch.id])) return;
        if (ch.op === "remove") delete res[ch.id]; else res[ch.id] = ch.doc;
        render();
        if (ch.doc && ch.doc.date === day) loadTimeline();
      } else if (ch.topic === "slots" && ch.id.startsWith(day)) {
        loadTimeline();
      }
    },
  });
}

// ---------------------------------------------------------------- messages

const localInput = (date) => {  // a Date as the restaurant's "YYYY-MM-DDTHH:MM"
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
};

function messagesPage() {
  // Call-backs come from the outbound queue, so a message's "queued" survives any re-render.
  let callbacks = {};
  const loadCallbacks = async () => {
    const r = await api("/api/outbound");
    callbacks = {};
    for (const c of (r.ok ? r.data.calls : [])) if (c.message_id) callbacks[c.message_id] = c;
    render();
  };
  const dialog = $("#callback-form");
  const form = dialog.querySelector("form");
  let current = null;
  const schedule = async (at) => {
    const r = await api(`/api/messages/${encodeURIComponent(current._id)}/callback`, at ? { at } : {});
    if (!r.ok) { $("#callback-error").textContent = r.data.error || `Failed (${r.status})`; return; }
    dialog.close();
    callbacks[current._id] = r.data.call; render();
    toast(at ? `Automated call-back to ${current.name} at ${clock(r.data.call.next_try_at)}` : `Automated call-back to ${current.name} queued`);
  };
  $("#callback-now").addEventListener("click", () => schedule(null));
  $("#callback-at").addEventListener("click", () => {
    if (!form.elements.at.value) { $("#callback-error").textContent = "Choose a day and time first."; return; }
    schedule(form.elements.at.value);
  });
  $("#callback-self").addEventListener("click", async () => {
    const m = current;
    dialog.close();
    const r = await write(`/api/messages/${encodeURIComponent(m._id)}/done`, { done: true, version: m._version },
      (cur) => { state.messages[cur._id] = cur; render(); });
    if (r.ok) {
      state.messages[m._id] = r.data.message; render();
      toast(`${m.name}: you are calling back (${phone(m.phone)})`, false, () => reopen(r.data.message));
    }
  });
  $("#callback-close").addEventListener("click", () => dialog.close());
  const ask = (m) => {
    current = m;
    $("#callback-title").textContent = `Call ${m.name} back`;
    $("#callback-who").textContent = `${phone(m.phone)}: “${m.reason}”`;
    $("#callback-error").textContent = "";
    form.elements.at.min = localInput(new Date());
    form.elements.at.value = localInput(new Date(Date.now() + 60 * 60 * 1000)).slice(0, 14) + "00";
    dialog.showModal();
  };
  const reopen = async (m) => {
    const r = await write(`/api/messages/${encodeURIComponent(m._id)}/done`, { done: false, version: m._version },
      (cur) => { state.messages[cur._id] = cur; render(); });
    if (r.ok) { state.messages[m._id] = r.data.message; render(); }
  };
  const render = () => {
    const rows = Object.values(state.messages).sort((a, b) =>
      (a.status === "new" ? 0 : 1) - (b.status === "new" ? 0 : 1) || (b.created_at || "").localeCompare(a.created_at || ""));
    const body = $("#messages tbody"); body.replaceChildren();
    for (const m of rows) {
      const done = m.status !== "new";
      const cb = callbacks[m._id];
      const cbText = cb ? (cb.status === "pending" ? `Call-back queued for ${clock(cb.next_try_at)}` : `Call-back ${cb.status.replace("_", " ")}`) : "";
      body.append(el("tr", { class: done ? "muted" : "", "data-id": m._id, "data-status": m.status },
        el("td", {}, `${dayOf(m.created_at) === today() ? "" : dayName(dayOf(m.created_at)) + " "}${clock(m.created_at)}`),
        el("td", {}, m.name), el("td", {}, el("a", { href: "tel:" + m.phone }, phone(m.phone))), el("td", {}, m.reason,
          cb ? el("div", { class: "meta", "data-callback": cb.status }, cbText) : null),
        el("td", { class: "act" }, el("div", { class: "actions" },
          el("button", { type: "button", class: done ? "" : "primary", "data-action": done ? "reopen" : "done",
            onclick: async () => {
              if (done) return reopen(m);
              const r = await write(`/api/messages/${encodeURIComponent(m._id)}/done`, { done: true, version: m._version },
                (cur) => { state.messages[cur._id] = cur; render(); });
              if (r.ok) {
                state.messages[m._id] = r.data.message; render();
                toast(`Message from ${m.name}: done`, false, () => reopen(r.data.message));
              }
            } }, done ? `Done (${m.handled_by || "?"}) · reopen` : "Mark done"),
          el("button", { type: "button", "data-action": "callback", disabled: cb && cb.status === "pending",
                         onclick: () => ask(m) }, cb && cb.status === "pending" ? "Call back queued" : "Call back…")))));
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 5 }, "No messages.")));
    labelCells($("#messages"));
  };
  loadCallbacks(); setInterval(loadCallbacks, 15000);
  live(["messages"], { reset: render, change: (ch) => { if (ch.topic === "messages") render(); } });
}

// ---------------------------------------------------------------- calls

// What a call was, in the restaurant's words (the agent names stay in the details fold).
const OUTCOME_WORDS = { order: "placed an order", reservation: "booked a table", change: "changed a booking",
  cancel: "cancelled a booking", info: "asked a question", transfer: "was put through to staff",
  message: "left a message", abandoned: "hung up early", kept: "kept their booking", voicemail: "reached voicemail",
  opted_out: "asked not to be called again", no_answer: "did not answer" };
const ENDED_WORDS = { participant_disconnected: "the caller hung up", user_initiated: "the line ended the call",
  task_completed: "the line ended the call", job_shutdown: "the line was restarted during the call",
  error: "a fault on the line ended the call", crashed: "the line stopped during the call" };

function callsPage() {
  const dayInput = $("#day"); const outcome = $("#outcome");
  dayInput.value = today();
  let calls = {};
  // What staff opened stays open when the list is drawn again (a call ending, a filter's answer
  // arriving): a host reading a transcript does not lose it to the next call.
  const opened = new Set(); const folds = new Set();
  const ms = (v) => v === null || v === undefined ? "" : `${Math.round(v)} ms`;
  const made_ = (id) => state.orders[id] ? `order #${state.orders[id].order_number}`
    : /-message-/.test(id) ? "a message" : `booking ${id}`;
  const render = () => {
    const rows = Object.values(calls).sort((a, b) => (b.started_at || "").localeCompare(a.started_at || ""));
    const body = $("#calls tbody"); body.replaceChildren();
    for (const c of rows) {
      const lat = [...(c.turn_latency_ms || [])];
      const sorted = [...lat].sort((a, b) => a - b);
      const p50 = sorted.length ? sorted[Math.ceil(0.5 * sorted.length) - 1] : null;
      const made = (c.ids_created || []).map(made_);
      const story = `${phone(c.caller) || "A caller with no caller ID"} ${OUTCOME_WORDS[c.outcome] || c.outcome || "called"}` +
        (made.length ? ` (${made.join(", ")})` : "") + (ENDED_WORDS[c.close_reason] ? `; ${ENDED_WORDS[c.close_reason]}.` : ".");
      const detail = el("tr", { class: "detail", hidden: !opened.has(c._id) }, el("td", { colspan: 6 },
        el("p", { class: "story" }, story),
        el("div", { class: "transcript" }, (c.transcript || []).map((t) =>
          el("p", { class: t.role }, el("b", {}, t.role === "user" ? "Caller: " : "Line: "), t.text))),
        el("details", { open: folds.has(c._id),
                        ontoggle: (ev) => ev.target.open ? folds.add(c._id) : folds.delete(c._id) },
          el("summary", {}, "Technical details"),
          el("div", { class: "meta" }, `Agents: ${(c.agents_visited || []).join(" → ")} · closed: ${c.close_reason || ""}`),
          el("div", { class: "meta" }, "Per-turn latency: " + (lat.length ? lat.map(ms).join(", ") : "none")))));
      const open = el("button", { type: "button", class: "quiet", "aria-expanded": String(!detail.hidden),
                                  "aria-label": `${clock(c.started_at)}: show the call` }, clock(c.started_at));
      const toggle = (ev) => {
        if (ev && ev.target.closest("a")) return;
        detail.hidden = !detail.hidden; open.setAttribute("aria-expanded", String(!detail.hidden));
        if (detail.hidden) opened.delete(c._id); else opened.add(c._id);
      };
      const row = el("tr", { "data-id": c._id, "data-outcome": c.outcome || "", class: "call", onclick: toggle },
        el("td", {}, open), el("td", {}, phone(c.caller) || "unknown"),
        el("td", {}, el("span", { class: "status" }, OUTCOME_WORDS[c.outcome] || c.outcome)),
        el("td", {}, c.duration_s ? `${Math.round(c.duration_s)} s` : ""),
        el("td", {}, made.join(", ")),
        el("td", {}, lat.length ? `median ${ms(p50)}, max ${ms(sorted[sorted.length - 1])}` : ""));
      body.append(row, detail);
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 6 }, "No calls.")));
    labelCells($("#calls"));
  };
  const matches = (c) => dayOf(c.started_at) === dayInput.value && (!outcome.value || c.outcome === outcome.value);
  // Calls that end while the day's list is being fetched arrive live before the answer, which
  // may not hold them yet: keep them instead of letting the answer wipe them off the screen.
  let arrived = null;
  const newer = (a, b) => !olderThan(a, b);
  const load = async () => {
    arrived = {};
    const r = await api(`/api/calls?day=${dayInput.value}&outcome=${encodeURIComponent(outcome.value)}`);
    const fresh = {};
    for (const c of (r.ok ? r.data.calls : [])) fresh[c._id] = c;
    for (const [id, c] of Object.entries(arrived)) if (matches(c) && newer(c, fresh[id])) fresh[id] = c;
    arrived = null;
    calls = fresh;
    render();
  };
  dayInput.addEventListener("change", load); outcome.addEventListener("change", load);
  const loadOutbound = async () => {
    const r = await api("/api/outbound");
    const body = $("#outbound tbody"); body.replaceChildren();
    for (const c of (r.ok ? r.data.calls : [])) {
      body.append(el("tr", { "data-id": c._id, "data-status": c.status },
        el("td", {}, c.next_try_at ? `${dayOf(c.next_try_at) === today() ? "" : dayName(dayOf(c.next_try_at)) + " "}${clock(c.next_try_at)}` : "-"),
        el("td", {}, phone(c.phone)), el("td", {}, c.reason),
        el("td", {}, el("span", { class: "status" }, c.status)),
        el("td", {}, `${c.attempts}/${c.max_attempts}`), el("td", {}, c.outcome || "")));
    }
    if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: 6 }, "No outbound calls.")));
    labelCells($("#outbound"));
    if (r.ok && r.data.held) body.prepend(el("tr", { class: "held" }, el("td", { colspan: 6, role: "status" }, "Dialer holding calls back: " + r.data.held)));
  };
  loadOutbound(); setInterval(loadOutbound, 15000);
  live(["calls"], {
    reset: load,
    change: (ch) => {
      if (ch.topic !== "calls") return;
      if (ch.op !== "upsert") return;
      if (arrived) arrived[ch.id] = ch.doc;
      if (matches(ch.doc)) { calls[ch.id] = ch.doc; render(); }
    },
  });
}

// ---------------------------------------------------------------- menu

function menuPage() {
  let items = {};
  const render = () => {
    const box = $("#menu"); box.replaceChildren();
    const cats = {};
    for (const i of Object.values(items)) (cats[i.category] = cats[i.category] || []).push(i);
    for (const [cat, list] of Object.entries(cats).sort()) {
      box.append(el("section", { class: "menu-cat" }, el("h2", {}, cat),
        list.sort((a, b) => a.name.localeCompare(b.name)).map((i) => {
          const out = i.available === false;
          return el("div", { class: "menu-item" + (out ? " soldout" : ""), "data-id": i._id, "data-available": String(!out) },
            el("div", {},
              el("b", {}, i.name), " ", money(i.price_cents), out ? el("span", { class: "status cancelled" }, " sold out") : "",
              (i.sizes || []).length ? el("div", { class: "detail" }, "Sizes: " + i.sizes.map((s) =>
                s.name + (s.price_delta_cents ? ` (${s.price_delta_cents > 0 ? "+" : "−"}${money(Math.abs(s.price_delta_cents))})` : "")).join(", ")) : null,
              (i.option_groups || []).map((g) => el("div", { class: "detail" }, `${g.name}: ` + g.options.map((o) =>
                o.name + (o.price_delta_cents ? ` (+${money(o.price_delta_cents)})` : "") + (o.available === false ? " [out]" : "")).join(", ")))),
            el("button", { type: "button", class: out ? "primary" : "warn", "data-action": out ? "available" : "sold-out",
              onclick: async (ev) => {
                ev.target.disabled = true;
                const r = await write(`/api/menu/${encodeURIComponent(i._id)}/availability`, { available: out });
                if (r.ok) toast(`${i.name}: ${out ? "available again" : "sold out"} — calls in progress know now`);
                ev.target.disabled = false;
              } }, out ? "Mark available" : "Mark sold out"));
        })));
    }
  };
  live(["menu"], {
    reset: (data) => { items = {}; for (const i of data.menu || []) items[i._id] = i; render(); },
    change: (ch) => {
      if (ch.topic !== "menu") return;
      if (ch.op === "upsert" && olderThan(ch.doc, items[ch.id])) return;
      if (ch.op === "remove") delete items[ch.id]; else items[ch.id] = ch.doc;
      render();
    },
  });
}

// ---------------------------------------------------------------- numbers

function numbersPage() {
  const palette = ["#1f6f4a", "#e0452b", "#2a4d8f", "#b25b00", "#7a3fa0", "#008b8b", "#8a8a00", "#555"];
  let timer;
  // Boxes first, plots second: each plot is sized to its grid cell once the grid is laid out.
  const pending = [];
  const chart = (title, xs, series, opts = {}) => {
    const box = el("div", { class: "chart", "data-chart": title }, el("h2", {}, title));
    $("#charts").append(box);
    pending.push([box, xs, series, opts]);
  };
  const draw = () => {
    for (const [box, xs, series, opts] of pending.splice(0)) {
      const width = Math.max(260, box.clientWidth - 16);
      /* global uPlot */
      new uPlot({
        width, height: 220,
        scales: { x: opts.hours ? { time: false, range: [0, 23] } : { time: true } },
        axes: [opts.hours ? { incrs: [1, 2, 3, 6], values: (u, v) => v.map((h) => h + ":00") } : {},
               { size: 50 }],
        series: [{ label: opts.hours ? "hour" : "day" }, ...series.map(([label, , color], i) => ({
          label, stroke: color || palette[i % palette.length], width: 2,
          points: { show: true, size: 5 },
          ...(opts.bars ? { paths: uPlot.paths.bars({ size: [0.6, 40] }), fill: (color || palette[i % palette.length]) + "55" } : {}),
        }))],
      }, [xs, ...series.map(([, data]) => data)], box);
    }
  };
  const load = async () => {
    const r = await api("/api/numbers?days=" + $("#days").value);
    if (!r.ok) return;
    const n = r.data;
    const xs = n.days.map((d) => Date.parse(d + "T12:00:00Z") / 1000);
    if ($("#compare")) compare();
    const tot = $("#totals"); tot.replaceChildren();
    const t = n.totals;
    for (const [label, value] of [["calls", t.calls], ["orders", t.orders],
      ...(t.revenue !== undefined ? [["revenue", "$" + t.revenue.toFixed(2)]] : []),
      ["covers", t.covers], ["transfers", t.transfers]]) {
      tot.append(el("div", { "data-total": label }, el("b", {}, value), label));
    }
    $("#charts").replaceChildren();
    const d = n.by_day;
    chart("Calls and orders per day", xs, [["calls", d.calls], ["orders", d.orders]], { bars: false });
    if (d.revenue) chart("Revenue per day ($)", xs, [["revenue", d.revenue]], { bars: true });
    chart("Covers per day", xs, [["covers", d.covers]], { bars: true });
    chart("Outcomes per day", xs, Object.entries(d.outcomes).map(([k, v]) => [k, v]));
    chart("Transfers to staff per day", xs, [["transfers", d.transfers]], { bars: true });
    chart("Answer latency per day (ms)", xs, [["p50", d.latency_p50], ["p95", d.latency_p95]]);
    const h = n.by_hour;
    chart("Calls and orders by hour", n.hours, [["calls", h.calls], ["orders", h.orders]], { hours: true, bars: false });
    chart("Answer latency by hour (ms)", n.hours, [["p50", h.latency_p50], ["p95", h.latency_p95]], { hours: true });
    draw();
    board.charts = document.querySelectorAll(".chart canvas").length;
    if (!board.chartsAt) board.chartsAt = performance.now();
  };
  // an owner's restaurants side by side, the one on screen first marked
  const compare = async () => {
    const r = await api("/api/numbers/compare?days=" + $("#days").value);
    const body = $("#compare tbody"); body.replaceChildren();
    for (const s of (r.ok ? r.data.sites : [])) {
      const t = s.totals;
      body.append(el("tr", { "data-site": s.id, class: s.current ? "current" : "" },
        el("th", { scope: "row" }, s.name, s.current ? el("span", { class: "meta" }, " (on screen)") : null),
        el("td", {}, t.calls), el("td", {}, t.orders), el("td", {}, "$" + t.revenue.toFixed(2)),
        el("td", {}, t.covers), el("td", {}, t.transfers)));
    }
    labelCells($("#compare"));
    board.compared = r.ok ? r.data.sites.length : 0;
  };
  $("#days").addEventListener("change", load);
  live(["calls"], {
    reset: load,
    change: (ch) => { if (ch.topic === "calls" || ch.topic === "orders") { clearTimeout(timer); timer = setTimeout(load, 3000); } },
  });
}

// ---------------------------------------------------------------- staff accounts (owner)

function usersPage() {
  const load = async () => {
    const r = await api("/api/users");
    const body = $("#users tbody"); body.replaceChildren();
    for (const u of (r.ok ? r.data.users : [])) {
      const change = async (patch, what) => {
        const resp = await write(`/api/users/${encodeURIComponent(u.username)}`, patch);
        if (resp.ok) { toast(`${u.username}: ${what}`); load(); }
      };
      body.append(el("tr", { "data-user": u.username, class: u.disabled ? "muted" : "" },
        el("td", {}, u.username), el("td", {}, u.role), el("td", {}, u.disabled ? "disabled" : "active"),
        el("td", { class: "act" }, el("div", { class: "actions" },
          el("button", { type: "button", onclick: () => change({ role: u.role === "owner" ? "staff" : "owner" }, "role changed") },
            u.role === "owner" ? "Make staff" : "Make owner"),
          el("button", { type: "button", class: u.disabled ? "" : "warn", onclick: () => change({ disabled: !u.disabled }, u.disabled ? "enabled" : "disabled") },
            u.disabled ? "Enable" : "Disable"),
          el("button", { type: "button", onclick: () => {
            const p = prompt(`New password for ${u.username} (10+ characters)`);
            if (p) change({ password: p }, "password set; signed out everywhere");
          } }, "Set password")))));
    }
    labelCells($("#users"));
  };
  $("#new-user").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const r = await write("/api/users", { username: f.username.value, password: f.password.value, role: f.role.value });
    if (r.ok) { ev.target.reset(); toast("Account added"); load(); }
  });
  live([], { reset: load });
}

// An owner of several restaurants moves this session to another of them (a write: CSRF token).
if ($("#site")) {
  $("#site").addEventListener("change", async (ev) => {
    const r = await write("/api/site", { site: ev.target.value });
    if (r.ok) location.reload();
  });
}

({ orders: ordersPage, bookings: bookingsPage, messages: messagesPage, calls: callsPage,
   menu: menuPage, numbers: numbersPage, users: usersPage }[D.page] || (() => {}))();
