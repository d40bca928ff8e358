/* Follows a download job: polls its status URL until the file is ready or the job failed. */
(function () {
  "use strict";
  var node = document.getElementById("download-job");
  if (!node) return;
  var message = document.getElementById("job-message");
  var bar = document.getElementById("job-progress");
  var fileBox = document.getElementById("job-file");
  function poll() {
    fetch(node.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (job) {
        bar.value = job.progress;
        bar.textContent = job.progress + "%";
        if (job.status === "done") {
          message.textContent = "Ready: " + job.features + " features.";
          var link = fileBox.querySelector("a");
          link.href = job.file_url;
          fileBox.hidden = false;
          return;
        }
        if (job.status === "failed") {
          message.textContent = "The download failed: " + (job.message || "unknown reason") + ".";
          return;
        }
        message.textContent = (job.status === "queued" ? "Waiting for a worker" : "Writing") +
          (job.features ? ": " + job.written + " of " + job.features + " features" : "") + "…";
        window.setTimeout(poll, 2000);
      })
      .catch(function () {
        message.textContent = "Could not check the download; reload the page to try again.";
      });
  }
  poll();
})();
