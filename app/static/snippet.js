// "Embed this map": the iframe code for the current view, with a copy button.
(function () {
  "use strict";
  const dialog = document.getElementById("embed-dialog");
  const code = document.getElementById("embed-code");
  const open = document.getElementById("embed-open");
  if (!dialog || !open) return;
  const attr = (s) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

  open.addEventListener("click", () => {
    const url = window.currentEmbedUrl();
    code.value = '<iframe src="' + attr(url) + '" width="600" height="480" ' +
      'style="border:0;max-width:100%" loading="lazy" title="' + attr(document.title) + '" ' +
      'sandbox="allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox" ' +
      'allow="geolocation"></iframe>';
    document.getElementById("embed-copied").hidden = true;
    dialog.showModal();
    code.select();
  });
  document.getElementById("embed-copy").addEventListener("click", () => {
    code.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
    if (!ok && navigator.clipboard) navigator.clipboard.writeText(code.value).catch(() => {});
    document.getElementById("embed-copied").hidden = false;
  });
})();
