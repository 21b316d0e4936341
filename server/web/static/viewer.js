/* Starts the embedded IIIF viewer with the options the server wrote into #viewer-config
   (server/web/viewer.py): Mirador 4 (window.Mirador) or Universal Viewer 4 (window.UV). If the
   bundle did not load (no internet, the CDN down or blocked), shows the page image itself in the
   viewer's place instead, fitted to the box at the screen's pixel density, with a short notice; the
   page links below the viewer still turn the pages (as without JavaScript).

   Mirador and the search term (config.search, from ?q=): we run that search ourselves instead of
   Mirador's `defaultSearchQuery`, which in 4.0.0 (a) puts the term into the URL unencoded, so
   "a&b" or "san marco" do not reach the server as typed, (b) lets the search panel ask for the
   same search again once it shows the term: that second request empties the results Mirador
   already lists, and the listed hits then throw "Cannot read properties of undefined (reading
   'targetId')" (upstream ProjectMirador/mirador#4229, #4214), and (c) selects the first hit of the
   item, which moves the window away from the page the visitor asked for. */
(function () {
  "use strict";
  var holder = document.getElementById("viewer");
  var source = document.getElementById("viewer-config");
  if (!holder || !source) return;

  var STILL_MIN = 200;
  var STILL_MAX = 3000;

  /* One side of the box in device pixels, never more than the image has (``!w,h`` above the image's
     size is a 400 under Image API 3.0: no upscaling without ``^``). */
  function stillSize(length, imageLength) {
    var pixels = Math.round(length * (window.devicePixelRatio || 1));
    var side = Math.max(STILL_MIN, Math.min(STILL_MAX, pixels || STILL_MIN));
    return imageLength > 0 ? Math.min(side, imageLength) : side;
  }

  /* The page image as the Image API renders it for this box (data-still: the image service). */
  function fail() {
    var service = holder.getAttribute("data-still");
    holder.classList.add("viewer--still");
    var figure = document.createElement("figure");
    figure.className = "still";
    if (service) {
      var image = document.createElement("img");
      var size = (holder.getAttribute("data-still-size") || "").split(",").map(Number);
      image.src = service + "/full/!" + stillSize(holder.clientWidth, size[0]) + "," +
        stillSize(holder.clientHeight, size[1]) + "/0/default.jpg";
      image.alt = holder.getAttribute("data-still-alt") || "";
      figure.appendChild(image);
    }
    var message = document.createElement("figcaption");
    message.className = "viewer__error";
    message.textContent = holder.getAttribute("data-error") || "";
    figure.appendChild(message);
    holder.appendChild(figure);
  }

  /* A Mirador plugin (state only) whose `searches` reducer ignores a request for a search the
     same panel already holds, under the same query, loaded or on its way: that repeat (from the
     search panel, each time it shows a query it did not start itself) would otherwise replace the
     loaded response by "fetching" while its hits are on screen. The repeated fetch still runs and
     its response replaces the first one, hit for hit. A failed search may be asked again. */
  function repeatedSearchGuard(M) {
    function searches(state, action) {
      if (state && action.type === M.ActionTypes.REQUEST_SEARCH) {
        var search = (state[action.windowId] || {})[action.companionWindowId];
        var known = search && search.data && search.data[action.searchId];
        if (known && !known.error && search.query === action.query) return state;
      }
      return M.searchesReducer(state, action);
    }
    return { name: "heritage-repeated-search-guard", reducers: { searches: searches } };
  }

  /* Once the manifest is in: turn the sidebar (open or not: viewer.py decides) to the search panel
     and ask the manifest's search service for `query`, under the id the search panel would use for
     it; once the answer is in: select the first hit on the visible canvas (the window keeps its
     canvas: viewer.py turns switchCanvasOnSearch off when there is a query). */
  function runSearch(M, store, query, canvasId, region) {
    var windowId = null;
    var panelId = null;
    var searchId = null;
    var unsubscribe = null;
    var finished = false;

    function step() {
      if (finished) return;
      var state = store.getState();
      if (windowId === null) windowId = M.getWindowIds(state)[0] || null;
      if (windowId === null) return;
      var win = M.getWindow(state, { windowId: windowId });
      if (!win) return done();
      if (searchId === null) {
        var manifest = M.getManifest(state, { windowId: windowId });
        if (!manifest || manifest.isFetching) return;
        var service = M.getManifestSearchService(state, { windowId: windowId });
        panelId = M.getCompanionWindowIdsForPosition(state, { position: "left", windowId: windowId })[0];
        if (!service || !panelId) return done();
        searchId = service.id + "?" + new URLSearchParams({ q: query });
        // the sidebar's search tab exists from now on (it needs the manifest's service)
        store.dispatch(M.addOrUpdateCompanionWindow(windowId, { content: "search", position: "left" }));
        store.dispatch(M.fetchSearch(windowId, panelId, searchId, query));
        return;
      }
      var search = (M.getSearchForWindow(state, { windowId: windowId }) || {})[panelId];
      var response = search && search.data && search.data[searchId];
      if (!response || response.isFetching) return;
      done();
      if (!response.json) return;
      var visible = M.getVisibleCanvasIds(state, { windowId: windowId });
      if (!visible.length && win.canvasId) visible = [win.canvasId];
      var hits = M.getSortedSearchAnnotationsForCompanionWindow(state, { companionWindowId: panelId, windowId: windowId });
      if (region) {  // a content state's region: the hit in it, if there is one
        for (var k = 0; k < hits.length; k++) {
          var box = hits[k].fragmentSelector;
          if (hits[k].targetId === canvasId && box && box[0] < region[0] + region[2] && region[0] < box[0] + box[2]
              && box[1] < region[1] + region[3] && region[1] < box[1] + box[3]) {
            store.dispatch(M.selectAnnotation(windowId, hits[k].id));
            return;
          }
        }
      }
      for (var i = 0; i < hits.length; i++) {
        if (visible.indexOf(hits[i].targetId) !== -1) {
          store.dispatch(M.selectAnnotation(windowId, hits[i].id));
          return;
        }
      }
    }

    function done() {
      finished = true;
      if (unsubscribe) unsubscribe();
    }

    unsubscribe = store.subscribe(step);
    step();
  }

  /* IIIF Content State (server/web/contentstate.py reads it; Mirador 4 and UV 4 do not, see
     ProjectMirador/mirador#4386, #4507). config.region is the region to show, in canvas pixels.
     Mirador resets a window's initialViewerConfig when it sets the canvas, and applies a viewport
     change in its state as an animated pan followed by a zoom about a point still on its way to
     the centre (the region ends up elsewhere), so we fit the region on OpenSeadragon itself, once
     it shows the canvas; Mirador's state follows OpenSeadragon's events. */
  var REGION_MARGIN = 1.1;
  var MIN_FIT = 0.25;  // a single word opens with some of its page around it: at least a quarter of the page wide

  /* Mirador keeps each window's OpenSeadragon viewer in its exported OSDReferences registry. */
  function osdViewer(M, windowId) {
    var ref = M.OSDReferences && M.OSDReferences.get(windowId);
    return ref && ref.current && ref.current.viewport ? ref.current : null;
  }

  function miradorBounds(M, windowId) {
    var viewer = osdViewer(M, windowId);
    var b = viewer && viewer.viewport.getBounds();  // where the viewport is going: a share taken mid-zoom names the end of it
    return b ? [b.x, b.y, b.width, b.height] : null;
  }

  /* Where a canvas sits in Mirador's world (OpenSeadragon's coordinates): the book view puts two
     pages side by side, each scaled to a common height. */
  function canvasWorld(M, state, windowId, canvasId) {
    var world = M.getCurrentCanvasWorld && M.getCurrentCanvasWorld(state, { windowId: windowId });
    var dims = world && world.canvasDimensions;
    for (var i = 0; dims && i < dims.length; i++) {
      if (dims[i].canvas.id === canvasId && dims[i].canvas.getWidth()) {
        return { x: dims[i].x, y: dims[i].y, scale: dims[i].width / dims[i].canvas.getWidth(),
                 width: dims[i].canvas.getWidth(), height: dims[i].canvas.getHeight(), id: canvasId };
      }
    }
    return null;
  }

  /* The canvas most of the viewport shows, and the visible part of it in canvas pixels. */
  function visibleRegion(M, state, windowId, bounds) {
    var ids = M.getVisibleCanvasIds(state, { windowId: windowId }) || [];
    var best = null;
    for (var i = 0; i < ids.length; i++) {
      var w = canvasWorld(M, state, windowId, ids[i]);
      if (!w) continue;
      var x0 = Math.max(bounds[0], w.x), y0 = Math.max(bounds[1], w.y);
      var x1 = Math.min(bounds[0] + bounds[2], w.x + w.width * w.scale);
      var y1 = Math.min(bounds[1] + bounds[3], w.y + w.height * w.scale);
      var area = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
      if (area > 0 && (!best || area > best.area)) {
        best = { area: area, canvas: ids[i],
                 region: [(x0 - w.x) / w.scale, (y0 - w.y) / w.scale, (x1 - x0) / w.scale, (y1 - y0) / w.scale] };
      }
    }
    return best;
  }

  /* Mirador 4.0.0 puts the viewport back on the whole spread when OpenSeadragon loads its first
     tile, and resets it when it sets the window's canvas again (once the manifest is in): fit after
     the first tile, and again after such a reset, as long as the window stays on that canvas. */
  function zoomToRegion(M, store, canvasId, region) {
    var pending = true;
    var unsubscribe = store.subscribe(step);
    function step() {
      var state = store.getState();
      var windowId = M.getWindowIds(state)[0];
      var win = windowId && M.getWindow(state, { windowId: windowId });
      if (!win) return;
      if (win.canvasId && win.canvasId !== canvasId) { unsubscribe(); return; }  // the visitor moved on
      var current = state.viewers && state.viewers[windowId];
      if (!pending) {
        if (!current) pending = true;  // reset
        return;
      }
      var viewer = osdViewer(M, windowId);
      if (!viewer) return;
      if (!viewer.heritageTileLoaded) {
        if (!viewer.heritageWaits) {
          viewer.heritageWaits = true;
          viewer.addOnceHandler("tile-loaded", function () {
            viewer.heritageTileLoaded = true;
            setTimeout(step, 0);  // after Mirador's own handler
          });
        }
        return;
      }
      var world = canvasWorld(M, state, windowId, canvasId);
      if (!world) return;
      var viewport = viewer.viewport;
      var width = Math.max(region[2] * REGION_MARGIN, world.width * MIN_FIT);
      var height = region[3] * REGION_MARGIN;
      var rect = viewport.getBounds().clone();  // an OpenSeadragon.Rect (the class is not exported)
      rect.x = world.x + (region[0] + region[2] / 2 - width / 2) * world.scale;
      rect.y = world.y + (region[1] + region[3] / 2 - height / 2) * world.scale;
      rect.width = width * world.scale;
      rect.height = height * world.scale;
      rect.degrees = 0;
      pending = false;
      viewport.fitBounds(rect, true);
      // Mirador records the viewport on OpenSeadragon's animation-finish only, and an immediate fit
      // has no animation: record it, or Mirador puts its older viewport back on its next update
      var centre = viewport.getCenter();
      store.dispatch(M.updateViewport(windowId, { x: Math.round(centre.x), y: Math.round(centre.y), zoom: viewport.getZoom() }));
    }
    step();
  }

  /* "Share this view" (the item page's #page-config): keep the share field and the IIIF
     drag-and-drop link on a content state of what the viewer shows, i.e. the current canvas and
     the visible part of it (no region when the whole canvas is in view). Encoding as the spec's
     §6: base64url(encodeURIComponent(JSON)), without padding. */
  var page = null;
  var pageSource = document.getElementById("page-config");
  if (pageSource) {
    try { page = JSON.parse(pageSource.textContent); } catch (e) { page = null; }
  }

  function encodeState(doc) {
    return btoa(encodeURIComponent(JSON.stringify(doc))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function canvasNumber(canvasId) {
    var m = /\/canvas\/(\d+)(?:#.*)?$/.exec(canvasId || "");
    return m ? parseInt(m[1], 10) : null;
  }

  var lastShared = null;
  function shareView(canvasId, bounds) {
    if (!page || !page.share) return;
    var n = canvasNumber(canvasId);
    var size = n !== null && page.sizes[String(n)];
    if (!size) return;
    var target = canvasId.split("#")[0];
    if (bounds) {
      var x0 = Math.max(0, Math.round(bounds[0])), y0 = Math.max(0, Math.round(bounds[1]));
      var x1 = Math.min(size[0], Math.round(bounds[0] + bounds[2])), y1 = Math.min(size[1], Math.round(bounds[1] + bounds[3]));
      var whole = x0 === 0 && y0 === 0 && x1 === size[0] && y1 === size[1];
      if (x1 > x0 && y1 > y0 && !whole) target += "#xywh=" + [x0, y0, x1 - x0, y1 - y0].join(",");
    }
    if (target === lastShared) return;
    lastShared = target;
    var state = encodeState({
      "@context": "http://iiif.io/api/presentation/3/context.json", type: "Annotation",
      motivation: ["contentState"],
      target: { id: target, type: "Canvas", partOf: [{ id: page.share.manifest, type: "Manifest" }] }
    });
    var field = document.getElementById("share-url");
    var url = page.share.page + "?iiif-content=" + state;
    if (field) field.value = url;
    var link = document.getElementById("share-link");
    if (link) link.href = url;
    var drag = document.getElementById("iiif-drag");
    if (drag) drag.href = page.share.manifest + "?manifest=" + page.share.manifest + "&iiif-content=" + state;
  }

  /* The text panel (#text-panel): the OCR text of the page the viewer shows, asked from
     /item/<id>/text/<n>.json when the page changes; the toggle button shows or hides it. */
  var textShown = page && page.current !== undefined ? page.current : null;  // the server wrote that one
  function showText(n) {
    var panel = document.getElementById("text-panel");
    if (!panel || !page || !page.text || n === null || n === textShown) return;
    textShown = n;
    var body = panel.querySelector(".text-panel__body");
    var heading = panel.querySelector(".text-panel__page");
    var link = panel.querySelector(".text-panel__link");
    var label = (page.labels && page.labels[String(n)]) || String(n);
    if (heading) heading.textContent = label;
    if (link) link.href = page.text + n;
    fetch(page.text + n + ".json").then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (doc) {
      if (textShown !== n || !body) return;
      var lines = doc && doc.lines || [];
      body.textContent = lines.length ? lines.join("\n") : "";
      if (doc && doc.language) body.setAttribute("lang", doc.language); else body.removeAttribute("lang");
      panel.classList.toggle("text-panel--empty", !lines.length);
    }, function () {});
  }

  function setUpTextToggle() {
    var button = document.getElementById("text-toggle");
    var panel = document.getElementById("text-panel");
    if (!button || !panel) return;
    var area = button.closest(".viewer-area");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      panel.hidden = !open;
      if (area) area.classList.toggle("viewer-area--with-text", open);
      window.dispatchEvent(new Event("resize"));
    });
  }

  function followMirador(M, store) {
    store.subscribe(function () {
      var state = store.getState();
      var windowId = M.getWindowIds(state)[0];
      var win = windowId && M.getWindow(state, { windowId: windowId });
      if (!win || !win.canvasId) return;
      showText(canvasNumber(win.canvasId));  // the page the visitor turned to (the left one of a spread)
      var bounds = miradorBounds(M, windowId);
      var seen = bounds && visibleRegion(M, state, windowId, bounds);
      if (seen) shareView(seen.canvas, seen.region);
    });
  }

  /* UV 4's targetChange says "canvas#xywh=…", but in its two-page view the rectangle is measured
     on the spread's first image whichever page is current, so only the canvas is shared from UV. */
  function followUV(uv) {
    if (!uv || typeof uv.on !== "function") return;
    uv.on("targetChange", function (target) {
      shareView(String(target || "").split("#")[0], null);
    });
    uv.on("canvasIndexChange", function (index) {
      if (page && page.numbers && page.numbers[index] !== undefined) showText(page.numbers[index]);
    });
  }

  var config;
  try {
    config = JSON.parse(source.textContent);
  } catch (e) {
    fail();
    return;
  }
  setUpTextToggle();
  if (config.kind === "mirador" && window.Mirador) {
    var M = window.Mirador;
    window.heritageViewer = M.viewer(config.options, { plugins: [repeatedSearchGuard(M)] });
    if (config.region) zoomToRegion(M, window.heritageViewer.store, config.options.windows[0].canvasId, config.region);
    if (config.search) runSearch(M, window.heritageViewer.store, config.search, config.options.windows[0].canvasId, config.region);
    followMirador(M, window.heritageViewer.store);
  } else if (config.kind === "uv" && window.UV) {
    holder.classList.add("uv");
    window.heritageViewer = window.UV.init(holder.id, config.options);
    followUV(window.heritageViewer);
  } else {
    fail();
  }
})();
