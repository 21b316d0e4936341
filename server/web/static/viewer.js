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
  function runSearch(M, store, query) {
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

  var config;
  try {
    config = JSON.parse(source.textContent);
  } catch (e) {
    fail();
    return;
  }
  if (config.kind === "mirador" && window.Mirador) {
    var M = window.Mirador;
    window.heritageViewer = M.viewer(config.options, { plugins: [repeatedSearchGuard(M)] });
    if (config.search) runSearch(M, window.heritageViewer.store, config.search);
  } else if (config.kind === "uv" && window.UV) {
    holder.classList.add("uv");
    window.heritageViewer = window.UV.init(holder.id, config.options);
  } else {
    fail();
  }
})();
