// The job page's progress bar: polls the job's progress document (privacy:job-progress)
// and updates the page in place until the job ends. No framework, no inline script.
(function () {
  "use strict";
  var section = document.getElementById("job");
  if (!section) return;
  var POLL_MS = 1000;
  var FINISHED = { done: "Done", failed: "Failed", cancelled: "Cancelled" };
  var ACTIVE = { queued: "Queued", running: "Running" };

  function text(id, value) {
    var element = document.getElementById(id);
    if (element) element.textContent = value;
  }

  // Thousands separators, as the server-rendered page writes them (USE_THOUSAND_SEPARATOR).
  function number(value) {
    return Number(value).toLocaleString("en-US");
  }

  function show(id, visible) {
    var element = document.getElementById(id);
    if (element) element.hidden = !visible;
  }

  function duration(seconds) {
    if (seconds < 90) return Math.round(seconds) + " s left";
    if (seconds < 5400) return Math.round(seconds / 60) + " min left";
    return (seconds / 3600).toFixed(1) + " h left";
  }

  function batches(ids) {
    var list = document.getElementById("job-batches");
    if (!list || list.children.length === ids.length) return;
    var base = section.getAttribute("data-audit-url");
    list.textContent = "";
    ids.forEach(function (id) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = base + "?batch_id=" + encodeURIComponent(id);
      link.textContent = "Batch ";
      var code = document.createElement("span");
      code.className = "id";
      code.textContent = id;
      link.appendChild(code);
      item.appendChild(link);
      list.appendChild(item);
    });
  }

  function render(progress) {
    var bar = document.getElementById("job-bar");
    if (progress.total === null) {
      bar.removeAttribute("value");
      text("job-total", "? (not planned yet)");
    } else {
      bar.max = Math.max(progress.total, 1);
      bar.value = progress.status === "done" && progress.total === 0 ? 1 : progress.done;
      text("job-total", number(progress.total));
    }
    text("job-done", number(progress.done));
    text("job-rate", progress.rate ? number(Math.round(progress.rate)) + " records/s" : "rate not known yet");
    text(
      "job-left",
      progress.status in FINISHED ? "finished" :
        progress.seconds_left === null ? "time left not known yet" : duration(progress.seconds_left)
    );
    text("job-changed", number(progress.changed));
    text("job-unchanged", number(progress.unchanged));
    text("job-refused", number(progress.refused));
    var status = document.getElementById("job-status");
    status.textContent = FINISHED[progress.status] || ACTIVE[progress.status] || progress.status;
    status.setAttribute("data-status", progress.status);
    text("job-error", progress.error);
    show("job-error", Boolean(progress.error));
    show("job-cancel", progress.status in ACTIVE && !progress.cancel_requested);
    show("job-cancelling", progress.status in ACTIVE && progress.cancel_requested);
    show("job-retry", progress.status === "failed");
    batches(progress.batch_ids);
  }

  function poll() {
    fetch(section.getAttribute("data-progress-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (progress) {
        render(progress);
        if (!(progress.status in FINISHED)) window.setTimeout(poll, POLL_MS);
      })
      .catch(function () {
        // A network hiccup or a restarting server: try again, a little later.
        window.setTimeout(poll, POLL_MS * 3);
      });
  }

  if (!(section.querySelector("#job-status").getAttribute("data-status") in FINISHED)) {
    window.setTimeout(poll, POLL_MS);
  }
})();
