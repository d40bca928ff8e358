/*
 * The prospectivity modeller: builds a recipe from the form, posts it as a run, follows the
 * job's progress and shows the result (map layer, figures, curves, weights table).
 * Configuration comes from <script id="prospectivity-config" type="application/json">; every
 * value from the server is put into the page as text or SVG attributes, never as HTML.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("prospectivity-config");
  if (!configNode || typeof L === "undefined") return;
  var config = JSON.parse(configNode.textContent);
  var SVG_NS = "http://www.w3.org/2000/svg";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined) return;
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function fetchJson(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } }, options || {}))
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (!response.ok) {
            throw new Error(body && body.error && body.error.message ? body.error.message : "HTTP " + response.status);
          }
          return body;
        });
      });
  }

  var $ = function (id) { return document.getElementById(id); };
  var form = $("model-form");
  var formError = $("form-error");

  function showError(text) {
    formError.textContent = text;
    formError.hidden = !text;
  }

  // ------------------------------------------------------------------ the map and drawing

  var map = L.map("modeller-map", { minZoom: 2, maxZoom: 16 }).fitBounds([[-11, 92], [29, 142]]);
  if (config.basemap && config.basemap.url) {
    var attribution = document.createElement("span");
    attribution.textContent = config.basemap.attribution || "";
    L.tileLayer(config.basemap.url, { attribution: attribution.innerHTML }).addTo(map);
  }
  var drawn = null;      // the area drawn: a Leaflet layer
  var drawnGeometry = null;
  var drawing = null;    // {kind, points, preview}
  var resultLayer = null;

  function setDrawStatus(text) { $("draw-status").textContent = text; }

  function startDrawing(kind) {
    if (drawn) { map.removeLayer(drawn); drawn = null; drawnGeometry = null; }
    drawing = { kind: kind, points: [], preview: null };
    form.querySelector('input[name="area"][value="drawn"]').checked = true;
    $("draw-finish").hidden = kind !== "polygon";
    map.getContainer().classList.add("is-drawing");
    setDrawStatus(kind === "rectangle" ? "Click two opposite corners on the map." : "Click the corners on the map, then Finish the polygon.");
  }

  function finishDrawing() {
    if (!drawing) return;
    var pts = drawing.points;
    if (drawing.preview) map.removeLayer(drawing.preview);
    map.getContainer().classList.remove("is-drawing");
    $("draw-finish").hidden = true;
    var ring;
    if (drawing.kind === "rectangle") {
      var w = Math.min(pts[0].lng, pts[1].lng), e = Math.max(pts[0].lng, pts[1].lng);
      var s = Math.min(pts[0].lat, pts[1].lat), n = Math.max(pts[0].lat, pts[1].lat);
      drawnGeometry = { bbox: [w, s, e, n].map(function (v) { return Number(v.toFixed(5)); }) };
      drawn = L.rectangle([[s, w], [n, e]], { color: "#0b4f6c", weight: 2, fill: false }).addTo(map);
      setDrawStatus("Rectangle " + drawnGeometry.bbox.join(", "));
      $("area-bbox").value = drawnGeometry.bbox.join(", ");
    } else {
      if (pts.length < 3) { drawing = null; setDrawStatus("A polygon needs three corners or more."); return; }
      ring = pts.map(function (p) { return [Number(p.lng.toFixed(5)), Number(p.lat.toFixed(5))]; });
      ring.push(ring[0]);
      drawnGeometry = { polygon: { type: "Polygon", coordinates: [ring] } };
      drawn = L.polygon(pts, { color: "#0b4f6c", weight: 2, fill: false }).addTo(map);
      setDrawStatus("Polygon of " + pts.length + " corners");
    }
    drawing = null;
  }

  map.on("click", function (e) {
    if (!drawing) return showValue(e.latlng);
    drawing.points.push(e.latlng);
    if (drawing.preview) map.removeLayer(drawing.preview);
    drawing.preview = L.polyline(drawing.points, { color: "#0b4f6c", dashArray: "4 4" }).addTo(map);
    if (drawing.kind === "rectangle" && drawing.points.length === 2) finishDrawing();
  });
  // A rectangle can also be typed (keyboards, exact coordinates).
  $("area-bbox").addEventListener("change", function () {
    var parts = numbers(this.value);
    if (drawn) { map.removeLayer(drawn); drawn = null; }
    drawnGeometry = null;
    if (parts.length !== 4 || !parts.every(isFinite) || !(parts[0] < parts[2] && parts[1] < parts[3])) {
      setDrawStatus(this.value.trim() ? "Type four numbers: west, south, east, north, with west below east and south below north." : "Nothing drawn yet.");
      return;
    }
    form.querySelector('input[name="area"][value="drawn"]').checked = true;
    drawnGeometry = { bbox: parts };
    drawn = L.rectangle([[parts[1], parts[0]], [parts[3], parts[2]]], { color: "#0b4f6c", weight: 2, fill: false }).addTo(map);
    map.fitBounds(drawn.getBounds());
    setDrawStatus("Rectangle " + parts.join(", "));
  });
  $("draw-rectangle").addEventListener("click", function () { startDrawing("rectangle"); });
  $("draw-polygon").addEventListener("click", function () { startDrawing("polygon"); });
  $("draw-finish").addEventListener("click", finishDrawing);

  // ------------------------------------------------------------------ options

  var rasterOptions = [];

  function loadOptions() {
    fetchJson(config.options).then(function (options) {
      var commodity = $("commodity");
      clear(commodity);
      options.commodities.forEach(function (c) {
        commodity.appendChild(el("option", { value: c.code, text: c.name + " (" + c.occurrences + ")" }));
      });
      if (!options.commodities.length) commodity.appendChild(el("option", { value: "", text: "No occurrences yet" }));
      var states = $("member-state");
      clear(states);
      options.member_states.forEach(function (m) { states.appendChild(el("option", { value: m.code, text: m.name })); });
      rasterOptions = options.rasters;
      var holder = $("raster-evidence");
      clear(holder);
      rasterOptions.forEach(function (r, i) {
        holder.appendChild(el("div", { className: "evidence" }, [
          el("label", { className: "check" }, [el("input", { type: "checkbox", id: "ev-raster-" + i, "data-layer": r.layer }), " " + r.title + (r.units ? " (" + r.units + ")" : "")]),
          el("div", { className: "evidence-options" }, [
            el("label", { for: "raster-bins-" + i, text: "Classes (quantiles)" }),
            el("input", { id: "raster-bins-" + i, type: "number", min: "2", max: "20", value: "5" }),
            el("label", { for: "raster-weight-" + i, className: "overlay-only", text: "Weight" }),
            el("input", { id: "raster-weight-" + i, className: "overlay-only", type: "number", min: "0.01", max: "100", step: "0.5", value: "1" })
          ])
        ]));
      });
      syncMethod();
    }).catch(function (error) { showError("Could not load the modeller's options: " + error.message); });
  }

  function syncMethod() {
    var method = $("method").value;
    $("gamma-field").hidden = method !== "fuzzy_gamma";
    form.classList.toggle("is-overlay", method !== "wofe");
  }
  $("method").addEventListener("change", syncMethod);

  // ------------------------------------------------------------------ the recipe

  function numbers(text) {
    return text.split(",").map(function (v) { return v.trim(); }).filter(Boolean).map(Number);
  }

  function buildRecipe() {
    var method = $("method").value;
    var overlay = method !== "wofe";
    var area;
    if (form.querySelector('input[name="area"]:checked').value === "drawn") {
      if (!drawnGeometry) throw new Error("Draw a rectangle or a polygon on the map first, or choose a member state.");
      area = drawnGeometry;
    } else {
      area = { member_state: $("member-state").value };
    }
    var evidence = [];
    if ($("ev-geology").checked) {
      var geology = { type: "geology", attribute: $("geology-attribute").value };
      if (overlay) {
        geology.weight = Number($("geology-weight").value);
        var favourable = $("geology-favourable").value.split(",").map(function (v) { return v.trim(); }).filter(Boolean);
        if (favourable.length) geology.favourable = favourable;
      }
      evidence.push(geology);
    }
    if ($("ev-structures").checked) {
      var structures = { type: "structures", buffers: numbers($("structure-buffers").value) };
      if (overlay) structures.weight = Number($("structures-weight").value);
      evidence.push(structures);
    }
    rasterOptions.forEach(function (r, i) {
      if (!$("ev-raster-" + i).checked) return;
      var item = { type: "raster", layer: r.layer, version: r.version, bins: Number($("raster-bins-" + i).value) };
      if (overlay) item.weight = Number($("raster-weight-" + i).value);
      evidence.push(item);
    });
    var recipe = {
      version: 1,
      method: method,
      commodity: $("commodity").value,
      area: area,
      cell_size: Number($("cell-size").value),
      evidence: evidence,
      validation: { holdout: Number($("holdout").value) / 100, seed: Number($("seed").value) }
    };
    if (method === "fuzzy_gamma") recipe.gamma = Number($("gamma").value);
    return recipe;
  }

  // ------------------------------------------------------------------ runs

  var polling = null;

  function setProgress(run) {
    $("run-status").hidden = false;
    $("run-progress").value = run.progress || 0;
    $("run-message").textContent = run.status === "done" ? (run.cached ? "Done (the same recipe had run before)." : "Done.") : (run.progress_message || run.status);
  }

  function submit(recipe) {
    showError("");
    clearTimeout(polling);
    $("run-model").disabled = true;
    fetchJson(config.runs, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(recipe)
    }).then(follow).catch(function (error) {
      $("run-model").disabled = false;
      $("run-status").hidden = true;
      showError(error.message);
    });
  }

  function follow(run) {
    setProgress(run);
    if (run.status === "done") { $("run-model").disabled = false; showResult(run); return; }
    if (run.status === "failed") { $("run-model").disabled = false; showError(run.error || "The run failed."); return; }
    polling = setTimeout(function () {
      fetchJson(run.links.self).then(follow).catch(function (error) { $("run-model").disabled = false; showError(error.message); });
    }, 1000);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    try { submit(buildRecipe()); } catch (error) { showError(error.message); }
  });

  $("recipe-file").addEventListener("change", function () {
    var file = this.files && this.files[0];
    if (!file) return;
    file.text().then(function (text) {
      var recipe;
      try { recipe = JSON.parse(text); } catch (e) { showError("That file is not JSON."); return; }
      submit(recipe);
    });
    this.value = "";
  });

  // ------------------------------------------------------------------ results

  var currentRun = null;

  function gradient(id) {
    var stops = config.colormap || [];
    var grad = svg("linearGradient", { id: id, x1: "0", x2: "1", y1: "0", y2: "0" });
    stops.forEach(function (colour, i) {
      grad.appendChild(svg("stop", { offset: String(i / Math.max(1, stops.length - 1)), "stop-color": colour }));
    });
    return grad;
  }

  function fmt(v, digits) {
    if (v === null || v === undefined) return "–";
    var n = Number(v);
    if (Math.abs(n) > 0 && Math.abs(n) < 0.001) return n.toExponential(2);
    return n.toFixed(digits === undefined ? 3 : digits);
  }

  function showResult(run) {
    currentRun = run;
    var result = run.result;
    if (resultLayer) map.removeLayer(resultLayer);
    resultLayer = L.tileLayer(run.links.tiles, { opacity: 0.8, maxZoom: 16, className: "prospectivity-layer" }).addTo(map);
    var b = result.grid.bounds;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    $("results").hidden = false;

    var unit = run.recipe.method === "wofe" ? "Posterior probability" : "Favourability index";
    var legend = $("result-legend");
    clear(legend);
    var bar = svg("svg", { width: "220", height: "16", viewBox: "0 0 220 16", "aria-hidden": "true" });
    bar.appendChild(gradient("result-gradient"));
    bar.appendChild(svg("rect", { x: "0", y: "0", width: "220", height: "16", fill: "url(#result-gradient)" }));
    legend.appendChild(el("p", { className: "legend-title", text: unit }));
    legend.appendChild(bar);
    legend.appendChild(el("p", { className: "legend-range", text: fmt(result.value_range[0], 4) + " – " + fmt(result.value_range[1], 4) }));
    var opacity = el("input", { type: "range", min: "0", max: "100", value: "80", id: "result-opacity" });
    opacity.addEventListener("input", function () { resultLayer.setOpacity(Number(opacity.value) / 100); });
    legend.appendChild(el("label", { for: "result-opacity", text: "Opacity " }));
    legend.appendChild(opacity);

    var links = $("result-links");
    clear(links);
    links.appendChild(el("a", { href: run.links.geotiff, text: "Download the GeoTIFF" }));
    links.appendChild(document.createTextNode(" · "));
    links.appendChild(el("a", { href: run.links.recipe, text: "Download the recipe (JSON)" }));

    var figures = $("figures");
    clear(figures);
    var rows = [
      ["Study area", fmt(result.grid.area_km2, 0) + " km² (" + result.grid.study_cells + " cells of " + result.grid.cell_size + " m)"],
      ["Training points", result.training.points + " (in " + result.training.cells + " cells)"],
      ["Held-out points", String(result.holdout.points)],
      ["Success-rate AUC", fmt(result.success_rate.auc)],
      ["Prediction-rate AUC", result.prediction_rate ? fmt(result.prediction_rate.auc) : "no points held out"]
    ];
    if (result.prior_probability !== undefined) rows.push(["Prior probability", fmt(result.prior_probability, 5)]);
    if (result.conditional_independence_ratio) rows.push(["Conditional independence ratio", fmt(result.conditional_independence_ratio)]);
    var dl = el("dl", { id: "result-figures" });
    rows.forEach(function (r) { dl.appendChild(el("dt", { text: r[0] })); dl.appendChild(el("dd", { text: r[1] })); });
    figures.appendChild(dl);

    drawCurves(result);
    drawWeights(run);
  }

  function drawCurves(result) {
    var holder = $("curves");
    clear(holder);
    var W = 320, H = 240, P = 36;
    var chart = svg("svg", { width: String(W), height: String(H), viewBox: "0 0 " + W + " " + H, role: "img", id: "rate-curves",
      "aria-label": "Success-rate and prediction-rate curves" });
    var x = function (v) { return P + v * (W - P - 10); };
    var y = function (v) { return H - P - v * (H - P - 10); };
    chart.appendChild(svg("rect", { x: String(x(0)), y: String(y(1)), width: String(x(1) - x(0)), height: String(y(0) - y(1)), fill: "none", stroke: "#9aa5b1" }));
    chart.appendChild(svg("line", { x1: String(x(0)), y1: String(y(0)), x2: String(x(1)), y2: String(y(1)), stroke: "#9aa5b1", "stroke-dasharray": "4 4" }));
    [["success_rate", "#c0392b", "Success rate"], ["prediction_rate", "#0b4f6c", "Prediction rate"]].forEach(function (spec, i) {
      var curve = result[spec[0]];
      if (!curve) return;
      var d = curve.area.map(function (a, j) { return (j ? "L" : "M") + x(a).toFixed(1) + " " + y(curve.deposits[j]).toFixed(1); }).join(" ");
      chart.appendChild(svg("path", { d: d, fill: "none", stroke: spec[1], "stroke-width": "2", "class": "curve-" + spec[0].replace("_", "-") }));
      chart.appendChild(svg("text", { x: String(x(0.45)), y: String(y(0.2 - i * 0.1)), fill: spec[1], "font-size": "12",
        text: spec[2] + " (AUC " + fmt(curve.auc) + ")" }));
    });
    chart.appendChild(svg("text", { x: String(x(0.5)), y: String(H - 8), "text-anchor": "middle", "font-size": "11", text: "Share of the area, most prospective first" }));
    var yl = svg("text", { x: "12", y: String(y(0.5)), "text-anchor": "middle", "font-size": "11", transform: "rotate(-90 12 " + y(0.5) + ")", text: "Share of occurrences" });
    chart.appendChild(yl);
    holder.appendChild(chart);
  }

  function drawWeights(run) {
    var holder = $("weights");
    clear(holder);
    var wofe = run.recipe.method === "wofe";
    var columns = wofe
      ? [["class", "Class"], ["area_km2", "Area km²"], ["deposits", "Points"], ["w_plus", "W+"], ["w_minus", "W−"], ["contrast", "C"], ["s_contrast", "s(C)"], ["studentised_contrast", "C / s(C)"]]
      : [["class", "Class"], ["area_km2", "Area km²"], ["deposits", "Points"], ["score", "Score"]];
    run.result.layers.forEach(function (layer) {
      var table = el("table", { className: "weights-table" });
      table.appendChild(el("caption", { text: layer.name + (wofe ? "" : " (weight " + layer.weight + ")") }));
      var head = el("tr");
      columns.forEach(function (c) { head.appendChild(el("th", { scope: "col", text: c[1] })); });
      table.appendChild(el("thead", {}, [head]));
      var body = el("tbody");
      layer.classes.forEach(function (row) {
        var tr = el("tr", { className: row.corrected ? "is-corrected" : null });
        columns.forEach(function (c) {
          var v = row[c[0]];
          tr.appendChild(el(c[0] === "class" ? "th" : "td", { text: typeof v === "number" && c[0] !== "deposits" ? fmt(v, c[0] === "area_km2" ? 1 : 3) : String(v === null ? "–" : v) }));
        });
        body.appendChild(tr);
      });
      table.appendChild(body);
      holder.appendChild(table);
    });
    if (wofe) holder.appendChild(el("p", { className: "muted small", text: "Rows in italics had a class without points (or all of them): 0.5 was added to each count." }));
  }

  function showValue(latlng) {
    if (!currentRun) return;
    var url = currentRun.links.point + "?lon=" + L.Util.wrapNum(latlng.lng, [-180, 180], true).toFixed(5) + "&lat=" + latlng.lat.toFixed(5);
    fetchJson(url).then(function (body) {
      var value = body.values.length && body.values[0].value !== null ? fmt(body.values[0].value, 4) : "no data here";
      L.popup().setLatLng(latlng).setContent(el("div", { className: "value-popup", text: "Model value: " + value })).openOn(map);
    }).catch(function () {});
  }

  loadOptions();
  syncMethod();
  form.setAttribute("data-ready", "true");
})();
