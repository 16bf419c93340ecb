// Rampart's own script, loaded on every page (no inline code: the
// Content-Security-Policy forbids it). Copy buttons: a button with
// data-copy="#id" copies the value (or text) of that element.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var source = document.querySelector(button.getAttribute("data-copy"));
  if (!source) return;
  var text = source.value !== undefined ? source.value : source.textContent;
  var done = function () { button.textContent = "Copied"; };
  var fallback = function () {
    if (source.select) source.select();
    document.execCommand("copy");
    done();
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, fallback);
  } else {
    fallback();
  }
});
