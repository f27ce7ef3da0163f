// Draws the plan embedded in #plan-data on a Leaflet map. Every text from the plan reaches the
// page through textContent or DOM nodes, never as HTML: no string from the data is parsed.
(function () {
  "use strict";

  function readJson(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function table(rows) {
    var t = el("table", "siting-table");
    rows.forEach(function (row) {
      var tr = t.insertRow();
      tr.appendChild(el("th", "", row[0]));
      tr.appendChild(el("td", "", row[1]));
    });
    return t;
  }

  var plan = readJson("plan-data");
  var countries = readJson("countries-data");
  var map = L.map("map", {zoomSnap: 0.25});

  // Countries below everything else, drawn once per 360-degree copy so that a plan unwrapped
  // across the antimeridian has land under it on both sides.
  map.createPane("countries").style.zIndex = 350;
  var land = L.layerGroup(plan.copies_deg.map(function (offset) {
    return L.geoJSON(countries, {
      pane: "countries", interactive: false,
      coordsToLatLng: function (c) { return L.latLng(c[1], c[0] + offset); },
      style: {color: "#9a9a9a", weight: 0.6, fillColor: "#f3f0e8", fillOpacity: 1}
    });
  }));
  land.getAttribution = function () { return "Countries: Natural Earth (public domain)"; };
  var tiles = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"
  });

  var links = L.layerGroup(plan.links.map(function (a) {
    return L.polyline(a.latlngs, {
      color: a.satellite ? plan.style.satellite_colour : plan.style.fiber_colour,
      dashArray: a.satellite ? "6 6" : null, weight: a.weight, opacity: 0.6
    }).bindTooltip(function () { return el("span", "", a.label); });
  }));

  var regions = L.layerGroup(plan.regions.map(function (r) {
    return L.circleMarker([r.lat, r.lon], {
      radius: r.radius, weight: 1, fill: true, fillOpacity: 0.4,
      color: r.unmet ? plan.style.unmet_colour : plan.style.region_colour
    }).bindPopup(function () { return table(r.rows); }, {maxWidth: 300})
      .bindTooltip(function () { return el("span", "", r.name); });
  }));

  var sites = L.layerGroup(plan.sites.map(function (s) {
    return L.circleMarker([s.lat, s.lon], {
      radius: s.radius, color: s.colour, weight: 2, fill: true, fillOpacity: 0.8
    }).bindPopup(function () { return table(s.rows); }, {maxWidth: 320})
      .bindTooltip(function () { return el("span", "", s.name); });
  }));

  land.addTo(map);
  [links, regions, sites].forEach(function (layer) { layer.addTo(map); });
  L.control.layers(
    {"Country outlines (offline)": land, "OpenStreetMap tiles (online)": tiles},
    {"Links": links, "Demand regions": regions, "Compute colonies": sites},
    {collapsed: false}
  ).addTo(map);
  L.control.scale().addTo(map);

  if (plan.years.length) {  // a build-out: show the colonies as built by a chosen period
    var markers = sites.getLayers();
    var period = L.control({position: "topleft"});
    period.onAdd = function () {
      var box = el("div", "siting-title", "Colonies online in ");
      var pick = document.createElement("select");
      plan.years.forEach(function (y) {
        var o = document.createElement("option");
        o.value = String(y);
        o.textContent = String(y);
        pick.appendChild(o);
      });
      pick.value = String(plan.years[plan.years.length - 1]);
      pick.addEventListener("change", function () {
        plan.sites.forEach(function (s, i) {
          var r = s.radius_by_year[pick.value] || 0;
          markers[i].setRadius(r);
          markers[i].setStyle({opacity: r > 0 ? 1 : 0, fillOpacity: r > 0 ? 0.8 : 0});
        });
      });
      L.DomEvent.disableClickPropagation(box);
      box.appendChild(pick);
      return box;
    };
    period.addTo(map);
  }

  var title = L.control({position: "topleft"});
  title.onAdd = function () { return el("div", "siting-title", plan.title); };
  title.addTo(map);

  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var box = el("div", "siting-legend");
    box.appendChild(el("h4", "", "Fuel of the site"));
    plan.legend.fuels.forEach(function (f) {
      var row = el("div", "row"), dot = el("span", "dot");
      dot.style.width = dot.style.height = "14px";
      dot.style.borderColor = f.colour;
      dot.style.background = f.colour;
      row.appendChild(dot);
      row.appendChild(el("span", "", f.fuel));
      box.appendChild(row);
    });
    box.appendChild(el("h4", "", "Site IT capacity (circle size)"));
    plan.legend.sizes.forEach(function (s) {
      var row = el("div", "row"), dot = el("span", "dot");
      dot.style.width = dot.style.height = (2 * s.radius) + "px";
      dot.style.borderColor = "#444";
      row.appendChild(dot);
      row.appendChild(el("span", "", s.label));
      box.appendChild(row);
    });
    box.appendChild(el("h4", "", "Links and regions"));
    [["fiber", plan.style.fiber_colour, null], ["satellite", plan.style.satellite_colour, "6 6"]]
      .forEach(function (l) {
        var row = el("div", "row");
        var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        svg.setAttribute("width", "34");
        svg.setAttribute("height", "10");
        var line = document.createElementNS("http://www.w3.org/2000/svg", "line");
        [["x1", "1"], ["y1", "5"], ["x2", "33"], ["y2", "5"], ["stroke", l[1]], ["stroke-width", "3"]]
          .forEach(function (a) { line.setAttribute(a[0], a[1]); });
        if (l[2]) line.setAttribute("stroke-dasharray", l[2]);
        svg.appendChild(line);
        row.appendChild(svg);
        row.appendChild(el("span", "", l[0]));
        box.appendChild(row);
      });
    [["demand region (size = inference MW)", plan.style.region_colour],
     ["region with unmet demand", plan.style.unmet_colour]].forEach(function (r) {
      var row = el("div", "row"), dot = el("span", "dot");
      dot.style.width = dot.style.height = "12px";
      dot.style.borderColor = r[1];
      row.appendChild(dot);
      row.appendChild(el("span", "", r[0]));
      box.appendChild(row);
    });
    return box;
  };
  legend.addTo(map);

  if (plan.bounds) {
    map.fitBounds(plan.bounds, {padding: [30, 30], maxZoom: 7});
  } else {
    map.setView([20, 0], 2);
  }
}());
