// Upload page: polls the job's status for the progress bar, and draws the staged preview.
(function () {
  "use strict";
  var job = document.getElementById("job");
  if (job) {
    var active = ["queued", "running", "publishing"];
    var bar = document.getElementById("job-progress");
    var label = document.getElementById("job-status");
    var message = document.getElementById("job-message");
    var poll = function () {
      fetch(job.dataset.statusUrl, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (s) {
          bar.value = s.progress;
          bar.textContent = s.progress + "%";
          label.textContent = s.status_label;
          message.textContent = s.message || "";
          if (active.indexOf(s.status) >= 0) { setTimeout(poll, 1000); }
          else if (s.status !== job.dataset.status) { window.location.reload(); }
        })
        .catch(function () {
          message.textContent = "Could not reach the server to update the progress; reload the page to try again.";
        });
    };
    if (active.indexOf(job.dataset.status) >= 0) { setTimeout(poll, 500); }
  }

  var mapDiv = document.getElementById("preview-map");
  if (mapDiv && window.L) {
    var map = L.map(mapDiv, { center: [8, 112], zoom: 4 });
    L.control.scale().addTo(map);
    fetch(mapDiv.dataset.previewUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        var layer = L.geoJSON(fc, {
          style: function (f) { return { color: f.properties.rejected ? "#c0392b" : "#1f6f8b", weight: 2 }; },
          pointToLayer: function (f, latlng) {
            return L.circleMarker(latlng, { radius: 5, color: f.properties.rejected ? "#c0392b" : "#1f6f8b" });
          },
          onEachFeature: function (f, l) {
            var text = document.createElement("div");
            text.textContent = "Row " + f.properties.row + (f.properties.name ? ": " + f.properties.name : "") +
              (f.properties.problems.length ? " — " + f.properties.problems.join("; ") : "");
            l.bindPopup(text);
          }
        }).addTo(map);
        mapDiv.dataset.count = String(fc.features.length);
        if (fc.features.length) { map.fitBounds(layer.getBounds(), { maxZoom: 12 }); }
        if (fc.numberMatched > fc.numberReturned) {
          // A large upload is sampled (layers.views.upload_preview_api): say so under the map.
          var note = document.createElement("p");
          note.id = "preview-sampled";
          note.textContent = "Showing " + fc.numberReturned.toLocaleString("en") + " of " +
            fc.numberMatched.toLocaleString("en") + " staged features: the rejected ones " +
            "first, then rows taken evenly from the whole file.";
          mapDiv.parentNode.insertBefore(note, mapDiv.nextSibling);
        }
      })
      .catch(function () { mapDiv.textContent = "The preview could not be loaded; reload the page to try again."; });
  }
})();
