/* Progressive enhancement only: the "Copy" buttons next to the manifest address and the embed code.
   Without JavaScript the buttons stay hidden and the fields can be selected and copied by hand. */
(function () {
  "use strict";
  var status = document.getElementById("copy-status");

  function copied(button, ok) {
    if (status) status.textContent = ok ? button.getAttribute("data-copied") : "";
  }

  function copy(field, button) {
    var text = field.value;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button, true); }, function () {
        field.select();
      });
      return;
    }
    field.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    copied(button, ok);
  }

  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () { copy(field, button); });
  });
})();
