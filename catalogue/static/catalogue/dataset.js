/*
 * A dataset page: a preview map of the dataset's own vector tiles, and the download form, whose
 * clip area is drawn on the map (a rectangle from two clicks, or a polygon from several).
 * Configuration comes from <script id="dataset-preview" type="application/json">.
 */
(function () {
  "use strict";
  var node = document.getElementById("dataset-map");
  var configNode = document.getElementById("dataset-preview");
  var form = document.getElementById("download-form");
  if (!node || !configNode || typeof L === "undefined") return;
  var config = JSON.parse(configNode.textContent);

  var map = L.map(node, { minZoom: 2, maxZoom: 18, scrollWheelZoom: false });
  map.attributionControl.setPrefix("");
  if (config.extent) {
    map.fitBounds([[config.extent[1], config.extent[0]], [config.extent[3], config.extent[2]]], { maxZoom: 10 });
  } else {
    map.fitBounds([[-11, 92], [29, 142]]);
  }

  function pathOf(url) { return String(url).replace(/^https?:\/\/[^/]+/, ""); }

  function addTiles(tilejsonUrl, style, interactive) {
    return fetch(tilejsonUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (tj) {
        var styles = {};
        styles[tj.vector_layers[0].id] = style;
        return L.vectorGrid.protobuf(pathOf(tj.tiles[0]), {
          rendererFactory: L.svg.tile, vectorTileLayerStyles: styles, interactive: !!interactive
        }).addTo(map);
      });
  }

  var featureStyle = config.geometry === "point"
    ? { radius: 4, fill: true, fillColor: "#0b4f6c", fillOpacity: 1, color: "#ffffff", weight: 1 }
    : { fill: config.geometry !== "line", fillColor: "#e39b3c", fillOpacity: 0.35, color: "#8a4b08", weight: 1 };
  addTiles(config.boundaries, { fill: true, fillColor: "#f4f0e6", fillOpacity: 1, color: "#7d8a96", weight: 1 })
    .then(function () { return addTiles(config.tilejson, featureStyle, false); })
    .catch(function () {
      var p = document.createElement("p");
      p.className = "error-message";
      p.setAttribute("role", "alert");
      p.textContent = "Could not load the preview map — reload the page to try again.";
      node.parentNode.insertBefore(p, node.nextSibling);
    });

  if (!form) return;
  var status = document.getElementById("draw-status");
  var finish = document.getElementById("draw-finish");
  var clear = document.getElementById("draw-clear");
  var bboxInput = document.getElementById("clip-bbox");
  var polygonInput = document.getElementById("clip-polygon");
  var mode = null;
  var points = [];
  var shape = null;

  function round(v) { return Math.round(v * 1e5) / 1e5; }
  function lng(latlng) { return Math.max(-180, Math.min(180, round(latlng.lng))); }

  function startDrawing(kind, hint) {
    reset(); mode = kind; clear.hidden = false;
    status.textContent = hint;
    node.scrollIntoView({ block: "nearest" });
  }

  function reset() {
    mode = null; points = [];
    if (shape) { map.removeLayer(shape); shape = null; }
    bboxInput.disabled = true; polygonInput.disabled = true;
    bboxInput.value = ""; polygonInput.value = "";
    finish.hidden = true; clear.hidden = true;
    status.textContent = "";
  }

  function draw() {
    if (shape) map.removeLayer(shape);
    if (mode === "rectangle" && points.length === 2) {
      shape = L.rectangle(L.latLngBounds(points[0], points[1]), { color: "#c0392b", weight: 2 }).addTo(map);
    } else if (points.length >= 2) {
      shape = L.polygon(points, { color: "#c0392b", weight: 2 }).addTo(map);
    } else if (points.length === 1) {
      shape = L.circleMarker(points[0], { radius: 4, color: "#c0392b" }).addTo(map);
    }
  }

  function done() {
    if (mode === "rectangle") {
      var b = L.latLngBounds(points[0], points[1]);
      bboxInput.value = [lng(b.getSouthWest()), round(b.getSouth()), lng(b.getNorthEast()), round(b.getNorth())].join(",");
      bboxInput.disabled = false;
    } else {
      polygonInput.value = points.map(function (p) { return lng(p) + " " + round(p.lat); }).join(",");
      polygonInput.disabled = false;
    }
    status.textContent = "The download will be clipped to the " + mode + " drawn on the map.";
    mode = "done";
    finish.hidden = true;
    clear.hidden = false;
  }

  map.on("click", function (event) {
    if (mode !== "rectangle" && mode !== "polygon") return;
    points.push(event.latlng);
    draw();
    if (mode === "rectangle" && points.length === 2) done();
    else if (mode === "polygon" && points.length >= 3) finish.hidden = false;
  });
  document.getElementById("draw-rectangle").addEventListener("click", function () {
    startDrawing("rectangle", "Click two opposite corners on the map.");
  });
  document.getElementById("draw-polygon").addEventListener("click", function () {
    startDrawing("polygon", "Click each corner on the map, then Finish.");
  });
  finish.addEventListener("click", function () { if (points.length >= 3) done(); });
  clear.addEventListener("click", reset);

  function syncCsv() {
    var csv = form.querySelector('input[name="format"]:checked').value === "csv";
    document.getElementById("csv-options").hidden = !csv;
    form.querySelectorAll('input[name="geometry"]').forEach(function (input) { input.disabled = !csv; });
  }
  form.querySelectorAll('input[name="format"]').forEach(function (input) { input.addEventListener("change", syncCsv); });
  syncCsv();

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var format = form.querySelector('input[name="format"]:checked').value;
    var params = new URLSearchParams();
    if (!bboxInput.disabled && bboxInput.value) params.set("clip_bbox", bboxInput.value);
    if (!polygonInput.disabled && polygonInput.value) params.set("clip_polygon", polygonInput.value);
    if (format === "csv") params.set("geometry", form.querySelector('input[name="geometry"]:checked').value);
    var query = params.toString();
    window.location.assign(config.download + format + (query ? "?" + query : ""));
  });
})();
