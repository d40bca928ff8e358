/*
 * Map of the features on an OGC API items or item page. The features come from the page itself
 * (<script id="features-data" type="application/json">); values are shown as text only.
 */
(function () {
  "use strict";
  var node = document.getElementById("features-map");
  var dataNode = document.getElementById("features-data");
  if (!node || !dataNode || typeof L === "undefined") return;
  var data = JSON.parse(dataNode.textContent);
  var features = Array.isArray(data) ? data : [data];
  var map = L.map(node, { minZoom: 1, maxZoom: 18, scrollWheelZoom: false });
  map.attributionControl.setPrefix("");
  var layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
    pointToLayer: function (feature, latlng) {
      return L.circleMarker(latlng, { radius: 5, color: "#ffffff", weight: 1, fillColor: "#0b4f6c", fillOpacity: 1 });
    },
    style: function () { return { color: "#0b4f6c", weight: 1.5, fillOpacity: 0.25 }; },
    onEachFeature: function (feature, leafletLayer) {
      var props = feature.properties || {};
      var label = props.name || ("Feature " + feature.id);
      leafletLayer.bindTooltip(String(label));
    }
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { maxZoom: 10, padding: [10, 10] });
  } else {
    map.fitBounds([[-11, 92], [29, 142]]);
  }
})();
