// Draw every <div class="chart" data-figure="id"> from the JSON in <script id="id">.
//
// The toolbar has two buttons, download as PNG and reset the axes: nothing that sends a
// chart out of the building (no Plotly Cloud, no Chart Studio) and no select or lasso
// tools. Month and day names, the decimal comma and the thousands space follow the page's
// language (<html lang>), as the tables beside the charts do.
(function () {
  var FORMATS = {
    fi: {
      months: ["tammikuu", "helmikuu", "maaliskuu", "huhtikuu", "toukokuu", "kesäkuu",
        "heinäkuu", "elokuu", "syyskuu", "lokakuu", "marraskuu", "joulukuu"],
      shortMonths: ["tammi", "helmi", "maalis", "huhti", "touko", "kesä", "heinä", "elo",
        "syys", "loka", "marras", "joulu"],
      days: ["sunnuntai", "maanantai", "tiistai", "keskiviikko", "torstai", "perjantai",
        "lauantai"],
      shortDays: ["su", "ma", "ti", "ke", "to", "pe", "la"],
      date: "%d.%m.%Y", decimal: ",", thousands: "\u00a0"
    },
    sv: {
      months: ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
        "september", "oktober", "november", "december"],
      shortMonths: ["jan", "feb", "mars", "apr", "maj", "juni", "juli", "aug", "sep", "okt",
        "nov", "dec"],
      days: ["söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"],
      shortDays: ["sön", "mån", "tis", "ons", "tors", "fre", "lör"],
      date: "%Y-%m-%d", decimal: ",", thousands: "\u00a0"
    }
  };
  var WORDS = {
    fi: {"Download plot as a PNG": "Lataa kuvana (PNG)", "Reset axes": "Palauta akselit",
      "Double-click to zoom back out": "Kaksoisnapsauta palataksesi"},
    sv: {"Download plot as a PNG": "Spara som bild (PNG)", "Reset axes": "Återställ axlarna",
      "Double-click to zoom back out": "Dubbelklicka för att zooma ut"}
  };
  var CARTESIAN = ["scatter", "bar", "box", "histogram", "heatmap", "violin"];
  var NARROW = 600;  // px: a chart narrower than this is on a phone

  function register(lang) {
    if (!FORMATS[lang] || !window.Plotly.register) { return "en"; }
    window.Plotly.register({moduleType: "locale", name: lang, dictionary: WORDS[lang],
      format: FORMATS[lang]});
    return lang;
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  var MIN_NAME = 6;  // characters of a shortened node name, "…" included

  // A Sankey chart's node names run into each other where the chart is narrow (a phone, a
  // path of six steps): columns stand closer than the names are long, and a small node's
  // name sits on its neighbour's. Plotly places them without looking, so after each drawing
  // the names are read back, larger nodes first: a name that runs into another node or out
  // past the outer columns is shortened with "…" (not below MIN_NAME), and one that still
  // does, or meets a name already kept, is hidden. The whole names stay in the hover and
  // the table.
  function declutterSankey(el) {
    var nodes = Array.prototype.slice.call(el.querySelectorAll("g.sankey-node"))
      .map(function (g) {
        var rect = g.querySelector(".node-rect");
        return {label: g.querySelector(".node-label"),
          rect: rect ? rect.getBoundingClientRect() : null};
      })
      .filter(function (n) { return n.label && n.rect; });
    if (!nodes.length) { return; }
    var left = Math.min.apply(null, nodes.map(function (n) { return n.rect.left; }));
    var right = Math.max.apply(null, nodes.map(function (n) { return n.rect.right; }));

    function runsOut(n, r) {
      return r.left < left - 1 || r.right > right + 1 ||
        nodes.some(function (o) { return o !== n && overlaps(o.rect, r); });
    }

    nodes.sort(function (a, b) { return b.rect.height - a.rect.height; });
    var kept = [];
    nodes.forEach(function (n) {
      var label = n.label;
      if (label.dataset.full === undefined) { label.dataset.full = label.textContent; }
      var full = label.dataset.full;
      label.textContent = full;
      label.style.visibility = "";
      var r = label.getBoundingClientRect();
      if (!r.width) { return; }
      for (var keep = full.length - 1; runsOut(n, r) && keep >= MIN_NAME - 1; keep--) {
        label.textContent = full.slice(0, keep).replace(/\s+$/, "") + "\u2026";
        r = label.getBoundingClientRect();
      }
      if (runsOut(n, r) || kept.some(function (k) { return overlaps(k, r); })) {
        label.style.visibility = "hidden";
      } else { kept.push(r); }
    });
  }

  function draw() {
    if (!window.Plotly) { return; }
    var locale = register((document.documentElement.lang || "en").slice(0, 2));
    document.querySelectorAll("div.chart[data-figure]").forEach(function (el) {
      var src = document.getElementById(el.dataset.figure);
      if (!src) { return; }
      var fig = JSON.parse(src.textContent);
      // A trace may ask to be drawn otherwise in a narrow chart (a phone): the People
      // chart's team names, which overlap and run out of a 350 px chart, are left to the
      // hover text and the table there.
      if (el.clientWidth < NARROW) {
        fig.data.forEach(function (t) {
          if (t.meta && t.meta.narrow_mode) { t.mode = t.meta.narrow_mode; }
        });
      }
      var cartesian = fig.data.some(function (t) {
        return CARTESIAN.indexOf(t.type || "scatter") >= 0;
      });
      var drawn = window.Plotly.newPlot(el, fig.data, fig.layout, {
        responsive: true, locale: locale, displaylogo: false, showLink: false,
        showSendToCloud: false, showEditInChartStudio: false, showTips: false,
        modeBarButtons: [cartesian ? ["toImage", "resetScale2d"] : ["toImage"]],
        toImageButtonOptions: {filename: el.dataset.figure.replace(/^fig-/, "")}
      });
      if (fig.data.some(function (t) { return t.type === "sankey"; })) {
        drawn.then(function () {
          declutterSankey(el);
          el.on("plotly_afterplot", function () { declutterSankey(el); });
        });
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else { draw(); }
})();
