// The station pack (/api/pack): every station in columns, with open spans for two weeks.
// It draws the markers, fills station cards, and answers "nearest" when the network is gone:
// the same WGS-84 geodesic (GeographicLib) and the same open spans as the API.
window.StationPack = (function () {
  "use strict";
  const GEOD = window.geodesic.Geodesic.WGS84;
  // Minutes since the Unix epoch of a naive wall-clock ISO time ("2026-11-24T21:00"), in the
  // dataset's time zone (the pack's utc_offset_min says which).
  function naiveMinutes(iso) {
    const [d, tm] = iso.split("T");
    const [y, mo, day] = d.split("-").map(Number);
    const [h, mi] = (tm || "00:00").split(":").map(Number);
    return Date.UTC(y, mo - 1, day, h, mi) / 60000;
  }
  function isoOfMinutes(m) {
    return new Date(m * 60000).toISOString().slice(0, 16);
  }

  class Pack {
    constructor(raw) {
      this.raw = raw;
      this.s = raw.stations;
      this.n = this.s.id.length;
      this.byId = new Map(this.s.id.map((id, i) => [id, i]));
      this.start = naiveMinutes(raw.start);
    }
    // Minutes after the pack's start for a naive ISO time, or for now.
    minutes(iso) {
      return (iso ? naiveMinutes(iso) : this.nowMinutes()) - this.start;
    }
    // The dataset's wall clock now, in minutes since the epoch read as UTC.
    nowMinutes() {
      return Math.floor(window.UI.wallClock(this.raw.utc_offset_min).getTime() / 60000);
    }
    covers(m) { return m >= 0 && m < this.raw.days * 1440; }
    spans(i) { return this.raw.hours[this.s.hours[i]].open; }
    isOpen(i, m) { return this.spans(i).some(([a, b]) => a <= m && m < b); }
    // The next opening or closing after m, as a naive ISO time; null when none in the pack.
    nextChange(i, m) {
      for (const [a, b] of this.spans(i)) {
        if (a <= m && m < b) return b >= this.raw.days * 1440 ? null : isoOfMinutes(this.start + b);
        if (a > m) return isoOfMinutes(this.start + a);
      }
      return null;
    }
    amenities(i) {
      return this.raw.amenities.filter((_, bit) => this.s.amenities[i] & (1 << bit));
    }
    type(i) { return this.raw.types[this.s.type[i]]; }
    // The display position [lat, lng] for Leaflet.
    latlng(i) {
      return this.s.x ? [this.s.y[i], this.s.x[i]] : [this.s.lat[i], this.s.lon[i]];
    }
    usable(i, flt, m) {
      if (flt.type && this.type(i) !== flt.type) return false;
      const have = this.s.amenities[i];
      if (flt.amenities.some((a) => !(have & (1 << this.raw.amenities.indexOf(a))))) return false;
      return !flt.openAt || this.isOpen(i, m);
    }
    // Distance (m) and bearing from a WGS-84 point to station i.
    distance(lon, lat, i) {
      const r = GEOD.Inverse(lat, lon, this.s.lat[i], this.s.lon[i]);
      return { m: r.s12, bearing: (r.azi1 + 360) % 360 };
    }
    // The API's answer, computed here: k nearest usable stations as GeoJSON-like features
    // (the caller applies the far-away rule, as the API does after its query).
    nearest(lon, lat, k, flt, speeds, nav) {
      const m = this.minutes(flt.openAt && flt.openAt !== "now" ? flt.openAt : null);
      const found = [];
      for (let i = 0; i < this.n; i++) {
        if (this.usable(i, flt, m)) found.push([this.distance(lon, lat, i).m, i]);
      }
      found.sort((a, b) => a[0] - b[0]);
      return found.slice(0, k).map(([d, i]) => this.feature(i, d, m, { lon, lat }, speeds, nav));
    }
    feature(i, d, m, origin, speeds, nav) {
      const open = this.isOpen(i, m);
      const change = this.nextChange(i, m);
      const p = {
        id: this.s.id[i], name: this.s.name[i], type: this.type(i),
        district: this.s.district[i], address: this.s.address[i], phone: this.s.phone[i],
        capacity: this.s.capacity[i], amenities: this.amenities(i),
        opening_hours: this.raw.hours[this.s.hours[i]].expr,
        distance_m: Math.round(d * 10) / 10,
        walk_min: Math.round(d / (speeds.walk * 1000 / 60) * 10) / 10,
        ebike_min: Math.round(d / (speeds.ebike * 1000 / 60) * 10) / 10,
        open, closes_at: open ? change : null, opens_at: open ? null : change,
        nav: navLinks(nav, this.s.lon[i], this.s.lat[i], this.s.name[i], origin),
      };
      const ll = this.latlng(i);
      return { type: "Feature", id: p.id, properties: p,
        geometry: { type: "Point", coordinates: [ll[1], ll[0]] } };
    }
  }

  // Amap and Baidu links from WGS-84, telling each service the datum (both accept wgs84).
  function navLinks(nav, lon, lat, name, origin) {
    const clean = (s) => String(s).replace(/[,|:]/g, " ").trim();
    const fx = (v) => v.toFixed(6);
    const links = {};
    for (const [key, mode] of [["", "ebike"], ["_walk", "walk"]]) {
      const a = new URLSearchParams({ to: `${fx(lon)},${fx(lat)},${clean(name)}`,
        mode: nav.amap_modes[mode] });
      if (origin) a.set("from", `${fx(origin.lon)},${fx(origin.lat)},${clean(nav.origin_label)}`);
      a.set("coordinate", "wgs84"); a.set("callnative", "1"); a.set("src", nav.src);
      links["amap" + key] = nav.amap_url + "?" + a;
      const b = new URLSearchParams({ destination: `latlng:${fx(lat)},${fx(lon)}|name:${clean(name)}` });
      if (origin) b.set("origin", `latlng:${fx(origin.lat)},${fx(origin.lon)}|name:${clean(nav.origin_label)}`);
      b.set("mode", nav.baidu_modes[mode]); b.set("coord_type", "wgs84");
      b.set("region", nav.region); b.set("output", "html"); b.set("src", nav.src);
      links["baidu" + key] = nav.baidu_url + "?" + b;
    }
    return links;
  }

  function load(url) {
    return window.UI.getJSON(url).then((raw) => new Pack(raw));
  }
  return { load, navLinks, naiveMinutes };
})();
