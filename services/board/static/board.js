// The staff board's pages. No framework: the page shell comes from the server, the data from
// one EventSource (/events) that starts with the current state and then carries each change
// Firestore's listeners see. Everything shown is built with textContent (no HTML injection
// from a caller's words). Writes send the version shown; a 409 means another tablet was first.
"use strict";

const D = document.body.dataset;
const TZ = D.tz || undefined;
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

let toastTimer;
function toast(msg, bad = false) {
  const t = $("#toast");
  t.textContent = msg; t.className = bad ? "bad" : ""; t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, bad ? 7000 : 3000);
}

const money = (cents) => "$" + (cents / 100).toFixed(2);
const clock = (iso) => iso ? new Intl.DateTimeFormat(undefined, {
  hour: "2-digit", minute: "2-digit", timeZone: TZ }).format(new Date(iso)) : "";
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
// Browsers start audio only after a tap on the page: after a reload with the sound on, the
// first tap anywhere (staff touch the screen all day) wakes the chime up again.
document.addEventListener("pointerdown", () => {
  if (sound.on) { sound.ctx = sound.ctx || new AudioContext(); sound.ctx.resume(); }
}, { once: true });
  if (sound.on) { sound.ctx = sound.ctx || new AudioContext(); sound.ctx.resume(); sound.beep(); }
});
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
    source.onerror = () => {
      $("#live").textContent = "reconnecting"; $("#live").className = "live off";
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    };
  };
  connect();
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

function ordersPage() {
  const fresh = new Set();
  const columns = { confirmed: "#col-new", pending_staff_confirmation: "#col-new",
                    preparing: "#col-preparing", ready: "#col-ready" };
  const render = () => {
    for (const sel of ["#col-new", "#col-preparing", "#col-ready", "#col-done"]) $(sel).replaceChildren();
    const list = Object.values(state.orders).sort((a, b) => (a.pickup_time || "").localeCompare(b.pickup_time || ""));
    const t = today();
    for (const o of list) {
      const col = columns[o.status];
      if (col) $(col).append(orderCard(o));
      else if (dayOf(o.updated_at || o.created_at) === t) $("#col-done").prepend(orderCard(o));
    }
  };
  const orderCard = (o) => {
    const move = (status, label, cls) => el("button", { class: cls, type: "button", "data-action": status,
      onclick: async (ev) => {
        let reason = "";
        if (status === "cancelled") {
          reason = prompt(`Why is order #${o.order_number} cancelled?`) || "";
          if (!reason.trim()) return;
        }
        ev.target.disabled = true;
        const r = await write(`/api/orders/${encodeURIComponent(o._id)}/status`,
          { status, version: o._version, reason }, (cur) => { state.orders[cur._id] = cur; render(); });
        if (r.ok) { state.orders[o._id] = r.data.order; render(); }
        ev.target.disabled = false;
      } }, label);
    const actions = {
      confirmed: [move("preparing", "Start", "primary"), move("ready", "Ready"), move("cancelled", "Cancel…", "warn")],
      pending_staff_confirmation: [move("confirmed", "Confirm", "primary"), move("cancelled", "Cancel…", "warn")],
      preparing: [move("ready", "Ready", "primary"), move("confirmed", "Back"), move("cancelled", "Cancel…", "warn")],
      ready: [move("collected", "Picked up", "primary"), move("preparing", "Back"), move("cancelled", "Cancel…", "warn")],
      collected: [move("ready", "Undo pick-up")],
      cancelled: [],
    }[o.status] || [];
    const card = el("article", { class: `card s-${o.status}` + (fresh.has(o._id) ? " fresh" : ""),
                                 "data-id": o._id, "data-status": o.status },
      el("div", { class: "head" }, el("span", {}, "#" + o.order_number), el("span", {}, "pickup " + clock(o.pickup_time))),
      el("div", { class: "meta" }, `${o.customer_name} · ${phone(o.customer_phone)} · placed ${clock(o.created_at)}`),
      el("ul", {}, (o.lines || []).map((l) => el("li", {},
        el("b", {}, `${l.quantity} × ${l.name}`), l.size_name ? ` (${l.size_name})` : "",
        (l.options || []).length ? el("div", { class: "opt" }, (l.options || []).map((x) => x.name).join(", ")) : null,
        l.special_instructions ? el("div", { class: "instr" }, "“" + l.special_instructions + "”") : null))),
      o.notes ? el("div", { class: "instr" }, "Note: " + o.notes) : null,
      o.status === "cancelled" ? el("div", { class: "instr" }, "Cancelled: " + (o.cancel_reason || "")) : null,
      el("div", { class: "meta" }, el("b", {}, money(o.total_cents)), " at pickup",
        o.status === "collected" || o.status === "cancelled" ? ` · ${o.status === "collected" ? "picked up" : "cancelled"} by ${o.updated_by || "?"}` : ""),
      el("div", { class: "actions" }, ...actions,
        el("a", { href: `/orders/${encodeURIComponent(o._id)}/ticket?print=1`, target: "_blank", class: "ticket" }, "Ticket")));
    if (!(o._id in board.seen)) board.seen[o._id] = Date.now();
    return card;
  };
  live(["orders"], {
    reset: () => render(),
    change: (ch) => {
      if (ch.topic !== "orders") return;
      if (ch.op === "upsert" && NEW_ORDER.has(ch.doc.status) && !fresh.has(ch.id)) {
        fresh.add(ch.id); setTimeout(() => fresh.delete(ch.id), 5000);
      }
      render();
    },
  });
}

// ---------------------------------------------------------------- bookings

function bookingsPage() {
  const res = {};
  let day = today();
  const dayInput = $("#day");
  dayInput.value = day;
  const label = { confirmed: "booked", changed: "booked", seated: "seated", finished: "finished",
                  no_show: "no-show", cancelled: "cancelled" };
  const loadTimeline = async () => {
    const r = await api("/api/timeline?day=" + day);
    if (!r.ok) return;
    const box = $("#timeline"); box.replaceChildren();
    if (!r.data.slots.length) box.append(el("p", {}, "Closed this day."));
    for (const s of r.data.slots) {
      const pct = Math.min(100, Math.round((100 * s.used) / r.data.capacity));
      box.append(el("div", { class: "slot" + (pct >= 100 ? " full" : pct >= 75 ? " busy" : ""),
                             title: `${s.time}: ${s.used} of ${r.data.capacity} seats` },
        el("small", {}, `${s.used}/${r.data.capacity}`),
        el("div", { class: "fill", style: `height:${pct}%` }), el("span", {}, s.time)));
    }
  };
  const render = () => {
    const upcoming = $("#upcoming").checked;
    const last = upcoming ? addDays(day, 6) : day;
    const rows = Object.values(res).filter((r) => r.date >= day && r.date <= last)
      .sort((a, b) => (a.date + a.time).localeCompare(b.date + b.time));
    const body = $("#bookings tbody"); body.replaceChildren();
    for (const r of rows) {
      const act = (status, text, cls) => el("button", { type: "button", class: cls, "data-action": status,
        onclick: async () => {
          let resp;
          if (status === "cancel") {
            if (!confirm(`Cancel the booking for ${r.name}, ${r.party_size} at ${r.time.slice(0, 5)}?`)) return;
            resp = await write(`/api/bookings/${r.code}/cancel`, { version: r._version }, conflict);
          } else if (status === "change") {
            return openForm(r);
          } else {
            resp = await write(`/api/bookings/${r.code}/status`, { status, version: r._version }, conflict);
          }
          if (resp && resp.ok) { res[r.code] = resp.data.reservation; render(); }
        } }, text);
      const actions = {
        confirmed: [act("seated", "Seated", "primary"), act("no_show", "No-show"), act("change", "Change"), act("cancel", "Cancel", "warn")],
        changed: [act("seated", "Seated", "primary"), act("no_show", "No-show"), act("change", "Change"), act("cancel", "Cancel", "warn")],
        seated: [act("finished", "Finished", "primary")],
        no_show: [act("seated", "Seated")],
      }[r.status] || [];
      body.append(el("tr", { "data-code": r.code, "data-status": r.status,
                             class: ["cancelled", "finished", "no_show"].includes(r.status) ? "muted" : "" },
        el("td", {}, (upcoming ? r.date + " " : "") + r.time.slice(0, 5),
          (r.tables || []).length ? el("div", { class: "meta" }, "table " + r.tables.join("+")) : null),
        el("td", {}, r.party_size), el("td", {}, r.name), el("td", {}, phone(r.phone)),
        el("td", {}, r.notes || ""), el("td", {}, el("span", { class: "status " + r.status }, label[r.status] || r.status)),
        el("td", {}, el("div", { class: "actions" }, actions))));
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 7 }, "No bookings.")));
  };
  const conflict = (cur) => { if (cur && cur.code) { /* the listener brings the new version */ } render(); };
  const setDay = (d) => { day = d; dayInput.value = d; render(); loadTimeline(); };
  dayInput.addEventListener("change", () => setDay(dayInput.value || today()));
  $("#prev-day").addEventListener("click", () => setDay(addDays(day, -1)));
  $("#next-day").addEventListener("click", () => setDay(addDays(day, 1)));
  $("#upcoming").addEventListener("change", render);

  const dialog = $("#booking-form");
  const form = dialog.querySelector("form");
  let editing = null;
  const fillTimes = async (d, keep) => {
    const r = await api("/api/timeline?day=" + d);
    const sel = form.elements.time; sel.replaceChildren();
    for (const s of (r.ok ? r.data.slots : [])) {
      sel.append(el("option", { value: s.time }, `${s.time} (${r.data.capacity - s.used} free)`));
    }
    if (keep) sel.value = keep;
  };
  const openForm = async (r) => {
    editing = r || null;
    $("#booking-form-title").textContent = r ? `Change ${r.name}'s booking` : "New booking";
    for (const n of dialog.querySelectorAll(".new-only")) n.hidden = !!r;
    form.elements.date.value = r ? r.date : day;
    form.elements.party.value = r ? r.party_size : 2;
    for (const f of ["name", "phone", "notes"]) form.elements[f].value = "";
    $("#booking-error").textContent = "";
    await fillTimes(form.elements.date.value, r ? r.time.slice(0, 5) : null);
    dialog.showModal();
  };
  form.elements.date.addEventListener("change", () => fillTimes(form.elements.date.value));
  $("#add-booking").addEventListener("click", () => openForm(null));
  $("#booking-close").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const body = { date: f.date.value, time: f.time.value, party: Number(f.party.value) };
    let r;
    if (editing) {
      r = await api(`/api/bookings/${editing.code}/change`, { ...body, version: editing._version });
    } else {
      r = await api("/api/bookings", { ...body, name: f.name.value, phone: f.phone.value, notes: f.notes.value });
    }
    if (r.ok) {
      dialog.close();
      toast(editing ? "Booking changed" : `Booked: code ${r.data.code}`);
      if (r.data.status === "queued") toast("Saved offline; it will be confirmed when the database is back", true);
    } else {
      $("#booking-error").textContent = r.data.error || `Failed (${r.status})`;
      if (r.status === 409 && editing && r.data.current) editing = null;
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
        if (ch.op === "remove") delete res[ch.id]; else res[ch.id] = ch.doc;
        render();
      } else if (ch.topic === "slots" && ch.id.startsWith(day)) {
        loadTimeline();
      }
    },
  });
}

// ---------------------------------------------------------------- messages

function messagesPage() {
  const render = () => {
    const rows = Object.values(state.messages).sort((a, b) =>
      (a.status === "new" ? 0 : 1) - (b.status === "new" ? 0 : 1) || (b.created_at || "").localeCompare(a.created_at || ""));
    const body = $("#messages tbody"); body.replaceChildren();
    for (const m of rows) {
      const done = m.status !== "new";
      body.append(el("tr", { class: done ? "muted" : "", "data-id": m._id, "data-status": m.status },
        el("td", {}, `${dayOf(m.created_at) === today() ? "" : dayOf(m.created_at) + " "}${clock(m.created_at)}`),
        el("td", {}, m.name), el("td", {}, el("a", { href: "tel:" + m.phone }, phone(m.phone))), el("td", {}, m.reason),
        el("td", {}, el("button", { type: "button", class: done ? "" : "primary", "data-action": done ? "reopen" : "done",
          onclick: async () => {
            const r = await write(`/api/messages/${encodeURIComponent(m._id)}/done`, { done: !done, version: m._version },
              (cur) => { state.messages[cur._id] = cur; render(); });
            if (r.ok) { state.messages[m._id] = r.data.message; render(); }
          } }, done ? `Done (${m.handled_by || "?"}) · reopen` : "Mark done"),
          el("button", { type: "button", "data-action": "callback", onclick: async (ev) => {
            const r = await write(`/api/messages/${encodeURIComponent(m._id)}/callback`, {});
            if (r.ok) { ev.target.textContent = "Call back queued"; ev.target.disabled = true; }
          } }, "Call back"))));
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 5 }, "No messages.")));
  };
  live(["messages"], { reset: render, change: (ch) => { if (ch.topic === "messages") render(); } });
}

// ---------------------------------------------------------------- calls

function callsPage() {
  const dayInput = $("#day"); const outcome = $("#outcome");
  dayInput.value = today();
  let calls = {};
  const ms = (v) => v === null || v === undefined ? "" : `${Math.round(v)} ms`;
  const render = () => {
    const rows = Object.values(calls).sort((a, b) => (b.started_at || "").localeCompare(a.started_at || ""));
    const body = $("#calls tbody"); body.replaceChildren();
    for (const c of rows) {
      const lat = [...(c.turn_latency_ms || [])];
      const sorted = [...lat].sort((a, b) => a - b);
      const p50 = sorted.length ? sorted[Math.ceil(0.5 * sorted.length) - 1] : null;
      const detail = el("tr", { class: "detail", hidden: true }, el("td", { colspan: 6 },
        el("div", { class: "meta" }, `Agents: ${(c.agents_visited || []).join(" → ")} · closed: ${c.close_reason || ""}`),
        el("div", { class: "meta" }, "Per-turn latency: " + (lat.length ? lat.map(ms).join(", ") : "none")),
        el("div", { class: "transcript" }, (c.transcript || []).map((t) =>
          el("p", { class: t.role }, el("b", {}, t.role === "user" ? "Caller: " : "Agent: "), t.text)))));
      body.append(el("tr", { "data-id": c._id, class: "call", onclick: () => { detail.hidden = !detail.hidden; } },
        el("td", {}, clock(c.started_at)), el("td", {}, phone(c.caller) || "unknown"),
        el("td", {}, el("span", { class: "status" }, c.outcome)),
        el("td", {}, c.duration_s ? `${Math.round(c.duration_s)} s` : ""),
        el("td", {}, (c.ids_created || []).map((id) => state.orders[id]
          ? `order #${state.orders[id].order_number}` : /-message-/.test(id) ? "message" : `booking ${id}`).join(", ")),
        el("td", {}, lat.length ? `median ${ms(p50)}, max ${ms(sorted[sorted.length - 1])}` : "")), detail);
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 6 }, "No calls.")));
  };
  const matches = (c) => dayOf(c.started_at) === dayInput.value && (!outcome.value || c.outcome === outcome.value);
  // Calls that end while the day's list is being fetched arrive live before the answer, which
  // may not hold them yet: keep them instead of letting the answer wipe them off the screen.
  let arrived = null;
  const newer = (a, b) => !b || (a._version || "") >= (b._version || "");
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
        el("td", {}, c.next_try_at ? `${dayOf(c.next_try_at)} ${clock(c.next_try_at)}` : "-"),
        el("td", {}, phone(c.phone)), el("td", {}, c.reason),
        el("td", {}, el("span", { class: "status" }, c.status)),
        el("td", {}, `${c.attempts}/${c.max_attempts}`), el("td", {}, c.outcome || "")));
    }
    if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: 6 }, "No outbound calls.")));
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
    const box = el("div", { class: "chart", "data-chart": title }, el("h3", {}, title));
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
        el("td", {}, el("div", { class: "actions" },
          el("button", { type: "button", onclick: () => change({ role: u.role === "owner" ? "staff" : "owner" }, "role changed") },
            u.role === "owner" ? "Make staff" : "Make owner"),
          el("button", { type: "button", class: u.disabled ? "" : "warn", onclick: () => change({ disabled: !u.disabled }, u.disabled ? "enabled" : "disabled") },
            u.disabled ? "Enable" : "Disable"),
          el("button", { type: "button", onclick: () => {
            const p = prompt(`New password for ${u.username} (10+ characters)`);
            if (p) change({ password: p }, "password set; signed out everywhere");
          } }, "Set password")))));
    }
  };
  $("#new-user").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const r = await write("/api/users", { username: f.username.value, password: f.password.value, role: f.role.value });
    if (r.ok) { ev.target.reset(); toast("Account added"); load(); }
  });
  live([], { reset: load });
}

({ orders: ordersPage, bookings: bookingsPage, messages: messagesPage, calls: callsPage,
   menu: menuPage, numbers: numbersPage, users: usersPage }[D.page] || (() => {}))();
