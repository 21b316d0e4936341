/* Static pages: the page-number box of an item page asks for ?canvas=N, which a file server
   ignores; go to the file of that page instead (item/<id>/canvas/<n>/index.html). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var input = form && form.querySelector && form.querySelector('input[name="canvas"]');
    if (!input || !/\/index\.html$/.test(form.action)) { return; }
    var n = parseInt(input.value, 10);
    if (!(n >= 1)) { return; }
    event.preventDefault();
    window.location.href = form.action.replace(/index\.html$/, "canvas/" + n + "/index.html");
  });
})();
