/* Starts the embedded IIIF viewer with the options the server wrote into #viewer-config
   (server/web/viewer.py): Mirador 4 (window.Mirador) or Universal Viewer 4 (window.UV). If the
   bundle did not load, says so in the viewer's place; the page image stays downloadable. */
(function () {
  "use strict";
  var holder = document.getElementById("viewer");
  var source = document.getElementById("viewer-config");
  if (!holder || !source) return;

  function fail() {
    var message = document.createElement("p");
    message.className = "viewer__error";
    message.textContent = holder.getAttribute("data-error") || "";
    holder.appendChild(message);
  }

  var config;
  try {
    config = JSON.parse(source.textContent);
  } catch (e) {
    fail();
    return;
  }
  if (config.kind === "mirador" && window.Mirador) {
    window.heritageViewer = window.Mirador.viewer(config.options);
  } else if (config.kind === "uv" && window.UV) {
    holder.classList.add("uv");
    window.heritageViewer = window.UV.init(holder.id, config.options);
  } else {
    fail();
  }
})();
