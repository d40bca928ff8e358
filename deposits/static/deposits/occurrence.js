/*
 * The small map on an occurrence page: member-state boundaries from the project's own vector
 * tiles (found through their TileJSON) and a marker on the occurrence.
 */
(function () {
  "use strict";

  var GROUP_COLORS = {
    precious: "#d4a017", base: "#c0504d", critical: "#2e8b57", rare_earths: "#8e44ad",
    industrial: "#7f8c8d", energy: "#2b2b2b", construction: "#a0522d"
  };

  var node = document.getElementById("occurrence-map");
  var pointNode = document.getElementById("occurrence-point");
  if (!node || !pointNode || typeof L === "undefined") return;

  var point = JSON.parse(pointNode.textContent);
  var latlng = L.latLng(point.lat, point.lon);
  var map = L.map(node, { center: latlng, zoom: 7, minZoom: 2, maxZoom: 18, scrollWheelZoom: false });
  map.attributionControl.setPrefix("");
  L.control.scale({ imperial: false }).addTo(map);
  L.circleMarker(latlng, {
    radius: 8, color: "#ffffff", weight: 2, fillColor: GROUP_COLORS[node.dataset.group] || "#4a5561", fillOpacity: 1
  }).addTo(map);

  function showProblem(text) {
    var caption = document.getElementById("occurrence-map-caption");
    if (!caption) return;
    var p = document.createElement("p");
    p.className = "error-message";
    p.setAttribute("role", "alert");
    p.textContent = text;
    caption.parentNode.insertBefore(p, caption.nextSibling);
  }

  fetch(node.dataset.tilejson, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (tilejson) {
      if (!L.VectorGrid || !tilejson.tiles || !tilejson.tiles.length) throw new Error("no tiles");
      // The tiles come from this site; a path keeps the page's own scheme and host.
      var url = String(tilejson.tiles[0]).replace(/^https?:\/\/[^/]+/, "");
      var styles = {};
      styles[(tilejson.vector_layers && tilejson.vector_layers[0] && tilejson.vector_layers[0].id) || "member-states"] = {
        fill: true, fillColor: "#f4f0e6", fillOpacity: 1, color: "#7d8a96", weight: 1, interactive: false
      };
      L.vectorGrid.protobuf(url, {
        rendererFactory: L.svg.tile,
        vectorTileLayerStyles: styles,
        interactive: false,
        attribution: "Boundaries: Natural Earth"
      }).addTo(map);
    })
    .catch(function () {
      showProblem("Could not load the boundaries for this map — reload the page to try again.");
    });
})();
