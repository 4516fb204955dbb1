// Draw every chart with vega-embed; the static SVG stays visible until its chart has drawn.
// Each chart's menu saves it as SVG or PNG and shows the data it draws ("View data"), all
// offline: the data is the chart's own, in the page.
function cxDataTable(spec) {
  var rows = [];
  Object.keys(spec.datasets || {}).forEach(function (name) { rows = rows.concat(spec.datasets[name]); });
  if (!rows.length && spec.data && spec.data.values) rows = spec.data.values;
  var table = document.createElement("table");
  table.className = "cx-table cx-data-table";
  var columns = [];
  rows.forEach(function (row) {
    Object.keys(row).forEach(function (key) { if (columns.indexOf(key) < 0) columns.push(key); });
  });
  var head = table.createTHead().insertRow();
  columns.forEach(function (key) { var th = document.createElement("th"); th.textContent = key; head.appendChild(th); });
  var body = table.createTBody();
  rows.forEach(function (row) {
    var tr = body.insertRow();
    columns.forEach(function (key) {
      var value = row[key];
      var cell = tr.insertCell();
      if (typeof value === "number") {  // six significant digits to read; figures.xlsx has all
        cell.className = "num";
        value = Number.isInteger(value) ? value : Number(value.toPrecision(6));
      }
      cell.textContent = value === null || value === undefined ? "" : String(value);
    });
  });
  return table;
}

document.querySelectorAll("figure.cx-chart").forEach(function (figure) {
  var target = figure.querySelector(".cx-vega");
  if (!target) return;
  var spec = JSON.parse(figure.querySelector("script.cx-spec").textContent);
  var actions = { export: { svg: true, png: true }, source: false, compiled: false, editor: false };
  vegaEmbed(target, spec, { actions: actions, renderer: "svg", downloadFileName: "chart" }).then(
    function () {
      var menu = figure.querySelector(".vega-actions");
      if (menu) {
        var view = document.createElement("a");
        view.href = "#";
        view.className = "cx-view-data";
        view.textContent = "View data";
        view.addEventListener("click", function (event) {
          event.preventDefault();
          var shown = figure.querySelector(".cx-data");
          if (!shown) {
            shown = document.createElement("div");
            shown.className = "cx-data";
            shown.appendChild(cxDataTable(spec));
            figure.appendChild(shown);
          } else {
            shown.hidden = !shown.hidden;
          }
          var details = figure.querySelector("details");
          if (details) details.removeAttribute("open");
        });
        menu.appendChild(view);
      }
      figure.classList.add("cx-live");
    },
    function (error) { console.warn("chart kept static:", error); }
  );
});
