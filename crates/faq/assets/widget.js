/* madoguchi FAQ chat widget. Add to a website:
 *   <script src="https://madoguchi.example.jp/faq/widget.js" data-lang="ja" data-organisation="160008" defer></script>
 *   <noscript><a href="https://madoguchi.example.jp/faq">よくある質問（チャット）</a></noscript>
 * It adds a button that opens the chat (/faq/embed) in a frame. It writes
 * nothing but text and attributes of its own elements (no HTML from anywhere).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var base = new URL(script.src, window.location.href).origin;
  var lang = script.getAttribute("data-lang") === "en" ? "en" : "ja";
  var org = (script.getAttribute("data-organisation") || "").replace(/[^0-9]/g, "").slice(0, 6);
  var text = lang === "en"
    ? { open: "Ask a question", close: "Close the chat", title: "Questions and answers (chat)" }
    : { open: "質問する（チャット）", close: "チャットを閉じる", title: "よくある質問（チャット）" };
  var src = base + "/faq/embed?lang=" + lang + (org ? "&organisation=" + org : "");

  var button = document.createElement("button");
  button.type = "button";
  button.textContent = text.open;
  button.setAttribute("aria-expanded", "false");
  var b = button.style;
  b.position = "fixed"; b.right = "16px"; b.bottom = "16px"; b.zIndex = "2147483000";
  b.padding = "12px 20px"; b.fontSize = "16px"; b.borderRadius = "24px";
  b.border = "2px solid #fff"; b.background = "#0b5394"; b.color = "#fff"; b.cursor = "pointer";

  var panel = document.createElement("div");
  panel.hidden = true;
  panel.id = "madoguchi-faq-panel";
  button.setAttribute("aria-controls", panel.id);
  var p = panel.style;
  p.position = "fixed"; p.right = "16px"; p.bottom = "72px"; p.zIndex = "2147483000";
  p.width = "min(420px, calc(100vw - 32px))"; p.height = "min(600px, calc(100vh - 96px))";
  p.background = "#fff"; p.border = "1px solid #555"; p.borderRadius = "8px"; p.overflow = "hidden";

  var frame = null;
  button.addEventListener("click", function () {
    var open = panel.hidden;
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.src = src;
      frame.title = text.title;
      frame.style.width = "100%"; frame.style.height = "100%"; frame.style.border = "0";
      panel.appendChild(frame);
    }
    panel.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? text.close : text.open;
    if (open && frame) { frame.focus(); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !panel.hidden) { button.click(); button.focus(); }
  });
  function attach() { document.body.appendChild(panel); document.body.appendChild(button); }
  if (document.body) { attach(); } else { document.addEventListener("DOMContentLoaded", attach); }
})();
