// The report's pictures: unpack Plotly's library (gzipped, base64, inside this page), then draw every
// figure. Nothing is fetched: the library arrives through DecompressionStream, the figures are JSON.
(function () {
  "use strict";
  const root = document.documentElement;
  const status = document.getElementById("plots-status");
  function say(text) { status.textContent = text; status.hidden = false; }
  async function library() {
    if (typeof DecompressionStream === "undefined") {
      throw new Error("this browser cannot unpack the charts (no DecompressionStream): open the file in a current browser");
    }
    const packed = atob(document.getElementById("plotly-library").textContent.trim());
    const bytes = new Uint8Array(packed.length);
    for (let i = 0; i < packed.length; i++) bytes[i] = packed.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const code = await new Response(stream).text();
    const element = document.createElement("script");
    element.textContent = code;
    document.head.appendChild(element);
  }
  async function draw() {
    const figures = JSON.parse(document.getElementById("figures").textContent);
    if (!Object.keys(figures).length) { root.dataset.plots = "ready"; return; }
    await library();
    for (const [id, figure] of Object.entries(figures)) {
      const element = document.getElementById(id);
      if (element) {
        await Plotly.newPlot(element, figure.data, figure.layout,
          {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"]});
      }
    }
    root.dataset.plots = "ready";
  }
  // printed, every collapsed part opens: a PDF of the report holds the evidence and the sessions
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  // a link to a session or a finding opens what it points at
  function openTarget() {
    const id = decodeURIComponent(location.hash.slice(1));
    const target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  draw().catch(function (error) {
    root.dataset.plots = "failed";
    say("The charts could not be drawn: " + error.message);
  });
})();
