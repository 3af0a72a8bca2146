// Palier console: small enhancements over pages that work without script.
// - The publish form redraws its exact preview as the person types (debounced), by posting
//   the form with intent=preview and swapping in the answer's preview section.
(function () {
  "use strict";
  var form = document.getElementById("item-form");
  var preview = document.getElementById("preview");
  if (!form || !preview || preview.dataset.renderer !== "true") {
    return;
  }
  var timer = null;
  var running = null;
  function redraw() {
    var data = new FormData(form);
    data.set("intent", "preview");
    var status = document.getElementById("preview-status");
    if (status) {
      status.hidden = false;
    }
    if (running) {
      running.abort();
    }
    running = new AbortController();
    window.palierPreviewBusy = true;
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", signal: running.signal })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var answer = new DOMParser().parseFromString(html, "text/html");
        var fresh = answer.getElementById("preview");
        if (fresh) {
          preview.replaceWith(fresh);
          preview = fresh;
          var media = fresh.querySelector("#preview-media");
          var kept = document.getElementById("media");
          if (media && kept && media.value) {
            kept.value = media.value;
            var picture = document.getElementById("picture");
            if (picture) {
              picture.value = "";
            }
          }
        }
        window.palierPreviewBusy = false;
      })
      .catch(function (error) {
        if (!error || error.name !== "AbortError") {
          window.palierPreviewBusy = false;
        }
      });
  }
  function later() {
    clearTimeout(timer);
    timer = setTimeout(redraw, 700);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  // A page that already holds a preview (drawn by the server) needs no first drawing.
  if (!preview.dataset.at) {
    redraw();
  }
})();
