// Draw every chart with vega-embed; the static SVG stays visible until its chart has drawn.
document.querySelectorAll("figure.cx-chart").forEach(function (figure) {
  var target = figure.querySelector(".cx-vega");
  if (!target) return;
  var spec = JSON.parse(figure.querySelector("script.cx-spec").textContent);
  vegaEmbed(target, spec, { actions: false, renderer: "svg" }).then(
    function () { figure.classList.add("cx-live"); },
    function (error) { console.warn("chart kept static:", error); }
  );
});
