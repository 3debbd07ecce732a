// The replay dashboard: plain JavaScript, no dependencies, no network beyond this server.
"use strict";

const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999", "#7f3c8d", "#11a579", "#3969ac", "#f2b701"];
const PAGE_SIZE = 100;

function $(id) { return document.getElementById(id); }
function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
async function api(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const res = await fetch(url, init);
  const data = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}
function fmtMs(ms) {
  ms = Number(ms) || 0;
  if (ms < 1000) return `${ms.toFixed(0)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}
function card(label, value) { return `<div class="card"><span class="muted">${esc(label)}</span><b>${esc(value)}</b></div>`; }
function pathAfter(prefix) {
  return location.pathname.slice(prefix.length).split("/").map(decodeURIComponent).join("/");
}
function encodePath(p) { return p.split("/").map(encodeURIComponent).join("/"); }

// ---------- index ----------
async function indexPage() {
  const [recordings, sessions] = await Promise.all([api("GET", "/api/recordings"), api("GET", "/api/sessions")]);
  const ok = recordings.filter(r => !r.error);
  const events = ok.reduce((n, r) => n + (r.total_events || 0), 0);
  const duration = ok.reduce((n, r) => n + (Number(r.duration_ms) || 0), 0);
  $("stats").innerHTML = card("recordings", recordings.length) + card("events", events.toLocaleString("en")) +
    card("total duration", fmtMs(duration)) + card("events / recording", ok.length ? Math.round(events / ok.length) : 0) +
    card("cassettes", sessions.length);
  const body = $("recordings").tBodies[0];
  body.innerHTML = recordings.map(r => r.error
    ? `<tr class="error"><td>${esc(r.filename)}</td><td colspan="5">${esc(r.error)}</td></tr>`
    : `<tr><td><a href="/recording/${encodeURIComponent(r.filename)}">${esc(r.filename)}</a></td><td>${esc(r.session_name)}</td><td>${esc(r.start_time)}</td><td class="num">${(r.total_events || 0).toLocaleString("en")}</td><td class="num">${esc(fmtMs(r.duration_ms))}</td><td class="num">${esc(fmtBytes(r.size_bytes))}</td></tr>`).join("");
  $("recordings-empty").hidden = recordings.length > 0;
  const sbody = $("sessions").tBodies[0];
  sbody.innerHTML = sessions.map(s => s.error
    ? `<tr class="error"><td>${esc(s.path)}</td><td colspan="4">${esc(s.error)}</td></tr>`
    : `<tr${s.errors ? ' class="error"' : ""}><td><a href="/session/${encodePath(s.path)}">${esc(s.path)}</a></td><td class="num">${s.instruments}</td><td class="num">${s.interactions}</td><td class="num">${s.errors}</td><td class="num">${Number(s.duration_s).toFixed(3)} s</td></tr>`).join("");
  $("sessions-empty").hidden = sessions.length > 0;
  const refreshRecord = async () => {
    const st = await api("GET", "/api/record/status");
    $("record-status").textContent = st.active ? `recording “${st.session_name}”: ${st.event_count} events` : "not recording";
  };
  $("record-start").onclick = async () => {
    try { await api("POST", "/api/record/start", { session_name: $("record-name").value || undefined }); } catch (e) { alert(e.message); }
    refreshRecord();
  };
  $("record-stop").onclick = async () => {
    try { const r = await api("POST", "/api/record/stop"); $("record-status").textContent = `saved ${r.filename}`; setTimeout(() => location.reload(), 500); }
    catch (e) { $("record-status").textContent = e.message; }
  };
  refreshRecord();
}

// ---------- recording ----------
function timelineSvg(stats) {
  const W = 1000, H = 160, L = 40, B = 20;
  const bins = stats.bins, series = stats.series;
  const totals = new Array(bins).fill(0);
  series.forEach(s => s.counts.forEach((c, i) => { totals[i] += c; }));
  const max = Math.max(1, ...totals);
  const bw = (W - L) / bins;
  let out = `<svg viewBox="0 0 ${W} ${H + B}" width="100%" height="${H + B}" role="img" aria-label="events over time by name" id="timeline-svg">`;
  out += `<line x1="${L}" y1="0" x2="${L}" y2="${H}" stroke="#888"/><line x1="${L}" y1="${H}" x2="${W}" y2="${H}" stroke="#888"/>`;
  out += `<text x="${L - 4}" y="10" font-size="10" text-anchor="end">${max}</text><text x="${L - 4}" y="${H}" font-size="10" text-anchor="end">0</text>`;
  for (let b = 0; b < bins; b++) {
    let y = H;
    series.forEach((s, i) => {
      const c = s.counts[b];
      if (!c) return;
      const h = H * c / max;
      y -= h;
      out += `<rect x="${(L + b * bw).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(bw - 1, 0.5).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[i % PALETTE.length]}"><title>${esc(s.name)}: ${c} in ${esc(fmtMs(b * stats.bin_ms))} – ${esc(fmtMs((b + 1) * stats.bin_ms))}</title></rect>`;
    });
  }
  out += `<text x="${L}" y="${H + 14}" font-size="10">0</text><text x="${W}" y="${H + 14}" font-size="10" text-anchor="end">${esc(fmtMs(stats.bin_ms * bins))}</text></svg>`;
  return out;
}

async function recordingPage() {
  const file = pathAfter("/recording/");
  const efile = encodeURIComponent(file);
  document.title = `${file} · replay dashboard`;
  $("crumb").textContent = file;
  $("title").textContent = file;
  const state = { offset: 0, total: 0, selected: new Set(), filter: {} };
  const [stats, fields] = await Promise.all([api("GET", `/api/recording/${efile}/stats?bins=80`), api("GET", `/api/recording/${efile}/fields`)]);
  $("stats").innerHTML = card("session", stats.session_name) + card("start", stats.start_time) +
    card("events", stats.total_events.toLocaleString("en")) + card("duration", fmtMs(stats.duration_ms)) +
    card("event names", stats.events.length) + card("sources", stats.sources.length);
  $("timeline").innerHTML = timelineSvg(stats);
  $("legend").innerHTML = stats.series.map((s, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(s.name)}</span>`).join("");
  const maxCount = Math.max(1, ...stats.events.map(e => e.count));
  $("counts").innerHTML = stats.events.slice(0, 50).map(e =>
    `<div data-name="${esc(e.name)}"><span class="label">${esc(e.name)}</span><span class="bar" style="width:${(30 * e.count / maxCount).toFixed(2)}rem"></span><span>${e.count.toLocaleString("en")}</span></div>`).join("");
  $("counts").onclick = ev => {
    const row = ev.target.closest("div[data-name]");
    if (!row) return;
    $("filter-name").value = row.dataset.name;
    applyFilter();
  };
  $("filter-name").innerHTML += fields.event_types.map(n => `<option value="${esc(n)}">${esc(n)}</option>`).join("");
  $("filter-source").innerHTML += fields.sources.map(n => `<option value="${esc(n)}">${esc(n)}</option>`).join("");

  async function load() {
    const q = new URLSearchParams({ limit: PAGE_SIZE, offset: state.offset });
    for (const [k, v] of Object.entries(state.filter)) if (v) q.set(k, v);
    const page = await api("GET", `/api/recording/${efile}/events?${q}`);
    state.total = page.total_events;
    const body = $("events").tBodies[0];
    body.innerHTML = page.events.map(e =>
      `<tr data-index="${e.index}"><td><input type="checkbox" class="pick" ${state.selected.has(e.index) ? "checked" : ""}></td><td class="num">${e.index}</td><td class="num">${esc(fmtMs(e.timestamp_offset_ms))}</td><td>${esc(e.event_name)}</td><td>${esc(e.source)}</td><td class="data" title="${esc(JSON.stringify(e.event_data))}">${esc(JSON.stringify(e.event_data))}</td></tr>`).join("");
    const last = Math.min(state.offset + page.returned_events, state.total);
    $("page-info").textContent = state.total ? `${state.offset + 1}–${last} of ${state.total.toLocaleString("en")}` : "no events match";
    $("prev").disabled = state.offset === 0;
    $("next").disabled = last >= state.total;
    $("select-page").checked = false;
  }
  function applyFilter() {
    state.filter = { event_name: $("filter-name").value, source: $("filter-source").value, q: $("search").value };
    state.offset = 0;
    load();
  }
  function updateSelected() { $("selected-count").textContent = `${state.selected.size} selected`; }
  $("apply").onclick = applyFilter;
  $("filter-name").onchange = applyFilter;
  $("filter-source").onchange = applyFilter;
  $("search").onkeydown = ev => { if (ev.key === "Enter") applyFilter(); };
  $("prev").onclick = () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); load(); };
  $("next").onclick = () => { state.offset += PAGE_SIZE; load(); };
  $("events").onchange = ev => {
    if (ev.target.id === "select-page") {
      for (const box of document.querySelectorAll("#events tbody input.pick")) {
        box.checked = ev.target.checked;
        const i = Number(box.closest("tr").dataset.index);
        if (box.checked) state.selected.add(i); else state.selected.delete(i);
      }
    } else if (ev.target.classList.contains("pick")) {
      const i = Number(ev.target.closest("tr").dataset.index);
      if (ev.target.checked) state.selected.add(i); else state.selected.delete(i);
    }
    updateSelected();
  };
  $("save-selection").onclick = async () => {
    const out = $("save-result");
    if (!state.selected.size) { out.className = "err"; out.textContent = "select events first"; return; }
    try {
      const r = await api("POST", "/api/recording/create", {
        source_filename: file,
        event_indices: [...state.selected].sort((a, b) => a - b),
        new_session_name: $("new-name").value,
      });
      out.className = "ok";
      out.innerHTML = `saved <a id="saved-link" href="/recording/${encodeURIComponent(r.filename)}">${esc(r.filename)}</a> (${r.event_count} events)`;
    } catch (e) { out.className = "err"; out.textContent = e.message; }
  };
  await whatIfPanel(file, efile);
  await load();
  replayControls(file, efile);
}

// The recording's what-if replays (GET …/replays) and, when the server has a handler, a
// form that runs one (POST …/replay) and adds it to the list without reloading.
async function whatIfPanel(file, efile) {
  for (const span of document.querySelectorAll(".whatif-file")) span.textContent = file;
  const show = list => {
    const body = $("whatif").tBodies[0];
    body.innerHTML = list.replays.map(r => {
      const failed = r.status === "failed";
      const status = failed ? `failed: ${r.error || ""}`
        : `ran to the end${r.outcome_events == null ? "" : `, ${r.outcome_events} outcome events`}${r.unchanged === true ? "; outcomes unchanged" : r.unchanged === false ? "; outcomes changed" : ""}`;
      const metrics = (r.metrics_formatted || []).map(m =>
        `<tr><td><code>${esc(m.name)}</code></td><td class="num">${esc(m.original)}</td><td class="num">${esc(m.replayed)}</td><td class="num">${esc(m.change)}</td></tr>`).join("");
      return `<tr data-replay-id="${esc(r.replay_id)}"${failed ? ' class="error"' : ""}>` +
        `<td><code>${esc(r.replay_id)}</code>${r.description ? `<div class="description">${esc(r.description)}</div>` : ""}<div class="muted">${esc(r.created)}</div></td>` +
        `<td><code class="params">${esc(JSON.stringify(r.parameters))}</code></td>` +
        `<td class="status">${esc(status)}${r.outcomes ? `<div class="muted">outcomes: ${esc(r.outcomes)}</div>` : ""}</td>` +
        `<td>${metrics ? `<table class="metrics"><thead><tr><th>metric</th><th class="num">original</th><th class="num">replayed</th><th class="num">change</th></tr></thead><tbody>${metrics}</tbody></table>` : ""}</td></tr>`;
    }).join("");
    $("whatif-unreadable").innerHTML = list.unreadable.map(u =>
      `<li>unreadable result <code>${esc(u.file)}</code>: ${esc(u.error)}</li>`).join("");
    const n = list.replays.length;
    $("whatif").hidden = n === 0;
    $("whatif-empty").hidden = n > 0 || list.unreadable.length > 0;
    $("whatif-summary").textContent = n ? `${n} what-if replay${n === 1 ? "" : "s"} of this recording, oldest first` : "";
    $("whatif-form").hidden = !list.whatif_handler;
    $("whatif-no-handler").hidden = list.whatif_handler;
  };
  const refresh = async () => show(await api("GET", `/api/recording/${efile}/replays`));
  try { await refresh(); } catch (e) {
    $("whatif-summary").className = "err";
    $("whatif-summary").textContent = e.message;
    return;
  }
  $("whatif-form").onsubmit = async ev => {
    ev.preventDefault();
    const out = $("whatif-result");
    let params;
    try { params = JSON.parse($("whatif-params").value.trim() || "{}"); } catch (e) {
      out.className = "err"; out.textContent = `the modified parameters are not JSON: ${e.message}`; return;
    }
    const body = { modified_parameters: params };
    const description = $("whatif-description").value.trim();
    if (description) body.description = description;
    $("whatif-run").disabled = true;
    out.className = "muted"; out.textContent = "running…";
    try {
      const r = await api("POST", `/api/recording/${efile}/replay`, body);
      out.className = r.success ? "ok" : "err";
      out.textContent = r.success ? `saved replay ${r.replay_id}` : `replay ${r.replay_id} failed: ${r.error || ""}`;
      await refresh();
    } catch (e) { out.className = "err"; out.textContent = e.message; }
    finally { $("whatif-run").disabled = false; }
  };
}

function replayControls(file, efile) {
  const live = $("live");
  let shown = 0;
  const showStatus = st => {
    $("replay-status").textContent = st.state === "idle" ? "idle"
      : `${st.state}${st.filename && st.filename !== file ? ` (${st.filename})` : ""}: ${st.current_event} / ${st.total_events} at ${st.speed}x`;
    $("replay-status").dataset.state = st.state;
    $("replay-bar").style.width = `${Math.min(100, st.progress || 0)}%`;
    $("replay-pause").textContent = st.paused ? "Resume" : "Pause";
  };
  const source = new EventSource("/api/replay/stream");
  source.addEventListener("status", ev => showStatus(JSON.parse(ev.data)));
  source.addEventListener("event", ev => {
    const e = JSON.parse(ev.data);
    const line = document.createElement("div");
    line.className = "live-event";
    line.textContent = `#${e.index} ${fmtMs(e.timestamp_offset_ms)} ${e.event_name} ← ${e.source} ${JSON.stringify(e.event_data)}`;
    live.prepend(line);
    shown++;
    while (live.childElementCount > 200) live.lastElementChild.remove(); // bounded DOM
    $("replay-status").dataset.received = String(shown);
  });
  let timer = null;
  const poll = async () => showStatus(await api("GET", "/api/replay/status"));
  $("replay-start").onclick = async () => {
    live.innerHTML = ""; shown = 0;
    try { await api("POST", `/api/replay/start/${efile}`, { speed: Number($("speed").value) }); } catch (e) { $("replay-status").textContent = e.message; return; }
    clearInterval(timer); timer = setInterval(poll, 500);
  };
  $("replay-pause").onclick = async () => { try { await api("POST", "/api/replay/pause"); } catch (e) { $("replay-status").textContent = e.message; } poll(); };
  $("replay-stop").onclick = async () => { await api("POST", "/api/replay/stop"); poll(); };
  $("speed").onchange = async () => { try { await api("POST", "/api/replay/speed", { speed: Number($("speed").value) }); } catch (_) { /* no active replay */ } };
  poll();
}

// ---------- session ----------
function lineSvg(series) {
  const W = 1000, H = 140, L = 10;
  const xs = series.points.map(p => p[0]), ys = series.points.map(p => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1e-9), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sy = y1 > y0 ? y1 - y0 : 1;
  const pts = series.points.map(([x, y]) => `${(L + (W - 2 * L) * (x - x0) / (x1 - x0)).toFixed(1)},${(H - 10 - (H - 20) * (y1 > y0 ? (y - y0) / sy : 0.5)).toFixed(1)}`);
  return `<svg class="plot" viewBox="0 0 ${W} ${H}" width="100%" height="${H}" role="img" aria-label="${esc(series.command)}"><polyline fill="none" stroke="#0072B2" stroke-width="1.5" points="${pts.join(" ")}"/>` +
    pts.map(p => `<circle r="2.5" fill="#0072B2" cx="${p.split(",")[0]}" cy="${p.split(",")[1]}"/>`).slice(0, 500).join("") + `</svg>` +
    `<div class="muted">${esc(series.command)}: ${series.points.length} readings, ${y0} … ${y1}, over ${x0.toFixed(3)} – ${x1.toFixed(3)} s</div>`;
}

async function sessionPage() {
  const path = pathAfter("/session/");
  const epath = encodePath(path);
  document.title = `${path} · replay dashboard`;
  $("crumb").textContent = path;
  $("title").textContent = path;
  const s = await api("GET", `/api/session/${epath}`);
  $("stats").innerHTML = card("instruments", s.instruments.length) + card("interactions", s.interactions) +
    card("recorded errors", s.errors.length) + card("duration", `${Number(s.duration_s).toFixed(3)} s`);
  $("errors").tBodies[0].innerHTML = s.errors.map(e => `<tr class="error"><td>${esc(e.alias)}</td><td class="num">${e.index}</td><td><code>${esc(e.command)}</code></td><td>${esc(e.kind)}: ${esc(e.message)}</td></tr>`).join("");
  $("no-errors").hidden = s.errors.length > 0;
  $("errors").hidden = s.errors.length === 0;
  const box = $("instruments");
  box.innerHTML = s.instruments.map((inst, n) => `<div class="panel instrument" data-alias="${esc(inst.alias)}">
    <h2>${esc(inst.alias)} <span class="muted">${esc(inst.profile || "")} · ${inst.interactions} interactions · ${inst.errors} errors</span></h2>
    ${inst.series.length ? `<h3>Measured values</h3>${inst.series.map(lineSvg).join("")}` : ""}
    <div class="controls"><span class="muted" id="info-${n}"></span><button class="secondary" data-n="${n}" data-dir="-1">◀ prev</button><button class="secondary" data-n="${n}" data-dir="1">next ▶</button></div>
    <table class="log"><thead><tr><th class="num">#</th><th>type</th><th>command</th><th>response</th><th class="num">t (s)</th></tr></thead><tbody id="log-${n}"></tbody></table></div>`).join("");
  const offsets = s.instruments.map(() => 0);
  const render = n => {
    const log = s.instruments[n].log, off = offsets[n];
    const rows = log.slice(off, off + PAGE_SIZE); // never more rows than shown
    $(`log-${n}`).innerHTML = rows.map(i => {
      const resp = i.error ? `${esc(i.error.kind)}: ${esc(i.error.message)}`
        : i.binary_hex ? `<span class="muted">${i.binary_len} bytes</span><pre class="hex">${esc(i.binary_hex)}</pre>`
        : `<code>${esc(i.response ?? "")}</code>`;
      return `<tr${i.error ? ' class="error"' : ""}><td class="num">${i.index}</td><td>${esc(i.type)}</td><td><code>${esc(i.command)}</code></td><td>${resp}</td><td class="num">${Number(i.timestamp).toFixed(3)}</td></tr>`;
    }).join("");
    $(`info-${n}`).textContent = log.length ? `${off + 1}–${Math.min(off + PAGE_SIZE, log.length)} of ${log.length}` : "empty";
  };
  s.instruments.forEach((_, n) => render(n));
  box.onclick = ev => {
    const b = ev.target.closest("button[data-n]");
    if (!b) return;
    const n = Number(b.dataset.n), len = s.instruments[n].log.length;
    offsets[n] = Math.min(Math.max(0, offsets[n] + Number(b.dataset.dir) * PAGE_SIZE), Math.max(0, len - 1));
    render(n);
  };
  $("diff").onclick = async () => {
    const pre = $("diff-text");
    try {
      const d = await api("GET", `/api/session/${epath}/diff?against=${encodeURIComponent($("against").value || "HEAD")}`);
      $("diff-summary").className = d.equal ? "ok" : "err";
      $("diff-summary").textContent = d.summary;
      pre.innerHTML = d.text.split("\n").map(l => {
        const cls = /│-/.test(l) ? "del" : /│\+/.test(l) ? "add" : "";
        return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l);
      }).join("\n");
      pre.hidden = false;
    } catch (e) { $("diff-summary").className = "err"; $("diff-summary").textContent = e.message; pre.hidden = true; }
  };
}

const page = document.body.dataset.page;
const run = page === "index" ? indexPage : page === "recording" ? recordingPage : sessionPage;
run().then(() => { document.body.dataset.ready = "1"; }).catch(e => {
  const p = document.createElement("p");
  p.className = "err"; p.id = "page-error"; p.textContent = e.message;
  document.querySelector("main").prepend(p);
  document.body.dataset.ready = "error";
});
