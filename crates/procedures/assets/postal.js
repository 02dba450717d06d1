// Fills an address from its postal code as the resident types, with the
// server's postal-code directory (GET /api/v1/postal-codes/{code}). Without
// this script the same button fills the address in a round trip to the
// server; with it nothing leaves the page but that lookup.
(function () {
  "use strict";
  function digits(s) {
    return s
      .replace(/[０-９]/g, function (c) {
        return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
      })
      .replace(/[^0-9]/g, "");
  }
  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(values, k) ? values[k] : m;
    });
  }
  function common(places) {
    var first = places[0];
    var samePref = places.every(function (p) { return p.prefecture === first.prefecture; });
    var sameCity = places.every(function (p) { return p.city === first.city; });
    var sameTown = places.every(function (p) { return p.town === first.town; });
    if (!samePref) return null;
    return {
      prefecture: first.prefecture,
      city: sameCity ? first.city : "",
      town: sameCity && sameTown ? first.town : ""
    };
  }
  function setup(button) {
    var input = document.getElementById(button.getAttribute("data-postal-input"));
    var target = button.getAttribute("data-postal-fills");
    var status = document.getElementById(button.getAttribute("data-postal-status"));
    var pref = document.getElementById(target + "-prefecture");
    var city = document.getElementById(target + "-city");
    if (!input || !pref || !city || !status || !window.fetch) return;
    var last = "";
    function lookup(asked) {
      var code = digits(input.value);
      if (code.length !== 7) {
        if (asked) status.textContent = button.getAttribute("data-msg-length");
        return;
      }
      // Typing fills an empty address once; the button always fills.
      if (!asked && (code === last || city.value.trim() !== "")) return;
      last = code;
      fetch("/api/v1/postal-codes/" + code, {
        headers: { Accept: "application/json" },
        credentials: "same-origin"
      })
        .then(function (r) {
          return r.json().then(function (body) { return { ok: r.ok, body: body }; });
        })
        .then(function (res) {
          if (!res.ok) {
            status.textContent = (res.body && res.body.error && res.body.error.message) ||
              button.getAttribute("data-msg-unknown");
            return;
          }
          var places = res.body.places || [];
          var place = places.length ? common(places) : null;
          if (!place) {
            status.textContent = button.getAttribute("data-msg-unknown");
            return;
          }
          pref.value = place.prefecture;
          city.value = place.city + place.town;
          var display = res.body.postal_code;
          if (places.length > 1 && !place.town) {
            status.textContent = format(button.getAttribute("data-msg-several"), {
              code: display,
              towns: places.map(function (p) { return p.town; }).filter(Boolean).join("、")
            });
          } else {
            status.textContent = format(button.getAttribute("data-msg-filled"), {
              code: display,
              address: place.prefecture + place.city + place.town
            });
          }
          if (asked) {
            city.focus();
            var end = city.value.length;
            if (city.setSelectionRange) city.setSelectionRange(end, end);
          }
        })
        .catch(function () {
          // The page still works: the button sends the form and the server fills it.
          last = "";
        });
    }
    button.addEventListener("click", function (e) {
      e.preventDefault();
      lookup(true);
    });
    input.addEventListener("input", function () { lookup(false); });
  }
  var buttons = document.querySelectorAll("[data-postal-fills]");
  for (var i = 0; i < buttons.length; i++) setup(buttons[i]);
})();
