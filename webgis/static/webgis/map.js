/*
 * The AMDIS map page: vector tile layers from the project's own tile server, a layer switcher
 * with legends, occurrence filters, name search, popups and a permalink in the URL hash.
 *
 * Configuration comes from the server in <script id="map-config" type="application/json">.
 * Data values are always put into the page as text (textContent, DOM nodes), never as HTML.
 *
 * Permalink format (in location.hash):
 *   #map=<zoom>/<lat>/<lon>&layers=member-states,occurrences&commodity=copper,gold&member_state=PHL
 */
(function () {
  "use strict";

  var SOUTH_EAST_ASIA = [[-11, 92], [29, 142]];
  var MIN_ZOOM = 2;
  var MAX_ZOOM = 18;
  var SEARCH_ZOOM = 13;
  var FILTER_KEYS = ["commodity", "member_state", "status", "deposit_type"];
  var DEFAULT_LAYERS = ["member-states", "occurrences"];
  var BASEMAP = "basemap";

  var GROUPS = [
    { code: "precious", label: "Precious metals", color: "#d4a017" },
    { code: "base", label: "Base metals", color: "#c0504d" },
    { code: "critical", label: "Battery and critical minerals", color: "#2e8b57" },
    { code: "rare_earths", label: "Rare earths", color: "#8e44ad" },
    { code: "industrial", label: "Industrial minerals", color: "#7f8c8d" },
    { code: "energy", label: "Energy minerals", color: "#2b2b2b" },
    { code: "construction", label: "Construction materials", color: "#a0522d" }
  ];
  var GROUP_BY_CODE = {};
  GROUPS.forEach(function (g) { GROUP_BY_CODE[g.code] = g; });
  var UNKNOWN_GROUP_COLOR = "#4a5561";
  var CLUSTER_COLOR = "#0b4f6c";

  // Commission for the Geological Map of the World colours, matched by name in the unit's age.
  var AGES = [
    { match: ["quaternary", "holocene", "pleistocene"], label: "Quaternary", color: "#f9f97f" },
    { match: ["neogene", "pliocene", "miocene"], label: "Neogene", color: "#ffe619" },
    { match: ["paleogene", "palaeogene", "oligocene", "eocene", "paleocene", "tertiary"], label: "Paleogene", color: "#fd9a52" },
    { match: ["cretaceous"], label: "Cretaceous", color: "#7fc64e" },
    { match: ["jurassic"], label: "Jurassic", color: "#34b2c9" },
    { match: ["triassic"], label: "Triassic", color: "#812b92" },
    { match: ["permian"], label: "Permian", color: "#f04028" },
    { match: ["carboniferous"], label: "Carboniferous", color: "#67a599" },
    { match: ["devonian"], label: "Devonian", color: "#cb8c37" },
    { match: ["silurian"], label: "Silurian", color: "#b3e1b6" },
    { match: ["ordovician"], label: "Ordovician", color: "#009270" },
    { match: ["cambrian"], label: "Cambrian", color: "#7fa056" },
    { match: ["precambrian", "proterozoic", "archean", "archaean"], label: "Precambrian", color: "#f74370" }
  ];
  var OTHER_AGE_COLOR = "#c8c2b4";

  var STRUCTURE_STYLES = {
    thrust_fault: { label: "Thrust fault", color: "#7f0000", weight: 2.6 },
    reverse_fault: { label: "Reverse fault", color: "#b22222", weight: 2 },
    normal_fault: { label: "Normal fault", color: "#d9472b", weight: 1.8 },
    strike_slip_fault: { label: "Strike-slip fault", color: "#8e2469", weight: 1.8 },
    fault: { label: "Fault", color: "#c0392b", weight: 1.5 },
    fold_axis: { label: "Fold axis", color: "#4b3f8c", weight: 1.5, dashArray: "6 4" },
    lineament: { label: "Lineament", color: "#4d4d4d", weight: 1.2, dashArray: "2 4" }
  };

  var LAND = { fill: "#f4f0e6", line: "#7d8a96" };
  var SEA = "#cfe2ee";

  // ---------------------------------------------------------------- small DOM helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    appendChildren(node, children);
    return node;
  }

  function svg(tag, attrs, children) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    setAttrs(node, attrs);
    appendChildren(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.setAttribute("class", value);
      else if (key.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    });
  }

  function appendChildren(node, children) {
    if (children === null || children === undefined) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    });
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      var self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  // Same-origin relative links only (a value from the API never becomes a javascript: URL).
  function safePath(value, fallback) {
    return typeof value === "string" && /^\/(?!\/)/.test(value) ? value : fallback;
  }

  function fetchJson(url, options) {
    return fetch(url, Object.assign({ headers: { Accept: "application/json" }, credentials: "same-origin" }, options || {}))
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (!response.ok) {
            var message = body && body.error && body.error.message ? body.error.message : "HTTP " + response.status;
            var error = new Error(message);
            error.status = response.status;
            throw error;
          }
          return body;
        });
      });
  }

  function isAbort(error) {
    return error && error.name === "AbortError";
  }

  function formatCount(n) {
    if (n >= 10000) return Math.round(n / 1000) + "k";
    if (n >= 1000) return (n / 1000).toFixed(1).replace(/\.0$/, "") + "k";
    return String(n);
  }

  function formatNumber(n) {
    return Number(n).toLocaleString("en");
  }

  // ---------------------------------------------------------------- configuration

  var configNode = document.getElementById("map-config");
  if (!configNode || typeof L === "undefined" || !L.VectorGrid) return;
  var config = JSON.parse(configNode.textContent);
  var layerConfigs = config.layers || {};
  var rasterConfigs = {};
  Object.keys(config.rasters || {}).forEach(function (slug) { rasterConfigs["raster-" + slug] = config.rasters[slug]; });
  var rasterNames = Object.keys(rasterConfigs);
  var statusNames = {};
  (config.statuses || []).forEach(function (s) { statusNames[s.code] = s.name; });

  var known = {
    commodity: {},
    member_state: {},
    status: {},
    deposit_type: null // unknown until the vocabularies API answers
  };
  var commoditySymbols = {};
  (config.commodities || []).forEach(function (c) {
    known.commodity[c.code] = c;
    if (c.symbol) commoditySymbols[c.symbol.toLowerCase()] = c.code;
  });
  (config.memberStates || []).forEach(function (m) { known.member_state[m.code] = m; });
  (config.statuses || []).forEach(function (s) { known.status[s.code] = s; });

  // ---------------------------------------------------------------- state and permalink

  var state = {
    layers: {},           // name -> visible
    filters: { commodity: [], member_state: [], status: [], deposit_type: [] }
  };

  function parseHash(hash) {
    var out = { view: null, layers: null, filters: {} };
    (hash || "").replace(/^#/, "").split("&").forEach(function (part) {
      if (!part) return;
      var eq = part.indexOf("=");
      var key = eq < 0 ? part : part.slice(0, eq);
      var raw = eq < 0 ? "" : part.slice(eq + 1);
      var values = raw === "" ? [] : raw.split(",").map(function (v) {
        try { return decodeURIComponent(v); } catch (e) { return ""; }
      }).filter(Boolean);
      if (key === "map") {
        var bits = raw.split("/").map(Number);
        if (bits.length === 3 && bits.every(isFinite) && Math.abs(bits[1]) <= 90) {
          out.view = { zoom: Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, Math.round(bits[0]))), lat: bits[1], lon: bits[2] };
        }
      } else if (key === "layers") {
        out.layers = values;
      } else if (FILTER_KEYS.indexOf(key) >= 0) {
        out.filters[key] = values;
      }
    });
    return out;
  }

  // Only values the server knows survive, so a stale or edited link never breaks the tiles.
  function normaliseFilter(key, values) {
    var seen = {};
    return values.map(function (v) {
      if (key === "commodity") {
        var lower = v.toLowerCase();
        return known.commodity[lower] ? lower : commoditySymbols[lower] || null;
      }
      if (key === "member_state") return known.member_state[v.toUpperCase()] ? v.toUpperCase() : null;
      if (key === "status") return known.status[v.toLowerCase()] ? v.toLowerCase() : null;
      if (key === "deposit_type") return known.deposit_type === null || known.deposit_type[v] ? v : null;
      return null;
    }).filter(function (v) {
      if (!v || seen[v]) return false;
      seen[v] = true;
      return true;
    });
  }

  function encodeList(values) {
    return values.map(encodeURIComponent).join(",");
  }

  function hashFromState() {
    var center = map.getCenter();
    var zoom = map.getZoom();
    var digits = Math.max(2, Math.ceil(zoom * 0.3) + 1);
    var parts = [
      "map=" + zoom + "/" + center.lat.toFixed(digits) + "/" + L.Util.wrapNum(center.lng, [-180, 180], true).toFixed(digits),
      "layers=" + encodeList(visibleLayerNames())
    ];
    FILTER_KEYS.forEach(function (key) {
      if (state.filters[key].length) parts.push(key + "=" + encodeList(state.filters[key]));
    });
    return "#" + parts.join("&");
  }

  var restoring = false;

  function writeHash() {
    if (restoring) return;
    var hash = hashFromState();
    if (hash !== location.hash) history.replaceState(null, "", hash);
  }

  function filterQuery(filters) {
    return FILTER_KEYS.filter(function (key) { return filters[key].length; })
      .map(function (key) { return key + "=" + encodeList(filters[key]); })
      .join("&");
  }

  function hasFilters() {
    return FILTER_KEYS.some(function (key) { return state.filters[key].length > 0; });
  }

  // ---------------------------------------------------------------- the map

  // The panel's initial state is set before the map measures its container.
  var app = document.getElementById("map-app");
  var narrow = window.matchMedia("(max-width: 720px)");
  app.classList.toggle("panel-open", !narrow.matches);

  var mapNode = document.getElementById("map");
  var map = L.map(mapNode, {
    minZoom: MIN_ZOOM,
    maxZoom: MAX_ZOOM,
    zoomControl: false,
    worldCopyJump: true,
    keyboard: true
  });
  L.control.zoom({ position: "topright" }).addTo(map);
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  map.attributionControl.setPrefix("");

  var PANE_ORDER = { polygon: 300, line: 350, point: 450 };
  var KNOWN_PANES = { rasters: 270, "member-states": 250, "geological-units": 300, structures: 350, occurrences: 450 };

  function paneFor(name, geometry) {
    var paneName = "amdis-" + name;
    if (!map.getPane(paneName)) {
      var pane = map.createPane(paneName);
      pane.style.zIndex = String(KNOWN_PANES[name] || PANE_ORDER[geometry] || 400);
    }
    return paneName;
  }

  // Cursor coordinates; the map centre when the pointer is elsewhere (and on touch screens).
  var CoordsControl = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd: function () {
      this._node = L.DomUtil.create("div", "coords-control");
      this._node.setAttribute("aria-live", "off");
      return this._node;
    },
    show: function (latlng, label) {
      var lat = latlng.lat;
      var lon = L.Util.wrapNum(latlng.lng, [-180, 180], true);
      this._node.textContent = (label ? label + " " : "") +
        Math.abs(lat).toFixed(5) + "° " + (lat >= 0 ? "N" : "S") + ", " +
        Math.abs(lon).toFixed(5) + "° " + (lon >= 0 ? "E" : "W");
    }
  });
  var coords = new CoordsControl().addTo(map);
  var pointerInside = false;
  map.on("mousemove", function (e) { pointerInside = true; coords.show(e.latlng); });
  map.on("mouseout", function () { pointerInside = false; coords.show(map.getCenter(), "Centre"); });
  map.on("move", function () { if (!pointerInside) coords.show(map.getCenter(), "Centre"); });

  // ---------------------------------------------------------------- messages

  var messageNode = document.getElementById("map-message");
  var messageRetry = null;

  function showMessage(text, retry) {
    clear(messageNode);
    messageRetry = retry || null;
    messageNode.appendChild(el("span", { text: text }));
    if (retry) {
      messageNode.appendChild(el("button", {
        type: "button",
        text: "Try again",
        onclick: function () { hideMessage(); retry(); }
      }));
    }
    messageNode.hidden = false;
  }

  function hideMessage() {
    messageNode.hidden = true;
    clear(messageNode);
    messageRetry = null;
  }

  // ---------------------------------------------------------------- vector tile layers

  /*
   * VectorGrid with two additions: each drawn feature knows its MVT feature id, and a tile
   * that fails to load is reported (VectorGrid itself draws it empty without a word).
   */
  var AmdisGrid = L.VectorGrid.Protobuf.extend({
    _createLayer: function (feat, pxPerExtent) {
      var layer = L.VectorGrid.Protobuf.prototype._createLayer.call(this, feat, pxPerExtent);
      layer.featureId = feat.id;
      // Leaflet >= 1.8 asks a clicked circle for its LatLng, which a tile symbolizer lacks;
      // without it, Leaflet uses the pointer position instead.
      if (feat.type === 1) layer.getLatLng = null;
      return layer;
    },
    _getVectorTilePromise: function (coords) {
      var self = this;
      return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, coords).then(
        function (tile) {
          // VectorGrid answers a failed HTTP request with {layers: []}; a real tile has an object.
          if (Array.isArray(tile.layers)) self.fire("tilefailed", { coords: coords });
          return tile;
        },
        function () {
          self.fire("tilefailed", { coords: coords });
          return { layers: {} };
        }
      );
    }
  });

  function tileUrl(name, query) {
    var layer = layerConfigs[name];
    var base = layer.tilejson.replace(/\.json$/, "") + "/{z}/{x}/{y}.mvt";
    return base + "?v=" + encodeURIComponent(layer.version || "") + (query ? "&" + query : "");
  }

  function ageColor(age) {
    var text = String(age || "").toLowerCase();
    for (var i = 0; i < AGES.length; i++) {
      for (var j = 0; j < AGES[i].match.length; j++) {
        if (text.indexOf(AGES[i].match[j]) >= 0) return AGES[i].color;
      }
    }
    return OTHER_AGE_COLOR;
  }

  function clusterRadius(count) {
    return Math.min(24, 7 + 5 * Math.log10(count));
  }

  function groupColor(group) {
    return GROUP_BY_CODE[group] ? GROUP_BY_CODE[group].color : UNKNOWN_GROUP_COLOR;
  }

  function memberStateStyle() {
    var raster = state.layers[BASEMAP] && rasterBase;
    return {
      fill: !raster, fillColor: LAND.fill, fillOpacity: 1,
      color: LAND.line, weight: 1, opacity: 0.9, interactive: false
    };
  }

  function occurrenceStyle(props, zoom) {
    var count = Number(props.count) || 1;
    if (count > 1) {
      return {
        radius: clusterRadius(count), fill: true, fillColor: CLUSTER_COLOR, fillOpacity: 0.82,
        color: "#ffffff", weight: 2, opacity: 1
      };
    }
    return {
      radius: zoom < 5 ? 4 : zoom < 8 ? 5.5 : 6.5, fill: true, fillColor: groupColor(props.group), fillOpacity: 0.95,
      color: "#ffffff", weight: 1.5, opacity: 1
    };
  }

  function unitStyle(props) {
    return { fill: true, fillColor: ageColor(props.age), fillOpacity: 0.55, color: "#6b5e4a", weight: 0.6, opacity: 0.8 };
  }

  function structureStyle(props) {
    var s = STRUCTURE_STYLES[props.structure_type] || STRUCTURE_STYLES.fault;
    // The visible line, then a wide invisible one on top that is easy to click or tap.
    return [
      { color: s.color, weight: s.weight, opacity: 0.95, dashArray: s.dashArray || null, fill: false, interactive: false },
      { color: "#000000", weight: 12, opacity: 0, fill: false, interactive: true }
    ];
  }

  function genericStyle(geometry) {
    return function () {
      if (geometry === "point") return { radius: 5, fill: true, fillColor: "#555", fillOpacity: 0.9, color: "#fff", weight: 1 };
      if (geometry === "line") return { color: "#555", weight: 1.5, fill: false };
      return { fill: true, fillColor: "#999", fillOpacity: 0.4, color: "#555", weight: 0.8 };
    };
  }

  var STYLES = {
    "member-states": memberStateStyle,
    occurrences: occurrenceStyle,
    "geological-units": unitStyle,
    structures: structureStyle
  };

  var gridLayers = {};
  var rasterBase = null;
  var failedLayers = {};

  function reportTileFailure(name) {
    if (failedLayers[name]) return;
    failedLayers[name] = true;
    var title = layerConfigs[name] ? layerConfigs[name].title : name;
    showMessage("Could not load the map tiles for " + title + " — try again.", function () {
      Object.keys(failedLayers).forEach(function (n) {
        if (gridLayers[n] && map.hasLayer(gridLayers[n])) gridLayers[n].redraw();
      });
      failedLayers = {};
    });
  }

  function makeGrid(name) {
    var conf = layerConfigs[name];
    var styles = {};
    styles[name] = STYLES[name] || genericStyle(conf.geometry);
    var interactive = name !== "member-states";
    var options = {
      rendererFactory: L.svg.tile,
      vectorTileLayerStyles: styles,
      interactive: interactive,
      pane: paneFor(name, conf.geometry),
      maxZoom: MAX_ZOOM
    };
    if (name === "occurrences") {
      options.getFeatureId = function (feat) { return feat.id; };
    }
    if (name === "member-states") {
      options.attribution = "Boundaries: Natural Earth";
    }
    var grid = new AmdisGrid(tileUrl(name, name === "occurrences" ? filterQuery(state.filters) : ""), options);
    grid.on("tilefailed", function () { reportTileFailure(name); });
    if (name === "occurrences") {
      grid.on("tileload", function (e) { labelClusters(grid, e.coords); });
      grid.on("click", onOccurrenceClick);
    } else if (interactive) {
      grid.on("click", function (e) { openPropertiesPopup(name, e.layer.properties || {}, e.latlng); });
    }
    return grid;
  }

  // VectorGrid draws circles only; the count of a cluster is added as SVG text in its tile.
  // Clusters and their counts are moved above single points so the numbers stay readable.
  function labelClusters(grid, tileCoords) {
    var renderer = grid._vectorTiles && grid._vectorTiles[grid._tileCoordsToKey(tileCoords)];
    if (!renderer || !renderer._features) return;
    Object.keys(renderer._features).forEach(function (id) {
      var feature = renderer._features[id].feature;
      var count = Number(feature.properties && feature.properties.count) || 1;
      if (count <= 1 || !feature._point) return;
      if (feature._path) renderer._rootGroup.appendChild(feature._path);
      renderer._rootGroup.appendChild(svg("text", {
        className: "cluster-label",
        x: feature._point.x,
        y: feature._point.y,
        "aria-hidden": "true",
        text: formatCount(count)
      }));
    });
  }

  // ---------------------------------------------------------------- popups

  function popupContainer() {
    return el("div", { className: "amdis-popup" });
  }

  function openPopupAt(latlng, content) {
    return L.popup({ maxWidth: 320, autoPanPaddingTopLeft: [20, 70], autoPanPaddingBottomRight: [20, 40] }).setLatLng(latlng).setContent(content).openOn(map);
  }

  function definitionList(rows) {
    var dl = el("dl");
    rows.forEach(function (row) {
      if (row[1] === null || row[1] === undefined || row[1] === "") return;
      dl.appendChild(el("dt", { text: row[0] }));
      dl.appendChild(el("dd", { text: String(row[1]) }));
    });
    return dl;
  }

  function occurrenceSummary(feature, id) {
    var p = feature.properties || {};
    var commodities = Array.isArray(p.commodities) ? p.commodities : [];
    var names = function (rank) {
      return commodities.filter(function (c) { return c.rank === rank; })
        .map(function (c) { return c.name + (c.symbol ? " (" + c.symbol + ")" : ""); }).join(", ");
    };
    var node = el("div", { className: "occurrence-summary" }, [
      el("h3", { text: p.name || "Occurrence " + id }),
      definitionList([
        ["Status", statusNames[p.status] || p.status],
        ["Main commodity", names("main")],
        ["Other commodities", names("secondary")],
        ["Member state", p.member_state_name || p.member_state],
        ["Deposit type", p.deposit_type]
      ]),
      el("a", { className: "popup-link", href: safePath(p.url, "/occurrences/" + id + "/"), text: "Full record →" })
    ]);
    return node;
  }

  function popupError(container, text, retry) {
    clear(container);
    container.appendChild(el("div", { className: "popup-error", role: "alert" }, [
      el("p", { text: text }),
      el("button", { type: "button", text: "Try again", onclick: retry })
    ]));
  }

  var occurrenceUrl = config.api.occurrences.replace(/\/?$/, "/");

  function openOccurrencePopup(id, latlng) {
    var container = popupContainer();
    container.appendChild(el("p", { className: "muted", text: "Loading…" }));
    var popup = openPopupAt(latlng, container);
    var load = function () {
      fetchJson(occurrenceUrl + encodeURIComponent(id) + "/")
        .then(function (feature) {
          clear(container);
          container.appendChild(occurrenceSummary(feature, id));
          popup.update();
        })
        .catch(function () {
          popupError(container, "Could not load this occurrence — try again.", function () {
            clear(container);
            container.appendChild(el("p", { className: "muted", text: "Loading…" }));
            load();
          });
          popup.update();
        });
    };
    load();
  }

  // At the deepest zoom a cluster cannot split further: list what it holds instead.
  function openClusterListPopup(latlng) {
    var container = popupContainer();
    container.appendChild(el("p", { className: "muted", text: "Loading…" }));
    var popup = openPopupAt(latlng, container);
    var d = 0.0005;
    var bbox = [latlng.lng - d, latlng.lat - d, latlng.lng + d, latlng.lat + d].map(function (n) { return n.toFixed(6); }).join(",");
    var query = filterQuery(state.filters);
    var load = function () {
      fetchJson(config.api.occurrences + "?limit=50&bbox=" + bbox + (query ? "&" + query : ""))
        .then(function (collection) {
          clear(container);
          container.appendChild(el("h3", { text: formatNumber(collection.numberMatched) + " occurrences here" }));
          var list = el("ul");
          (collection.features || []).forEach(function (f) {
            list.appendChild(el("li", null, el("a", {
              href: safePath(f.properties && f.properties.url, "/occurrences/" + f.id + "/"),
              text: (f.properties && f.properties.name) || "Occurrence " + f.id
            })));
          });
          container.appendChild(list);
          popup.update();
        })
        .catch(function () {
          popupError(container, "Could not load the occurrences here — try again.", load);
          popup.update();
        });
    };
    load();
  }

  function onOccurrenceClick(e) {
    var props = (e.layer && e.layer.properties) || {};
    var count = Number(props.count) || 1;
    if (count > 1) {
      if (map.getZoom() >= map.getMaxZoom()) openClusterListPopup(e.latlng);
      else map.setView(e.latlng, Math.min(map.getZoom() + 2, map.getMaxZoom()));
      return;
    }
    openOccurrencePopup(e.layer.featureId, e.latlng);
  }

  var PROPERTY_LABELS = {
    "geological-units": [["name", "Unit"], ["lithology", "Lithology"], ["age", "Age"]],
    structures: [["name", "Name"], ["structure_type", "Type"]]
  };

  function openPropertiesPopup(name, props, latlng) {
    var labels = PROPERTY_LABELS[name] || Object.keys(props).map(function (k) { return [k, k]; });
    var rows = labels.map(function (pair) {
      var value = props[pair[0]];
      if (pair[0] === "structure_type" && STRUCTURE_STYLES[value]) value = STRUCTURE_STYLES[value].label;
      return [pair[1], value];
    });
    var container = popupContainer();
    container.appendChild(el("h3", { text: layerConfigs[name] ? layerConfigs[name].title : name }));
    container.appendChild(definitionList(rows));
    openPopupAt(latlng, container);
  }

  // ---------------------------------------------------------------- legends and layer switcher

  function circleIcon(color, radius, stroke) {
    var size = radius * 2 + 4;
    return svg("svg", { width: size, height: size, viewBox: "0 0 " + size + " " + size, "aria-hidden": "true" },
      svg("circle", { cx: size / 2, cy: size / 2, r: radius, fill: color, stroke: stroke || "#fff", "stroke-width": 1.5 }));
  }

  function squareIcon(fill, stroke, opacity) {
    return svg("svg", { width: 18, height: 14, viewBox: "0 0 18 14", "aria-hidden": "true" },
      svg("rect", { x: 1, y: 1, width: 16, height: 12, fill: fill, "fill-opacity": opacity || 1, stroke: stroke, "stroke-width": 1 }));
  }

  function lineIcon(style) {
    return svg("svg", { width: 24, height: 12, viewBox: "0 0 24 12", "aria-hidden": "true" },
      svg("line", {
        x1: 1, y1: 6, x2: 23, y2: 6, stroke: style.color, "stroke-width": style.weight,
        "stroke-dasharray": style.dashArray || null, "stroke-linecap": "round"
      }));
  }

  function clusterIcon(count) {
    var r = clusterRadius(count);
    var size = r * 2 + 4;
    return svg("svg", { width: size, height: size, viewBox: "0 0 " + size + " " + size, "aria-hidden": "true" }, [
      svg("circle", { cx: size / 2, cy: size / 2, r: r, fill: CLUSTER_COLOR, "fill-opacity": 0.82, stroke: "#fff", "stroke-width": 2 }),
      svg("text", { className: "cluster-label", x: size / 2, y: size / 2, text: formatCount(count) })
    ]);
  }

  function legendList(items, single) {
    return el("ul", { className: single ? "legend-single" : null }, items.map(function (item) {
      return el("li", null, [item[0], el("span", { text: item[1], title: item[1] })]);
    }));
  }

  var LEGENDS = {
    "member-states": function () {
      return [
        legendList([
          [squareIcon(LAND.fill, LAND.line), "Member state"],
          [squareIcon(SEA, "#9fb8c8"), "Sea and other land"]
        ], true)
      ];
    },
    occurrences: function () {
      return [
        legendList(GROUPS.map(function (g) { return [circleIcon(g.color, 5.5), g.label]; }), true),
        el("div", { className: "legend-clusters" }, [clusterIcon(3), clusterIcon(40), clusterIcon(600),
          el("span", { text: "Nearby occurrences, with their number" })]),
        el("p", { className: "legend-note", text: "Colour: group of the main commodity. Click a cluster to zoom in." })
      ];
    },
    "geological-units": function () {
      var items = AGES.map(function (a) { return [squareIcon(a.color, "#6b5e4a", 0.75), a.label]; });
      items.push([squareIcon(OTHER_AGE_COLOR, "#6b5e4a", 0.75), "Other age"]);
      return [legendList(items), el("p", { className: "legend-note", text: "Fill: age of the unit. Click a unit for its lithology." })];
    },
    structures: function () {
      return [legendList(Object.keys(STRUCTURE_STYLES).map(function (k) {
        return [lineIcon(STRUCTURE_STYLES[k]), STRUCTURE_STYLES[k].label];
      }))];
    }
  };

  var LIST_ORDER = ["occurrences", "structures", "geological-units", "member-states"];

  function layerNamesInListOrder() {
    var names = Object.keys(layerConfigs);
    return names.sort(function (a, b) {
      var ia = LIST_ORDER.indexOf(a), ib = LIST_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
    });
  }

  function visibleLayerNames() {
    return Object.keys(state.layers).filter(function (name) { return state.layers[name]; }).sort();
  }

  var layerList = document.getElementById("layer-list");
  var layerCheckboxes = {};

  function buildLayerSwitcher() {
    var names = layerNamesInListOrder();
    if (config.basemap && config.basemap.url) names.push(BASEMAP);
    names.forEach(function (name) {
      var title = name === BASEMAP ? "Raster basemap" : layerConfigs[name].title;
      var id = "layer-" + name;
      var input = el("input", { type: "checkbox", id: id, value: name, "data-layer": name });
      input.checked = !!state.layers[name];
      input.addEventListener("change", function () { setLayerVisible(name, input.checked); });
      layerCheckboxes[name] = input;
      var legendFactory = LEGENDS[name];
      var legend = legendFactory ? el("div", { className: "legend", id: id + "-legend" }, legendFactory()) : null;
      if (legend) input.setAttribute("aria-describedby", id + "-legend");
      var item = el("li", { className: "layer-item" + (input.checked ? "" : " is-off"), "data-layer": name }, [
        el("label", { className: "layer-toggle", for: id }, [input, el("span", { text: title })]),
        legend
      ]);
      layerList.appendChild(item);
    });
  }

  function setLayerVisible(name, visible) {
    state.layers[name] = visible;
    var item = layerList.querySelector('[data-layer="' + name + '"]');
    if (item) item.classList.toggle("is-off", !visible);
    if (layerCheckboxes[name] && layerCheckboxes[name].checked !== visible) layerCheckboxes[name].checked = visible;
    if (name === BASEMAP) {
      if (!rasterBase) return;
      if (visible) rasterBase.addTo(map); else map.removeLayer(rasterBase);
      // Land is filled only when no raster basemap lies beneath.
      if (gridLayers["member-states"] && map.hasLayer(gridLayers["member-states"])) gridLayers["member-states"].redraw();
    } else if (rasterConfigs[name]) {
      if (!rasterLayers[name]) rasterLayers[name] = makeRasterLayer(name);
      if (visible) rasterLayers[name].addTo(map); else map.removeLayer(rasterLayers[name]);
    } else if (gridLayers[name]) {
      if (visible) gridLayers[name].addTo(map); else map.removeLayer(gridLayers[name]);
    }
    writeHash();
  }

  // ---------------------------------------------------------------- filters

  var filterForm = document.getElementById("filters");
  var filterCount = document.getElementById("filter-count");
  var geojsonLink = document.getElementById("filters-geojson");
  var vocabulary = null;

  function checkbox(key, value, labelChildren) {
    var id = "f-" + key + "-" + value.replace(/[^A-Za-z0-9_-]/g, "_");
    var input = el("input", { type: "checkbox", name: key, value: value, id: id });
    input.checked = state.filters[key].indexOf(value) >= 0;
    return el("label", { className: "check", for: id }, [input].concat(labelChildren));
  }

  function checklist(key) {
    return filterForm.querySelector('.checklist[data-filter="' + key + '"]');
  }

  function renderCommodityList() {
    var list = checklist("commodity");
    clear(list);
    var counts = {};
    if (vocabulary) vocabulary.commodities.forEach(function (c) { counts[c.code] = c.occurrences_count; });
    var commodities = Object.keys(known.commodity).map(function (code) { return known.commodity[code]; })
      .filter(function (c) {
        // Once counts are known, hide terms without any occurrence (unless chosen in a link).
        return !vocabulary || counts[c.code] > 0 || state.filters.commodity.indexOf(c.code) >= 0;
      });
    var groups = GROUPS.map(function (g) { return g.code; });
    commodities.forEach(function (c) { if (groups.indexOf(c.group) < 0) groups.push(c.group); });
    groups.forEach(function (groupCode) {
      var members = commodities.filter(function (c) { return c.group === groupCode; })
        .sort(function (a, b) { return a.name.localeCompare(b.name); });
      if (!members.length) return;
      var group = GROUP_BY_CODE[groupCode];
      list.appendChild(el("h3", { text: group ? group.label : groupCode }));
      members.forEach(function (c) {
        list.appendChild(checkbox("commodity", c.code, [
          circleIcon(groupColor(c.group), 5),
          el("span", { text: c.name + (c.symbol ? " (" + c.symbol + ")" : "") }),
          counts[c.code] !== undefined ? el("span", { className: "count", text: formatNumber(counts[c.code]) }) : null
        ]));
      });
    });
    if (!commodities.length) list.appendChild(el("p", { className: "muted", text: "No commodities yet." }));
  }

  function renderSimpleList(key, items) {
    var list = checklist(key);
    clear(list);
    items.forEach(function (item) {
      list.appendChild(checkbox(key, item.code, [el("span", { text: item.name })]));
    });
    if (!items.length) list.appendChild(el("p", { className: "muted", text: "None yet." }));
  }

  function renderDepositTypes() {
    var list = checklist("deposit_type");
    if (!vocabulary) return;
    renderSimpleList("deposit_type", vocabulary.deposit_types.map(function (t) { return { code: t, name: t }; }));
    if (!vocabulary.deposit_types.length) {
      clear(list);
      list.appendChild(el("p", { className: "muted", text: "No deposit types recorded yet." }));
    }
  }

  function renderFilterLists() {
    renderCommodityList();
    renderSimpleList("member_state", (config.memberStates || []).slice().sort(function (a, b) { return a.name.localeCompare(b.name); }));
    renderSimpleList("status", config.statuses || []);
  }

  function loadVocabulary() {
    var list = checklist("deposit_type");
    clear(list);
    list.appendChild(el("p", { className: "muted", text: "Loading…" }));
    fetchJson(config.api.vocabularies)
      .then(function (body) {
        vocabulary = {
          commodities: Array.isArray(body.commodities) ? body.commodities : [],
          deposit_types: Array.isArray(body.deposit_types) ? body.deposit_types.filter(function (t) { return typeof t === "string"; }) : []
        };
        known.deposit_type = {};
        vocabulary.deposit_types.forEach(function (t) { known.deposit_type[t] = true; });
        var before = state.filters.deposit_type.join("\n");
        state.filters.deposit_type = normaliseFilter("deposit_type", state.filters.deposit_type);
        renderCommodityList();
        renderDepositTypes();
        updateBadges();
        if (state.filters.deposit_type.join("\n") !== before) applyFilters();
      })
      .catch(function () {
        clear(list);
        list.appendChild(el("div", { className: "popup-error", role: "alert" }, [
          el("p", { text: "Could not load the deposit types — try again." }),
          el("button", { type: "button", text: "Try again", onclick: loadVocabulary })
        ]));
      });
  }

  function readFiltersFromForm() {
    var filters = { commodity: [], member_state: [], status: [], deposit_type: [] };
    FILTER_KEYS.forEach(function (key) {
      filterForm.querySelectorAll('input[name="' + key + '"]:checked').forEach(function (input) {
        filters[key].push(input.value);
      });
    });
    // Values chosen in a link but hidden from the lists stay chosen.
    return filters;
  }

  function syncFormFromState() {
    FILTER_KEYS.forEach(function (key) {
      filterForm.querySelectorAll('input[name="' + key + '"]').forEach(function (input) {
        input.checked = state.filters[key].indexOf(input.value) >= 0;
      });
    });
    updateBadges();
  }

  // A group with chosen values (say, from a link) starts open, so the choice is seen.
  function openChosenGroups() {
    FILTER_KEYS.forEach(function (key) {
      if (state.filters[key].length) checklist(key).closest("details").open = true;
    });
  }

  function updateBadges() {
    FILTER_KEYS.forEach(function (key) {
      var badge = filterForm.querySelector('[data-badge-for="' + key + '"]');
      var n = state.filters[key].length;
      badge.textContent = n ? String(n) : "";
      badge.setAttribute("aria-label", n ? n + " selected" : "");
      if (!n) badge.removeAttribute("aria-label");
    });
  }

  var countRequest = null;

  function updateCount() {
    if (countRequest) countRequest.abort();
    countRequest = new AbortController();
    var query = filterQuery(state.filters);
    filterCount.classList.remove("is-error");
    filterCount.textContent = "Counting…";
    fetchJson(config.api.occurrences + "?limit=1" + (query ? "&" + query : ""), { signal: countRequest.signal })
      .then(function (body) {
        var n = Number(body.numberMatched) || 0;
        filterCount.textContent = formatNumber(n) + (n === 1 ? " occurrence" : " occurrences") +
          (hasFilters() ? " match these filters" : " in all");
      })
      .catch(function (error) {
        if (isAbort(error)) return;
        clear(filterCount);
        filterCount.classList.add("is-error");
        filterCount.appendChild(el("span", { text: "Could not count the matching occurrences — try again. " }));
        filterCount.appendChild(el("button", { type: "button", className: "button secondary small", text: "Try again", onclick: updateCount }));
      });
  }

  function applyFilters() {
    var query = filterQuery(state.filters);
    geojsonLink.href = config.api.occurrences + (query ? "?" + query : "");
    if (gridLayers.occurrences) gridLayers.occurrences.setUrl(tileUrl("occurrences", query));
    updateBadges();
    updateCount();
    writeHash();
  }

  filterForm.addEventListener("change", function (e) {
    if (!e.target || FILTER_KEYS.indexOf(e.target.name) < 0) return;
    state.filters = readFiltersFromForm();
    applyFilters();
  });
  filterForm.addEventListener("reset", function (e) {
    e.preventDefault();
    state.filters = { commodity: [], member_state: [], status: [], deposit_type: [] };
    syncFormFromState();
    applyFilters();
  });
  filterForm.addEventListener("submit", function (e) { e.preventDefault(); });

  // ---------------------------------------------------------------- search

  var searchInput = document.getElementById("search-input");
  var searchResults = document.getElementById("search-results");
  var searchStatus = document.getElementById("search-status");
  var searchRequest = null;
  var searchItems = [];
  var activeIndex = -1;

  function closeResults() {
    searchResults.hidden = true;
    clear(searchResults);
    searchItems = [];
    activeIndex = -1;
    searchInput.setAttribute("aria-expanded", "false");
    searchInput.removeAttribute("aria-activedescendant");
  }

  function setSearchStatus(text, isError) {
    searchStatus.textContent = text || "";
    searchStatus.classList.toggle("is-error", !!isError);
  }

  function highlight(index) {
    activeIndex = index;
    Array.prototype.forEach.call(searchResults.children, function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0 && searchResults.children[index]) {
      searchInput.setAttribute("aria-activedescendant", searchResults.children[index].id);
      searchResults.children[index].scrollIntoView({ block: "nearest" });
    } else {
      searchInput.removeAttribute("aria-activedescendant");
    }
  }

  function showResults(results) {
    clear(searchResults);
    searchItems = results;
    activeIndex = -1;
    results.forEach(function (r, i) {
      var li = el("li", { id: "search-result-" + i, role: "option", "aria-selected": "false" }, [
        el("span", { text: r.name }),
        el("span", { className: "code", text: r.member_state || "" })
      ]);
      // mousedown, not click: it comes before the input loses focus.
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
      searchResults.appendChild(li);
    });
    searchResults.hidden = results.length === 0;
    searchInput.setAttribute("aria-expanded", results.length ? "true" : "false");
  }

  function runSearch() {
    var q = searchInput.value.trim();
    if (searchRequest) searchRequest.abort();
    if (q.length < 2) {
      closeResults();
      setSearchStatus("");
      return;
    }
    searchRequest = new AbortController();
    fetchJson(config.api.search + "?q=" + encodeURIComponent(q), { signal: searchRequest.signal })
      .then(function (body) {
        var results = (body.results || []).filter(function (r) { return isFinite(r.lat) && isFinite(r.lon); });
        showResults(results);
        setSearchStatus(results.length ? "" : "No occurrence matches “" + q + "”.");
      })
      .catch(function (error) {
        if (isAbort(error)) return;
        closeResults();
        setSearchStatus("Could not search — try again.", true);
      });
  }

  function choose(index) {
    var r = searchItems[index];
    if (!r) return;
    closeResults();
    setSearchStatus("");
    searchInput.value = r.name;
    if (!state.layers.occurrences && gridLayers.occurrences) setLayerVisible("occurrences", true);
    var latlng = L.latLng(r.lat, r.lon);
    map.setView(latlng, Math.max(map.getZoom(), SEARCH_ZOOM));
    openOccurrencePopup(r.id, latlng);
  }

  searchInput.addEventListener("input", debounce(runSearch, 200));
  searchInput.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown" && searchItems.length) {
      e.preventDefault();
      highlight((activeIndex + 1) % searchItems.length);
    } else if (e.key === "ArrowUp" && searchItems.length) {
      e.preventDefault();
      highlight(activeIndex <= 0 ? searchItems.length - 1 : activeIndex - 1);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (searchItems.length) choose(activeIndex >= 0 ? activeIndex : 0);
      else runSearch();
    } else if (e.key === "Escape") {
      closeResults();
    }
  });
  searchInput.addEventListener("blur", function () { setTimeout(closeResults, 150); });
  searchInput.addEventListener("focus", function () { if (searchInput.value.trim().length >= 2) runSearch(); });

  // ---------------------------------------------------------------- panel (a drawer on phones)

  var panelToggle = document.getElementById("panel-toggle");
  var panelClose = document.getElementById("panel-close");

  function setPanelOpen(open, focus) {
    var changed = app.classList.contains("panel-open") !== open;
    app.classList.toggle("panel-open", open);
    panelToggle.setAttribute("aria-expanded", open ? "true" : "false");
    panelClose.setAttribute("aria-expanded", open ? "true" : "false");
    // On a wide screen the map changes size with the panel; its centre stays put.
    if (changed) map.invalidateSize({ pan: true, animate: false });
    if (focus && open) panelClose.focus();
    if (focus && !open) panelToggle.focus();
  }

  panelToggle.addEventListener("click", function () { setPanelOpen(!app.classList.contains("panel-open"), true); });
  panelClose.addEventListener("click", function () { setPanelOpen(false, true); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && narrow.matches && app.classList.contains("panel-open")) setPanelOpen(false, true);
  });

  // ---------------------------------------------------------------- raster layers

  /*
   * Raster layers (geophysics grids, prospectivity maps): PNG tiles from the server, drawn
   * with a colour map and a value range the user can change, an opacity slider, a legend with
   * units, and the pixel values where the map is clicked. Their names in the permalink are
   * "raster-<dataset slug>".
   */
  var rasterLayers = {};
  var rasterStyles = {};

  function rasterStops(name) {
    var colormaps = config.colormaps || {};
    if (/_r$/.test(name) && colormaps[name.slice(0, -2)]) return colormaps[name.slice(0, -2)].slice().reverse();
    return colormaps[name] || colormaps.viridis || ["#000000", "#ffffff"];
  }

  function rasterTileUrl(name) {
    var conf = rasterConfigs[name];
    var style = rasterStyles[name];
    return conf.tiles + "&colormap=" + encodeURIComponent(style.colormap) +
      "&rescale=" + encodeURIComponent(style.vmin + "," + style.vmax);
  }

  function formatValue(v) {
    if (v === null || v === undefined || !isFinite(v)) return "no data";
    var n = Number(v);
    if (n !== 0 && Math.abs(n) < 0.01) return n.toExponential(2);
    return Math.abs(n) >= 1000 ? formatNumber(Math.round(n)) : String(Math.round(n * 1000) / 1000);
  }

  function rasterGradient(name, id) {
    var stops = rasterStops(rasterStyles[name].colormap);
    var bar = svg("svg", { width: 200, height: 12, viewBox: "0 0 200 12", "aria-hidden": "true", className: "raster-ramp" });
    var gradient = svg("linearGradient", { id: id, x1: 0, x2: 1, y1: 0, y2: 0 });
    stops.forEach(function (colour, i) {
      gradient.appendChild(svg("stop", { offset: i / Math.max(1, stops.length - 1), "stop-color": colour }));
    });
    bar.appendChild(svg("defs", null, gradient));
    bar.appendChild(svg("rect", { x: 0, y: 0, width: 200, height: 12, fill: "url(#" + id + ")", stroke: "#9fb8c8" }));
    return bar;
  }

  function renderRasterLegend(name) {
    var conf = rasterConfigs[name];
    var style = rasterStyles[name];
    var node = document.getElementById("layer-" + name + "-ramp");
    clear(node);
    node.appendChild(rasterGradient(name, "ramp-" + name));
    node.appendChild(el("div", { className: "raster-range" }, [
      el("span", { className: "raster-min", text: formatValue(style.vmin) }),
      el("span", { className: "raster-units", text: conf.units || "" }),
      el("span", { className: "raster-max", text: formatValue(style.vmax) })
    ]));
  }

  function applyRasterStyle(name) {
    renderRasterLegend(name);
    if (rasterLayers[name]) rasterLayers[name].setUrl(rasterTileUrl(name));
  }

  function prospectivityInfo(info) {
    var validation = info.validation || {};
    var rows = [
      ["Method", info.method_name],
      ["Commodity", info.commodity_name],
      ["Evidence", (info.evidence || []).map(function (e) { return e.name; }).join("; ")],
      ["Success-rate AUC", validation.success_auc],
      ["Prediction-rate AUC", validation.prediction_auc],
      ["Training points", validation.training_points]
    ];
    return el("details", { className: "raster-info" }, [el("summary", { text: "Prospectivity map: how it was made" }), definitionList(rows)]);
  }

  function rasterControls(name) {
    var conf = rasterConfigs[name];
    var id = "layer-" + name;
    var opacity = el("input", { type: "range", min: 0, max: 100, step: 5, value: 80, id: id + "-opacity", className: "raster-opacity" });
    opacity.addEventListener("input", function () {
      if (rasterLayers[name]) rasterLayers[name].setOpacity(Number(opacity.value) / 100);
    });
    var colormap = el("select", { id: id + "-colormap", className: "raster-colormap" });
    Object.keys(config.colormaps || {}).forEach(function (cm) {
      [cm, cm + "_r"].forEach(function (value) {
        var option = el("option", { value: value, text: value === cm ? cm : cm + " (reversed)" });
        option.selected = value === rasterStyles[name].colormap;
        colormap.appendChild(option);
      });
    });
    colormap.addEventListener("change", function () {
      rasterStyles[name].colormap = colormap.value;
      applyRasterStyle(name);
    });
    var vmin = el("input", { type: "number", step: "any", id: id + "-min", className: "raster-stretch", value: rasterStyles[name].vmin });
    var vmax = el("input", { type: "number", step: "any", id: id + "-max", className: "raster-stretch", value: rasterStyles[name].vmax });
    var stretchMessage = el("p", { className: "legend-note raster-stretch-message", role: "status" });
    var applyStretch = function () {
      var low = Number(vmin.value), high = Number(vmax.value);
      if (vmin.value === "" || vmax.value === "" || !isFinite(low) || !isFinite(high) || !(low < high)) {
        stretchMessage.textContent = "The minimum must be a number below the maximum.";
        return;
      }
      stretchMessage.textContent = "";
      rasterStyles[name].vmin = low;
      rasterStyles[name].vmax = high;
      applyRasterStyle(name);
    };
    vmin.addEventListener("change", applyStretch);
    vmax.addEventListener("change", applyStretch);
    var reset = el("button", { type: "button", className: "button secondary small", text: "Reset" });
    reset.addEventListener("click", function () {
      rasterStyles[name] = { colormap: conf.colormap, vmin: conf.rescale[0], vmax: conf.rescale[1] };
      colormap.value = conf.colormap;
      vmin.value = conf.rescale[0];
      vmax.value = conf.rescale[1];
      stretchMessage.textContent = "";
      applyRasterStyle(name);
    });
    return el("div", { className: "raster-controls" }, [
      el("label", { for: id + "-opacity", text: "Opacity" }), opacity,
      el("label", { for: id + "-colormap", text: "Colours" }), colormap,
      el("label", { for: id + "-min", text: "Stretch from" }), vmin,
      el("label", { for: id + "-max", text: "to" }), vmax,
      reset, stretchMessage
    ]);
  }

  function buildRasterItems() {
    rasterNames.forEach(function (name) {
      var conf = rasterConfigs[name];
      var id = "layer-" + name;
      var input = el("input", { type: "checkbox", id: id, value: name, "data-layer": name, "aria-describedby": id + "-legend" });
      input.checked = !!state.layers[name];
      input.addEventListener("change", function () { setLayerVisible(name, input.checked); });
      layerCheckboxes[name] = input;
      var legend = el("div", { className: "legend raster-legend", id: id + "-legend" }, [
        el("div", { className: "raster-ramp-holder", id: id + "-ramp" }),
        conf.prospectivity ? prospectivityInfo(conf.prospectivity) : null,
        rasterControls(name),
        el("p", { className: "legend-note", text: "Click the map for the value here." })
      ]);
      layerList.appendChild(el("li", { className: "layer-item raster-item" + (input.checked ? "" : " is-off"), "data-layer": name }, [
        el("label", { className: "layer-toggle", for: id }, [input, el("span", { text: conf.title })]),
        legend
      ]));
      renderRasterLegend(name);
    });
  }

  function makeRasterLayer(name) {
    var conf = rasterConfigs[name];
    var b = conf.bounds;
    var layer = L.tileLayer(rasterTileUrl(name), {
      pane: paneFor("rasters", "raster"),
      opacity: 0.8,
      maxZoom: MAX_ZOOM,
      maxNativeZoom: Math.min(conf.maxzoom, MAX_ZOOM),
      bounds: L.latLngBounds([b[1], b[0]], [b[3], b[2]]),
      className: "raster-tiles raster-tiles-" + conf.slug
    });
    layer.on("tileerror", function () { reportTileFailure(name); });
    return layer;
  }

  function visibleRasterNames() {
    return rasterNames.filter(function (name) { return state.layers[name]; });
  }

  function openRasterValuePopup(latlng) {
    var names = visibleRasterNames();
    var container = popupContainer();
    container.classList.add("raster-value-popup");
    container.appendChild(el("p", { className: "muted", text: "Loading…" }));
    var popup = openPopupAt(latlng, container);
    var lon = L.Util.wrapNum(latlng.lng, [-180, 180], true).toFixed(5);
    var lat = latlng.lat.toFixed(5);
    Promise.all(names.map(function (name) {
      return fetchJson(rasterConfigs[name].point + "?lon=" + lon + "&lat=" + lat)
        .then(function (body) {
          var values = (body.values || []).map(function (v) { return formatValue(v.value); });
          var text = body.inside ? values.join(", ") + (body.units && values.some(function (v) { return v !== "no data"; }) ? " " + body.units : "") : "outside the layer";
          return [rasterConfigs[name].title, text];
        })
        .catch(function () { return [rasterConfigs[name].title, "could not be read — try again"]; });
    })).then(function (rows) {
      clear(container);
      container.appendChild(el("h3", { text: "Values here" }));
      container.appendChild(definitionList(rows));
      container.appendChild(el("p", { className: "muted", text: lat + ", " + lon }));
      popup.update();
    });
  }

  map.on("click", function (e) {
    if (!visibleRasterNames().length) return;
    // A click on a drawn feature opens that feature's popup instead.
    var target = e.originalEvent && e.originalEvent.target;
    if (target && target.classList && target.classList.contains("leaflet-interactive")) return;
    openRasterValuePopup(e.latlng);
  });

  // ---------------------------------------------------------------- start-up and restoring a link

  function applyHash(hash, initial) {
    var parsed = parseHash(hash);
    restoring = true;
    var names = parsed.layers ? parsed.layers : DEFAULT_LAYERS.concat(config.basemap && config.basemap.url ? [BASEMAP] : []);
    var wanted = {};
    names.forEach(function (n) { wanted[n] = true; });
    Object.keys(layerConfigs).concat(rasterNames, rasterBase ? [BASEMAP] : []).forEach(function (name) {
      if (initial) state.layers[name] = !!wanted[name];
      else if (!!state.layers[name] !== !!wanted[name]) setLayerVisible(name, !!wanted[name]);
    });
    FILTER_KEYS.forEach(function (key) {
      state.filters[key] = normaliseFilter(key, parsed.filters[key] || []);
    });
    if (parsed.view) map.setView([parsed.view.lat, parsed.view.lon], parsed.view.zoom, { animate: !initial });
    else if (initial) map.fitBounds(SOUTH_EAST_ASIA);
    restoring = false;
  }

  if (config.basemap && config.basemap.url) {
    // Leaflet shows attributions as HTML: the setting goes in as text, escaped by the DOM.
    var attribution = document.createElement("span");
    attribution.textContent = config.basemap.attribution || "";
    rasterBase = L.tileLayer(config.basemap.url, { attribution: attribution.innerHTML, maxZoom: MAX_ZOOM });
  }

  applyHash(location.hash, true);
  setPanelOpen(!narrow.matches, false);
  rasterNames.forEach(function (name) {
    var conf = rasterConfigs[name];
    rasterStyles[name] = { colormap: conf.colormap, vmin: conf.rescale[0], vmax: conf.rescale[1] };
  });
  buildLayerSwitcher();
  buildRasterItems();
  renderFilterLists();
  updateBadges();
  openChosenGroups();

  Object.keys(layerConfigs).forEach(function (name) {
    gridLayers[name] = makeGrid(name);
    if (state.layers[name]) gridLayers[name].addTo(map);
  });
  if (rasterBase && state.layers[BASEMAP]) rasterBase.addTo(map);
  rasterNames.forEach(function (name) {
    if (state.layers[name]) (rasterLayers[name] = makeRasterLayer(name)).addTo(map);
  });

  geojsonLink.href = config.api.occurrences + (filterQuery(state.filters) ? "?" + filterQuery(state.filters) : "");
  coords.show(map.getCenter(), "Centre");
  updateCount();
  loadVocabulary();
  writeHash();
  map.on("moveend", writeHash);

  window.addEventListener("hashchange", function () {
    if (location.hash === hashFromState()) return;
    var before = filterQuery(state.filters);
    applyHash(location.hash, false);
    syncFormFromState();
    openChosenGroups();
    if (filterQuery(state.filters) !== before) applyFilters();
    else writeHash();
  });

  mapNode.setAttribute("data-ready", "true");
})();
