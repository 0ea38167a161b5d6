// Service worker {{ version }}: the finder opens and answers with no network after one visit.
// Pages: network first, the cached shell when offline. Versioned files: cache first.
// The API is never cached here: the page answers from the station pack when it fails.
"use strict";
const CACHE = "stations-{{ version }}";
const URLS = {{ urls|tojson }};
const PAGES = {{ pages|tojson }};
const PACK_PATH = {{ pack_path|tojson }};

function shellKey(url) {
  return new URL(url).searchParams.get("lang") === "en" ? PAGES.en : PAGES.zh;
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) =>
    cache.addAll([...URLS, PAGES.zh, PAGES.en])).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("stations-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const resp = await fetch(request);
    if (resp.ok && new URL(request.url).pathname === new URL(PAGES.zh, self.location).pathname) {
      cache.put(shellKey(request.url), resp.clone());
    }
    return resp;
  } catch (err) {
    const hit = await cache.match(shellKey(request.url));
    if (hit) return hit;
    throw err;
  }
}

async function versioned(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const resp = await fetch(request);
  if (resp.ok) cache.put(request, resp.clone());
  return resp;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (event.request.mode === "navigate" && url.pathname === new URL(PAGES.zh, self.location).pathname) {
    event.respondWith(page(event.request));
  } else if (url.searchParams.has("v") || url.pathname === PACK_PATH) {
    event.respondWith(versioned(event.request));
  }
});
