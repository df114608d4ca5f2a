// The ksml web console. Everything it fetches is relative to the page's own
// host: api/... (the console's JSON API) and /state/... (the application
// server's state queries). `ksml topology --format html` inlines this
// bundle with the graph in window.KSML_GRAPH and no API at all.
import dagre from "@dagrejs/dagre";

const POLL_MS = 1000;
const HISTORY = 60; // samples kept for the sparklines
const SVG = "http://www.w3.org/2000/svg";

const $ = (sel, root = document) => root.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${(await r.text()).trim()}`);
  if (r.status === 204) return null;
  return r.json();
}

// shortName drops the namespace and "pipelines" parts KSML puts in front of
// node names (<ns>_pipelines_<pipeline>_via_step1_mapValues).
// Steps keep only the part after "_via_" (step1_mapValues); the full name
// is in the node's tooltip.
export function shortName(name) {
  const i = name.indexOf("_pipelines_");
  const rest = i >= 0 ? name.slice(i + "_pipelines_".length) : name;
  const v = rest.indexOf("_via_");
  return v >= 0 ? rest.slice(v + "_via_".length) : rest;
}

function fmtRate(r) {
  if (!isFinite(r)) return "–";
  if (r >= 1000) return (r / 1000).toFixed(1) + "k/s";
  return (r >= 10 ? r.toFixed(0) : r.toFixed(1)) + "/s";
}

function fmtMs(ns) {
  if (!isFinite(ns)) return "–";
  const ms = ns / 1e6;
  return (ms >= 10 ? ms.toFixed(0) : ms >= 0.1 ? ms.toFixed(2) : ms.toFixed(3)) + " ms";
}

// ---------------------------------------------------------------- graph

const textWidth = (s) => Math.max(60, s.length * 7 + 20);

// layoutGraph turns the API's graph into positioned boxes and edges.
export function layoutGraph(graph) {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: "TB", nodesep: 16, ranksep: 26, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  // Stream nodes are wide enough for their live figures ("12.3/s · 0 err · 0.123 ms").
  const add = (id, label, kind, extra = {}) =>
    g.setNode(id, { label, kind, width: kind === "topic" || kind === "store" ? textWidth(label) : Math.max(textWidth(label), 150),
      height: kind === "topic" || kind === "store" ? 28 : 40, ...extra });
  const edge = (a, b, kind) => g.setEdge(a, b, { kind }, `${a}->${b}`);
  const topicKinds = new Map(graph.topics.map((t) => [t.name, t.kind]));
  for (const st of graph.subTopologies) {
    const cid = `sub:${st.id}`;
    g.setNode(cid, { label: `Sub-topology ${st.id}`, kind: "cluster" });
    for (const n of st.nodes) {
      const id = `node:${n.name}`;
      add(id, shortName(n.name), n.kind, { name: n.name });
      g.setParent(id, cid);
      for (const c of n.children) edge(id, `node:${c}`, "flow");
      for (const t of n.topics) {
        const tid = `topic:${t}`;
        if (!g.hasNode(tid)) add(tid, shortName(t), "topic", { topicKind: topicKinds.get(t) || "topic", name: t });
        if (n.kind === "source") edge(tid, id, "flow");
        else edge(id, tid, "flow");
      }
      for (const s of n.stores) {
        const sid = `store:${s}`;
        if (!g.hasNode(sid)) add(sid, s, "store", { name: s });
        g.setParent(sid, cid);
        edge(id, sid, "store");
      }
    }
  }
  for (const s of graph.stores) {
    const sid = `store:${s.name}`;
    if (!g.hasNode(sid)) add(sid, s.name, "store", { name: s.name });
    if (s.changelog) {
      const tid = `topic:${s.changelog}`;
      if (!g.hasNode(tid)) add(tid, shortName(s.changelog), "topic", { topicKind: "changelog", name: s.changelog });
      edge(sid, tid, "changelog");
    }
  }
  dagre.layout(g);
  return g;
}

// renderGraph draws the laid out graph into container and returns a map
// from node name to the text element that shows its live figures.
export function renderGraph(container, graph) {
  const g = layoutGraph(graph);
  const { width, height } = g.graph();
  // The graph takes up to 55% of the window beside the tables (all of it
  // on a standalone page or a narrow window), shrunk down to two thirds of
  // its natural size at most; wider graphs scroll.
  const room = document.body.classList.contains("standalone") || window.innerWidth < 1100 ? 0.95 : 0.55;
  const scale = Math.max(0.66, Math.min(1, (window.innerWidth * room) / width));
  const root = svg("svg", { class: "graph", viewBox: `0 0 ${width} ${height}`, width: width * scale, height: height * scale, role: "img", "aria-label": "topology" });
  const defs = svg("defs");
  const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }));
  defs.append(marker);
  root.append(defs);
  const live = new Map();
  for (const id of g.nodes()) {
    const n = g.node(id);
    if (n.kind !== "cluster") continue;
    const grp = svg("g", { class: "cluster" });
    grp.append(svg("rect", { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height, rx: 8 }));
    const t = svg("text", { x: n.x - n.width / 2 + 8, y: n.y - n.height / 2 + 13 });
    t.textContent = n.label;
    grp.append(t);
    root.append(grp);
  }
  for (const e of g.edges()) {
    const ed = g.edge(e);
    const d = ed.points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
    root.append(svg("path", { d, class: `edge edge-${ed.kind}`, "marker-end": ed.kind === "store" ? "" : "url(#arrow)" }));
  }
  for (const id of g.nodes()) {
    const n = g.node(id);
    if (n.kind === "cluster") continue;
    const x = n.x - n.width / 2, y = n.y - n.height / 2;
    const kindClass = n.kind === "topic" ? `topic topic-${n.topicKind}` : n.kind;
    const grp = svg("g", { class: `node ${kindClass}`, "data-name": n.name, "data-kind": n.kind });
    const title = svg("title");
    title.textContent = n.kind === "topic" ? `topic ${n.name} (${n.topicKind})` : `${n.kind} ${n.name}`;
    grp.append(title);
    grp.append(svg("rect", { x, y, width: n.width, height: n.height, rx: n.kind === "topic" ? 15 : n.kind === "store" ? 3 : 6 }));
    const label = svg("text", { x: n.x, y: n.kind === "topic" || n.kind === "store" ? n.y + 4 : n.y - 3, class: "label" });
    label.textContent = n.label;
    grp.append(label);
    if (n.kind === "source" || n.kind === "processor" || n.kind === "sink") {
      const fig = svg("text", { x: n.x, y: n.y + 13, class: "figures" });
      fig.textContent = "";
      grp.append(fig);
      live.set(n.name, { fig, grp });
    }
    root.append(grp);
  }
  container.replaceChildren(root);
  return live;
}

// ------------------------------------------------------------ sparkline

function sparkline(values, w = 90, h = 20) {
  const s = svg("svg", { class: "spark", width: w, height: h, viewBox: `0 0 ${w} ${h}` });
  if (values.length < 2) return s;
  const max = Math.max(1, ...values);
  const step = w / (HISTORY - 1);
  const off = w - (values.length - 1) * step;
  const d = values.map((v, i) => `${i ? "L" : "M"}${(off + i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join(" ");
  s.append(svg("path", { d }));
  return s;
}

// ------------------------------------------------------------ the app

class Console {
  constructor() {
    this.prev = null; // previous metrics snapshot
    this.history = new Map(); // series key -> recent rates
    this.graphLive = new Map();
    this.overview = null;
    this.graph = null;
    this.selectedTopic = null;
  }

  async start() {
    try {
      this.overview = await getJSON("api/overview");
    } catch (e) {
      $("#status").textContent = "cannot reach the console API: " + e.message;
      return;
    }
    $("#app-id").textContent = this.overview.applicationId || "embedded broker";
    document.title = `ksml console: ${this.overview.applicationId || "topics"}`;
    if (this.overview.topology) {
      this.graph = await getJSON("api/topology");
      this.graphLive = renderGraph($("#graph"), this.graph);
      this.renderStores();
    } else {
      // `ksml broker --console`: no application, only its topics.
      for (const id of ["#topology-section", "#pipelines-section", "#flows-section", "#stores-section"]) $(id).hidden = true;
    }
    if (!this.overview.topics) $("#browser-section").hidden = true;
    this.showStatus(this.overview.status);
    await this.poll();
    setInterval(() => this.poll(), POLL_MS);
    if (this.overview.topics) {
      await this.refreshTopics();
      setInterval(() => this.refreshTopics(), 5 * POLL_MS);
    }
  }

  showStatus(s) {
    const box = $("#status");
    box.replaceChildren();
    if (!s) return;
    const badge = (text, cls) => el("span", { class: `badge ${cls}` }, text);
    const cls = (st) => (/FAILED|ERROR/.test(st) ? "bad" : /RUNNING|STARTED/.test(st) ? "good" : "warn");
    box.append(badge(`runner ${s.state}`, cls(s.state)));
    if (s.streams) box.append(badge(`streams ${s.streams}`, cls(s.streams)));
    box.append(badge(s.live ? "live" : "not live", s.live ? "good" : "bad"));
    box.append(badge(s.ready ? "ready" : "not ready", s.ready ? "good" : "warn"));
    if (s.error) box.append(el("span", { class: "error-text" }, s.error));
  }

  push(key, v) {
    let h = this.history.get(key);
    if (!h) this.history.set(key, (h = []));
    h.push(v);
    if (h.length > HISTORY) h.shift();
    return h;
  }

  async poll() {
    let m;
    try {
      m = await getJSON("api/metrics");
    } catch (e) {
      $("#status").replaceChildren(el("span", { class: "badge bad" }, "disconnected"), el("span", { class: "error-text" }, e.message));
      return;
    }
    this.showStatus(m.status);
    const prev = this.prev;
    this.prev = m;
    const dt = prev ? (m.time - prev.time) / 1000 : 0;
    const before = (list, key, name) => (prev ? prev[list].find((x) => x[key] === name) : undefined);
    for (const n of m.nodes) {
      const live = this.graphLive.get(n.name);
      const p = before("nodes", "name", n.name);
      const rate = p && dt > 0 ? (n.records - p.records) / dt : NaN;
      const lat = p && n.sampled > p.sampled ? (n.sampledNanos - p.sampledNanos) / (n.sampled - p.sampled) : n.sampled ? n.sampledNanos / n.sampled : NaN;
      if (live) {
        live.fig.textContent = `${fmtRate(rate)} · ${n.errors} err · ${fmtMs(lat)}`;
        live.grp.classList.toggle("failing", n.errors > 0);
        live.grp.classList.toggle("active", rate > 0);
        live.grp.dataset.records = n.records;
      }
    }
    this.renderTopicFlows(m, prev, dt);
    if (this.overview.topology) this.renderPipelines(m, prev, dt);
  }

  rateOf(m, prev, dt, topic, field) {
    const c = m.topics.find((t) => t.topic === topic);
    const p = prev && prev.topics.find((t) => t.topic === topic);
    return { total: c ? c[field] : 0, rate: c && p && dt > 0 ? (c[field] - p[field]) / dt : c && dt > 0 ? c[field] / dt : 0 };
  }

  renderTopicFlows(m, prev, dt) {
    const body = $("#flows tbody");
    body.replaceChildren();
    const lagBy = new Map();
    for (const l of m.lag) {
      if (!lagBy.has(l.topic)) lagBy.set(l.topic, []);
      lagBy.get(l.topic).push(l);
    }
    for (const t of m.topics) {
      const p = prev && prev.topics.find((x) => x.topic === t.topic);
      const inRate = p && dt > 0 ? (t.consumed - p.consumed) / dt : 0;
      const outRate = p && dt > 0 ? (t.produced - p.produced) / dt : 0;
      const hist = this.push(`topic:${t.topic}`, inRate + outRate);
      const lags = (lagBy.get(t.topic) || []).map((l) => `p${l.partition}: ${l.lag}`).join(", ");
      body.append(
        el("tr", { "data-topic": t.topic },
          el("td", {}, el("a", { href: "#browser-section", onclick: () => this.browse(t.topic) }, t.topic)),
          el("td", { class: "num" }, t.consumed), el("td", { class: "num" }, fmtRate(inRate)),
          el("td", { class: "num" }, t.produced), el("td", { class: "num" }, fmtRate(outRate)),
          el("td", { class: t.failed ? "num bad" : "num" }, t.failed),
          el("td", {}, lags || "–"),
          el("td", {}, sparkline(hist)))
      );
    }
  }

  renderPipelines(m, prev, dt) {
    const body = $("#pipelines tbody");
    body.replaceChildren();
    for (const p of this.overview.pipelines) {
      let inN = 0, outN = 0, inR = 0, outR = 0, failed = 0;
      for (const t of p.from) { const r = this.rateOf(m, prev, dt, t, "consumed"); inN += r.total; inR += r.rate; failed += (m.topics.find((x) => x.topic === t) || {}).failed || 0; }
      for (const t of p.to) { const r = this.rateOf(m, prev, dt, t, "produced"); outN += r.total; outR += r.rate; }
      const hist = this.push(`pipeline:${p.namespace}/${p.name}`, inR);
      body.append(el("tr", {},
        el("td", {}, `${p.namespace}/${p.name}`), el("td", {}, p.from.join(", ") || "–"), el("td", {}, p.to.join(", ") || "–"),
        el("td", { class: "num" }, inN), el("td", { class: "num" }, fmtRate(inR)),
        el("td", { class: "num" }, outN), el("td", { class: "num" }, fmtRate(outR)),
        el("td", { class: failed ? "num bad" : "num" }, failed), el("td", {}, sparkline(hist))));
    }
  }

  async refreshTopics() {
    let topics;
    try {
      topics = await getJSON("api/topics");
    } catch (e) {
      $("#topics-error").textContent = e.message;
      return;
    }
    $("#topics-error").textContent = "";
    const sel = $("#topic-select");
    const current = this.selectedTopic || sel.value;
    sel.replaceChildren(el("option", { value: "" }, "choose a topic"));
    for (const t of topics) {
      const o = el("option", { value: t.name }, `${t.name} (${t.kind}, ${t.partitions} partitions, ${t.records} records)`);
      if (t.name === current) o.selected = true;
      sel.append(o);
    }
    if (current) await this.loadRecords(current);
  }

  browse(topic) {
    this.selectedTopic = topic;
    $("#topic-select").value = topic;
    this.loadRecords(topic);
  }

  async loadRecords(topic) {
    const body = $("#records tbody");
    let res;
    try {
      res = await getJSON(`api/topics/${encodeURIComponent(topic)}/records?limit=${$("#limit").value}`);
    } catch (e) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "bad" }, e.message)));
      return;
    }
    if (topic !== this.selectedTopic) return;
    body.replaceChildren();
    $("#records-title").textContent = `${res.records.length} latest records of ${res.topic}`;
    for (const r of res.records) {
      const headers = r.headers.filter((h) => !h.key.startsWith("ksml.error.")).map((h) => `${h.key}=${h.value}`).join("\n");
      const row = el("tr", { class: r.error ? "dead-letter" : "" },
        el("td", { class: "num" }, r.partition), el("td", { class: "num" }, r.offset),
        el("td", {}, new Date(r.timestamp).toISOString()),
        el("td", {}, el("code", { title: r.keyFormat }, JSON.stringify(r.key))),
        el("td", {}, el("code", { title: r.valueFormat }, JSON.stringify(r.value))),
        el("td", {}, el("pre", {}, headers)),
        el("td", {}, r.error ? el("div", { class: "reason" },
          el("strong", {}, `${r.error.handler || "error"}: `), r.error.message || "",
          el("div", { class: "where" }, [r.error.node && `node ${r.error.node}`, r.error.topic && `from ${r.error.topic}[${r.error.partition}]@${r.error.offset}`].filter(Boolean).join(" · "))) : ""));
      body.append(row);
    }
  }

  renderStores() {
    const list = $("#store-list");
    list.replaceChildren();
    if (!this.graph.stores.length) list.append(el("p", {}, "The topology has no state stores."));
    for (const s of this.graph.stores) {
      const queryable = this.overview.stateQueries && (s.kind === "keyValue" || s.kind === "window");
      const b = el("button", { class: "store", "data-store": s.name, onclick: () => this.loadStore(s) }, `${s.name} (${s.kind})`);
      if (!queryable) {
        b.disabled = true;
        b.title = s.kind === "session" ? "session stores have no state query" : "the application server's state queries are off";
      }
      list.append(b);
    }
  }

  async loadStore(s) {
    const kind = s.kind === "window" ? "windowed" : "keyValue";
    const out = $("#store-entries");
    try {
      const entries = await getJSON(`/state/${kind}/${encodeURIComponent(s.name)}/all`);
      const rows = (entries || []).map((e) => el("tr", {},
        el("td", {}, el("code", {}, JSON.stringify(e.key))),
        el("td", {}, e.window ? `${e.window.startTime} – ${e.window.endTime}` : ""),
        el("td", {}, el("code", {}, JSON.stringify(e.value)))));
      out.replaceChildren(el("h3", {}, `${s.name}: ${rows.length} ${rows.length === 1 ? "entry" : "entries"}`),
        el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "key"), el("th", {}, "window"), el("th", {}, "value"))), el("tbody", {}, ...rows)));
    } catch (e) {
      out.replaceChildren(el("p", { class: "bad" }, e.message));
    }
  }
}

function main() {
  if (window.KSML_GRAPH) {
    // A standalone page from `ksml topology --format html`: the graph only.
    document.body.classList.add("standalone");
    $("#app-id").textContent = window.KSML_GRAPH.applicationId;
    renderGraph($("#graph"), window.KSML_GRAPH);
    return;
  }
  const app = new Console();
  $("#topic-select").addEventListener("change", (e) => e.target.value && app.browse(e.target.value));
  $("#limit").addEventListener("change", () => app.selectedTopic && app.loadRecords(app.selectedTopic));
  app.start();
}

main();
