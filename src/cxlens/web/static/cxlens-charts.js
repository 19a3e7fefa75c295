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
      window.Plotly.newPlot(el, fig.data, fig.layout, {
        responsive: true, locale: locale, displaylogo: false, showLink: false,
        showSendToCloud: false, showEditInChartStudio: false, showTips: false,
        modeBarButtons: [cartesian ? ["toImage", "resetScale2d"] : ["toImage"]],
        toImageButtonOptions: {filename: el.dataset.figure.replace(/^fig-/, "")}
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else { draw(); }
})();
