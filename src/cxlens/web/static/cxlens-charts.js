// Draw every <div class="chart" data-figure="id"> from the JSON in <script id="id">.
(function () {
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("div.chart[data-figure]").forEach(function (el) {
      var src = document.getElementById(el.dataset.figure);
      if (!src) { return; }
      var fig = JSON.parse(src.textContent);
      window.Plotly.newPlot(el, fig.data, fig.layout,
        {responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"]});
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else { draw(); }
})();
