/* ricecoder-otel dashboards: renders a snapshot (inlined JSON) with uPlot; live pages follow an
 * EventSource. Every string from the store or the document is set with textContent, never as HTML. */
(function () {
  "use strict";
  var COLORS = ["#3274d9", "#e0752d", "#37872d", "#c4162a", "#8f3bb8", "#fa6400", "#1f60c4", "#56a64b"];
  var THRESHOLD = { green: "#37872d", yellow: "#e0b400", orange: "#fa6400", red: "#c4162a", blue: "#3274d9", grey: "#8e8e8e" };
  var RANGES = ["15m", "1h", "6h", "24h", "7d"];
  var state = { snapshot: null, charts: {}, updates: 0, errors: [] };
  window.ricecoderDashboard = state;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function unitText(unit) {
    return String(unit || "").replace(/[{}]/g, "");
  }

  function fmt(value, unit) {
    if (value === null || value === undefined || !isFinite(value)) return "–";
    var u = String(unit || "");
    var abs = Math.abs(value);
    if (u === "s") {
      if (abs === 0) return "0 s";
      if (abs < 1e-3) return (value * 1e6).toPrecision(3) + " µs";
      if (abs < 1) return (value * 1e3).toPrecision(3) + " ms";
      return value.toPrecision(3) + " s";
    }
    if (u === "1") return (value * 100).toPrecision(3) + " %";
    if (u.indexOf("By") === 0) {
      var names = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
      while (abs >= 1024 && i < names.length - 1) { value /= 1024; abs /= 1024; i++; }
      return value.toPrecision(3) + " " + names[i] + u.slice(2);
    }
    var text = abs !== 0 && (abs >= 1e6 || abs < 1e-3) ? value.toExponential(2) : String(+value.toPrecision(4));
    var suffix = unitText(u);
    return suffix ? text + " " + suffix : text;
  }

  function fmtAxis(value, unit) {
    return /^(s|1|By.*)$/.test(unit || "") ? fmt(value, unit) : fmt(value, "");
  }

  function thresholdColor(thresholds, value) {
    var color = null;
    (thresholds || []).forEach(function (t) { if (value !== null && value >= t.value) color = THRESHOLD[t.color]; });
    return color;
  }

  function message(body, text, cls) {
    body.appendChild(el("div", cls || "empty", text));
  }

  function chartSize(body) {
    var width = Math.max(120, body.clientWidth - 4);
    var height = Math.max(60, body.clientHeight - 4);
    return { width: width, height: height };
  }

  function graph(panel, data, body) {
    if (!data.series.length || !data.times.length) return message(body, "No data in this time range");
    var series = [{}];
    var rows = [data.times];
    data.series.forEach(function (s, i) {
      var color = COLORS[i % COLORS.length];
      var spec = { label: s.label, stroke: color, width: 1.5, value: function (u, v) { return fmt(v, panel.unit); } };
      if (panel.style === "bars") {
        spec.fill = color + "99";
        spec.paths = uPlot.paths.bars({ size: [0.8, 60] });
      }
      series.push(spec);
      rows.push(s.values);
    });
    var size = chartSize(body);
    var opts = {
      width: size.width, height: size.height, series: series,
      axes: [{}, { values: function (u, vals) { return vals.map(function (v) { return fmtAxis(v, panel.unit); }); }, size: 64,
        label: /^(s|1|By.*)$/.test(panel.unit || "") ? "" : unitText(panel.unit), labelSize: 14 }],
      scales: { x: { time: true, range: function () { var r = state.snapshot.range; return [r.start, r.end]; } } },
      hooks: { draw: [function (u) { drawThresholds(u, panel.thresholds || []); }] },
      legend: { show: true }
    };
    state.charts[panel.id] = new uPlot(opts, rows, body);
  }

  function drawThresholds(u, thresholds) {
    var ctx = u.ctx;
    thresholds.forEach(function (t) {
      var y = u.valToPos(t.value, "y", true);
      if (!isFinite(y) || y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
      ctx.save();
      ctx.strokeStyle = THRESHOLD[t.color] || "#c4162a";
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.restore();
    });
  }

  function stat(panel, data, body) {
    var unit = panel.unit || data.unit || "";
    if (typeof data.value === "string") {  // a report's text column (its last row)
      body.appendChild(el("div", "stat-value", data.value));
      return;
    }
    var value = el("div", "stat-value", fmt(data.value, unit));
    var color = thresholdColor(panel.thresholds, data.value);
    if (color) value.style.color = color;
    body.appendChild(value);
    if (data.value !== null && data.previous !== null && data.previous !== undefined) {
      var diff = data.value - data.previous;
      var pct = data.previous !== 0 ? " (" + (diff / Math.abs(data.previous) * 100).toFixed(1) + " %)" : "";
      body.appendChild(el("div", "stat-delta", (diff >= 0 ? "▲ " : "▼ ") + fmt(Math.abs(diff), unit) + pct + " vs previous window"));
    } else {
      body.appendChild(el("div", "stat-delta", "no previous window"));
    }
    if (data.times && data.times.length > 1) {
      var holder = el("div", "sparkline");
      body.appendChild(holder);
      state.charts[panel.id] = new uPlot({
        width: Math.max(100, body.clientWidth - 8), height: 36, legend: { show: false }, cursor: { show: false },
        axes: [{ show: false }, { show: false }], series: [{}, { stroke: color || COLORS[0], width: 1 }]
      }, [data.times, data.values], holder);
    }
  }

  function gauge(panel, data, body) {
    var min = panel.min !== null && panel.min !== undefined ? panel.min : 0;
    var max = panel.max !== null && panel.max !== undefined ? panel.max : Math.max(1, data.value || 0);
    var ratio = data.value === null ? 0 : Math.min(1, Math.max(0, (data.value - min) / (max - min)));
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 200 110");
    svg.setAttribute("class", "gauge");
    function arc(to, color, width) {
      var a = Math.PI * (1 - to), x = 100 + 80 * Math.cos(a), y = 100 - 80 * Math.sin(a);
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", "M 20 100 A 80 80 0 0 1 " + x.toFixed(2) + " " + y.toFixed(2));
      path.setAttribute("stroke", color);
      path.setAttribute("stroke-width", String(width));
      path.setAttribute("fill", "none");
      svg.appendChild(path);
    }
    arc(0.9999, "#e4e4e4", 16);
    if (ratio > 0) arc(ratio, thresholdColor(panel.thresholds, data.value) || COLORS[0], 16);
    var label = document.createElementNS(ns, "text");
    label.setAttribute("x", "100"); label.setAttribute("y", "95"); label.setAttribute("text-anchor", "middle");
    label.setAttribute("class", "gauge-value");
    label.textContent = fmt(data.value, panel.unit);
    svg.appendChild(label);
    body.appendChild(svg);
    body.appendChild(el("div", "gauge-range", fmt(min, panel.unit) + " – " + fmt(max, panel.unit)));
  }

  function table(panel, data, body) {
    if (!data.rows.length) return message(body, "No data in this time range");
    var t = el("table", "data-table"), head = el("thead"), tr = el("tr"), tbody = el("tbody");
    var sortCol = -1, asc = true;
    data.columns.forEach(function (name, i) {
      var th = el("th", null, name);
      th.title = "sort";
      th.addEventListener("click", function () { asc = sortCol === i ? !asc : true; sortCol = i; fill(); });
      tr.appendChild(th);
    });
    head.appendChild(tr); t.appendChild(head); t.appendChild(tbody);
    function fill() {
      var rows = data.rows.slice();
      if (sortCol >= 0) rows.sort(function (a, b) {
        var x = a[sortCol], y = b[sortCol];
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * (asc ? 1 : -1);
      });
      tbody.textContent = "";
      rows.forEach(function (row) {
        var r = el("tr");
        row.forEach(function (cell, i) { r.appendChild(tableCell(panel, data, cell, i)); });
        tbody.appendChild(r);
      });
    }
    fill();
    body.appendChild(t);
    (data.notes || []).forEach(function (n) { body.appendChild(el("div", "panel-note", n)); });
  }

  function tableCell(panel, data, cell, i) {
    if (data.units) {  // a report: a unit per column, null for text
      var unit = data.units[i];
      if (unit === null) return el("td", "key", cell === null ? "" : cell);
      if (unit === "time") return el("td", "time", cell === null ? "–" : new Date(cell * 1000).toISOString().replace("T", " ").slice(0, 19));
      return el("td", "num", fmt(cell, unit));
    }
    return el("td", i < data.key_columns ? "key" : "num",
      i < data.key_columns ? cell : fmt(cell, unitOfColumn(panel, i - data.key_columns)));
  }

  function unitOfColumn(panel, i) {
    var q = panel.queries[i];
    if (!q) return panel.unit;
    if (/^p\d+$/.test(q.aggregation) || (q.aggregation === "avg" && panel.unit === "s")) return "s";
    if (q.aggregation === "rate") return "/s";
    return panel.unit;
  }

  function heatmap(panel, data, body) {
    if (!data.counts.length) return message(body, "No data in this time range");
    var columns = Math.min(120, data.counts.length), per = Math.ceil(data.counts.length / columns);
    var merged = [];
    for (var i = 0; i < data.counts.length; i += per) {
      var sum = data.counts[i].slice();
      for (var j = i + 1; j < Math.min(i + per, data.counts.length); j++) sum = sum.map(function (v, k) { return v + data.counts[j][k]; });
      merged.push(sum);
    }
    var peak = 1;
    merged.forEach(function (col) { col.forEach(function (v) { if (v > peak) peak = v; }); });
    var grid = el("div", "heatmap");
    grid.style.gridTemplateColumns = "5em repeat(" + merged.length + ", 1fr)";
    var bucketCount = data.bounds.length + 1;
    for (var b = bucketCount - 1; b >= 0; b--) {
      grid.appendChild(el("div", "hm-label", b < data.bounds.length ? "≤ " + fmt(data.bounds[b], panel.unit) : "> " + fmt(data.bounds[data.bounds.length - 1], panel.unit)));
      merged.forEach(function (col) {
        var cell = el("div", "hm-cell");
        var v = col[b] || 0;
        cell.style.background = v ? "rgba(224,117,45," + (0.15 + 0.85 * v / peak).toFixed(3) + ")" : "#f4f4f4";
        cell.title = v + " observations";
        grid.appendChild(cell);
      });
    }
    body.appendChild(grid);
  }

  function events(panel, data, body) {
    if (!data.rows.length) return message(body, "No events in this time range");
    var t = el("table", "data-table events"), head = el("tr");
    ["time", "event", "severity", "service", "message", "attributes"].forEach(function (h) { head.appendChild(el("th", null, h)); });
    t.appendChild(head);
    data.rows.forEach(function (row) {
      var r = el("tr");
      r.appendChild(el("td", "time", new Date(row.time * 1000).toISOString().replace("T", " ").slice(0, 19)));
      r.appendChild(el("td", null, row.event));
      r.appendChild(el("td", "sev-" + String(row.severity).toLowerCase(), row.severity));
      r.appendChild(el("td", null, row.service));
      r.appendChild(el("td", "body", row.body));
      r.appendChild(el("td", "attrs", Object.keys(row.attributes).map(function (k) { return k + "=" + row.attributes[k]; }).join("  ")));
      t.appendChild(r);
    });
    body.appendChild(t);
  }

  var RENDER = { graph: graph, stat: stat, gauge: gauge, table: table, heatmap: heatmap, events: events };

  function renderPanel(panel, data, node) {
    var body = node.querySelector(".panel-body");
    if (state.charts[panel.id]) { state.charts[panel.id].destroy(); delete state.charts[panel.id]; }
    body.textContent = "";
    node.classList.remove("has-error");
    if (!data) { message(body, "No data"); return; }
    if (data.kind === "error") { node.classList.add("has-error"); message(body, data.error, "error"); return; }
    RENDER[panel.type](panel, data, body);
  }

  function updateGraphInPlace(panel, data) {
    var chart = state.charts[panel.id];
    if (!chart || panel.type !== "graph" || !data || data.kind !== "series" || !data.times.length) return false;
    if (chart.series.length !== data.series.length + 1) return false;
    for (var i = 0; i < data.series.length; i++) if (chart.series[i + 1].label !== data.series[i].label) return false;
    chart.setData([data.times].concat(data.series.map(function (s) { return s.values; })));
    return true;
  }

  function header(snapshot, live) {
    var doc = snapshot.dashboard;
    var top = document.getElementById("rc-header");
    top.textContent = "";
    top.appendChild(el("h1", "title", doc.title));
    if (doc.description) top.appendChild(el("p", "description", doc.description));
    var bar = el("div", "controls");
    doc.variables.forEach(function (v) {
      var label = el("label", "variable", (v.label || v.name) + " ");
      var current = snapshot.variables[v.name] || "";
      if (live) {
        var select = el("select");
        select.name = "var-" + v.name;
        select.dataset.variable = v.name;
        var values = [""].concat(snapshot.options[v.name] || []);
        if (current && values.indexOf(current) < 0) values.push(current);
        values.forEach(function (value) {
          var option = el("option", null, value || "All");
          option.value = value;
          if (value === current) option.selected = true;
          select.appendChild(option);
        });
        select.addEventListener("change", function () { navigate("var-" + v.name, select.value); });
        label.appendChild(select);
      } else {
        label.appendChild(el("b", null, current || "All"));
      }
      bar.appendChild(label);
    });
    if (live) {
      var range = el("select");
      range.name = "range";
      var params = new URLSearchParams(location.search);
      RANGES.forEach(function (r) {
        var option = el("option", null, r);
        option.value = r;
        if ((params.get("range") || snapshot.dashboard.time_range) === r) option.selected = true;
        range.appendChild(option);
      });
      range.addEventListener("change", function () { navigate("range", range.value); });
      var rl = el("label", "variable", "Range ");
      rl.appendChild(range);
      bar.appendChild(rl);
    }
    var when = el("span", "updated", "");
    when.id = "rc-updated";
    bar.appendChild(when);
    top.appendChild(bar);
  }

  function navigate(key, value) {
    var params = new URLSearchParams(location.search);
    if (value) params.set(key, value); else params.delete(key);
    location.search = params.toString();
  }

  function stamp(snapshot) {
    var range = snapshot.range;
    var text = new Date(range.start * 1000).toISOString().slice(0, 19).replace("T", " ") + " → " +
      new Date(range.end * 1000).toISOString().slice(0, 19).replace("T", " ") + " UTC, step " + range.step_seconds + " s";
    document.getElementById("rc-updated").textContent = text;
    var notes = document.getElementById("rc-notes");
    notes.textContent = "";
    (snapshot.notes || []).concat(snapshot.error ? [snapshot.error] : []).forEach(function (n) { notes.appendChild(el("div", "note", n)); });
  }

  function layout(snapshot) {
    var grid = document.getElementById("rc-grid");
    grid.textContent = "";
    snapshot.dashboard.panels.forEach(function (panel) {
      var node = el("section", "panel panel-" + panel.type);
      node.dataset.panelId = panel.id;
      node.dataset.panelType = panel.type;
      node.style.gridColumn = (panel.grid.x + 1) + " / span " + panel.grid.w;
      node.style.gridRow = (panel.grid.y + 1) + " / span " + panel.grid.h;
      node.appendChild(el("h2", "panel-title", panel.title || panel.id));
      node.appendChild(el("div", "panel-body"));
      grid.appendChild(node);
    });
  }

  function render(snapshot, full) {
    state.snapshot = snapshot;
    stamp(snapshot);
    snapshot.dashboard.panels.forEach(function (panel) {
      var node = document.querySelector('section.panel[data-panel-id="' + panel.id + '"]');
      var data = snapshot.panels[panel.id];
      if (!full && updateGraphInPlace(panel, data)) return;
      try {
        renderPanel(panel, data, node);
      } catch (e) {
        state.errors.push(String(e));
        renderPanel(panel, { kind: "error", error: "cannot draw this panel: " + e }, node);
      }
      node.dataset.rendered = "1";
    });
    state.updates++;
    document.body.dataset.updates = String(state.updates);
  }

  function update(snapshot) {
    if (snapshot.dashboard.panels.length !== state.snapshot.dashboard.panels.length) layout(snapshot);
    render(snapshot, false);
  }

  function connect(url) {
    var source = new EventSource(url);
    var status = document.getElementById("rc-live");
    var refresh = state.snapshot.refresh_seconds || 30;
    source.addEventListener("open", function () { status.textContent = "live · refresh " + refresh + " s"; status.className = "live on"; });
    source.addEventListener("snapshot", function (e) { update(JSON.parse(e.data)); });
    source.addEventListener("problem", function (e) { status.textContent = JSON.parse(e.data).message; status.className = "live off"; });
    source.addEventListener("error", function () { status.textContent = "reconnecting…"; status.className = "live off"; });
  }

  function start() {
    var snapshot = JSON.parse(document.getElementById("rc-snapshot").textContent);
    var stream = document.body.dataset.stream;
    header(snapshot, Boolean(stream));
    layout(snapshot);
    render(snapshot, true);
    state.firstRenderMs = performance.now();
    document.body.dataset.ready = "1";
    if (stream) connect(stream + location.search);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
